/* inventory: what the local image store holds, and removing from it, for
 * `hull images`, `hull rmi` and `hull image prune`.
 *
 * Contract
 * - inventory_list(): one item per stored reference (lstore order), each
 *   resolved to the image manifest hull runs (an index: the linux/<host
 *   arch> one), with the compressed size (config + layers, as stored), the
 *   disk space of the converted root filesystem (0 when not converted), and
 *   when the image was created (the config's "created", else when it was
 *   stored). An entry that does not resolve (a damaged store) is listed with
 *   manifest "" and sizes 0, not an error.
 * - inventory_rmi(): untag `ref` (normalised docker-style first, so
 *   "busybox" means docker.io/library/busybox:latest); then remove the
 *   converted root filesystem of its manifest unless another reference still
 *   uses it, and collect (lstore_gc) blobs nothing references. -ENOENT naming
 *   ref when it is not stored.
 * - inventory_prune(): lstore_gc (unreferenced blobs, temp debris older than
 *   a minute), then every converted root filesystem no stored reference uses
 *   (that includes conversions of images run from a path: the next run
 *   converts again) and conversion debris; entries being converted are left.
 * - freed: disk space released, in bytes. */
#ifndef HULL_IMAGES_INVENTORY_H
#define HULL_IMAGES_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

struct inventory_item {
	char *ref;	   /* normalised reference; NULL for an unnamed entry */
	char digest[72];   /* the stored (manifest or index) digest */
	char manifest[72]; /* the manifest hull runs, "" if unresolvable */
	uint64_t compressed;
	uint64_t rootfs_bytes;
	char *created; /* RFC 3339, or NULL */
};

int inventory_list(const char *root, struct inventory_item **items, size_t *n,
		   struct errmsg *err);
void inventory_free(struct inventory_item *items, size_t n);
int inventory_rmi(const char *root, const char *ref, uint64_t *freed, struct errmsg *err);
int inventory_prune(const char *root, uint64_t *freed, struct errmsg *err);

#endif
