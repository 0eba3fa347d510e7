/* virtq: the device side of a virtio 1.x split virtqueue.
 *
 * Contract
 * - The guest is hostile. Every ring index, descriptor and buffer address
 *   read from guest memory is checked before use; buffers become host
 *   pointers only through guest_mem_ptr() on their full length. Nothing here
 *   aborts, loops without bound, or touches memory outside guest RAM.
 * - A queue is configured once it is enabled (virtq_configure): the size
 *   must be a power of two in [1, max]; the descriptor table (16-byte
 *   aligned), the available ring (2-byte aligned) and the used ring
 *   (4-byte aligned) must each lie wholly in guest RAM, including the
 *   used_event / avail_event words when VIRTIO_RING_F_EVENT_IDX was
 *   negotiated.
 * - virtq_pop() returns the next available chain as host iovecs, the
 *   device-readable segments first, then the device-writable ones. A
 *   protocol violation that leaves the queue in an unknown state marks the
 *   queue broken: avail->idx moving by more than the queue size, a head or
 *   next index >= the table size, a chain longer than its table (a loop),
 *   a buffer not wholly in guest RAM (incl. address+len overflow), a
 *   readable descriptor after a writable one, more than VIRTQ_MAX_SEGS
 *   non-empty buffers, a chain totalling more than 4 GiB - 1, an indirect
 *   descriptor when the feature was not negotiated, combined with NEXT,
 *   inside an indirect table, or whose table is empty, not a multiple of 16
 *   bytes or larger than VIRTQ_MAX_SEGS entries. A broken queue yields
 *   nothing more until it is reconfigured; the transport turns it into
 *   DEVICE_NEEDS_RESET. Zero-length buffers are legal and skipped (they
 *   still count towards the chain length and the ordering rule).
 * - Indirect descriptors (VIRTIO_RING_F_INDIRECT_DESC) are supported, with
 *   the same checks; so is VIRTIO_RING_F_EVENT_IDX. Without EVENT_IDX,
 *   VRING_AVAIL_F_NO_INTERRUPT is honoured.
 * - Ordering: avail->idx is read with acquire semantics before the ring
 *   entries and descriptors; used elements are written before used->idx is
 *   stored with release semantics; a full fence separates publishing
 *   used->idx (or avail_event) from reading the driver's suppression fields
 *   (or re-reading avail->idx).
 * - Not thread-safe: the caller (the transport) serialises all calls on one
 *   queue.
 */
#ifndef HULL_VIRTQ_H
#define HULL_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#include "vmm/guest_mem.h"

/* Largest queue size a split ring can have. */
#define VIRTQ_MAX_SIZE 32768u
/* Most non-empty buffers one chain may have (also the cap on the entries of
 * an indirect table). Devices derive their seg_max from it. */
#define VIRTQ_MAX_SEGS 256u

struct virtq_chain {
	uint16_t head;	  /* id to hand back to virtq_push() */
	unsigned n_out;	  /* iov[0, n_out): device-readable */
	unsigned n_in;	  /* iov[n_out, n_out + n_in): device-writable */
	uint32_t out_len; /* total bytes of the readable segments */
	uint32_t in_len;  /* total bytes of the writable segments */
	struct iovec iov[VIRTQ_MAX_SEGS];
};

struct virtq {
	const struct guest_mem *mem;
	bool ready;
	bool broken;
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;	 /* next avail ring slot to consume */
	uint16_t used_idx;	 /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx when last considered for an interrupt */
	unsigned budget;	 /* chains virtq_pop may still return */
	bool budget_hit;	 /* virtq_pop stopped on the budget with work left */
};

/* Zero the queue and bind it to guest memory; it is not ready. */
void virtq_init(struct virtq *q, const struct guest_mem *mem);

/* Validate and enable the queue (see the contract). On success the queue is
 * ready with all indices at 0 and an unlimited budget; returns 0. On failure
 * returns -EINVAL and leaves the queue disabled. `features` is the
 * negotiated feature set (only the ring bits matter). */
int virtq_configure(struct virtq *q, uint32_t size, uint16_t max, uint64_t desc_gpa,
		    uint64_t avail_gpa, uint64_t used_gpa, uint64_t features);

/* Disable the queue and forget its state (QueueReady=0, device reset). */
void virtq_disable(struct virtq *q);

/* Fetch the next available chain into *c.
 * Returns 1 with *c filled, 0 if there is nothing to do (ring empty, queue
 * not ready, or budget exhausted), -EIO if the queue is (now) broken. When
 * the ring is empty and EVENT_IDX is in use, it also publishes avail_event
 * and re-checks, so a buffer added concurrently is not missed. */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Give back the chain the last virtq_pop() returned, unserved (a device
 * whose rate limit says "not yet"): the next virtq_pop() returns it again.
 * Only between that pop and any push. The chain stays the driver's, so
 * saving the queue meanwhile loses nothing. */
void virtq_unpop(struct virtq *q);

/* Whether the driver made buffers available that virtq_pop() has not
 * returned yet (without taking any). */
bool virtq_has_avail(const struct virtq *q);

/* Return a chain to the driver: write the used element, then publish
 * used->idx. `len` is the number of bytes the device wrote into the chain's
 * writable buffers. Ignored if the queue is not ready or broken. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* Whether used buffers pushed since the last call need an interrupt
 * (used_event with EVENT_IDX, else VRING_AVAIL_F_NO_INTERRUPT). False if
 * nothing was pushed. */
bool virtq_need_signal(struct virtq *q);

/* Limit the chains the next virtq_pop() calls may return; budget_hit tells
 * whether the limit stopped them with work left. */
void virtq_set_budget(struct virtq *q, unsigned budget);

/* Device-detected protocol violation that cannot be answered in-band. */
void virtq_set_broken(struct virtq *q);

/* Copy between the chain's readable (resp. writable) segments, starting
 * `skip` bytes in, and a host buffer. Return the bytes copied (fewer than
 * len if the segments end first). */
size_t virtq_chain_read(const struct virtq_chain *c, size_t skip, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *c, size_t skip, const void *src, size_t len);

/* Describe the part [skip, skip+len) of the segments src[0, n) in dst
 * (capacity dst_max), omitting empty pieces. Returns the number of dst
 * entries; fewer bytes are described if src ends first or dst fills up. */
unsigned virtq_iov_slice(const struct iovec *src, unsigned n, size_t skip, size_t len,
			 struct iovec *dst, unsigned dst_max);

#endif
