/* Unit tests for vmm/virtio/virtio_mmio.c: the register file, feature negotiation,
 * queue setup, notifications and interrupts, with a fake device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>

#include "virtio_fake_driver.h"
#include "vmm/virtio/virtio_mmio.h"

#define QMAX 16
#define NQ 2
#define DEV_ID 42
#define F_V1 (1ull << VIRTIO_F_VERSION_1)
#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define S_ALL_OK                                                                                   \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |      \
	 VIRTIO_CONFIG_S_DRIVER_OK)

/* A fake device: answers every chain with used len = its writable length,
 * filling the writable bytes with 0xab. */
struct fake_dev {
	uint8_t config[12];
	uint8_t config_written[12];
	unsigned notifies;
	unsigned last_qidx;
	unsigned resets;
	unsigned chains;
	bool flood;	  /* re-offer every chain answered (a guest that never stops) */
	bool break_queue; /* declare the request unanswerable */
	struct virtq *q;
	struct virtq_chain c;
	struct fake_guest *g;
};

static void dev_config_read(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct fake_dev *d = dev;
	assert_true(off + len <= sizeof(d->config));
	memcpy(data, d->config + off, len);
}

static void dev_config_write(void *dev, uint32_t off, const void *data, uint32_t len)
{
	struct fake_dev *d = dev;
	assert_true(off + len <= sizeof(d->config));
	memcpy(d->config_written + off, data, len);
}

static void dev_queue_notify(void *dev, struct virtq *q, unsigned qidx)
{
	struct fake_dev *d = dev;
	d->notifies++;
	d->last_qidx = qidx;
	d->q = q;
	while (virtq_pop(q, &d->c) > 0) {
		d->chains++;
		if (d->break_queue) {
			virtq_set_broken(q);
			return;
		}
		for (unsigned i = d->c.n_out; i < d->c.n_out + d->c.n_in; i++)
			memset(d->c.iov[i].iov_base, 0xab, d->c.iov[i].iov_len);
		virtq_push(q, d->c.head, d->c.in_len);
		if (d->flood)
			fg_avail_push(d->g, d->c.head);
	}
}

static void dev_reset(void *dev)
{
	struct fake_dev *d = dev;
	d->resets++;
}

static const struct virtio_dev_ops fake_ops = {
    .device_id = DEV_ID,
    /* bit 34 (RING_PACKED) is a transport bit: must not be offered */
    .features = (1ull << 0) | (1ull << 5) | (1ull << 34) | (1ull << 51),
    .num_queues = NQ,
    .queue_max = QMAX,
    .config_read = dev_config_read,
    .config_write = dev_config_write,
    .config_len = 12,
    .queue_notify = dev_queue_notify,
    .reset = dev_reset,
};

struct fx {
	struct fake_guest g;
	struct fake_dev dev;
	struct virtio_mmio *t;
	unsigned irqs;
};

static void irq_cb(void *ctx)
{
	struct fx *f = ctx;
	f->irqs++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	fg_init(&f->g, QMAX);
	f->dev.g = &f->g;
	for (unsigned i = 0; i < sizeof(f->dev.config); i++)
		f->dev.config[i] = (uint8_t)(0x10 + i);
	assert_int_equal(
	    virtio_mmio_init(&f->t, 0xd0000000, &f->g.mem, &fake_ops, &f->dev, irq_cb, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_free(f->t);
	fg_free(&f->g);
	free(f);
	return 0;
}

/* Bring the device up with queue 0 ready. */
static void bring_up(struct fx *f, uint64_t features)
{
	assert_true(mmio_negotiate(f->t, F_V1 | features) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, QMAX), 1);
	mmio_driver_ok(f->t);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), S_ALL_OK);
}

