#include "fuzz/hostile_driver.h"

#include <endian.h>
#include <linux/virtio_config.h>

#include "tests/unit/vmm/virtio/virtio_fake_driver.h"

struct hd {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtio_mmio *t;
	uint16_t qsize[HD_MAX_QUEUES]; /* as the SETUP op programmed it */
	uint16_t avail_idx[HD_MAX_QUEUES];
	unsigned num_queues;
};

static void irq(void *ctx)
{
	(void)ctx;
}

static void setup(struct hd *h, struct fz *in)
{
	uint64_t features = fz_u64(in);
	uint8_t mask = fz_u8(in);
	uint16_t size = (uint16_t)(1u << (fz_u8(in) % 9)); /* 1 .. 256 */
	mmio_negotiate(h->t, features);
	for (unsigned q = 0; q < h->num_queues && q < HD_MAX_QUEUES; q++) {
		if (!(mask & (1u << q)))
			continue;
		uint64_t base = HD_QUEUE(q);
		/* the unit tests' driver programs the registers; only the ring
		 * addresses of its fake guest are used */
		struct fake_guest g = {.desc = base, .avail = base + 0x1000, .used = base + 0x2000};
		mmio_setup_queue(h->t, &g, q, size);
		h->qsize[q] = size;
		h->avail_idx[q] = 0;
	}
	mmio_driver_ok(h->t);
}

static void mmio_access(struct hd *h, struct fz *in, bool write)
{
	uint64_t off = fz_u16(in) % VIRTIO_MMIO_SIZE;
	uint32_t len = 1u << (fz_u8(in) % 4);
	uint64_t v = write ? fz_u64(in) : 0;
	if (write)
		virtio_mmio_write(h->t, off, &v, len);
	else
		virtio_mmio_read(h->t, off, &v, len);
}

static void ram_write(struct hd *h, struct fz *in)
{
	uint32_t gpa = fz_u32(in) % HD_RAM;
	size_t n;
	const uint8_t *p = fz_bytes(in, fz_u8(in), &n);
	if (n > HD_RAM - gpa)
		n = HD_RAM - gpa;
	memcpy(h->ram + gpa, p, n);
}

static void desc(struct hd *h, struct fz *in)
{
	unsigned q = fz_u8(in) % HD_MAX_QUEUES;
	unsigned i = fz_u8(in);
	/* Mostly inside RAM (a twice-RAM window also reaches past its end);
	 * the top bit asks for the raw value, up near 4 GiB. */
	uint32_t addr = fz_u32(in);
	if (!(addr & 0x80000000u))
		addr %= 2 * HD_RAM;
	uint32_t len = fz_u32(in);
	if (!(len & 0x80000000u))
		len %= 2 * HD_RAM;
	struct vring_desc d = {
	    .addr = htole64(addr),
	    .len = htole32(len),
	    .flags = htole16(fz_u16(in)),
	    .next = htole16(fz_u16(in)),
	};
	memcpy(h->ram + HD_QUEUE(q) + 16u * i, &d, sizeof(d));
}

static void avail(struct hd *h, struct fz *in, bool set_idx)
{
	unsigned q = fz_u8(in) % HD_MAX_QUEUES;
	uint16_t v = fz_u16(in);
	struct vring_avail *a = (struct vring_avail *)(h->ram + HD_QUEUE(q) + 0x1000);
	if (set_idx) {
		h->avail_idx[q] = v;
	} else {
		uint16_t size = h->qsize[q] ? h->qsize[q] : 1;
		a->ring[h->avail_idx[q] % size] = htole16(v);
		h->avail_idx[q]++;
	}
	__atomic_store_n(&a->idx, htole16(h->avail_idx[q]), __ATOMIC_RELEASE);
}

static void notify(struct hd *h, unsigned q)
{
	if (q & 0x80) {
		mmio_wr(h->t, VIRTIO_MMIO_QUEUE_NOTIFY, q & 0x7f);
		return;
	}
	/* the caller's loop: again while the budget ran out, but bounded */
	for (int round = 0; round < 4 && virtio_mmio_notify(h->t, q % 64); round++)
		;
}

static void save_restore(struct hd *h, struct fz *in)
{
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	FZ_CHECK(virtio_mmio_save(h->t, &b) == 0);
	unsigned flips = fz_u8(in) % 4;
	for (unsigned i = 0; i < flips && b.len; i++) {
		uint16_t at = fz_u16(in);
		b.data[at % b.len] ^= fz_u8(in);
	}
	struct errmsg err;
	(void)virtio_mmio_restore(h->t, b.data, b.len, &err);
	vmstate_buf_free(&b);
}

/* For whoever writes seeds: how far the device got with them. */
static void debug_report(struct hd *h, uint32_t status)
{
	fprintf(stderr, "hostile driver: status 0x%x\n", status);
	for (unsigned q = 0; q < h->num_queues && q < HD_MAX_QUEUES; q++) {
		const struct vring_used *u =
		    (const struct vring_used *)(h->ram + HD_QUEUE(q) + 0x2000);
		uint16_t n = le16toh(u->idx);
		fprintf(stderr, "  queue %u: %u used", q, n);
		for (unsigned i = 0; i < n && i < 16 && h->qsize[q]; i++)
			fprintf(stderr, " [id %u len %u]", le32toh(u->ring[i % h->qsize[q]].id),
				le32toh(u->ring[i % h->qsize[q]].len));
		fputc('\n', stderr);
	}
}

void hd_run(const struct hd_device *d, const uint8_t *data, size_t size)
{
	struct hd h;
	memset(&h, 0, sizeof(h));
	h.ram = aligned_alloc(4096, HD_RAM);
	FZ_CHECK(h.ram);
	memset(h.ram, 0, HD_RAM);
	guest_mem_wrap(&h.mem, h.ram, HD_RAM);
	const struct virtio_dev_ops *ops;
	void *tdev;
	void *dev = d->create(&h.mem, &ops, &tdev);
	h.num_queues = ops->num_queues;
	FZ_CHECK(virtio_mmio_init(&h.t, 0xd0000000, &h.mem, ops, tdev, irq, NULL) == 0);
	if (d->connect)
		d->connect(dev, h.t);

	struct fz in = {data, size};
	while (fz_left(&in)) {
		switch (fz_u8(&in) % HD_NOPS) {
		case HD_SETUP:
			setup(&h, &in);
			break;
		case HD_MMIO_W:
			mmio_access(&h, &in, true);
			break;
		case HD_MMIO_R:
			mmio_access(&h, &in, false);
			break;
		case HD_RAM_W:
			ram_write(&h, &in);
			break;
		case HD_DESC:
			desc(&h, &in);
			break;
		case HD_AVAIL:
			avail(&h, &in, false);
			break;
		case HD_AVAIL_IDX:
			avail(&h, &in, true);
			break;
		case HD_NOTIFY:
			notify(&h, fz_u8(&in));
			break;
		case HD_RESET:
			mmio_wr(h.t, VIRTIO_MMIO_STATUS, 0);
			break;
		case HD_SAVE:
			save_restore(&h, &in);
			break;
		case HD_DEVICE:
			if (d->op)
				d->op(dev, h.t, &in);
			break;
		}
	}
	for (unsigned q = 0; q < h.num_queues; q++)
		notify(&h, q);
	uint32_t status = mmio_rd(h.t, VIRTIO_MMIO_STATUS);
	if (getenv("HULL_FUZZ_DEBUG"))
		debug_report(&h, status);
	virtio_mmio_free(h.t);
	d->destroy(dev);
	free(h.ram);
}
