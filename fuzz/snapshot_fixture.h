/* What the snapshot-state harness and its seed generator (mkseeds.c) agree
 * on: the template's identity, its guest RAM size, and the sections it
 * holds, so that the seeds reach past the identity checks into the parts
 * worth fuzzing. */
#ifndef HULL_FUZZ_SNAPSHOT_FIXTURE_H
#define HULL_FUZZ_SNAPSHOT_FIXTURE_H

#include <linux/virtio_ids.h>

#include "vmm/snapshot.h"
#include "vmm/virtio_mmio.h"

#define FZ_SNAP_VERSION "fuzz"
#define FZ_SNAP_KEY "fuzz template"
#define FZ_SNAP_MEM (64u * 1024u)
#define FZ_SNAP_SEC_UART 1u
#define FZ_SNAP_SEC_VIRTIO 2u
#define FZ_SNAP_QUEUES 2u

static const struct snapshot_cpu fz_snap_cpu = {
    .vendor = "HullFuzzCPU!",
    .family = 6,
    .model = 85,
    .stepping = 7,
    .leaf1_ecx = 0x7ffafbff,
    .leaf1_edx = 0xbfebfbff,
};

/* A device whose only state is its transport (as virtio-blk's): it
 * answers every chain with used length 0. */
static inline void fz_snap_notify(void *dev, struct virtq *q, unsigned qidx)
{
	(void)dev;
	(void)qidx;
	struct virtq_chain c;
	while (virtq_pop(q, &c) > 0)
		virtq_push(q, c.head, 0);
}

static const struct virtio_dev_ops fz_snap_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .features = 1ull << 9, /* VIRTIO_BLK_F_FLUSH */
    .num_queues = FZ_SNAP_QUEUES,
    .queue_max = 256,
    .queue_notify = fz_snap_notify,
};

#endif