/* Offer a one-descriptor writable chain at head 0. */
static void offer_chain(struct fx *f, uint32_t len)
{
	fg_set_desc(&f->g, 0, FD_DATA, len, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
}

/* ---- init ---- */

static void test_init_rejects_bad_ops(void **state)
{
	(void)state;
	struct fake_guest g;
	fg_init(&g, QMAX);
	struct virtio_mmio *t = (void *)1;
	struct virtio_dev_ops ops = fake_ops;
	ops.queue_max = 12;
	assert_int_equal(virtio_mmio_init(&t, 0, &g.mem, &ops, NULL, irq_cb, NULL), -EINVAL);
	assert_null(t);
	ops = fake_ops;
	ops.num_queues = 0;
	assert_int_equal(virtio_mmio_init(&t, 0, &g.mem, &ops, NULL, irq_cb, NULL), -EINVAL);
	ops = fake_ops;
	ops.config_len = 0x1000;
	assert_int_equal(virtio_mmio_init(&t, 0, &g.mem, &ops, NULL, irq_cb, NULL), -EINVAL);
	ops = fake_ops;
	ops.queue_notify = NULL;
	assert_int_equal(virtio_mmio_init(&t, 0, &g.mem, &ops, NULL, irq_cb, NULL), -EINVAL);
	assert_int_equal(virtio_mmio_init(&t, 0, &g.mem, &fake_ops, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(virtio_mmio_init(&t, 0x1234000, &g.mem, &fake_ops, NULL, irq_cb, NULL), 0);
	assert_int_equal(virtio_mmio_base(t), 0x1234000);
	virtio_mmio_free(t);
	virtio_mmio_free(NULL);
	fg_free(&g);
}

/* ---- identity and access rules ---- */

static void test_identity(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	uint8_t magic[4];
	virtio_mmio_read(f->t, VIRTIO_MMIO_MAGIC_VALUE, magic, 4);
	assert_memory_equal(magic, "virt", 4);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_ID), DEV_ID);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

static void test_odd_accesses_ignored(void **state)
{
	struct fx *f = *state;
	uint8_t buf[8];

	/* unaligned 32-bit read */
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(f->t, VIRTIO_MMIO_MAGIC_VALUE + 2, buf, 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	/* narrow and wide reads of a register */
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(f->t, VIRTIO_MMIO_MAGIC_VALUE, buf, 2);
	assert_memory_equal(buf, "\0\0", 2);
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(f->t, VIRTIO_MMIO_MAGIC_VALUE, buf, 1);
	assert_int_equal(buf[0], 0);
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(f->t, VIRTIO_MMIO_MAGIC_VALUE, buf, 8);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
	/* odd widths */
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(f->t, VIRTIO_MMIO_VERSION, buf, 3);
	assert_memory_equal(buf, "\0\0\0", 3);

	/* writes of the wrong width or alignment are dropped */
	uint16_t s16 = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_write(f->t, VIRTIO_MMIO_STATUS, &s16, 2);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	uint64_t s64 = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_write(f->t, VIRTIO_MMIO_STATUS, &s64, 8);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	uint32_t s32 = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_write(f->t, VIRTIO_MMIO_STATUS + 1, &s32, 4);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	virtio_mmio_write(f->t, VIRTIO_MMIO_STATUS, &s32, 4);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* beyond the window */
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(f->t, 0x1000, buf, 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	virtio_mmio_read(f->t, UINT64_MAX - 1, buf, 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	virtio_mmio_write(f->t, UINT64_MAX - 3, &s32, 4);
	virtio_mmio_write(f->t, 0xffc, &s32, 4);
}

static void test_unknown_and_write_only_read_zero(void **state)
{
	struct fx *f = *state;
	static const uint64_t offs[] = {
	    VIRTIO_MMIO_DEVICE_FEATURES_SEL,
	    VIRTIO_MMIO_DRIVER_FEATURES,
	    VIRTIO_MMIO_DRIVER_FEATURES_SEL,
	    VIRTIO_MMIO_GUEST_PAGE_SIZE,
	    VIRTIO_MMIO_QUEUE_SEL,
	    VIRTIO_MMIO_QUEUE_NUM,
	    VIRTIO_MMIO_QUEUE_ALIGN,
	    VIRTIO_MMIO_QUEUE_PFN,
	    VIRTIO_MMIO_QUEUE_NOTIFY,
	    VIRTIO_MMIO_INTERRUPT_ACK,
	    VIRTIO_MMIO_QUEUE_DESC_LOW,
	    VIRTIO_MMIO_QUEUE_USED_HIGH,
	    0x018,
	    0x0c8,
	    0x0f8,
	};
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NUM, 8);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		assert_int_equal(mmio_rd(f->t, offs[i]), 0);
	/* no shared memory regions: length -1 */
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	/* writes to read-only registers change nothing */
	mmio_wr(f->t, VIRTIO_MMIO_MAGIC_VALUE, 0);
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_ID, 7);
	mmio_wr(f->t, VIRTIO_MMIO_INTERRUPT_STATUS, 3);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NUM_MAX, 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_ID), DEV_ID);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
}

/* ---- config space ---- */

static void test_config_space(void **state)
{
	struct fx *f = *state;
	uint8_t buf[8];

	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG, buf, 8);
	assert_memory_equal(buf, f->dev.config, 8);
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 8, buf, 4);
	assert_memory_equal(buf, f->dev.config + 8, 4);
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 6, buf, 2);
	assert_memory_equal(buf, f->dev.config + 6, 2);
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 11, buf, 1);
	assert_int_equal(buf[0], f->dev.config[11]);

	/* unaligned, odd width, past config_len: zeros, device not called */
	memset(buf, 0xff, 8);
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 1, buf, 2);
	assert_memory_equal(buf, "\0\0", 2);
	memset(buf, 0xff, 8);
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 8, buf, 8); /* 8..16 > 12 */
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
	memset(buf, 0xff, 8);
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG, buf, 3);
	assert_memory_equal(buf, "\0\0\0", 3);
	memset(buf, 0xff, 8);
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 12, buf, 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	memset(buf, 0xff, 8);
	virtio_mmio_read(f->t, 0xffc, buf, 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);

	/* writes */
	uint32_t v = 0x11223344;
	virtio_mmio_write(f->t, VIRTIO_MMIO_CONFIG + 4, &v, 4);
	assert_memory_equal(f->dev.config_written + 4, &v, 4);
	virtio_mmio_write(f->t, VIRTIO_MMIO_CONFIG + 10, &v, 4); /* misaligned */
	virtio_mmio_write(f->t, VIRTIO_MMIO_CONFIG + 12, &v, 4); /* outside */
	assert_memory_equal(f->dev.config_written + 8, "\0\0\0\0", 4);
}

