/* Unit tests for vmm/virtio/virtio_blk.c, driven end to end through the
 * virtio-mmio transport against a temporary disk image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "common/clock.h"
#include "virtio_fake_driver.h"
#include "vmm/evloop.h"
#include "vmm/virtio/virtio_blk.h"

#define QSZ 64
#define SECTORS 64
#define SERIAL "hull-test-serial"
#define F_V1 (1ull << VIRTIO_F_VERSION_1)

/* guest-physical layout of a request */
#define HDR_GPA (FD_DATA)
#define STATUS_GPA (FD_DATA + 0x100)
#define BUF_GPA (FD_DATA + 0x1000)

struct fx {
	struct fake_guest g;
	char path[64];
	int fd;
	struct virtio_blk *blk;
	struct virtio_mmio *t;
	unsigned irqs;
};

static void irq_cb(void *ctx)
{
	struct fx *f = ctx;
	f->irqs++;
}

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

/* A temp file of `size` bytes filled with pattern(). */
static int make_image(char *path, size_t pathlen, uint64_t size)
{
	snprintf(path, pathlen, "/tmp/hull-test-blk-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t *buf = malloc(size ? size : 1);
	for (uint64_t i = 0; i < size; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(fd, buf, size, 0), (ssize_t)size);
	free(buf);
	return fd;
}

static int setup_common(void **state, bool ro, uint64_t features)
{
	struct fx *f = calloc(1, sizeof(*f));
	fg_init(&f->g, QSZ);
	f->fd = make_image(f->path, sizeof(f->path), SECTORS * 512);
	struct errmsg err = {{0}};
	assert_int_equal(virtio_blk_init(&f->blk, f->fd, ro, SERIAL, &err), 0);
	assert_int_equal(virtio_blk_capacity(f->blk), SECTORS);
	assert_int_equal(virtio_mmio_init(&f->t, 0xd0000000, &f->g.mem, virtio_blk_ops(f->blk),
					  f->blk, irq_cb, f),
			 0);
	uint32_t st = mmio_negotiate(f->t, F_V1 | features);
	assert_true(st & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, QSZ), 1);
	mmio_driver_ok(f->t);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false, 0);
}

static int setup_ro(void **state)
{
	return setup_common(state, true, 1ull << VIRTIO_BLK_F_RO);
}

