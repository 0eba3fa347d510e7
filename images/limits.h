/* limits: caps on what converting one image may cost, so that a hostile image
 * (a decompression bomb, millions of tiny entries) fails with a clear error
 * instead of filling the host's disk or memory.
 *
 * - max_bytes: total uncompressed layer bytes (tar streams, all layers
 *   together). Checked while decompressing; and the sizes regular files
 *   declare, summed over all layers, may not exceed it either, checked from
 *   each entry's header before any block is allocated for it (a sparse file
 *   counts at its full, apparent size, although the tar carries only its
 *   data; in the image it keeps its holes, so its disk blocks are those of
 *   its data, images/ext4w.h: the limit bounds what the files read back as,
 *   and their blocks with it). Default
 *   16 GiB: far above real images (the largest common ones unpack to a few
 *   GiB), small enough to stop a bomb before a typical disk is full.
 *   A pull caps the compressed layers with it too (images/pull.h): their
 *   total, as the manifest states it and as the bytes arrive, may not exceed
 *   max_bytes (compression never makes a real layer bigger than its tar by
 *   more than a fraction of a percent).
 * - max_entries: total tar entries of all layers. Default 2,000,000: each
 *   costs ~200 bytes of memory while converting; real images have tens of
 *   thousands.
 * Exceeding either is -E2BIG (not -EFBIG, which means "filesystem full,
 * retry bigger" inside the converter).
 *
 * The command line sets max_bytes with --max-image-size SIZE or the
 * environment with HULL_MAX_IMAGE_SIZE (cli/imgopt.h reads both). */
#ifndef HULL_IMAGES_LIMITS_H
#define HULL_IMAGES_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IMAGE_MAX_BYTES_DEFAULT (16ull << 30)
#define IMAGE_MAX_ENTRIES_DEFAULT 2000000ull
#define IMAGE_MAX_SIZE_ENV "HULL_MAX_IMAGE_SIZE"

struct image_limits {
	uint64_t max_bytes;
	uint64_t max_entries;
};

static inline struct image_limits image_limits_default(void)
{
	return (struct image_limits){IMAGE_MAX_BYTES_DEFAULT, IMAGE_MAX_ENTRIES_DEFAULT};
}

/* A size for limit messages: "16 GiB", "300 MiB" or "12345 bytes". */
static inline void image_size_str(uint64_t b, char *buf, size_t n)
{
	if (b >= (1ull << 30) && b % (1ull << 30) == 0)
		snprintf(buf, n, "%llu GiB", (unsigned long long)(b >> 30));
	else if (b >= (1ull << 20) && b % (1ull << 20) == 0)
		snprintf(buf, n, "%llu MiB", (unsigned long long)(b >> 20));
	else
		snprintf(buf, n, "%llu bytes", (unsigned long long)b);
}

#endif