static void test_config_generation(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	virtio_mmio_config_changed(f->t);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(f->irqs, 1);
}

/* ---- features ---- */

static uint64_t device_features(struct fx *f)
{
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = mmio_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES);
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = mmio_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES);
	return lo | hi << 32;
}

static void test_device_features(void **state)
{
	struct fx *f = *state;
	uint64_t feat = device_features(f);
	assert_int_equal(feat, (1ull << 0) | (1ull << 5) | (1ull << 51) | F_V1 | F_INDIRECT |
				   F_EVENT_IDX);
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
}

static void test_features_ok_needs_version_1(void **state)
{
	struct fx *f = *state;
	uint32_t st = mmio_negotiate(f->t, 1ull << 0);
	assert_false(st & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(st, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	/* and queues cannot be enabled without FEATURES_OK */
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, QMAX), 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);

	st = mmio_negotiate(f->t, F_V1 | (1ull << 0));
	assert_true(st & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(st & VIRTIO_CONFIG_S_NEEDS_RESET); /* cleared by the reset */
}

static void test_features_ok_refuses_unoffered(void **state)
{
	struct fx *f = *state;
	assert_false(mmio_negotiate(f->t, F_V1 | (1ull << 1)) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(mmio_negotiate(f->t, F_V1 | (1ull << 34)) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_true(mmio_negotiate(f->t, F_V1 | (1ull << 51) | F_EVENT_IDX) &
		    VIRTIO_CONFIG_S_FEATURES_OK);
}

static void test_driver_features_frozen_after_features_ok(void **state)
{
	struct fx *f = *state;
	assert_true(mmio_negotiate(f->t, F_V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* Try to turn EVENT_IDX on late: must be ignored. Proof: a used ring
	 * that only fits without the avail_event word still configures. */
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_RING_F_EVENT_IDX);
	f->g.used = FD_RAM_SIZE - (4 + 8 * QMAX);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, QMAX), 1);
}

static void test_driver_features_sel_out_of_range(void **state)
{
	struct fx *f = *state;
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	mmio_wr(f->t, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff); /* ignored */
	mmio_wr(f->t, VIRTIO_MMIO_STATUS,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
}

/* ---- queues ---- */

static void test_queue_select(void **state)
{
	struct fx *f = *state;
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, NQ);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);

	/* setting up a nonexistent queue does nothing */
	assert_true(mmio_negotiate(f->t, F_V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, NQ, QMAX), 0);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 1000, QMAX), 0);
	assert_false(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* queue 1 works */
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 1, 8), 1);
}

