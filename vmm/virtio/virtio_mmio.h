/* virtio_mmio: the virtio-mmio transport, modern interface (Version 2).
 *
 * Contract
 * - One struct virtio_mmio per device, 4 KiB of MMIO at `base`: the control
 *   registers of linux/virtio_mmio.h, then the device's config space at
 *   VIRTIO_MMIO_CONFIG (0x100).
 * - Control registers take only 32-bit, 4-byte-aligned accesses; config
 *   space takes 1/2/4/8-byte naturally aligned accesses inside the device's
 *   config_len. Anything else, unknown offsets, reads of write-only and
 *   writes to read-only registers are ignored (reads return 0).
 * - Features: the device's bits (ops->features, device-specific bits only;
 *   transport bits in it are dropped) plus VIRTIO_F_VERSION_1,
 *   VIRTIO_RING_F_INDIRECT_DESC and VIRTIO_RING_F_EVENT_IDX. FEATURES_OK is
 *   refused (left clear in Status) if the driver did not accept VERSION_1
 *   or accepted a bit that was not offered. DriverFeatures is frozen once
 *   FEATURES_OK is accepted.
 * - Queues: QueueNum/QueueDesc/QueueDriver/QueueDevice are staged and
 *   checked when the driver writes QueueReady=1 (virtq_configure); writes to
 *   them while the queue is ready are ignored. A queue that fails the
 *   checks stays not ready and the device is marked DEVICE_NEEDS_RESET.
 *   QueueReady=0 disables the queue. Queues are processed only between
 *   DRIVER_OK (with FEATURES_OK accepted) and the next reset.
 * - A queue that becomes broken (see virtq.h) sets DEVICE_NEEDS_RESET in
 *   Status and raises a configuration-change interrupt; the device then
 *   processes nothing until the driver resets it (Status = 0), which
 *   disables all queues, clears features, InterruptStatus and Status, and
 *   calls ops->reset.
 * - Threading: register accesses (vCPU threads) and notifications (event
 *   loop) are serialised by a mutex inside the transport. ops callbacks and
 *   the irq callback run with that mutex held: they must not call back into
 *   the transport. irq() raises the device's (edge) interrupt line.
 * - Every notification processes at most VIRTIO_MMIO_NOTIFY_BUDGET chains,
 *   so a guest that keeps refilling the ring cannot pin the caller; see
 *   virtio_mmio_notify() for what the caller does when the budget runs out.
 *   A QueueNotify arriving as a plain MMIO write (no ioeventfd) is served
 *   for at most VIRTIO_MMIO_NOTIFY_MMIO_ROUNDS budgets, the lock released
 *   in between; past that, the buffers left wait for the next notification.
 *   Use the ioeventfd path for anything but tests and early bring-up.
 * - Snapshots: virtio_mmio_save() appends the transport state (status,
 *   features both ways, selectors, InterruptStatus, ConfigGeneration, and
 *   per queue its layout and ring indices) to a vmstate buffer.
 *   virtio_mmio_restore() loads it into a transport for the same device
 *   (same device id, offered features and queue count) on the same guest
 *   memory layout, validating it as if the guest had written it: negotiated
 *   features must be acceptable, and a live queue goes through
 *   virtq_configure() (size, alignment, rings inside guest RAM). On any
 *   error the transport is unchanged. No interrupt is raised and the device
 *   is not notified: the caller kicks the queues once the VM runs (buffers
 *   the guest queued before the save are still waiting in the rings).
 */
#ifndef HULL_VIRTIO_MMIO_H
#define HULL_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_mmio.h>

#include "common/errmsg.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio/virtq.h"
#include "vmm/snapshot/vmstate.h"

#define VIRTIO_MMIO_SIZE 0x1000u
#define VIRTIO_MMIO_MAGIC 0x74726976u  /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4c4c5548u /* "HULL" */
#define VIRTIO_MMIO_MAX_QUEUES 64u
#define VIRTIO_MMIO_NOTIFY_BUDGET 1024u
#define VIRTIO_MMIO_NOTIFY_MMIO_ROUNDS 16u

