/* import_rec: the records between an import's privileged half (images/
 * import.c, in `hull`, root under sudo) and hull-import, the unprivileged
 * reader of the archive (images/import_proc.h):
 * - struct impreq, parent -> child (the request convert_proc.h carries):
 *   the mode (IMPORT_LIST or IMPORT_COPY), the path as the user gave it
 *   (for messages and the names made from it, never opened by the child),
 *   --name, and with IMPORT_COPY the blobs to copy (entries of the list
 *   IMPORT_LIST answered, those the store lacks), work fd 1 + k for blob k.
 * - struct impres, child -> parent (IMPORT_LIST's answer, written into a
 *   memfd the parent made and sized): the format, the images to tag (their
 *   normalised reference, manifest digest, media type, size) and every blob
 *   they need, each with where its bytes are: IMPORT_SRC_INLINE (manifests,
 *   indexes, docker configs and synthesised manifests the child read or
 *   made: bytes [off, off + size) of the documents memfd, work fd 2),
 *   IMPORT_SRC_BLOB (an OCI blob of the archive, by digest) or
 *   IMPORT_SRC_MEMBER (a docker-archive member, by name). The label names
 *   the blob in errors ("image REF: layer 2 (sha256:...)"). The parent
 *   parses no JSON and no tar: it hashes the inline bytes itself and has the
 *   others copied by an IMPORT_COPY run into temp files it verifies.
 * Fixed binary layouts, native byte order, no padding (one build on both
 *   ends), read strictly all the same.
 *
 * Contract
 * - impreq_new(n_blobs) / impres_new(n_images, n_blobs): zeroed, magic and
 *   counts set; NULL without memory. impreq_size(n) / impres_size(ni, nb):
 *   the wire size; IMPRES_MAX_SIZE: the largest answer.
 * - impreq_decode(buf, len, &q, err), in the child: 0 and a malloc'd copy,
 *   or -EBADMSG with err "hull-import: request: <field>: <problem>".
 *   Checked: magic; mode IMPORT_LIST (no blobs) or IMPORT_COPY (1 ..
 *   IMPORT_BLOBS_MAX blobs, each an entry impres_decode() would accept and
 *   not inline); len exact; path non-empty and terminated; name terminated
 *   (empty: no --name); pads 0.
 * - impres_decode(buf, len, &r, err), in the parent (input hostile: fuzzed
 *   by fuzz/import_rec.c): 0 and a malloc'd copy, or -EBADMSG with err
 *   "hull-import: answer: <field>: <problem>". Checked: magic; format an
 *   enum import_format; 1 <= n_images <= IMPORT_IMAGES_MAX,
 *   n_blobs <= IMPORT_BLOBS_MAX, len exact; docs_len <= IMPORT_DOCS_MAX;
 *   each image: ref non-empty and terminated (its grammar is ref_parse()'s,
 *   in the parent), digest a sha256 digest, mt terminated and empty or a
 *   manifest's or index's media type (oci_media_kind), size in [1,
 *   OCI_JSON_MAX]; each blob: digest a sha256 digest, src one of the three,
 *   label non-empty and terminated, an inline one's [off, off + size)
 *   within docs_len and size <= OCI_JSON_MAX with no member, a member's
 *   name non-empty and terminated with off 0, a blob's no member and off 0;
 *   pads 0. Sizes of archive blobs and members are any u64: the copy holds
 *   them to what the archive has, the parent's commit to the digest.
 * - Pure: no I/O, no global state; any thread. */
#ifndef HULL_IMAGES_IMPORT_REC_H
#define HULL_IMAGES_IMPORT_REC_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "images/digest.h"

#define IMPREQ_MAGIC 0x71726968u /* "hirq" */
#define IMPRES_MAGIC 0x73726968u /* "hirs" */
#define IMPORT_PATH_MAX 4096
#define IMPORT_REF_MAX 256
#define IMPORT_MT_MAX 128
#define IMPORT_MEMBER_MAX 256
#define IMPORT_LABEL_MAX 192
#define IMPORT_IMAGES_MAX 1024
/* one work fd each in an IMPORT_COPY run, next to the archive's */
#define IMPORT_BLOBS_MAX 4096
/* the documents memfd: manifests, indexes, docker configs */
#define IMPORT_DOCS_MAX (64u << 20)

enum import_mode { IMPORT_LIST = 1, IMPORT_COPY = 2 };
enum import_src { IMPORT_SRC_INLINE = 1, IMPORT_SRC_BLOB = 2, IMPORT_SRC_MEMBER = 3 };

struct imp_blob {
	char digest[DIGEST_STR_LEN];
	uint64_t size;
	uint32_t src; /* enum import_src */
	uint32_t pad;
	uint64_t off;			/* IMPORT_SRC_INLINE: where in the documents memfd */
	char member[IMPORT_MEMBER_MAX]; /* IMPORT_SRC_MEMBER: the member's name */
	char label[IMPORT_LABEL_MAX];	/* for errors: "image REF: layer 1 (sha256:...)" */
};

struct imp_image {
	char ref[IMPORT_REF_MAX]; /* normalised (import_ref_name()) */
	char digest[DIGEST_STR_LEN];
	char mt[IMPORT_MT_MAX]; /* empty: an OCI image manifest */
	uint64_t size;
};

struct impreq {
	uint32_t magic;
	uint32_t mode; /* enum import_mode */
	uint32_t n_blobs;
	uint32_t pad;
	char path[IMPORT_PATH_MAX];
	char name[IMPORT_REF_MAX];
	struct imp_blob blobs[];
};

struct impres {
	uint32_t magic;
	uint32_t format; /* enum import_format (images/import.h) */
	uint32_t n_images;
	uint32_t n_blobs;
	uint64_t docs_len;
	/* n_images struct imp_image, then n_blobs struct imp_blob */
	unsigned char body[];
};
_Static_assert(sizeof(struct imp_blob) ==
		   DIGEST_STR_LEN + 24 + IMPORT_MEMBER_MAX + IMPORT_LABEL_MAX,
	       "no padding");
_Static_assert(sizeof(struct imp_image) == IMPORT_REF_MAX + DIGEST_STR_LEN + IMPORT_MT_MAX + 8,
	       "no padding");
_Static_assert(sizeof(struct impreq) == 16 + IMPORT_PATH_MAX + IMPORT_REF_MAX, "no padding");
_Static_assert(sizeof(struct impres) == 24, "no padding");

static inline size_t impreq_size(size_t n_blobs)
{
	return sizeof(struct impreq) + n_blobs * sizeof(struct imp_blob);
}

static inline size_t impres_size(size_t n_images, size_t n_blobs)
{
	return sizeof(struct impres) + n_images * sizeof(struct imp_image) +
	       n_blobs * sizeof(struct imp_blob);
}
#define IMPRES_MAX_SIZE impres_size(IMPORT_IMAGES_MAX, IMPORT_BLOBS_MAX)

static inline struct imp_image *impres_images(struct impres *r)
{
	return (struct imp_image *)(void *)r->body;
}

static inline struct imp_blob *impres_blobs(struct impres *r)
{
	return (struct imp_blob *)(void *)(r->body + r->n_images * sizeof(struct imp_image));
}

struct impreq *impreq_new(size_t n_blobs);
int impreq_decode(const void *buf, size_t len, struct impreq **out, struct errmsg *err);
struct impres *impres_new(size_t n_images, size_t n_blobs);
int impres_decode(const void *buf, size_t len, struct impres **out, struct errmsg *err);

#endif
