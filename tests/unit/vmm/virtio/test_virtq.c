/* Unit tests for vmm/virtio/virtq.c: a split virtqueue driven by a fake guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/mman.h>

#include "virtio_fake_driver.h"
#include "vmm/virtio/virtq.h"

#define QSZ 16
#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT (1ull << VIRTIO_RING_F_INDIRECT_DESC)

struct fx {
	struct fake_guest g;
	struct virtq q;
	struct virtq_chain c;
};

static int setup_feat(void **state, uint64_t features)
{
	struct fx *f = calloc(1, sizeof(*f));
	fg_init(&f->g, QSZ);
	virtq_init(&f->q, &f->g.mem);
	assert_int_equal(virtq_configure(&f->q, QSZ, 256, FD_DESC, FD_AVAIL, FD_USED, features), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_feat(state, 0);
}

static int setup_indirect(void **state)
{
	return setup_feat(state, F_INDIRECT);
}

static int setup_event(void **state)
{
	return setup_feat(state, F_EVENT_IDX);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fg_free(&f->g);
	free(f);
	return 0;
}

/* ---- configuration ---- */

static void test_configure_checks(void **state)
{
	(void)state;
	struct fake_guest g;
	struct virtq q;
	fg_init(&g, QSZ);
	virtq_init(&q, &g.mem);

	assert_int_equal(virtq_configure(&q, 0, 256, FD_DESC, FD_AVAIL, FD_USED, 0), -EINVAL);
	assert_false(q.ready);
	assert_int_equal(virtq_configure(&q, 512, 256, FD_DESC, FD_AVAIL, FD_USED, 0), -EINVAL);
	assert_int_equal(virtq_configure(&q, 65536, 65535, FD_DESC, FD_AVAIL, FD_USED, 0), -EINVAL);
	assert_int_equal(virtq_configure(&q, 12, 256, FD_DESC, FD_AVAIL, FD_USED, 0), -EINVAL);
	/* misaligned rings */
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC + 8, FD_AVAIL, FD_USED, 0), -EINVAL);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL + 1, FD_USED, 0), -EINVAL);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL, FD_USED + 2, 0), -EINVAL);
	/* desc table / avail ring / used ring not wholly in RAM */
	assert_int_equal(
	    virtq_configure(&q, QSZ, 256, FD_RAM_SIZE - 16 * QSZ + 16, FD_AVAIL, FD_USED, 0),
	    -EINVAL);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_RAM_SIZE - 2, FD_USED, 0),
			 -EINVAL);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL, FD_RAM_SIZE, 0), -EINVAL);
	assert_int_equal(virtq_configure(&q, QSZ, 256, 0xfffffffffffffff0ull, FD_AVAIL, FD_USED, 0),
			 -EINVAL);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL, 0xfffffffffffffffcull, 0),
			 -EINVAL);
	/* used ring exactly at the end of RAM: fits without EVENT_IDX, not with */
	uint64_t used_end = FD_RAM_SIZE - (4 + 8 * QSZ);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL, used_end, 0), 0);
	assert_true(q.ready);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL, used_end, F_EVENT_IDX),
			 -EINVAL);
	assert_false(q.ready);
	/* avail ring likewise */
	uint64_t avail_end = FD_RAM_SIZE - (4 + 2 * QSZ);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, avail_end, FD_USED, 0), 0);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, avail_end, FD_USED, F_EVENT_IDX),
			 -EINVAL);
	/* size 1 is a power of two */
	assert_int_equal(virtq_configure(&q, 1, 256, FD_DESC, FD_AVAIL, FD_USED, 0), 0);
	fg_free(&g);
}

static void test_not_ready_pops_nothing(void **state)
{
	(void)state;
	struct fake_guest g;
	struct virtq q;
	struct virtq_chain c;
	fg_init(&g, QSZ);
	virtq_init(&q, &g.mem);
	fg_set_desc(&g, 0, FD_DATA, 8, 0, 0);
	fg_avail_push(&g, 0);
	assert_int_equal(virtq_pop(&q, &c), 0);
	virtq_push(&q, 0, 1); /* ignored */
	assert_int_equal(fg_used_idx(&g), 0);
	assert_false(virtq_need_signal(&q));
	fg_free(&g);
}