static void expect_queue_refused(struct fx *f, uint32_t num)
{
	assert_true(mmio_negotiate(f->t, F_V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, num), 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_queue_num_too_big(void **state)
{
	struct fx *f = *state;
	expect_queue_refused(f, QMAX * 2);
	assert_int_equal(f->irqs, 0);
	/* a driver going DRIVER_OK on a device needing reset is told at once */
	mmio_driver_ok(f->t);
	assert_int_equal(f->irqs, 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
}

static void test_queue_num_zero(void **state)
{
	struct fx *f = *state;
	expect_queue_refused(f, 0);
}

static void test_queue_num_not_pow2(void **state)
{
	struct fx *f = *state;
	expect_queue_refused(f, 12);
}

static void test_queue_desc_outside_ram(void **state)
{
	struct fx *f = *state;
	f->g.desc = FD_RAM_SIZE - 16;
	expect_queue_refused(f, QMAX);
}

static void test_queue_avail_outside_ram(void **state)
{
	struct fx *f = *state;
	f->g.avail = 0x100000000ull + FD_AVAIL; /* high dword set */
	expect_queue_refused(f, QMAX);
}

static void test_queue_used_outside_ram(void **state)
{
	struct fx *f = *state;
	f->g.used = FD_RAM_SIZE - 8;
	expect_queue_refused(f, QMAX);
}

static void test_queue_regs_frozen_while_ready(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x1234); /* ignored: queue is live */
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NUM, 1000);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_false(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* ---- notify, interrupts ---- */

static void test_notify_and_interrupt(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	offer_chain(f, 4);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->dev.notifies, 1);
	assert_int_equal(f->dev.last_qidx, 0);
	assert_int_equal(f->dev.chains, 1);
	assert_int_equal(fg_used_idx(&f->g), 1);
	assert_int_equal(fg_used_elem(&f->g, 0).len, 4);
	assert_int_equal(f->g.ram[FD_DATA], 0xab);
	assert_int_equal(f->irqs, 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	mmio_wr(f->t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* via the ioeventfd path */
	offer_chain(f, 2);
	assert_false(virtio_mmio_notify(f->t, 0));
	assert_int_equal(f->dev.chains, 2);
	assert_int_equal(f->irqs, 2);

	/* a notify with nothing new: no interrupt */
	assert_false(virtio_mmio_notify(f->t, 0));
	assert_int_equal(f->irqs, 2);

	/* notify of a queue that is not ready or does not exist */
	virtio_mmio_notify(f->t, 1);
	virtio_mmio_notify(f->t, NQ);
	virtio_mmio_notify(f->t, 0xffffffff);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 77);
	assert_int_equal(f->dev.notifies, 3);
}

static void test_interrupt_ack_partial(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	virtio_mmio_config_changed(f->t);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	mmio_wr(f->t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	mmio_wr(f->t, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	fg_set_avail_flags(&f->g, VRING_AVAIL_F_NO_INTERRUPT);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.chains, 1);
	assert_int_equal(f->irqs, 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void test_event_idx(void **state)
{
	struct fx *f = *state;
	bring_up(f, F_EVENT_IDX);
	fg_set_used_event(&f->g, 0);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->irqs, 1);
	assert_int_equal(fg_avail_event(&f->g), 1);
	offer_chain(f, 4); /* used_event still 0: suppressed */
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.chains, 2);
	assert_int_equal(f->irqs, 1);
}

static void test_notify_before_driver_ok(void **state)
{
	struct fx *f = *state;
	assert_true(mmio_negotiate(f->t, F_V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, QMAX), 1);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.notifies, 0);
	mmio_driver_ok(f->t);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.chains, 1);
}

static void test_driver_ok_without_features_ok(void **state)
{
	struct fx *f = *state;
	mmio_wr(f->t, VIRTIO_MMIO_STATUS,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.notifies, 0);
}

static void test_broken_queue_needs_reset(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	/* a descriptor loop */
	fg_set_desc(&f->g, 0, FD_DATA, 8, VRING_DESC_F_NEXT, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	uint32_t st = mmio_rd(f->t, VIRTIO_MMIO_STATUS);
	assert_true(st & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(f->irqs, 1);

	/* the driver cannot clear NEEDS_RESET except by resetting */
	mmio_wr(f->t, VIRTIO_MMIO_STATUS, S_ALL_OK);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* nothing is processed any more */
	unsigned n = f->dev.notifies;
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.notifies, n);

	/* reset and start over */
	mmio_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	memset(f->g.ram + FD_AVAIL, 0, 0x2000);
	f->g.avail_idx = 0;
	bring_up(f, 0);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 1);
}

static void test_device_breaks_queue(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	f->dev.break_queue = true;
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
}

static void test_reset_clears_everything(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 1, 4), 1);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_not_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	unsigned resets = f->dev.resets; /* bring_up starts with a reset */
	mmio_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->dev.resets, resets + 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	for (unsigned q = 0; q < NQ; q++) {
		mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	}
	/* features must be negotiated again */
	mmio_wr(f->t, VIRTIO_MMIO_STATUS,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* queue 0 is gone: notify does nothing */
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.notifies, 1);
	/* staged queue registers were cleared: QueueReady without new
	 * addresses is refused */
	mmio_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	assert_true(mmio_negotiate(f->t, F_V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_queue_disable(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->dev.notifies, 0);
}

static void test_notify_budget(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	f->dev.flood = true; /* every answered chain comes straight back */
	offer_chain(f, 4);
	assert_true(virtio_mmio_notify(f->t, 0));
	assert_int_equal(f->dev.chains, VIRTIO_MMIO_NOTIFY_BUDGET);
	assert_int_equal(f->irqs, 1);
	assert_false(f->dev.q->broken);
	/* the caller calls again: more progress */
	assert_true(virtio_mmio_notify(f->t, 0));
	assert_int_equal(f->dev.chains, 2 * VIRTIO_MMIO_NOTIFY_BUDGET);
	f->dev.flood = false;
	assert_false(virtio_mmio_notify(f->t, 0));
	assert_int_equal(f->dev.chains, 2 * VIRTIO_MMIO_NOTIFY_BUDGET + 1);
}

static void test_notify_budget_mmio_path(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	f->dev.flood = true;
	offer_chain(f, 4);
	/* a plain MMIO write: bounded, returns */
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->dev.chains, VIRTIO_MMIO_NOTIFY_MMIO_ROUNDS * VIRTIO_MMIO_NOTIFY_BUDGET);
	/* and a short burst is served completely */
	f->dev.flood = false;
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->dev.chains,
			 VIRTIO_MMIO_NOTIFY_MMIO_ROUNDS * VIRTIO_MMIO_NOTIFY_BUDGET + 1);
	/* odd widths of QueueNotify are ignored like any register */
	offer_chain(f, 4);
	uint16_t q16 = 0;
	virtio_mmio_write(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, &q16, 2);
	assert_int_equal(f->dev.chains,
			 VIRTIO_MMIO_NOTIFY_MMIO_ROUNDS * VIRTIO_MMIO_NOTIFY_BUDGET + 1);
}