static int setup_indirect(void **state)
{
	return setup_common(state, false,
			    (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
				(1ull << VIRTIO_RING_F_EVENT_IDX));
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_free(f->t);
	virtio_blk_free(f->blk);
	close(f->fd);
	unlink(f->path);
	fg_free(&f->g);
	free(f);
	return 0;
}

static void put_hdr(struct fx *f, uint64_t gpa, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {
	    .type = htole32(type),
	    .ioprio = 0,
	    .sector = htole64(sector),
	};
	memcpy(fg_ptr(&f->g, gpa), &h, sizeof(h));
}

/* The usual 3-descriptor request: header, data (may be 0 bytes: omitted),
 * status. Returns the status byte; *used_len gets the used length. */
static uint8_t request(struct fx *f, uint32_t type, uint64_t sector, uint32_t len,
		       bool data_writable, uint32_t *used_len)
{
	uint16_t used_before = fg_used_idx(&f->g);
	put_hdr(f, HDR_GPA, type, sector);
	*(uint8_t *)fg_ptr(&f->g, STATUS_GPA) = 0xee;
	uint16_t i = 0;
	fg_set_desc(&f->g, i, HDR_GPA, 16, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	i++;
	if (len) {
		fg_set_desc(&f->g, i, BUF_GPA, len,
			    VRING_DESC_F_NEXT | (data_writable ? VRING_DESC_F_WRITE : 0),
			    (uint16_t)(i + 1));
		i++;
	}
	fg_set_desc(&f->g, i, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), (uint16_t)(used_before + 1));
	struct vring_used_elem e = fg_used_elem(&f->g, used_before);
	assert_int_equal(e.id, 0);
	if (used_len)
		*used_len = e.len;
	return *(uint8_t *)fg_ptr(&f->g, STATUS_GPA);
}

static void assert_file_pattern(struct fx *f, uint64_t off, uint64_t len)
{
	uint8_t *buf = malloc(len);
	assert_int_equal(pread(f->fd, buf, len, (off_t)off), (ssize_t)len);
	for (uint64_t i = 0; i < len; i++)
		assert_int_equal(buf[i], pattern(off + i));
	free(buf);
}

/* ---- init ---- */

static void test_init_size_not_sector_multiple(void **state)
{
	(void)state;
	char path[64];
	int fd = make_image(path, sizeof(path), 1000);
	struct errmsg err = {{0}};
	struct virtio_blk *b = (void *)1;
	assert_int_equal(virtio_blk_init(&b, fd, false, NULL, &err), -EINVAL);
	assert_null(b);
	assert_non_null(strstr(err.text, path));
	assert_non_null(strstr(err.text, "512"));
	/* err may be NULL */
	assert_int_equal(virtio_blk_init(&b, fd, false, NULL, NULL), -EINVAL);
	close(fd);
	unlink(path);
}

static void test_init_bad_serial(void **state)
{
	(void)state;
	char path[64];
	int fd = make_image(path, sizeof(path), 512);
	struct errmsg err = {{0}};
	struct virtio_blk *b;
	assert_int_equal(virtio_blk_init(&b, fd, false, "123456789012345678901", &err), -EINVAL);
	assert_non_null(strstr(err.text, "serial"));
	/* exactly 20 bytes is fine */
	assert_int_equal(virtio_blk_init(&b, fd, false, "12345678901234567890", &err), 0);
	virtio_blk_free(b);
	close(fd);
	unlink(path);
}

static void test_init_not_a_file(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct errmsg err = {{0}};
	struct virtio_blk *b;
	assert_int_equal(virtio_blk_init(&b, p[0], true, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.text, "not a regular file"));
	assert_int_equal(virtio_blk_init(&b, -1, true, NULL, &err), -EBADF);
	close(p[0]);
	close(p[1]);
}

static void test_init_rdonly_fd_rw_disk(void **state)
{
	(void)state;
	char path[64];
	int fd = make_image(path, sizeof(path), 512);
	int rfd = open(path, O_RDONLY);
	struct errmsg err = {{0}};
	struct virtio_blk *b;
	assert_int_equal(virtio_blk_init(&b, rfd, false, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.text, path));
	assert_int_equal(virtio_blk_init(&b, rfd, true, NULL, &err), 0);
	virtio_blk_free(b);
	close(rfd);
	close(fd);
	unlink(path);
}

static void test_empty_disk(void **state)
{
	(void)state;
	char path[64];
	int fd = make_image(path, sizeof(path), 0);
	struct virtio_blk *b;
	assert_int_equal(virtio_blk_init(&b, fd, false, NULL, NULL), 0);
	assert_int_equal(virtio_blk_capacity(b), 0);
	virtio_blk_free(b);
	close(fd);
	unlink(path);
}

/* ---- identity, features, config ---- */

static uint64_t device_features(struct fx *f)
{
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = mmio_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES);
	mmio_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = mmio_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES);
	return lo | hi << 32;
}

static void test_identity_and_features(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_BLK_QUEUE_MAX);
	uint64_t feat = device_features(f);
	assert_true(feat & (1ull << VIRTIO_BLK_F_FLUSH));
	assert_true(feat & (1ull << VIRTIO_BLK_F_SEG_MAX));
	assert_true(feat & F_V1);
	assert_false(feat & (1ull << VIRTIO_BLK_F_RO));
}

static void test_ro_feature(void **state)
{
	struct fx *f = *state;
	assert_true(device_features(f) & (1ull << VIRTIO_BLK_F_RO));
}

