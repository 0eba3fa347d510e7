/* virtio_mmio_save/restore and virtio_blk_set_backing, driven through the
 * register interface with the fake driver and a virtio-blk device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "virtio_fake_driver.h"
#include "vmm/virtio/virtio_blk.h"

#define QSZ 16
#define F_V1 (1ull << VIRTIO_F_VERSION_1)
#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_RO (1ull << VIRTIO_BLK_F_RO)
#define HDR_GPA (FD_DATA)
#define STATUS_GPA (FD_DATA + 0x100)
#define BUF_GPA (FD_DATA + 0x1000)
#define TAG_QUEUE VMSTATE_TAG('V', 'M', 'Q', 'U')
#define TAG_MMIO VMSTATE_TAG('V', 'M', 'I', 'O')

struct disk {
	char path[64];
	int fd;
};

struct fx {
	struct fake_guest g;
	struct disk a, b;
	struct virtio_blk *blk;
	struct virtio_mmio *t;
	unsigned irqs;
};

static void irq_cb(void *ctx)
{
	unsigned *n = ctx;
	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
}

static uint8_t pattern(uint64_t off, unsigned seed)
{
	return (uint8_t)(off * 7 + off / 512 + seed * 101);
}

static void make_disk(struct disk *d, uint64_t size, unsigned seed)
{
	snprintf(d->path, sizeof(d->path), "/tmp/hull-test-vstate-XXXXXX");
	d->fd = mkstemp(d->path);
	assert_true(d->fd >= 0);
	uint8_t *buf = malloc(size ? size : 1);
	for (uint64_t i = 0; i < size; i++)
		buf[i] = pattern(i, seed);
	assert_int_equal(pwrite(d->fd, buf, size, 0), (ssize_t)size);
	free(buf);
}

static void drop_disk(struct disk *d)
{
	if (d->fd >= 0) {
		close(d->fd);
		unlink(d->path);
	}
	d->fd = -1;
}

static void bring_up(struct virtio_mmio *t, struct fake_guest *g, uint64_t features)
{
	assert_true(mmio_negotiate(t, F_V1 | features) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(t, g, 0, QSZ), 1);
	mmio_driver_ok(t);
}

static int setup_with(void **state, bool ro, uint64_t features)
{
	struct fx *f = calloc(1, sizeof(*f));
	fg_init(&f->g, QSZ);
	make_disk(&f->a, 64 * 512, 1);
	make_disk(&f->b, 128 * 512, 2);
	struct errmsg err = {{0}};
	assert_int_equal(virtio_blk_init(&f->blk, f->a.fd, ro, "s", &err), 0);
	assert_int_equal(virtio_mmio_init(&f->t, 0xd0000000, &f->g.mem, virtio_blk_ops(f->blk),
					  f->blk, irq_cb, &f->irqs),
			 0);
	bring_up(f->t, &f->g, features | (ro ? F_RO : 0));
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false, F_EVENT_IDX);
}

static int setup_ro(void **state)
{
	return setup_with(state, true, 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_free(f->t);
	virtio_blk_free(f->blk);
	drop_disk(&f->a);
	drop_disk(&f->b);
	fg_free(&f->g);
	free(f);
	return 0;
}

/* Queue a 1-sector read of `sector` (head 0) without notifying. */
static void offer_read(struct fake_guest *g, uint64_t sector)
{
	struct virtio_blk_outhdr h = {.type = htole32(VIRTIO_BLK_T_IN), .sector = htole64(sector)};
	memcpy(fg_ptr(g, HDR_GPA), &h, sizeof(h));
	*(uint8_t *)fg_ptr(g, STATUS_GPA) = 0xee;
	memset(fg_ptr(g, BUF_GPA), 0, 512);
	fg_set_desc(g, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(g, 1, BUF_GPA, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	fg_set_desc(g, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(g, 0);
}

/* The read completed OK with the data of disk `seed` at `sector`. */
static void check_read(struct fake_guest *g, uint64_t sector, unsigned seed)
{
	assert_int_equal(*(uint8_t *)fg_ptr(g, STATUS_GPA), VIRTIO_BLK_S_OK);
	const uint8_t *d = fg_ptr(g, BUF_GPA);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(d[i], pattern(sector * 512 + i, seed));
}

static void do_read(struct virtio_mmio *t, struct fake_guest *g, uint64_t sector, unsigned seed)
{
	uint16_t before = fg_used_idx(g);
	offer_read(g, sector);
	virtio_mmio_notify(t, 0);
	assert_int_equal(fg_used_idx(g), (uint16_t)(before + 1));
	check_read(g, sector, seed);
}

static uint64_t config_capacity(struct virtio_mmio *t)
{
	uint64_t v = 0;
	virtio_mmio_read(t, VIRTIO_MMIO_CONFIG, &v, 8);
	return le64toh(v);
}

static void save(struct virtio_mmio *t, struct vmstate_buf *b)
{
	vmstate_buf_init(b);
	assert_int_equal(virtio_mmio_save(t, b), 0);
	assert_int_equal(b->err, 0);
}

/* A second device + transport on the same guest memory, as a restored VM
 * builds them. */
static struct virtio_mmio *fresh(struct fx *f, int fd, bool ro, struct virtio_blk **blk,
				 unsigned *irqs)
{
	struct errmsg err = {{0}};
	assert_int_equal(virtio_blk_init(blk, fd, ro, "s", &err), 0);
	struct virtio_mmio *t;
	assert_int_equal(
	    virtio_mmio_init(&t, 0xd0000000, &f->g.mem, virtio_blk_ops(*blk), *blk, irq_cb, irqs),
	    0);
	return t;
}

static void test_round_trip_continues_ring(void **state)
{
	struct fx *f = *state;
	for (unsigned i = 0; i < 3; i++)
		do_read(f->t, &f->g, i, 1);
	/* state the guest can see, besides the ring */
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	virtio_mmio_config_changed(f->t); /* generation 1, CONFIG interrupt */
	/* a request the guest queued just before the snapshot */
	offer_read(&f->g, 5);

	struct vmstate_buf b;
	save(f->t, &b);

	unsigned irqs = 0;
	struct virtio_blk *blk2;
	struct virtio_mmio *t2 = fresh(f, f->a.fd, false, &blk2, &irqs);
	struct errmsg err = {{0}};
	if (virtio_mmio_restore(t2, b.data, b.len, &err))
		fail_msg("%s", err.text);
	assert_int_equal(irqs, 0);
	uint32_t regs[] = {VIRTIO_MMIO_STATUS,
			   VIRTIO_MMIO_INTERRUPT_STATUS,
			   VIRTIO_MMIO_CONFIG_GENERATION,
			   VIRTIO_MMIO_DEVICE_FEATURES,
			   VIRTIO_MMIO_QUEUE_READY,
			   VIRTIO_MMIO_QUEUE_NUM_MAX};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal(mmio_rd(t2, regs[i]), mmio_rd(f->t, regs[i]));
	assert_int_equal(mmio_rd(t2, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_true(mmio_rd(t2, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);

	/* the restored device serves the pending request, not the old ones */
	assert_int_equal(fg_used_idx(&f->g), 3);
	/* used_event 1: the driver asked for an interrupt once used passed 1,
	 * which it had before the save (signalled at 3): none now. A device
	 * that lost its signalling state would interrupt again. */
	fg_set_used_event(&f->g, 1);
	virtio_mmio_notify(t2, 0);
	assert_int_equal(fg_used_idx(&f->g), 4);
	check_read(&f->g, 5, 1);
	assert_int_equal(irqs, 0);
	/* and goes on, interrupting when asked to */
	fg_set_used_event(&f->g, 4);
	do_read(t2, &f->g, 7, 1);
	assert_int_equal(fg_used_idx(&f->g), 5);
	assert_int_equal(irqs, 1);
	/* EVENT_IDX state came along: the device asked for the next kick */
	assert_int_equal(fg_avail_event(&f->g), 5);

	/* saving the restored transport gives the same bytes as saving a
	 * transport in that state from scratch would: save/restore is stable */
	struct vmstate_buf b2, b3;
	save(t2, &b2);
	struct virtio_blk *blk3;
	unsigned irqs3 = 0;
	struct virtio_mmio *t3 = fresh(f, f->a.fd, false, &blk3, &irqs3);
	assert_int_equal(virtio_mmio_restore(t3, b2.data, b2.len, &err), 0);
	save(t3, &b3);
	assert_int_equal(b2.len, b3.len);
	assert_memory_equal(b2.data, b3.data, b2.len);

	vmstate_buf_free(&b);
	vmstate_buf_free(&b2);
	vmstate_buf_free(&b3);
	virtio_mmio_free(t2);
	virtio_blk_free(blk2);
	virtio_mmio_free(t3);
	virtio_blk_free(blk3);
}

/* Find the first section with this tag in a blob (mutable). */
static uint8_t *section(struct vmstate_buf *b, uint32_t tag)
{
	struct vmstate_reader r;
	vmstate_reader_init(&r, b->data, b->len);
	uint32_t t, len;
	const uint8_t *p;
	while (vmstate_next(&r, &t, &p, &len) > 0)
		if (t == tag)
			return (uint8_t *)p;
	fail_msg("no section");
	return NULL;
}

static void expect_refused(struct fx *f, struct vmstate_buf *b, const char *why)
{
	unsigned irqs = 0;
	struct virtio_blk *blk2;
	struct virtio_mmio *t2 = fresh(f, f->a.fd, false, &blk2, &irqs);
	struct errmsg err = {{0}};
	int rc = virtio_mmio_restore(t2, b->data, b->len, &err);
	if (rc != -EINVAL || !strstr(err.text, why))
		fail_msg("want -EINVAL \"%s\", got %d \"%s\"", why, rc, err.text);
	/* the transport is untouched: still a reset device */
	assert_int_equal(mmio_rd(t2, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(mmio_rd(t2, VIRTIO_MMIO_QUEUE_READY), 0);
	virtio_mmio_free(t2);
	virtio_blk_free(blk2);
}

static void test_restore_refuses_bad_rings(void **state)
{
	struct fx *f = *state;
	do_read(f->t, &f->g, 1, 1);
	struct vmstate_buf good;
	save(f->t, &good);

	struct {
		unsigned off; /* in the queue section */
		uint64_t val;
		unsigned width;
		const char *why;
	} cases[] = {
	    {8, FD_RAM_SIZE, 8, "invalid layout"},		   /* desc outside RAM */
	    {8, FD_RAM_SIZE - 16 * QSZ + 16, 8, "invalid layout"}, /* desc runs past the end */
	    {16, 0xffffffffffff0000ull, 8, "invalid layout"},	   /* avail */
	    {24, FD_RAM_SIZE + 0x1000, 8, "invalid layout"},	   /* used */
	    {8, FD_DESC + 8, 8, "invalid layout"},		   /* misaligned desc */
	    {4, 12, 4, "invalid layout"},			   /* size not a power of 2 */
	    {4, VIRTIO_BLK_QUEUE_MAX * 2, 4, "invalid layout"},	   /* size > max */
	    {32, 0x4, 4, "invalid flags"},
	    {0, 5, 4, "queue 5 unexpected"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmstate_buf b;
		vmstate_buf_init(&b);
		vmstate_buf_append(&b, good.data, good.len);
		uint8_t *q = section(&b, TAG_QUEUE);
		if (cases[i].width == 8)
			vmstate_st64(q + cases[i].off, cases[i].val);
		else
			vmstate_st32(q + cases[i].off, (uint32_t)cases[i].val);
		expect_refused(f, &b, cases[i].why);
		vmstate_buf_free(&b);
	}

	/* transport-level lies */
	struct {
		unsigned off;
		uint64_t val;
		unsigned width;
		const char *why;
	} tcases[] = {
	    {0, 2, 4, "queues"},				   /* queue count */
	    {4, VIRTIO_ID_NET, 4, "device"},			   /* device id */
	    {20, F_V1 | (1ull << 40), 8, "not acceptable"},	   /* drv features not offered */
	    {20, 1ull << VIRTIO_BLK_F_FLUSH, 8, "not acceptable"}, /* no VERSION_1 */
	    {32, 2, 4, "not acceptable"},			   /* features_ok not a bool */
	    {36, 0x1ff, 4, "invalid status"},
	    {40, 0x4, 4, "interrupt status"},
	};
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		struct vmstate_buf b;
		vmstate_buf_init(&b);
		vmstate_buf_append(&b, good.data, good.len);
		uint8_t *h = section(&b, TAG_MMIO);
		if (tcases[i].width == 8)
			vmstate_st64(h + tcases[i].off, tcases[i].val);
		else
			vmstate_st32(h + tcases[i].off, (uint32_t)tcases[i].val);
		expect_refused(f, &b, tcases[i].why);
		vmstate_buf_free(&b);
	}

	/* truncations everywhere, an unknown and a missing section */
	for (size_t cut = 0; cut < good.len; cut++) {
		struct vmstate_buf b;
		vmstate_buf_init(&b);
		vmstate_buf_append(&b, good.data, cut);
		expect_refused(f, &b, "virtio state");
		vmstate_buf_free(&b);
	}
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	vmstate_buf_append(&b, good.data, good.len);
	vmstate_put(&b, VMSTATE_TAG('X', 'X', 'X', 'X'), "", 0);
	expect_refused(f, &b, "unexpected section XXXX");
	vmstate_buf_free(&b);

	/* the untouched blob restores fine */
	unsigned irqs = 0;
	struct virtio_blk *blk2;
	struct virtio_mmio *t2 = fresh(f, f->a.fd, false, &blk2, &irqs);
	assert_int_equal(virtio_mmio_restore(t2, good.data, good.len, NULL), 0);
	do_read(t2, &f->g, 2, 1);
	virtio_mmio_free(t2);
	virtio_blk_free(blk2);
	vmstate_buf_free(&good);
}

static void test_restore_refuses_ro_mismatch(void **state)
{
	/* template device read-only (the guest negotiated RO) ... */
	struct fx *f = *state;
	struct vmstate_buf b;
	save(f->t, &b);
	/* ... restored onto a read-write device: refused */
	unsigned irqs = 0;
	struct virtio_blk *blk2;
	struct virtio_mmio *t2 = fresh(f, f->a.fd, false, &blk2, &irqs);
	struct errmsg err = {{0}};
	assert_int_equal(virtio_mmio_restore(t2, b.data, b.len, &err), -EINVAL);
	assert_non_null(strstr(err.text, "device features"));
	virtio_mmio_free(t2);
	virtio_blk_free(blk2);
	/* onto a read-only one: fine */
	t2 = fresh(f, f->a.fd, true, &blk2, &irqs);
	assert_int_equal(virtio_mmio_restore(t2, b.data, b.len, &err), 0);
	do_read(t2, &f->g, 3, 1);
	virtio_mmio_free(t2);
	virtio_blk_free(blk2);
	vmstate_buf_free(&b);
}

static void test_restore_disabled_queue(void **state)
{
	(void)state;
	/* a device the driver has not set up yet saves and restores too */
	struct fake_guest g;
	fg_init(&g, QSZ);
	struct disk d;
	make_disk(&d, 512, 3);
	struct virtio_blk *b1, *b2;
	struct virtio_mmio *t1, *t2;
	unsigned irqs = 0;
	assert_int_equal(virtio_blk_init(&b1, d.fd, false, NULL, NULL), 0);
	assert_int_equal(virtio_blk_init(&b2, d.fd, false, NULL, NULL), 0);
	assert_int_equal(virtio_mmio_init(&t1, 0, &g.mem, virtio_blk_ops(b1), b1, irq_cb, &irqs),
			 0);
	assert_int_equal(virtio_mmio_init(&t2, 0, &g.mem, virtio_blk_ops(b2), b2, irq_cb, &irqs),
			 0);
	mmio_wr(t1, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	struct vmstate_buf b;
	save(t1, &b);
	assert_int_equal(virtio_mmio_restore(t2, b.data, b.len, NULL), 0);
	assert_int_equal(mmio_rd(t2, VIRTIO_MMIO_STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* the driver carries on from there */
	bring_up(t2, &g, 0);
	uint16_t before = fg_used_idx(&g);
	offer_read(&g, 0);
	virtio_mmio_notify(t2, 0);
	assert_int_equal(fg_used_idx(&g), (uint16_t)(before + 1));
	check_read(&g, 0, 3);

	/* ring state on a disabled queue is a lie */
	uint8_t *q = section(&b, TAG_QUEUE);
	q[36] = 1; /* last_avail */
	assert_int_equal(virtio_mmio_restore(t1, b.data, b.len, NULL), -EINVAL);
	vmstate_buf_free(&b);
	virtio_mmio_free(t1);
	virtio_mmio_free(t2);
	virtio_blk_free(b1);
	virtio_blk_free(b2);
	drop_disk(&d);
	fg_free(&g);
}

/* ---- virtio_blk_set_backing ---- */

static void test_set_backing(void **state)
{
	struct fx *f = *state;
	do_read(f->t, &f->g, 10, 1);
	assert_int_equal(config_capacity(f->t), 64);
	uint32_t gen = mmio_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION);
	struct errmsg err = {{0}};
	if (virtio_blk_set_backing(f->blk, f->b.fd, false, &err))
		fail_msg("%s", err.text);
	assert_int_equal(virtio_blk_capacity(f->blk), 128);
	assert_int_equal(config_capacity(f->t), 128);
	unsigned irqs = f->irqs;
	virtio_mmio_config_changed(f->t);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	assert_int_equal(f->irqs, irqs + 1);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* reads come from the new file, including past the old capacity */
	do_read(f->t, &f->g, 10, 2);
	do_read(f->t, &f->g, 100, 2);
	/* the old file can go */
	drop_disk(&f->a);
	do_read(f->t, &f->g, 127, 2);
}

static void test_set_backing_refusals(void **state)
{
	struct fx *f = *state;
	struct errmsg err = {{0}};
	/* read-write device: a read-only swap would change what the guest
	 * negotiated */
	assert_int_equal(virtio_blk_set_backing(f->blk, f->b.fd, true, &err), -EINVAL);
	assert_non_null(strstr(err.text, "read-write"));
	/* an fd opened read-only cannot back a read-write device */
	int ro = open(f->b.path, O_RDONLY);
	assert_int_equal(virtio_blk_set_backing(f->blk, ro, false, &err), -EINVAL);
	close(ro);
	/* same validation as init: size not a multiple of 512, not a file */
	struct disk odd;
	make_disk(&odd, 1000, 4);
	assert_int_equal(virtio_blk_set_backing(f->blk, odd.fd, false, &err), -EINVAL);
	assert_non_null(strstr(err.text, "512"));
	drop_disk(&odd);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(virtio_blk_set_backing(f->blk, p[0], false, &err), -EINVAL);
	close(p[0]);
	close(p[1]);
	/* nothing changed */
	assert_int_equal(virtio_blk_capacity(f->blk), 64);
	do_read(f->t, &f->g, 3, 1);
}

static void test_set_backing_ro_device(void **state)
{
	struct fx *f = *state;
	struct errmsg err = {{0}};
	assert_int_equal(virtio_blk_set_backing(f->blk, f->b.fd, false, &err), -EINVAL);
	assert_non_null(strstr(err.text, "read-only"));
	int ro = open(f->b.path, O_RDONLY);
	assert_int_equal(virtio_blk_set_backing(f->blk, ro, true, &err), 0);
	do_read(f->t, &f->g, 99, 2);
	close(ro);
}

struct hammer {
	struct fx *f;
	int stop;
	unsigned done; /* atomic */
	unsigned bad;  /* no cmocka asserts off the main thread */
};

static void *hammer_reads(void *arg)
{
	struct hammer *h = arg;
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		uint16_t before = fg_used_idx(&h->f->g);
		offer_read(&h->f->g, 7);
		virtio_mmio_notify(h->f->t, 0);
		/* sector 7 of either file, whole: never a mix or an error */
		uint8_t st = *(uint8_t *)fg_ptr(&h->f->g, STATUS_GPA);
		const uint8_t *d = fg_ptr(&h->f->g, BUF_GPA);
		bool a = true, b = true;
		for (unsigned i = 0; i < 512; i++) {
			a = a && d[i] == pattern(7 * 512 + i, 1);
			b = b && d[i] == pattern(7 * 512 + i, 2);
		}
		if (fg_used_idx(&h->f->g) != (uint16_t)(before + 1) || st != VIRTIO_BLK_S_OK ||
		    !(a || b))
			h->bad++;
		__atomic_add_fetch(&h->done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_set_backing_concurrent(void **state)
{
	/* queue processing on one thread while another swaps the backing: no
	 * request sees a half-swapped device */
	struct fx *f = *state;
	struct hammer h = {.f = f};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, hammer_reads, &h), 0);
	unsigned swaps = 0;
	for (int i = 0; swaps < 2000 || __atomic_load_n(&h.done, __ATOMIC_RELAXED) < 500; i++) {
		int fd = i % 2 ? f->a.fd : f->b.fd;
		swaps++;
		assert_int_equal(virtio_blk_set_backing(f->blk, fd, false, NULL), 0);
		virtio_mmio_config_changed(f->t);
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(h.done > 0);
	assert_int_equal(h.bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip_continues_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_refuses_bad_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_refuses_ro_mismatch, setup_ro, teardown),
	    cmocka_unit_test(test_restore_disabled_queue),
	    cmocka_unit_test_setup_teardown(test_set_backing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_backing_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_backing_ro_device, setup_ro, teardown),
	    cmocka_unit_test_setup_teardown(test_set_backing_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