static void test_signal_used(void **state)
{
	struct fx *f = *state;
	bring_up(f, 0);
	virtio_mmio_signal_used(f->t); /* nothing used yet */
	assert_int_equal(f->irqs, 0);
	/* A device completing later: pop in notify, push afterwards. */
	fg_set_avail_flags(&f->g, VRING_AVAIL_F_NO_INTERRUPT);
	offer_chain(f, 4);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(f->irqs, 0);
	fg_set_avail_flags(&f->g, 0);
	virtq_push(f->dev.q, 0, 0);
	virtio_mmio_signal_used(f->t);
	assert_int_equal(f->irqs, 1);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_rejects_bad_ops),
	    T(test_identity),
	    T(test_odd_accesses_ignored),
	    T(test_unknown_and_write_only_read_zero),
	    T(test_config_space),
	    T(test_config_generation),
	    T(test_device_features),
	    T(test_features_ok_needs_version_1),
	    T(test_features_ok_refuses_unoffered),
	    T(test_driver_features_frozen_after_features_ok),
	    T(test_driver_features_sel_out_of_range),
	    T(test_queue_select),
	    T(test_queue_num_too_big),
	    T(test_queue_num_zero),
	    T(test_queue_num_not_pow2),
	    T(test_queue_desc_outside_ram),
	    T(test_queue_avail_outside_ram),
	    T(test_queue_used_outside_ram),
	    T(test_queue_regs_frozen_while_ready),
	    T(test_notify_and_interrupt),
	    T(test_interrupt_ack_partial),
	    T(test_no_interrupt_flag),
	    T(test_event_idx),
	    T(test_notify_before_driver_ok),
	    T(test_driver_ok_without_features_ok),
	    T(test_broken_queue_needs_reset),
	    T(test_device_breaks_queue),
	    T(test_reset_clears_everything),
	    T(test_queue_disable),
	    T(test_notify_budget),
	    T(test_notify_budget_mmio_path),
	    T(test_signal_used),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