static void test_config_capacity(void **state)
{
	struct fx *f = *state;
	uint64_t cap = 0;
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config, capacity),
			 &cap, 8);
	assert_int_equal(le64toh(cap), SECTORS);
	/* as two 32-bit halves, the way Linux reads it */
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_CONFIG + 0), SECTORS);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(
	    mmio_rd(f->t, VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config, seg_max)),
	    VIRTQ_MAX_SEGS - 2);
	/* past the config struct */
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_CONFIG + sizeof(struct virtio_blk_config)), 0);
	/* writes are ignored */
	mmio_wr(f->t, VIRTIO_MMIO_CONFIG, 12345);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_CONFIG + 0), SECTORS);
}

/* ---- requests ---- */

static void test_read(void **state)
{
	struct fx *f = *state;
	uint32_t used;
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 3, 2 * 512, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 2 * 512 + 1);
	const uint8_t *buf = fg_ptr(&f->g, BUF_GPA);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(buf[i], pattern(3 * 512 + i));
	assert_int_equal(f->irqs, 1);
}

static void test_read_last_sector_and_empty(void **state)
{
	struct fx *f = *state;
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS - 1, 512, true, NULL),
			 VIRTIO_BLK_S_OK);
	/* zero-length read at the very end */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS, 0, true, NULL), VIRTIO_BLK_S_OK);
}

static void test_write(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = fg_ptr(&f->g, BUF_GPA);
	for (unsigned i = 0; i < 1536; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	uint32_t used;
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 5, 1536, false, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	uint8_t back[1536];
	assert_int_equal(pread(f->fd, back, sizeof(back), 5 * 512), (ssize_t)sizeof(back));
	assert_memory_equal(back, buf, sizeof(back));
	assert_file_pattern(f, 0, 5 * 512);
	assert_file_pattern(f, 8 * 512, (SECTORS - 8) * 512);

	/* and read back through the device */
	memset(buf, 0, 1536);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 5, 1536, true, NULL), VIRTIO_BLK_S_OK);
	assert_memory_equal(back, buf, sizeof(back));
}

static void test_flush(void **state)
{
	struct fx *f = *state;
	uint32_t used;
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = fg_ptr(&f->g, BUF_GPA);
	memset(buf, 0xff, 64);
	uint32_t used;
	assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	char want[VIRTIO_BLK_ID_BYTES] = SERIAL; /* NUL-padded */
	assert_memory_equal(buf, want, VIRTIO_BLK_ID_BYTES);
	assert_int_equal(buf[VIRTIO_BLK_ID_BYTES], 0xff);

	/* a short buffer gets a prefix; nothing is written past it */
	memset(buf, 0xff, 64);
	assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, 4, true, NULL), VIRTIO_BLK_S_OK);
	assert_memory_equal(buf, "hull", 4);
	assert_int_equal(buf[4], 0xff);
}

static void test_read_out_of_range(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = fg_ptr(&f->g, BUF_GPA);
	memset(buf, 0x11, 1024);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS, 512, true, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS - 1, 1024, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(buf[0], 0x11); /* nothing was read */
}

static void test_write_out_of_range(void **state)
{
	struct fx *f = *state;
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, SECTORS - 1, 1024, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 1ull << 60, 512, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	struct stat st;
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, SECTORS * 512); /* did not grow */
	assert_file_pattern(f, 0, SECTORS * 512);
}

static void test_not_sector_multiple(void **state)
{
	struct fx *f = *state;
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 100, true, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 513, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 0, 1024);
}

/* The counters: successful IN/OUT bytes and requests; refused requests,
 * FLUSH and GET_ID count nowhere. */
static void test_stats(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_stats st;
	virtio_blk_get_stats(f->blk, &st);
	assert_int_equal(st.read_bytes + st.write_bytes + st.reads + st.writes, 0);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 1024, true, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 2, 1536, false, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 9, 512, false, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, 20, true, NULL), VIRTIO_BLK_S_OK);
	/* refused: out of range, not a sector multiple */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS - 1, 1024, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, SECTORS - 1, 1024, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 513, false, NULL), VIRTIO_BLK_S_IOERR);
	virtio_blk_get_stats(f->blk, &st);
	assert_int_equal(st.read_bytes, 1024);
	assert_int_equal(st.reads, 1);
	assert_int_equal(st.write_bytes, 1536 + 512);
	assert_int_equal(st.writes, 2);
}