/* ---- normal chains ---- */

static void test_empty(void **state)
{
	struct fx *f = *state;
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_false(virtq_need_signal(&f->q));
}

static void test_single_desc(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 3, FD_DATA, 100, 0, 0);
	fg_avail_push(&f->g, 3);

	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 0);
	assert_int_equal(f->c.out_len, 100);
	assert_int_equal(f->c.in_len, 0);
	assert_ptr_equal(f->c.iov[0].iov_base, fg_ptr(&f->g, FD_DATA));
	assert_int_equal(f->c.iov[0].iov_len, 100);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);

	virtq_push(&f->q, 3, 0);
	assert_int_equal(fg_used_idx(&f->g), 1);
	struct vring_used_elem e = fg_used_elem(&f->g, 0);
	assert_int_equal(e.id, 3);
	assert_int_equal(e.len, 0);
	assert_true(virtq_need_signal(&f->q));
	assert_false(virtq_need_signal(&f->q)); /* nothing new since */
}

static void test_multi_desc(void **state)
{
	struct fx *f = *state;
	/* 2 readable, 2 writable, scattered indices */
	fg_set_desc(&f->g, 5, FD_DATA, 16, VRING_DESC_F_NEXT, 9);
	fg_set_desc(&f->g, 9, FD_DATA + 0x100, 32, VRING_DESC_F_NEXT, 0);
	fg_set_desc(&f->g, 0, FD_DATA + 0x200, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 15);
	fg_set_desc(&f->g, 15, FD_DATA + 0x400, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 5);

	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 5);
	assert_int_equal(f->c.n_out, 2);
	assert_int_equal(f->c.n_in, 2);
	assert_int_equal(f->c.out_len, 48);
	assert_int_equal(f->c.in_len, 513);
	assert_ptr_equal(f->c.iov[1].iov_base, fg_ptr(&f->g, FD_DATA + 0x100));
	assert_ptr_equal(f->c.iov[2].iov_base, fg_ptr(&f->g, FD_DATA + 0x200));
	assert_int_equal(f->c.iov[3].iov_len, 1);

	virtq_push(&f->q, 5, 513);
	struct vring_used_elem e = fg_used_elem(&f->g, 0);
	assert_int_equal(e.id, 5);
	assert_int_equal(e.len, 513);
}

