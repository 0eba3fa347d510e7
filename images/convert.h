/* convert: one image manifest -> one ext4 root filesystem file.
 *
 * Contract
 * - Reads and verifies the manifest and config blobs, checks that the config
 *   lists one diff_id per layer, then applies the layers in order into a new
 *   file at `path` (which must not exist). On failure `path` is removed.
 * - Sizing (the file is sparse, so slack costs no disk space; see
 *   convert_size()). If the filesystem still fills up, the conversion starts
 *   over with four times the size and inodes, at most twice.
 * - *config receives the verified config blob (malloc'd), which the cache
 *   stores next to the image. */
#ifndef HULL_IMAGES_CONVERT_H
#define HULL_IMAGES_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "images/limits.h"
#include "images/oci_json.h"
#include "images/oci_source.h"

struct convert_stats {
	uint64_t fs_bytes;   /* filesystem size (apparent file size) */
	uint64_t used_bytes; /* blocks in use */
	uint32_t inodes;     /* inodes in use */
	uint64_t entries;    /* tar entries read, all layers */
	uint64_t tar_bytes;  /* uncompressed layer bytes */
	unsigned attempts;
};

/* The filesystem size and inode count for a manifest:
 *   data   = sum of uncompressed layer sizes + 10 x sum of compressed ones
 *   size   = 128 MiB + 2 x data, rounded up to 1 MiB
 *   inodes = size / 4 KiB (ext4's densest ratio: one per block)
 * Compressed sizes are all the manifest tells; real images expand 2-4x
 * under gzip, so 10x plus 2x slack covers file data, the 4 KiB rounding of
 * small files and metadata. */
void convert_size(const struct oci_manifest *m, uint64_t *bytes, uint32_t *inodes);

/* lim: NULL for image_limits_default(). The filesystem never grows past
 * 128 MiB + 2 x lim->max_bytes. */
int convert_image(struct oci_source *src, const struct oci_descriptor *manifest, const char *path,
		  const struct image_limits *lim, char **config, size_t *config_len,
		  struct convert_stats *stats, struct errmsg *err);

#endif
