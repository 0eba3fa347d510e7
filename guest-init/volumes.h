/* volumes: mount the container's volumes (host directories the VMM serves
 * over virtio-9p, one mount tag each) inside its root.
 *
 * Contract
 * - Called after rootfs_switch(): the guest paths resolve in the
 *   container's root as the container will see them (a symlink in the image
 *   leads where it would for the container).
 * - Each volume in order: its mount point is created when missing (mkdir -p,
 *   in the writable root), then 9p is mounted there with trans=virtio,
 *   version=9p2000.L, msize=VOLUMES_MSIZE, cache=mmap, access=client, nodev,
 *   plus ro for read-only volumes. cache=mmap: reads and writes go to the
 *   host each time (what the host changes is seen at once, and nothing is
 *   lost if the VM dies), and shared writable mmap still works, which
 *   cache=none refuses. access=client: the guest kernel checks permissions
 *   against the modes and owners the server reports, as on a local disk.
 * - Returns 0, or -errno with err naming the volume's path and tag.
 */
#ifndef HULL_GUEST_INIT_VOLUMES_H
#define HULL_GUEST_INIT_VOLUMES_H

#include <stddef.h>

#include "common/errmsg.h"
#include "log.h"
#include "proto/hcp.h"

/* The 6.1 kernel's virtio 9p transport caps msize at 125 pages. */
#define VOLUMES_MSIZE 512000

int volumes_mount(const struct hcp_volume *v, size_t n, const struct log *l, struct errmsg *err);

#endif