static void test_write_read_only(void **state)
{
	struct fx *f = *state;
	memset(fg_ptr(&f->g, BUF_GPA), 0, 512);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 512, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 0, 512);
	/* reads and flushes still work */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
}

static void test_unsupported_type(void **state)
{
	struct fx *f = *state;
	assert_int_equal(request(f, VIRTIO_BLK_T_DISCARD, 0, 16, false, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(request(f, VIRTIO_BLK_T_SCSI_CMD, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(request(f, 0xffffffff, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_file_pattern(f, 0, 512);
}

/* ---- odd layouts ---- */

static void test_split_header_and_data(void **state)
{
	struct fx *f = *state;
	/* header in 3 pieces, data in 3 pieces of uneven size, status alone */
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_IN, 2);
	fg_set_desc(&f->g, 10, HDR_GPA, 5, VRING_DESC_F_NEXT, 11);
	fg_set_desc(&f->g, 11, HDR_GPA + 5, 7, VRING_DESC_F_NEXT, 12);
	fg_set_desc(&f->g, 12, HDR_GPA + 12, 4, VRING_DESC_F_NEXT, 13);
	fg_set_desc(&f->g, 13, BUF_GPA, 100, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 14);
	fg_set_desc(&f->g, 14, BUF_GPA + 0x1000, 800, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 15);
	fg_set_desc(&f->g, 15, BUF_GPA + 0x2000, 124, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 16);
	fg_set_desc(&f->g, 16, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 10);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 1);
	assert_int_equal(fg_used_elem(&f->g, 0).id, 10);
	assert_int_equal(fg_used_elem(&f->g, 0).len, 1025);
	assert_int_equal(*(uint8_t *)fg_ptr(&f->g, STATUS_GPA), VIRTIO_BLK_S_OK);
	const uint8_t *a = fg_ptr(&f->g, BUF_GPA);
	const uint8_t *b = fg_ptr(&f->g, BUF_GPA + 0x1000);
	const uint8_t *c = fg_ptr(&f->g, BUF_GPA + 0x2000);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(a[i], pattern(1024 + i));
	for (unsigned i = 0; i < 800; i++)
		assert_int_equal(b[i], pattern(1024 + 100 + i));
	for (unsigned i = 0; i < 124; i++)
		assert_int_equal(c[i], pattern(1024 + 900 + i));
}

static void test_write_header_and_data_one_desc(void **state)
{
	struct fx *f = *state;
	/* header and data in one readable buffer */
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_OUT, 1);
	memset(fg_ptr(&f->g, HDR_GPA + 16), 0x77, 512);
	fg_set_desc(&f->g, 0, HDR_GPA, 16 + 512, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(*(uint8_t *)fg_ptr(&f->g, STATUS_GPA), VIRTIO_BLK_S_OK);
	uint8_t back[512];
	assert_int_equal(pread(f->fd, back, 512, 512), 512);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(back[i], 0x77);
}

static void test_status_last_byte_of_data_buffer(void **state)
{
	struct fx *f = *state;
	/* data and status in one writable buffer of 513 bytes */
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_IN, 7);
	fg_set_desc(&f->g, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, BUF_GPA, 513, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	const uint8_t *buf = fg_ptr(&f->g, BUF_GPA);
	assert_int_equal(buf[512], VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(buf[i], pattern(7 * 512 + i));
	assert_int_equal(fg_used_elem(&f->g, 0).len, 513);
}

static void test_short_header(void **state)
{
	struct fx *f = *state;
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_OUT, 0);
	fg_set_desc(&f->g, 0, HDR_GPA, 8, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(*(uint8_t *)fg_ptr(&f->g, STATUS_GPA), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 0, 512);
}

static void test_header_in_writable_buffer(void **state)
{
	struct fx *f = *state;
	/* the device needs to read the header: a writable one does not count */
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_IN, 0);
	fg_set_desc(&f->g, 0, HDR_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	fg_set_desc(&f->g, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(*(uint8_t *)fg_ptr(&f->g, STATUS_GPA), VIRTIO_BLK_S_IOERR);
}

static void test_write_data_in_writable_buffer(void **state)
{
	struct fx *f = *state;
	/* OUT whose data is device-writable: the readable part is the header
	 * alone, so this writes 0 bytes; the writable bytes are not data */
	uint32_t used;
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 512, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 513);
	assert_file_pattern(f, 0, 512);
	/* IN whose data is device-readable: a read of 0 bytes, the buffer is
	 * left alone */
	memset(fg_ptr(&f->g, BUF_GPA), 0x22, 512);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, false, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)fg_ptr(&f->g, BUF_GPA), 0x22);
}

static void test_no_status_buffer(void **state)
{
	struct fx *f = *state;
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_IN, 0);
	fg_set_desc(&f->g, 0, HDR_GPA, 16, 0, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(f->irqs, 1);
	/* nothing further is served */
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 0);
}

static void test_zero_length_status_buffer(void **state)
{
	struct fx *f = *state;
	/* a writable descriptor of length 0 is no status byte either */
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_FLUSH, 0);
	fg_set_desc(&f->g, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, STATUS_GPA, 0, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_bad_descriptor_breaks_device(void **state)
{
	struct fx *f = *state;
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_IN, 0);
	fg_set_desc(&f->g, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->g, 1, FD_RAM_SIZE - 256, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	fg_set_desc(&f->g, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->g, 0);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* 8 reads of one sector each (sectors 0-7), chains at descriptors 0, 3, ... */
static void post_8_reads(struct fx *f)
{
	for (uint16_t r = 0; r < 8; r++) {
		uint16_t d = (uint16_t)(r * 3);
		put_hdr(f, HDR_GPA + r * 16, VIRTIO_BLK_T_IN, r);
		fg_set_desc(&f->g, d, HDR_GPA + r * 16, 16, VRING_DESC_F_NEXT, (uint16_t)(d + 1));
		fg_set_desc(&f->g, (uint16_t)(d + 1), BUF_GPA + r * 512, 512,
			    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)(d + 2));
		fg_set_desc(&f->g, (uint16_t)(d + 2), STATUS_GPA + r, 1, VRING_DESC_F_WRITE, 0);
		fg_avail_push(&f->g, d);
	}
}

/* ...all answered OK, in order, with the file's bytes. */
static void check_8_reads(struct fx *f)
{
	for (uint16_t r = 0; r < 8; r++) {
		assert_int_equal(fg_used_elem(&f->g, r).id, r * 3);
		assert_int_equal(*(uint8_t *)fg_ptr(&f->g, STATUS_GPA + r), VIRTIO_BLK_S_OK);
	}
	const uint8_t *buf = fg_ptr(&f->g, BUF_GPA);
	for (unsigned i = 0; i < 8 * 512; i++)
		assert_int_equal(buf[i], pattern(i));
}

static void test_batch(void **state)
{
	struct fx *f = *state;
	/* 8 reads of one sector each, in one notification, one interrupt */
	post_8_reads(f);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 8);
	assert_int_equal(f->irqs, 1);
	check_8_reads(f);
}

/* I/O limits: 4 read requests a second (the bucket starts with one
 * second's worth). Of 8 reads in one notification 4 are served at once, the
 * others stay in the ring (kicks do not serve them) until the device's
 * timer lets them through, a second later, in order. */
static void test_read_iops_limit(void **state)
{
	struct fx *f = *state;
	struct evloop *loop;
	struct errmsg err = {{0}};
	assert_int_equal(evloop_init(&loop), 0);
	const struct virtio_blk_limits lim = {.read_iops = 4};
	assert_int_equal(virtio_blk_set_limits(f->blk, &lim, loop, f->t, &err), 0);
	uint64_t t0 = clock_now_ns();
	post_8_reads(f);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 4);
	virtio_mmio_notify(f->t, 0); /* a kick while waiting serves nothing */
	assert_int_equal(fg_used_idx(&f->g), 4);
	while (fg_used_idx(&f->g) < 8 && clock_now_ns() - t0 < 10000000000ull) {
		assert_true(evloop_poll(loop) >= 0);
		usleep(1000);
	}
	uint64_t took = clock_now_ns() - t0;
	assert_int_equal(fg_used_idx(&f->g), 8);
	if (took < 700000000ull) /* 4 more at 4 a second: about 1 s */
		fail_msg("8 reads at 4/s took %llu ms", (unsigned long long)(took / 1000000));
	check_8_reads(f);
	/* writes have their own (here unlimited) buckets */
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 512, false, NULL), VIRTIO_BLK_S_OK);
	/* the device's timer is deregistered before the loop goes */
	virtio_blk_free(f->blk);
	f->blk = NULL;
	evloop_free(loop);
}