struct virtio_mmio; /* one per device */

struct virtio_dev_ops {
	uint32_t device_id;  /* VIRTIO_ID_BLOCK, ... */
	uint64_t features;   /* device-specific feature bits offered */
	unsigned num_queues; /* 1 .. VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_max;  /* QueueNumMax: a power of two, <= VIRTQ_MAX_SIZE */
	/* config space access, off/len already checked against config_len */
	void (*config_read)(void *dev, uint32_t off, void *data, uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const void *data, uint32_t len);
	uint32_t config_len; /* <= VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG */
	/* Process available buffers of queue q: pop chains with virtq_pop()
	 * until it returns <= 0, virtq_push() each one answered. Called with
	 * the transport lock held; the transport raises the interrupt after. */
	void (*queue_notify)(void *dev, struct virtq *q, unsigned qidx);
	void (*reset)(void *dev); /* may be NULL */
};

/* Returns 0, -EINVAL (bad ops) or -ENOMEM. `ops` and `mem` must outlive t. */
int virtio_mmio_init(struct virtio_mmio **out, uint64_t base, const struct guest_mem *mem,
		     const struct virtio_dev_ops *ops, void *dev, void (*irq)(void *ctx),
		     void *irq_ctx);
void virtio_mmio_free(struct virtio_mmio *t);
uint64_t virtio_mmio_base(const struct virtio_mmio *t);

/* MMIO dispatch from a vCPU thread; off = addr - base (< VIRTIO_MMIO_SIZE),
 * len the access width in bytes. */
void virtio_mmio_read(struct virtio_mmio *t, uint64_t off, void *data, uint32_t len);
void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, const void *data, uint32_t len);

/* QueueNotify for queue qidx (from an ioeventfd registered at
 * base + VIRTIO_MMIO_QUEUE_NOTIFY with datamatch = qidx, or from a plain
 * MMIO write). Returns true if the budget ran out with buffers still
 * available: the caller should call again soon (after serving its other
 * events), since the driver will not necessarily notify again. */
bool virtio_mmio_notify(struct virtio_mmio *t, unsigned qidx);

/* Raise the used-buffer interrupt if any queue has used buffers not yet
 * considered for one (used_event / NO_INTERRUPT permitting). For devices
 * that complete requests later. Note: virtq_push() outside queue_notify
 * must be serialised with the transport by the device; no current device
 * does that (virtio-blk completes inside queue_notify). */
void virtio_mmio_signal_used(struct virtio_mmio *t);

/* For devices that complete requests outside queue_notify (a packet
 * arriving from a socket, say): run fn(dev, ctx) with the transport lock
 * held, the same serialisation queue_notify gets; inside it,
 * virtio_mmio_queue_locked() gives queue qidx when the device is live and
 * the queue ready and not broken (else NULL), for virtq_pop()/virtq_push().
 * Afterwards the used-buffer interrupt is raised if due, and a queue fn
 * found broken marks the device DEVICE_NEEDS_RESET, as after a notify. */
void virtio_mmio_run_locked(struct virtio_mmio *t, void (*fn)(void *dev, void *ctx), void *ctx);
struct virtq *virtio_mmio_queue_locked(struct virtio_mmio *t, unsigned qidx);
/* The features the driver accepted (0 before FEATURES_OK), for devices
 * whose behaviour depends on them; only with the transport lock held
 * (inside queue_notify, reset or a virtio_mmio_run_locked() callback). */
uint64_t virtio_mmio_features_locked(const struct virtio_mmio *t);
/* The device's config space changed: bump ConfigGeneration and raise a
 * configuration-change interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

/* Snapshot state, see the contract. 0 or -errno (err says why). */
int virtio_mmio_save(struct virtio_mmio *t, struct vmstate_buf *out);
int virtio_mmio_restore(struct virtio_mmio *t, const uint8_t *buf, size_t len, struct errmsg *err);

#endif
