/* A fake virtio driver for unit tests: guest RAM in a malloc'd buffer
 * wrapped with guest_mem_wrap(), split rings laid out in it like a driver
 * would, and helpers to drive a virtio-mmio register file.
 *
 * Layout (queue 0 unless a test says otherwise):
 *   FD_DESC   descriptor table     FD_AVAIL  available ring
 *   FD_USED   used ring            FD_DATA.. buffers
 */
#ifndef HULL_TEST_VIRTIO_FAKE_DRIVER_H
#define HULL_TEST_VIRTIO_FAKE_DRIVER_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "vmm/guest_mem.h"
#include "vmm/virtio/virtio_mmio.h"

#define FD_RAM_SIZE (1u << 20)
#define FD_DESC 0x1000u
#define FD_AVAIL 0x3000u
#define FD_USED 0x4000u
#define FD_INDIRECT 0x8000u
#define FD_DATA 0x10000u

struct fake_guest {
	uint8_t *ram;
	uint64_t size;
	struct guest_mem mem;
	/* ring state of the driver side */
	uint16_t qsize;
	uint16_t avail_idx;
	uint16_t used_seen;
	uint64_t desc, avail, used;
};

static inline void fg_init(struct fake_guest *g, uint16_t qsize)
{
	memset(g, 0, sizeof(*g));
	g->size = FD_RAM_SIZE;
	g->ram = aligned_alloc(4096, FD_RAM_SIZE);
	memset(g->ram, 0, FD_RAM_SIZE);
	guest_mem_wrap(&g->mem, g->ram, FD_RAM_SIZE);
	g->qsize = qsize;
	g->desc = FD_DESC;
	g->avail = FD_AVAIL;
	g->used = FD_USED;
}

static inline void fg_free(struct fake_guest *g)
{
	free(g->ram);
	g->ram = NULL;
}

static inline void *fg_ptr(struct fake_guest *g, uint64_t gpa)
{
	return g->ram + gpa;
}

static inline struct vring_desc *fg_desc_at(struct fake_guest *g, uint64_t table, uint16_t i)
{
	return (struct vring_desc *)fg_ptr(g, table) + i;
}

static inline void fg_set_desc_in(struct fake_guest *g, uint64_t table, uint16_t i, uint64_t addr,
				  uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *d = fg_desc_at(g, table, i);
	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

static inline void fg_set_desc(struct fake_guest *g, uint16_t i, uint64_t addr, uint32_t len,
			       uint16_t flags, uint16_t next)
{
	fg_set_desc_in(g, g->desc, i, addr, len, flags, next);
}

static inline struct vring_avail *fg_avail(struct fake_guest *g)
{
	return fg_ptr(g, g->avail);
}

static inline struct vring_used *fg_used(struct fake_guest *g)
{
	return fg_ptr(g, g->used);
}

/* Make chain `head` available (and publish avail->idx). */
static inline void fg_avail_push(struct fake_guest *g, uint16_t head)
{
	struct vring_avail *a = fg_avail(g);
	a->ring[g->avail_idx % g->qsize] = htole16(head);
	g->avail_idx++;
	__atomic_store_n(&a->idx, htole16(g->avail_idx), __ATOMIC_RELEASE);
}

/* Set avail->idx directly (hostile jumps). */
static inline void fg_set_avail_idx(struct fake_guest *g, uint16_t idx)
{
	g->avail_idx = idx;
	fg_avail(g)->idx = htole16(idx);
}

static inline uint16_t fg_used_idx(struct fake_guest *g)
{
	return le16toh(__atomic_load_n(&fg_used(g)->idx, __ATOMIC_ACQUIRE));
}

static inline struct vring_used_elem fg_used_elem(struct fake_guest *g, uint16_t i)
{
	struct vring_used_elem e = fg_used(g)->ring[i % g->qsize];
	e.id = le32toh(e.id);
	e.len = le32toh(e.len);
	return e;
}

static inline void fg_set_avail_flags(struct fake_guest *g, uint16_t flags)
{
	fg_avail(g)->flags = htole16(flags);
}

/* used_event lives after the avail ring, avail_event after the used ring. */
static inline void fg_set_used_event(struct fake_guest *g, uint16_t v)
{
	fg_avail(g)->ring[g->qsize] = htole16(v);
}

static inline uint16_t fg_avail_event(struct fake_guest *g)
{
	uint16_t v;
	memcpy(&v, (uint8_t *)fg_used(g) + 4 + 8u * g->qsize, 2);
	return le16toh(v);
}

/* ---- virtio-mmio register helpers ---- */

static inline uint32_t mmio_rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	virtio_mmio_read(t, off, &v, 4);
	return le32toh(v);
}

static inline void mmio_wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	v = htole32(v);
	virtio_mmio_write(t, off, &v, 4);
}

/* Driver initialisation up to FEATURES_OK with the given driver features.
 * Returns the Status read back. */
static inline uint32_t mmio_negotiate(struct virtio_mmio *t, uint64_t features)
{
	mmio_wr(t, VIRTIO_MMIO_STATUS, 0);
	mmio_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mmio_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_wr(t, VIRTIO_MMIO_STATUS,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return mmio_rd(t, VIRTIO_MMIO_STATUS);
}

/* Program queue qidx with the fake guest's ring addresses and size n, then
 * write QueueReady=1. Returns QueueReady read back. */
static inline uint32_t mmio_setup_queue(struct virtio_mmio *t, struct fake_guest *g, unsigned qidx,
					uint32_t n)
{
	mmio_wr(t, VIRTIO_MMIO_QUEUE_SEL, qidx);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_NUM, n);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)g->desc);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(g->desc >> 32));
	mmio_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)g->avail);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(g->avail >> 32));
	mmio_wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)g->used);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(g->used >> 32));
	mmio_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	return mmio_rd(t, VIRTIO_MMIO_QUEUE_READY);
}

static inline void mmio_driver_ok(struct virtio_mmio *t)
{
	mmio_wr(t, VIRTIO_MMIO_STATUS,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
		    VIRTIO_CONFIG_S_DRIVER_OK);
}

#endif