static void test_indirect_request(void **state)
{
	struct fx *f = *state;
	/* header, 2 data buffers, status, all in an indirect table */
	put_hdr(f, HDR_GPA, VIRTIO_BLK_T_IN, 9);
	fg_set_desc_in(&f->g, FD_INDIRECT, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc_in(&f->g, FD_INDIRECT, 1, BUF_GPA, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		       2);
	fg_set_desc_in(&f->g, FD_INDIRECT, 2, BUF_GPA + 512, 512,
		       VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	fg_set_desc_in(&f->g, FD_INDIRECT, 3, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	fg_set_desc(&f->g, 5, FD_INDIRECT, 4 * 16, VRING_DESC_F_INDIRECT, 0);
	fg_set_used_event(&f->g, 0);
	fg_avail_push(&f->g, 5);
	virtio_mmio_notify(f->t, 0);
	assert_int_equal(fg_used_idx(&f->g), 1);
	assert_int_equal(fg_used_elem(&f->g, 0).id, 5);
	assert_int_equal(fg_used_elem(&f->g, 0).len, 1025);
	assert_int_equal(*(uint8_t *)fg_ptr(&f->g, STATUS_GPA), VIRTIO_BLK_S_OK);
	const uint8_t *buf = fg_ptr(&f->g, BUF_GPA);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(buf[i], pattern(9 * 512 + i));
	assert_int_equal(f->irqs, 1);
	assert_int_equal(fg_avail_event(&f->g), 1);
}

static void test_reset_and_reinit(void **state)
{
	struct fx *f = *state;
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
	mmio_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	memset(fg_ptr(&f->g, FD_AVAIL), 0, 0x2000);
	f->g.avail_idx = 0;
	assert_true(mmio_negotiate(f->t, F_V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->g, 0, QSZ), 1);
	mmio_driver_ok(f->t);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 1, 512, true, NULL), VIRTIO_BLK_S_OK);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_size_not_sector_multiple),
	    cmocka_unit_test(test_init_bad_serial),
	    cmocka_unit_test(test_init_not_a_file),
	    cmocka_unit_test(test_init_rdonly_fd_rw_disk),
	    cmocka_unit_test(test_empty_disk),
	    T(test_identity_and_features),
	    cmocka_unit_test_setup_teardown(test_ro_feature, setup_ro, teardown),
	    T(test_config_capacity),
	    T(test_read),
	    T(test_read_last_sector_and_empty),
	    T(test_write),
	    T(test_flush),
	    T(test_get_id),
	    T(test_read_out_of_range),
	    T(test_write_out_of_range),
	    T(test_not_sector_multiple),
	    T(test_stats),
	    cmocka_unit_test_setup_teardown(test_write_read_only, setup_ro, teardown),
	    T(test_unsupported_type),
	    T(test_split_header_and_data),
	    T(test_write_header_and_data_one_desc),
	    T(test_status_last_byte_of_data_buffer),
	    T(test_short_header),
	    T(test_header_in_writable_buffer),
	    T(test_write_data_in_writable_buffer),
	    T(test_no_status_buffer),
	    T(test_zero_length_status_buffer),
	    T(test_bad_descriptor_breaks_device),
	    T(test_batch),
	    T(test_read_iops_limit),
	    cmocka_unit_test_setup_teardown(test_indirect_request, setup_indirect, teardown),
	    T(test_reset_and_reinit),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
