/* Unit tests for vmm/virtio/virtio_9p.c: the device through the virtio-mmio
 * transport, with hostile chain layouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>

#include "tests/unit/p9/p9_msg.h"
#include "virtio_fake_driver.h"
#include "vmm/virtio/virtio_9p.h"

#define QSZ 16
#define F_V1 (1ull << VIRTIO_F_VERSION_1)
#define REQ_GPA (FD_DATA)
#define RESP_GPA (FD_DATA + 0x1000)

struct fx {
	struct fake_guest g;
	char dir[64];
	struct p9_server *srv;
	struct virtio_9p *dev;
	struct virtio_mmio *t;
	unsigned irqs;
};

static void irq_cb(void *ctx)
{
	((struct fx *)ctx)->irqs++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	fg_init(&f->g, QSZ);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hull-test-v9p-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	struct errmsg err;
	assert_int_equal(p9_server_new(&f->srv, f->dir, false, P9_OWNERS_KEEP, &err), 0);
	assert_int_equal(virtio_9p_init(&f->dev, f->srv, "", &err), -EINVAL);
	assert_int_equal(virtio_9p_init(&f->dev, f->srv, "0123456789abcdef0123456789abcdefX", &err),
			 -EINVAL);
	assert_int_equal(virtio_9p_init(&f->dev, f->srv, "hullvol3", &err), 0);
	assert_int_equal(virtio_mmio_init(&f->t, 0xd0000000, &f->g.mem, virtio_9p_ops(f->dev),
					  f->dev, irq_cb, f),
			 0);
	assert_true(mmio_negotiate(f->t, F_V1 | (1ull << VIRTIO_9P_MOUNT_TAG)) &
		    VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, QSZ), 1);
	mmio_driver_ok(f->t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_free(f->t);
	virtio_9p_free(f->dev);
	p9_server_free(f->srv);
	rmdir(f->dir);
	fg_free(&f->g);
	free(f);
	return 0;
}

static size_t put_version(struct fx *f)
{
	struct p9m m;
	m_begin(&m, 100, 0xffff);
	m_u32(&m, 65536);
	m_str(&m, "9P2000.L");
	size_t n = m_end(&m);
	memcpy(fg_ptr(&f->g, REQ_GPA), m.b, n);
	return n;
}

static void test_config(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_9P);
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_9P_MOUNT_TAG));
	uint16_t len = 0;
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG, &len, 2);
	assert_int_equal(le16toh(len), 8);
	char tag[9] = {0};
	for (int i = 0; i < 8; i++)
		virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 2 + (unsigned)i, &tag[i], 1);
	assert_string_equal(tag, "hullvol3");
	uint32_t junk = 0xdeadbeef;
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 10, &junk, 4); /* past the tag */
	assert_int_equal(junk, 0);
}

/* Tversion with the message and the answer each split across descriptors. */
static void test_version_split_chain(void **state)
{
	struct fx *f = *state;
	size_t n = put_version(f);
	fg_set_desc(&f->g, 0, REQ_GPA, 5, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, REQ_GPA + 5, (uint32_t)n - 5, VRING_DESC_F_NEXT, 2);
	fg_set_desc(&f->g, 2, RESP_GPA, 3, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	fg_set_desc(&f->g, 3, RESP_GPA + 3, 200, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 1);
	struct vring_used_elem e = fg_used_elem(&f->g, 0);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 4 + 1 + 2 + 4 + 2 + 8);
	const uint8_t *r = fg_ptr(&f->g, RESP_GPA);
	assert_int_equal(r_u32(r), e.len);
	assert_int_equal(r[4], 101);
	assert_int_equal(r_u32(r + 7), 65536);
	assert_memory_equal(r + 13, "9P2000.L", 8);
	assert_true(f->irqs > 0);
}

/* A message larger than any msize is refused from its header alone. */
static void test_oversized_message(void **state)
{
	struct fx *f = *state;
	put_version(f);
	uint32_t big = 600 * 1024;
	fg_set_desc(&f->g, 0, REQ_GPA, big, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, FD_DATA + big, 64, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 1);
	assert_int_equal(fg_used_elem(&f->g, 0).len, P9_ERR_LEN);
	const uint8_t *r = fg_ptr(&f->g, FD_DATA + big);
	assert_int_equal(r[4], 7);
	assert_int_equal(r_u16(r + 5), 0xffff);
	assert_int_equal(r_u32(r + 7), EMSGSIZE);
}

/* No room for an answer: the session ends (DEVICE_NEEDS_RESET). */
static void test_unanswerable_chains(void **state)
{
	struct fx *f = *state;
	size_t n = put_version(f);
	fg_set_desc(&f->g, 0, REQ_GPA, (uint32_t)n, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, RESP_GPA, 10, VRING_DESC_F_WRITE, 0); /* < 11 bytes */
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_no_writable(void **state)
{
	struct fx *f = *state;
	size_t n = put_version(f);
	fg_set_desc(&f->g, 0, REQ_GPA, (uint32_t)n, 0, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version_split_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unanswerable_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_writable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