static void test_many_chains_wrap(void **state)
{
	struct fx *f = *state;
	/* Several laps of the rings: indices wrap modulo the queue size. */
	for (unsigned i = 0; i < 5 * QSZ + 3; i++) {
		uint16_t head = (uint16_t)(i * 7 % QSZ);
		fg_set_desc(&f->g, head, FD_DATA + i, 1, VRING_DESC_F_WRITE, 0);
		fg_avail_push(&f->g, head);
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
		assert_int_equal(f->c.head, head);
		assert_ptr_equal(f->c.iov[0].iov_base, fg_ptr(&f->g, FD_DATA + i));
		virtq_push(&f->q, head, i);
		assert_int_equal(fg_used_idx(&f->g), (uint16_t)(i + 1));
		assert_int_equal(fg_used_elem(&f->g, (uint16_t)i).len, i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

static void test_full_ring(void **state)
{
	struct fx *f = *state;
	for (uint16_t i = 0; i < QSZ; i++) {
		fg_set_desc(&f->g, i, FD_DATA, 4, 0, 0);
		fg_avail_push(&f->g, i);
	}
	for (uint16_t i = 0; i < QSZ; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
		assert_int_equal(f->c.head, i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

static void test_zero_length_buffer(void **state)
{
	struct fx *f = *state;
	/* Zero-length buffers are legal and skipped, even at a bogus address. */
	fg_set_desc(&f->g, 0, FD_DATA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, 0xffffffffffff0000ull, 0, VRING_DESC_F_NEXT, 2);
	fg_set_desc(&f->g, 2, FD_DATA + 64, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 1);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 1);

	/* A chain of one empty buffer is an empty chain. */
	fg_set_desc(&f->g, 4, FD_DATA, 0, 0, 0);
	fg_avail_push(&f->g, 4);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.n_out + f->c.n_in, 0);
}

/* ---- hostile chains: each breaks the queue for good ---- */

static void expect_broken(struct fx *f)
{
	assert_int_equal(virtq_pop(&f->q, &f->c), -EIO);
	assert_true(f->q.broken);
	/* stays broken: even a good chain is not served */
	fg_set_desc(&f->g, 0, FD_DATA, 1, 0, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), -EIO);
	virtq_push(&f->q, 0, 0); /* ignored */
	assert_int_equal(fg_used_idx(&f->g), 0);
}

static void test_chain_loop(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 1, FD_DATA, 8, VRING_DESC_F_NEXT, 2);
	fg_set_desc(&f->g, 2, FD_DATA, 8, VRING_DESC_F_NEXT, 1);
	fg_avail_push(&f->g, 1);
	expect_broken(f);
}

static void test_chain_self_loop_zero_len(void **state)
{
	struct fx *f = *state;
	/* A loop of empty buffers must not spin either. */
	fg_set_desc(&f->g, 7, 0, 0, VRING_DESC_F_NEXT, 7);
	fg_avail_push(&f->g, 7);
	expect_broken(f);
}

static void test_next_out_of_range(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_DATA, 8, VRING_DESC_F_NEXT, QSZ);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_head_out_of_range(void **state)
{
	struct fx *f = *state;
	fg_avail_push(&f->g, 0xffff);
	expect_broken(f);
}

static void test_buffer_outside_ram(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_RAM_SIZE - 8, 16, 0, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_buffer_addr_overflow(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, 0xfffffffffffffff0ull, 0x20, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_writable_before_readable(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_DATA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, FD_DATA + 8, 8, 0, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_avail_idx_jump(void **state)
{
	struct fx *f = *state;
	fg_set_avail_idx(&f->g, QSZ + 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), -EIO);
	assert_true(f->q.broken);
}

static void test_avail_idx_exactly_size_ok(void **state)
{
	struct fx *f = *state;
	for (uint16_t i = 0; i < QSZ; i++)
		fg_set_desc(&f->g, i, FD_DATA, 1, 0, 0);
	fg_set_avail_idx(&f->g, QSZ); /* ring entries are all 0: head 0 */
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_false(f->q.broken);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, FD_DATA, 8, 0, 0);
	fg_set_desc(&f->g, 0, FD_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_too_many_segments(void **state)
{
	struct fx *f = *state;
	/* 2 direct buffers + an indirect table of VIRTQ_MAX_SEGS buffers */
	for (uint16_t i = 0; i < VIRTQ_MAX_SEGS; i++)
		fg_set_desc_in(&f->g, FD_INDIRECT, i, FD_DATA, 8, VRING_DESC_F_NEXT,
			       (uint16_t)(i + 1));
	fg_set_desc_in(&f->g, FD_INDIRECT, VIRTQ_MAX_SEGS - 1, FD_DATA, 8, 0, 0);
	fg_set_desc(&f->g, 0, FD_DATA, 8, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, FD_DATA, 8, VRING_DESC_F_NEXT, 2);
	fg_set_desc(&f->g, 2, FD_INDIRECT, 16 * VIRTQ_MAX_SEGS, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), -EIO);

	/* exactly VIRTQ_MAX_SEGS is fine */
	virtq_configure(&f->q, QSZ, 256, FD_DESC, FD_AVAIL, FD_USED, F_INDIRECT);
	fg_set_avail_idx(&f->g, 0);
	fg_avail_push(&f->g, 2);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.n_out, VIRTQ_MAX_SEGS);
	assert_int_equal(f->c.out_len, 8 * VIRTQ_MAX_SEGS);
}

/* ---- indirect descriptors ---- */

static void test_indirect_ok(void **state)
{
	struct fx *f = *state;
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, FD_DATA, 16, VRING_DESC_F_NEXT, 2);
	fg_set_desc_in(&f->g, FD_INDIRECT, 2, FD_DATA + 16, 512,
		       VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	fg_set_desc_in(&f->g, FD_INDIRECT, 1, FD_DATA + 528, 1, VRING_DESC_F_WRITE, 0);
	/* The WRITE flag on the descriptor pointing at the table is ignored. */
	fg_set_desc(&f->g, 4, FD_INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 4);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 4);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 2);
	assert_int_equal(f->c.in_len, 513);
	assert_ptr_equal(f->c.iov[2].iov_base, fg_ptr(&f->g, FD_DATA + 528));

	/* direct readable buffers, then an indirect table with writable ones */
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, FD_DATA, 4, VRING_DESC_F_WRITE, 0);
	fg_set_desc(&f->g, 5, FD_DATA, 16, VRING_DESC_F_NEXT, 6);
	fg_set_desc(&f->g, 6, FD_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 5);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 1);
}

