/* virtio_blk: a virtio block device backed by a host file descriptor.
 *
 * Contract
 * - The backing fd is a regular file or a block device whose size is a
 *   multiple of 512 bytes; capacity is read at init and at
 *   virtio_blk_set_backing(). The caller keeps
 *   ownership of the fd (virtio_blk_free does not close it) and must keep it
 *   open while the device exists. A read-write device needs an fd open for
 *   writing.
 * - Features offered: VIRTIO_BLK_F_SEG_MAX (VIRTQ_MAX_SEGS - 2),
 *   VIRTIO_BLK_F_FLUSH, and VIRTIO_BLK_F_RO for read-only devices. One
 *   queue of at most 256 entries.
 * - Requests: IN, OUT, FLUSH (fdatasync) and GET_ID; any other type is
 *   answered VIRTIO_BLK_S_UNSUPP. The 16-byte header is read from the
 *   device-readable bytes (it may span descriptors), the status is the last
 *   device-writable byte of the chain, and the data is the readable bytes
 *   after the header (OUT) or the writable bytes before the status (IN,
 *   GET_ID). A request whose header is short, whose data is not a multiple
 *   of 512 bytes or reaches past the capacity, an OUT on a read-only device,
 *   or a failing host I/O is answered VIRTIO_BLK_S_IOERR without touching
 *   the file. A chain without any writable byte cannot be answered: the
 *   queue is marked broken (DEVICE_NEEDS_RESET).
 * - The used length of an answered request is the chain's total writable
 *   length: the status byte is its last byte.
 * - I/O is synchronous (preadv/pwritev) on the thread that delivers the
 *   notification.
 */
#ifndef HULL_VIRTIO_BLK_H
#define HULL_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/ratelimit.h"
#include "vmm/virtio/virtio_mmio.h"

#define VIRTIO_BLK_QUEUE_MAX 256u

struct virtio_blk;

/* serial: the GET_ID string, at most VIRTIO_BLK_ID_BYTES (20) bytes, may be
 * NULL (empty). Returns 0, -EINVAL (bad file or serial; err names the file),
 * -errno from fstat/ioctl, or -ENOMEM. */
int virtio_blk_init(struct virtio_blk **out, int fd, bool read_only, const char *serial,
		    struct errmsg *err);
void virtio_blk_free(struct virtio_blk *b);

/* The ops to hand to virtio_mmio_init() together with b as `dev`. */
const struct virtio_dev_ops *virtio_blk_ops(const struct virtio_blk *b);

/* I/O limits (docker's --device-read-bps and friends), token buckets of
 * vmm/ratelimit.h: bytes and requests per second, reads (IN) and writes
 * (OUT, FLUSH as a write of no bytes) apart; 0 = unlimited. A request the
 * buckets refuse stays in the ring (virtq_unpop) until a timerfd on `loop`
 * says it may pass; then the queue is served again under t's lock
 * (virtio_mmio_run_locked). Call once, before the guest runs, from the
 * thread that owns the loop's registrations; all zero: no-op. 0 or -errno. */
struct virtio_blk_limits {
	uint64_t read_bps, write_bps, read_iops, write_iops;
};
struct evloop;
int virtio_blk_set_limits(struct virtio_blk *b, const struct virtio_blk_limits *l,
			  struct evloop *loop, struct virtio_mmio *t, struct errmsg *err);

/* What the guest moved (atomics: any thread may read them while requests
 * are served): bytes and requests of IN and OUT requests that succeeded,
 * after the checks above (a multiple of 512 bytes inside the capacity), so
 * a request the device refused counts nowhere. FLUSH and GET_ID count in
 * neither. Starts at 0 with the device (a restored VM counts from its
 * restore). */
struct virtio_blk_stats {
	uint64_t read_bytes, write_bytes, reads, writes;
};
void virtio_blk_get_stats(struct virtio_blk *b, struct virtio_blk_stats *out);

/* Capacity in 512-byte sectors. */
uint64_t virtio_blk_capacity(const struct virtio_blk *b);

/* Swap the backing file of a live device (a restored template gets the
 * run's disk). The fd is checked as at init; read_only must equal the
 * device's: the guest negotiated VIRTIO_BLK_F_RO with the old backing.
 * The device has its own lock, held by queue processing and config reads
 * (inside the transport lock): a request being served on the event-loop
 * thread finishes on the old fd, the next one uses the new fd, so once
 * this returns the caller may close the old fd. The caller then calls
 * virtio_mmio_config_changed() so the guest re-reads the capacity. Returns
 * 0 or -errno (err names the file); on error nothing changed. */
int virtio_blk_set_backing(struct virtio_blk *b, int fd, bool read_only, struct errmsg *err);

#endif
