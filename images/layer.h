/* layer: stream one layer blob (tar, tar+gzip, tar+zstd) into the tree and the
 * ext4 image: libarchive decompresses and parses the tar, fstree applies each
 * entry's OCI semantics, ext4w writes inodes and file data as they pass.
 *
 * Contract
 * - One pass over the blob; bounded memory (libarchive's buffers plus one
 *   staging buffer in ext4w), whatever the layer size.
 * - The compressed blob is verified against its descriptor (size, sha256) and
 *   the uncompressed tar stream against diff_id. Either mismatch is an error
 *   (-EBADMSG), detected once the layer has been read; the caller then
 *   discards the whole image.
 * - lim caps the uncompressed bytes and entries of all layers together
 *   (stats carries the totals of the layers before this one); over either
 *   is -E2BIG, detected as the bytes arrive (images/limits.h). The byte cap
 *   applies both to the tar stream and to the sizes regular file entries
 *   declare (a sparse entry counts at its full size), checked from each
 *   entry's header before its data is written. A sparse entry's map goes
 *   to ext4w with it, so its holes stay holes in the image.
 * - Messages read "layer N (sha256:0123456789ab): <problem>", N counting
 *   from 1. */
#ifndef HULL_IMAGES_LAYER_H
#define HULL_IMAGES_LAYER_H

#include <stdint.h>

#include "common/errmsg.h"
#include "images/ext4w.h"
#include "images/fstree.h"
#include "images/limits.h"
#include "images/oci_json.h"
#include "images/oci_source.h"

struct layer_stats {
	uint64_t entries;    /* all layers so far */
	uint64_t tar_bytes;  /* uncompressed, all layers so far */
	uint64_t file_bytes; /* regular files' declared sizes, all layers so far */
};

int layer_apply(struct oci_source *src, const struct oci_descriptor *d, enum oci_kind kind,
		const char *diff_id, unsigned index, const struct image_limits *lim,
		struct fstree *t, struct ext4w *w, struct layer_stats *stats, struct errmsg *err);

#endif