static void test_indirect_nested(void **state)
{
	struct fx *f = *state;
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, FD_INDIRECT + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	fg_set_desc_in(&f->g, FD_INDIRECT + 0x100, 0, FD_DATA, 8, 0, 0);
	fg_set_desc(&f->g, 0, FD_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, FD_DATA, 8, 0, 0);
	fg_set_desc(&f->g, 0, FD_INDIRECT, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, FD_DATA, 8, 0, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_indirect_bad_len(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_INDIRECT, 24, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_indirect_empty(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_INDIRECT, 0, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_indirect_too_big(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_INDIRECT, 16 * (VIRTQ_MAX_SEGS + 1), VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_indirect_outside_ram(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, FD_DATA, 8, VRING_DESC_F_NEXT, 1);
	fg_set_desc_in(&f->g, FD_INDIRECT, 1, FD_DATA, 8, VRING_DESC_F_NEXT, 0);
	fg_set_desc(&f->g, 0, FD_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fx *f = *state;
	/* next points past the indirect table (but < queue size) */
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, FD_DATA, 8, VRING_DESC_F_NEXT, 2);
	fg_set_desc(&f->g, 0, FD_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	fg_avail_push(&f->g, 0);
	expect_broken(f);
}

/* ---- chains larger than 4 GiB ---- */

static void test_chain_over_4g(void **state)
{
	(void)state;
	/* 3 GiB of RAM, mapped but never touched beyond the rings. */
	struct guest_mem mem;
	if (guest_mem_init(&mem, 3ull << 30) != 0) {
		skip();
		return;
	}
	struct fake_guest g = {.ram = mem.r[0].host,
			       .size = mem.r[0].size,
			       .mem = mem,
			       .qsize = QSZ,
			       .desc = FD_DESC,
			       .avail = FD_AVAIL,
			       .used = FD_USED};
	struct virtq q;
	struct virtq_chain *c = malloc(sizeof(*c));
	virtq_init(&q, &g.mem);
	assert_int_equal(virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL, FD_USED, 0), 0);
	fg_set_desc(&g, 0, 1ull << 30, 0x80000000u, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&g, 1, 1ull << 30, 0x80000000u, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&g, 0);
	assert_int_equal(virtq_pop(&q, c), -EIO);

	virtq_configure(&q, QSZ, 256, FD_DESC, FD_AVAIL, FD_USED, 0);
	fg_set_avail_idx(&g, 0);
	fg_set_desc(&g, 1, 1ull << 30, 0x7fffffffu, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&g, 0);
	assert_int_equal(virtq_pop(&q, c), 1);
	assert_int_equal(c->out_len, 0x80000000u);
	assert_int_equal(c->in_len, 0x7fffffffu);
	free(c);
	guest_mem_free(&mem);
}

/* ---- interrupt suppression ---- */

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_DATA, 1, VRING_DESC_F_WRITE, 0);
	fg_set_avail_flags(&f->g, VRING_AVAIL_F_NO_INTERRUPT);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, 0, 1);
	assert_false(virtq_need_signal(&f->q));

	fg_set_avail_flags(&f->g, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, 0, 1);
	assert_true(virtq_need_signal(&f->q));
}

static void test_event_idx_used_event(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_DATA, 1, VRING_DESC_F_WRITE, 0);
	/* used_event = 0: interrupt when used idx moves past 0 */
	fg_set_used_event(&f->g, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, 0, 1);
	assert_true(virtq_need_signal(&f->q));

	/* still 0: the driver has not asked again */
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, 0, 1);
	assert_false(virtq_need_signal(&f->q));

	/* used_event = 3: entries 2 and 3 pushed in one batch cross it */
	fg_set_used_event(&f->g, 3);
	fg_avail_push(&f->g, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, 0, 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, 0, 1);
	assert_true(virtq_need_signal(&f->q));
}

