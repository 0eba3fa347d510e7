/* virtio_9p: the virtio-9p device (virtio id 9) in front of a p9 server.
 *
 * Contract
 * - Offers VIRTIO_9P_MOUNT_TAG; config space is le16 tag_len then the tag
 *   (1..VIRTIO_9P_TAG_MAX bytes), read-only. One request queue of at most
 *   VIRTIO_9P_QUEUE_MAX entries.
 * - A chain is one 9p request: its device-readable bytes are the T-message,
 *   its device-writable bytes receive the R-message; the used length is
 *   the answer's length. Readable bytes beyond P9_MSIZE_MAX are not read:
 *   the request is answered Rlerror(EMSGSIZE) from its header. A chain with
 *   fewer than 7 readable or 11 writable bytes cannot be answered: the
 *   queue is marked broken (DEVICE_NEEDS_RESET), which ends the session.
 * - Requests are served synchronously on the thread that delivers the
 *   queue notification (hull's event-loop thread), like virtio-blk: the
 *   guest's 9p client waits for each answer anyway, and the server never
 *   blocks on anything but host file I/O (it refuses to open FIFOs and
 *   devices). The message is copied out of and into guest memory through
 *   two P9_MSIZE_MAX buffers of the device.
 * - A device reset forgets every fid (p9_server_reset).
 * - The server stays owned by the caller and must outlive the device.
 */
#ifndef HULL_VIRTIO_9P_H
#define HULL_VIRTIO_9P_H

#include "common/errmsg.h"
#include "p9/p9.h"
#include "vmm/virtio/virtio_mmio.h"

#define VIRTIO_9P_TAG_MAX 32u
#define VIRTIO_9P_QUEUE_MAX 128u

struct virtio_9p;

/* Returns 0, -EINVAL (bad tag) or -ENOMEM, err says why. */
int virtio_9p_init(struct virtio_9p **out, struct p9_server *srv, const char *tag,
		   struct errmsg *err);
void virtio_9p_free(struct virtio_9p *d);
/* The ops to hand to virtio_mmio_init() together with d as `dev`. */
const struct virtio_dev_ops *virtio_9p_ops(const struct virtio_9p *d);

#endif
