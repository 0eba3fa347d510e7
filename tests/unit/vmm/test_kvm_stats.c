/* vmm/kvm_stats: the binary stats layout read by name from a memfd that
 * stands in for KVM's stats fd: a well-formed file, stats that are not
 * plain counts skipped, and hostile headers (sizes, counts, offsets out of
 * range, short files) refused by name without reading out of bounds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/kvm_stats.h"

#define NAME_SIZE 48
#define EACH (sizeof(struct kvm_stats_desc) + NAME_SIZE)

struct fdesc {
	const char *name; /* NULL: name_size bytes without a NUL */
	uint32_t flags;
	uint16_t size;
	uint32_t offset;
};

/* header | id | descriptors | data (values 100 + 8 * slot) */
static int make(struct kvm_stats_header h, const struct fdesc *d, unsigned nd, size_t data_len)
{
	int fd = memfd_create("kvmstats", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	for (unsigned i = 0; i < nd; i++) {
		uint8_t b[EACH];
		memset(b, 'x', sizeof(b));
		struct kvm_stats_desc x = {
		    .flags = d[i].flags, .size = d[i].size, .offset = d[i].offset};
		memcpy(b, &x, sizeof(x));
		if (d[i].name) {
			memset(b + sizeof(x), 0, NAME_SIZE);
			memcpy(b + sizeof(x), d[i].name, strlen(d[i].name));
		}
		assert_int_equal(pwrite(fd, b, EACH, h.desc_offset + i * EACH), (ssize_t)EACH);
	}
	for (size_t i = 0; i < data_len / 8; i++) {
		uint64_t v = 100 + 8 * i;
		assert_int_equal(pwrite(fd, &v, 8, h.data_offset + i * 8), 8);
	}
	return fd;
}

static struct kvm_stats_header header(uint32_t nd)
{
	return (struct kvm_stats_header){.name_size = NAME_SIZE,
					 .num_desc = nd,
					 .id_offset = sizeof(struct kvm_stats_header),
					 .desc_offset = 72,
					 .data_offset = (uint32_t)(72 + nd * EACH)};
}

static void test_good(void **state)
{
	(void)state;
	const struct fdesc d[] = {
	    {"exits", KVM_STATS_TYPE_CUMULATIVE, 1, 0},
	    {"pages_4k", KVM_STATS_TYPE_INSTANT, 1, 8},
	    {"halt_wait_hist", KVM_STATS_TYPE_LOG_HIST, 32, 16}, /* not a count */
	    {"", KVM_STATS_TYPE_CUMULATIVE, 1, 24},		 /* empty name */
	    {NULL, KVM_STATS_TYPE_CUMULATIVE, 1, 24},		 /* unterminated */
	    {"insn_emulation", KVM_STATS_TYPE_CUMULATIVE, 1, 24},
	    {"far", KVM_STATS_TYPE_CUMULATIVE, 1, KVM_STATS_SPAN_LIMIT}, /* offset too far */
	    {"past_end", KVM_STATS_TYPE_CUMULATIVE, 1, 4096},		 /* beyond the file */
	};
	unsigned nd = sizeof(d) / sizeof(d[0]);
	struct kvm_stats s;
	struct errmsg err;
	assert_int_equal(kvm_stats_load(&s, make(header(nd), d, nd, 32), &err), 0);
	uint64_t v = 0;
	assert_int_equal(kvm_stats_get(&s, "exits", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(kvm_stats_get(&s, "pages_4k", &v), 0);
	assert_int_equal(v, 108);
	assert_int_equal(kvm_stats_get(&s, "insn_emulation", &v), 0);
	assert_int_equal(v, 124);
	assert_int_equal(kvm_stats_get(&s, "halt_wait_hist", &v), -ENOENT);
	assert_int_equal(kvm_stats_get(&s, "", &v), -ENOENT);
	assert_int_equal(kvm_stats_get(&s, "far", &v), -ENOENT);
	assert_int_equal(kvm_stats_get(&s, "pf_guest", &v), -ENOENT);
	/* described, but the file ends before the value: a read error */
	assert_int_equal(kvm_stats_get(&s, "past_end", &v), -EIO);
	kvm_stats_free(&s);
	assert_int_equal(s.fd, -1);
	kvm_stats_free(&s); /* twice: harmless */
}

static void expect_refused(struct kvm_stats_header h, size_t file_len, const char *want)
{
	const struct fdesc d[] = {{"exits", KVM_STATS_TYPE_CUMULATIVE, 1, 0}};
	int fd = make(header(1), d, 1, 8);
	/* the crafted header over the good one, the file cut to file_len */
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	if (file_len)
		assert_int_equal(ftruncate(fd, (off_t)file_len), 0);
	struct kvm_stats s;
	struct errmsg err = {{0}};
	assert_int_equal(kvm_stats_load(&s, fd, &err), -EBADMSG);
	if (!strstr(err.text, want))
		fail_msg("error '%s' lacks '%s'", err.text, want);
	/* refused: empty, fd closed, safe to read and free */
	uint64_t v;
	assert_int_equal(s.fd, -1);
	assert_int_equal(kvm_stats_get(&s, "exits", &v), -ENOENT);
	kvm_stats_free(&s);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
}

static void test_hostile(void **state)
{
	(void)state;
	struct kvm_stats_header h = header(1);
	h.name_size = 0;
	expect_refused(h, 0, "name_size");
	h = header(1);
	h.name_size = KVM_STATS_NAME_LIMIT + 1;
	expect_refused(h, 0, "name_size");
	h = header(1);
	h.name_size = UINT32_MAX; /* each descriptor's size would wrap 32 bits */
	expect_refused(h, 0, "name_size");
	h = header(1);
	h.num_desc = KVM_STATS_DESC_LIMIT + 1;
	expect_refused(h, 0, "num_desc");
	h = header(1);
	h.num_desc = UINT32_MAX;
	expect_refused(h, 0, "num_desc");
	h = header(1);
	h.desc_offset = UINT32_MAX; /* offset + span past the limit */
	expect_refused(h, 0, "desc_offset");
	h = header(1);
	h.data_offset = UINT32_MAX;
	expect_refused(h, 0, "data_offset");
	/* descriptors promised beyond the end of the file */
	h = header(1);
	h.num_desc = 200;
	expect_refused(h, 0, "descriptors: short");
	/* a file shorter than the header */
	expect_refused(header(1), 10, "header: short");
}

/* A header with no descriptors is fine: nothing to find. */
static void test_empty(void **state)
{
	(void)state;
	struct kvm_stats s;
	struct errmsg err;
	assert_int_equal(kvm_stats_load(&s, make(header(0), NULL, 0, 0), &err), 0);
	uint64_t v;
	assert_int_equal(kvm_stats_get(&s, "exits", &v), -ENOENT);
	kvm_stats_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