static void test_event_idx_avail_event(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_DATA, 1, 0, 0);
	fg_avail_push(&f->g, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	/* drained: the device asks to be notified at the next index */
	assert_int_equal(fg_avail_event(&f->g), 2);
}

/* ---- budget ---- */

static void test_budget(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 0, FD_DATA, 1, 0, 0);
	fg_avail_push(&f->g, 0);
	fg_avail_push(&f->g, 0);
	fg_avail_push(&f->g, 0);
	virtq_set_budget(&f->q, 2);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_true(f->q.budget_hit);
	virtq_set_budget(&f->q, 2);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_false(f->q.budget_hit); /* stopped because empty */
}

/* A chain given back (a rate-limited device) comes out again, whole, and
 * costs no budget. */
static void test_unpop(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->g, 3, FD_DATA, 8, VRING_DESC_F_WRITE, 0);
	fg_set_desc(&f->g, 5, FD_DATA + 8, 4, 0, 0);
	fg_avail_push(&f->g, 3);
	fg_avail_push(&f->g, 5);
	virtq_set_budget(&f->q, 2);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 3);
	virtq_unpop(&f->q);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.in_len, 8);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 5);
	assert_false(f->q.budget_hit);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

/* ---- copying helpers ---- */

static void test_chain_copy(void **state)
{
	struct fx *f = *state;
	uint8_t *ram = f->g.ram;
	for (unsigned i = 0; i < 10; i++)
		ram[FD_DATA + i] = (uint8_t)i;
	/* readable 3 + 4 + 3 bytes, writable 2 + 5 */
	fg_set_desc(&f->g, 0, FD_DATA, 3, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, FD_DATA + 3, 4, VRING_DESC_F_NEXT, 2);
	fg_set_desc(&f->g, 2, FD_DATA + 7, 3, VRING_DESC_F_NEXT, 3);
	fg_set_desc(&f->g, 3, FD_DATA + 0x100, 2, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 4);
	fg_set_desc(&f->g, 4, FD_DATA + 0x200, 5, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);

	uint8_t buf[16];
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(virtq_chain_read(&f->c, 2, buf, 6), 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(buf[i], i + 2);
	assert_int_equal(virtq_chain_read(&f->c, 8, buf, 16), 2);
	assert_int_equal(virtq_chain_read(&f->c, 10, buf, 16), 0);

	const uint8_t src[7] = {1, 2, 3, 4, 5, 6, 7};
	assert_int_equal(virtq_chain_write(&f->c, 1, src, 7), 6);
	assert_int_equal(ram[FD_DATA + 0x101], 1);
	assert_int_equal(ram[FD_DATA + 0x200], 2);
	assert_int_equal(ram[FD_DATA + 0x204], 6);
	assert_int_equal(ram[FD_DATA + 0x100], 0);

	struct iovec dst[2];
	assert_int_equal(virtq_iov_slice(f->c.iov, f->c.n_out, 1, 100, dst, 2), 2);
	assert_int_equal(dst[0].iov_len, 2);
	assert_int_equal(dst[1].iov_len, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_configure_checks),
	    cmocka_unit_test(test_not_ready_pops_nothing),
	    cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_single_desc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multi_desc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_chains_wrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_length_buffer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_self_loop_zero_len, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buffer_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buffer_addr_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writable_before_readable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_avail_idx_jump, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_avail_idx_exactly_size_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_not_negotiated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_segments, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_ok, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_nested, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_with_next, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_bad_len, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_empty, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_too_big, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_outside_ram, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_loop, setup_indirect, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_next_out_of_table, setup_indirect,
					    teardown),
	    cmocka_unit_test(test_chain_over_4g),
	    cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_idx_used_event, setup_event, teardown),
	    cmocka_unit_test_setup_teardown(test_event_idx_avail_event, setup_event, teardown),
	    cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_copy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
