/* fetch_rec: the two records between a pull's privileged half (images/
 * pull.c, in `hull`, root under sudo) and hull-fetch, the unprivileged
 * registry client that does the pull's network and JSON work
 * (images/fetch_proc.h):
 * - struct fetchreq, parent -> child (the request convert_proc.h carries):
 *   which registry and repository, which reference (FETCH_RESOLVE) or
 *   which blobs (FETCH_BLOBS), the insecure list, the credentials the
 *   parent read from the docker config, the image size limit.
 * - struct fetchres, child -> parent (FETCH_RESOLVE's answer, written into
 *   a memfd the parent made and sized): the facts the parent needs, decoded
 *   by the child from the registry's JSON: what the reference names (index
 *   or manifest: digest, media type, length), the image manifest's digest
 *   and length, the config's digest and size, each layer's digest, size and
 *   kind. The parent never parses JSON of the registry's: it stores the
 *   documents as opaque bytes (lstore verifies their digests) and acts on
 *   this record only.
 * Fixed binary layouts, native byte order, no padding (one build on both
 *   ends), read strictly all the same.
 *
 * Contract
 * - fetchreq_new(n_blobs) / fetchres_new(n_layers): zeroed, magic and count
 *   set; NULL without memory. fetchreq_size(n) / fetchres_size(n): the wire
 *   size.
 * - fetchreq_decode(buf, len, &r, err), in the child: 0 and a malloc'd
 *   copy, or -EBADMSG with err "hull-fetch: request: <field>: <problem>".
 *   Checked: magic; mode FETCH_RESOLVE (no blobs; ref not empty: its
 *   grammar is ref_parse()'s, in the parent) or FETCH_BLOBS (1..OCI_MAX_LAYERS blobs, each a sha256
 * digest, ref empty); len exact; domain and repo non-empty, every string NUL-terminated in its
 * field; n_insecure <= FETCH_INSECURE_MAX; creds 0 or 1 (user non-empty with 1, user and pass empty
 * with 0); max_bytes not 0 with FETCH_RESOLVE; pads 0.
 * - fetchres_decode(buf, len, &r, err), in the parent (input hostile:
 *   fuzzed by fuzz/fetch_rec.c): 0 and a malloc'd copy, or -EBADMSG with
 *   err "hull-fetch: answer: <field>: <problem>". Checked: magic; n_layers
 *   <= OCI_MAX_LAYERS and len exact; top_kind an index or a manifest and
 *   top_mt terminated, a media type of that kind (oci_media_kind); every
 *   digest a sha256 digest (images/digest.h) terminated in its field;
 *   top_len in [1, REGISTRY_MANIFEST_MAX]; a manifest on top: man_len 0 and
 *   man_digest all zero; an index: man_len in [1, REGISTRY_MANIFEST_MAX];
 *   config_size in [1, OCI_JSON_MAX]; each layer's kind a layer kind
 *   (OCI_KIND_LAYER_*); pads 0. Layer sizes are any u64: the caller holds
 *   them to its limits.
 * - Pure: no I/O, no global state; any thread. */
#ifndef HULL_IMAGES_FETCH_REC_H
#define HULL_IMAGES_FETCH_REC_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "images/digest.h"

#define FETCHREQ_MAGIC 0x71726668u /* "hfrq" */
#define FETCHRES_MAGIC 0x73726668u /* "hfrs" */
#define FETCH_DOMAIN_MAX 256
#define FETCH_REPO_MAX 256
#define FETCH_REF_MAX 136 /* a tag (128) or a digest (71), NUL included */
#define FETCH_USER_MAX 256
#define FETCH_PASS_MAX 8192
#define FETCH_INSECURE_MAX 16
#define FETCH_MT_MAX 128

enum fetch_mode { FETCH_RESOLVE = 1, FETCH_BLOBS = 2 };

struct fetchreq_blob {
	char digest[DIGEST_STR_LEN];
	uint64_t size; /* the manifest's: the most the registry may send */
	/* it is layer layer + 1 of of, for messages; of 0: the config (then
	 * parsed, for its platform, once fetched) */
	uint32_t layer, of;
};

struct fetchreq {
	uint32_t magic;
	uint32_t mode; /* enum fetch_mode */
	uint32_t n_blobs;
	uint32_t n_insecure;
	uint32_t creds; /* 1: user/pass are Basic credentials */
	uint32_t pad;
	uint64_t max_bytes; /* FETCH_RESOLVE: the image size limit (images/limits.h) */
	char domain[FETCH_DOMAIN_MAX];
	char repo[FETCH_REPO_MAX];
	char ref[FETCH_REF_MAX];
	char user[FETCH_USER_MAX];
	char pass[FETCH_PASS_MAX];
	char insecure[FETCH_INSECURE_MAX][FETCH_DOMAIN_MAX];
	struct fetchreq_blob blobs[];
};
_Static_assert(sizeof(struct fetchreq_blob) == DIGEST_STR_LEN + 16, "no padding");
_Static_assert(sizeof(struct fetchreq) == 32 + FETCH_DOMAIN_MAX + FETCH_REPO_MAX + FETCH_REF_MAX +
					      FETCH_USER_MAX + FETCH_PASS_MAX +
					      FETCH_INSECURE_MAX * FETCH_DOMAIN_MAX,
	       "no padding");

struct fetchres_layer {
	char digest[DIGEST_STR_LEN];
	uint64_t size;
	uint32_t kind; /* enum oci_kind: OCI_KIND_LAYER_* */
	uint32_t pad;
};

struct fetchres {
	uint32_t magic;
	uint32_t top_kind; /* OCI_KIND_INDEX or OCI_KIND_MANIFEST */
	uint32_t n_layers;
	uint32_t pad;
	uint64_t top_len; /* the reference's document: work fd 1 */
	uint64_t man_len; /* an index's image manifest: work fd 2 (else 0) */
	char top_digest[DIGEST_STR_LEN];
	char man_digest[DIGEST_STR_LEN]; /* all zero when top is the manifest */
	char top_mt[FETCH_MT_MAX];
	char config_digest[DIGEST_STR_LEN];
	uint64_t config_size;
	struct fetchres_layer layers[];
};
_Static_assert(sizeof(struct fetchres_layer) == DIGEST_STR_LEN + 16, "no padding");
_Static_assert(sizeof(struct fetchres) == 32 + 3 * DIGEST_STR_LEN + FETCH_MT_MAX + 8, "no padding");

static inline size_t fetchreq_size(size_t n_blobs)
{
	return sizeof(struct fetchreq) + n_blobs * sizeof(struct fetchreq_blob);
}

static inline size_t fetchres_size(size_t n_layers)
{
	return sizeof(struct fetchres) + n_layers * sizeof(struct fetchres_layer);
}

/* "config" or "layer <layer + 1>/<of>": how messages and the progress
 * display name blob b. */
void fetchreq_blob_label(const struct fetchreq_blob *b, char *buf, size_t n);

struct fetchreq *fetchreq_new(size_t n_blobs);
int fetchreq_decode(const void *buf, size_t len, struct fetchreq **out, struct errmsg *err);
struct fetchres *fetchres_new(size_t n_layers);
int fetchres_decode(const void *buf, size_t len, struct fetchres **out, struct errmsg *err);

#endif
