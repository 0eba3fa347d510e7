/* What the snapshot-state harness and its seed generator (mkseeds.c) agree
 * on: the template's identity, its guest RAM size, and the sections it
 * holds, so that the seeds reach past the identity checks into the parts
 * worth fuzzing. */
#ifndef HULL_FUZZ_SNAPSHOT_FIXTURE_H
#define HULL_FUZZ_SNAPSHOT_FIXTURE_H

#include <endian.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "vmm/snapshot/snapshot.h"
#include "vmm/virtio/virtio_mmio.h"

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

/* Queue q's rings in guest RAM, as the seed's transport state records them. */
#define FZ_SNAP_QSIZE 8u
#define FZ_SNAP_DESC(q) (0x1000u + (q)*0x3000u)
#define FZ_SNAP_AVAIL(q) (FZ_SNAP_DESC(q) + 0x1000u)
#define FZ_SNAP_USED(q) (FZ_SNAP_DESC(q) + 0x2000u)

/* The template's RAM: a chain waiting in queue 0 (two descriptors, one
 * through an indirect table) so the restored queue has work. */
static inline void fz_snap_fill_ram(uint8_t *ram)
{
	struct vring_desc *d = (struct vring_desc *)(ram + FZ_SNAP_DESC(0));
	d[0] = (struct vring_desc){htole64(0x8000), htole32(64), htole16(VRING_DESC_F_NEXT),
				   htole16(1)};
	d[1] = (struct vring_desc){htole64(0x9000), htole32(16), htole16(VRING_DESC_F_INDIRECT), 0};
	struct vring_desc *ind = (struct vring_desc *)(ram + 0x9000);
	ind[0] = (struct vring_desc){htole64(0xa000), htole32(512), htole16(VRING_DESC_F_WRITE), 0};
	struct vring_avail *av = (struct vring_avail *)(ram + FZ_SNAP_AVAIL(0));
	av->ring[0] = 0;
	av->idx = htole16(1);
}

#endif
