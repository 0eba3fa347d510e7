/* convert_req: what hull's front end asks hull-convert to do (the request
 * convert_proc.h carries): which layers, in which of the inherited fds,
 * into which image, with which sizes and limits. A fixed binary layout,
 * the same program's on both ends (one build), read strictly by the
 * converter all the same: a field out of range means a bug or a request
 * that is not hull's, and the conversion stops before any layer is read.
 *
 * Contract
 * - Wire form: struct convreq followed by exactly n_layers struct
 *   convreq_layer, native byte order, no padding; convreq_size(n) bytes.
 *   The parent fills a zeroed convreq_new(n) and sends it as it is.
 * - convreq_decode(buf, len, nfds, &r, err): checks everything and, when
 *   it all holds, *r is a malloc'd copy (free()). 0, or -EBADMSG with err
 *   "hull-convert: request: <field>: <problem>". Checked: the magic; len ==
 *   convreq_size(n_layers) with n_layers in [1, OCI_MAX_LAYERS]; every fd
 *   index below nfds and the image's not a layer's, an archive's layers
 *   all in one fd; archive 0 or 1; path
 *   and source NUL-terminated within their fields, path not empty; every
 *   digest and diff_id a well-formed sha256 digest (images/digest.h,
 *   NUL-terminated in its field); every kind a layer kind (tar, gzip,
 *   zstd); size at least 1 MiB and at most cap, cap at most CONVREQ_FS_MAX;
 *   inodes in [1, CONVREQ_INODES_MAX]; the limits not 0.
 * - Pure: no I/O, no global state; any thread. Input is hostile (fuzzed by
 *   fuzz/convert_req.c). */
#ifndef HULL_IMAGES_CONVERT_REQ_H
#define HULL_IMAGES_CONVERT_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "images/digest.h"

#define CONVREQ_MAGIC 0x71726368u /* "hcrq" */
#define CONVREQ_PATH_MAX 4096
/* the largest filesystem: under ext4's 16 TiB without 64bit */
#define CONVREQ_FS_MAX (15ull << 40)
#define CONVREQ_INODES_MAX 0xfff00000u

struct convreq_layer {
	char digest[DIGEST_STR_LEN];  /* the blob, verified as it is read */
	char diff_id[DIGEST_STR_LEN]; /* the tar stream's, verified too */
	uint64_t size;		      /* the blob's, from the manifest */
	uint32_t kind;		      /* enum oci_kind: OCI_KIND_LAYER_* */
	uint32_t fd;		      /* index of its work fd (an archive: the archive's) */
};

struct convreq {
	uint32_t magic;
	uint32_t archive;  /* 1: the layers are members of one oci-archive */
	uint32_t image_fd; /* index of the image file's work fd */
	uint32_t n_layers;
	uint64_t size; /* the filesystem's first size, bytes */
	uint64_t cap;  /* and the largest a retry may make it */
	uint32_t inodes;
	uint32_t pad; /* 0 */
	uint8_t uuid[16];
	uint64_t max_bytes, max_entries; /* images/limits.h */
	char path[CONVREQ_PATH_MAX];	 /* the image file, for messages */
	char source[CONVREQ_PATH_MAX];	 /* the layout or archive, for messages */
	struct convreq_layer layers[];
};
_Static_assert(sizeof(struct convreq_layer) == 2 * DIGEST_STR_LEN + 16, "no padding");
_Static_assert(sizeof(struct convreq) == 72 + 2 * CONVREQ_PATH_MAX, "no padding");

static inline size_t convreq_size(size_t n_layers)
{
	return sizeof(struct convreq) + n_layers * sizeof(struct convreq_layer);
}

/* A zeroed request for n layers with its magic set; NULL without memory. */
struct convreq *convreq_new(size_t n_layers);
int convreq_decode(const void *buf, size_t len, size_t nfds, struct convreq **out,
		   struct errmsg *err);

#endif
