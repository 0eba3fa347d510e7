/* cgstats: a VM cgroup's figures from fake v1 and v2 trees in a temp dir;
 * malformed, out of range, oversized and missing files are refused naming
 * the file; a removed cgroup is -ENOENT. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/cgstats.h"

static char root[64];

static void put(const char *dir, const char *file, const char *text)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s/%s", root, dir, file);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mk(const char *dir)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", root, dir);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void add(struct cgstats_dirs *d, const char *dir)
{
	snprintf(d->dir[d->n++], CGSTATS_PATH_MAX, "%s/%s", root, dir);
}

static int setup(void **st)
{
	(void)st;
	snprintf(root, sizeof(root), "/tmp/hull-cgstats.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* v1: a hierarchy per controller, cpu (quota only) apart from cpuacct */
static void v1_tree(struct cgstats_dirs *d)
{
	*d = (struct cgstats_dirs){0};
	mk("memory");
	mk("pids");
	mk("cpu");
	mk("cpuacct");
	put("memory", "memory.usage_in_bytes", "123456789\n");
	put("memory", "memory.limit_in_bytes", "805306368\n");
	put("memory", "memory.max_usage_in_bytes", "200000000\n");
	put("memory", "memory.stat",
	    "cache 1\nrss 2\ntotal_cache 3\ntotal_rss 4096\n"
	    "total_inactive_file 777\n");
	put("pids", "pids.current", "5\n");
	put("pids", "pids.max", "128\n");
	put("cpu", "cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
	put("cpuacct", "cpuacct.usage", "987654321\n");
	put("cpuacct", "cpuacct.stat", "user 30\nsystem 20\n");
	add(d, "memory");
	add(d, "pids");
	add(d, "cpu");
	add(d, "cpuacct");
}

static void test_v1(void **st)
{
	(void)st;
	struct cgstats_dirs d;
	v1_tree(&d);
	struct cgstats s;
	struct errmsg err = {{0}};
	assert_int_equal(cgstats_read(&d, &s, &err), 0);
	assert_int_equal(s.mem_usage, 123456789);
	assert_int_equal(s.mem_limit, 805306368);
	assert_int_equal(s.mem_max_usage, 200000000);
	assert_int_equal(s.mem_rss, 4096);
	assert_int_equal(s.mem_inactive_file, 777);
	assert_int_equal(s.cpu_ns, 987654321);
	uint64_t tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	assert_int_equal(s.cpu_user_ns, 30 * tick);
	assert_int_equal(s.cpu_system_ns, 20 * tick);
	assert_int_equal(s.pids, 5);
	assert_int_equal(s.pids_limit, 128);
}

static void test_v2(void **st)
{
	(void)st;
	struct cgstats_dirs d = {0};
	mk("v2");
	put("v2", "memory.current", "4096\n");
	put("v2", "memory.max", "max\n");
	put("v2", "memory.stat", "anon 1024\nfile 3072\nactive_file 1\ninactive_file 2048\n");
	put("v2", "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	put("v2", "pids.current", "2\n");
	put("v2", "pids.max", "max\n");
	add(&d, "v2");
	struct cgstats s;
	struct errmsg err = {{0}};
	assert_int_equal(cgstats_read(&d, &s, &err), 0);
	assert_int_equal(s.mem_usage, 4096);
	assert_true(s.mem_limit == UINT64_MAX);
	assert_int_equal(s.mem_max_usage, 0); /* no memory.peak: not kept */
	assert_int_equal(s.mem_rss, 1024);
	assert_int_equal(s.mem_inactive_file, 2048);
	assert_int_equal(s.cpu_ns, 1500000);
	assert_int_equal(s.cpu_user_ns, 1000000);
	assert_int_equal(s.cpu_system_ns, 500000);
	assert_int_equal(s.pids, 2);
	assert_int_equal(s.pids_limit, 0);
	/* a peak where the kernel keeps one */
	put("v2", "memory.peak", "8192");
	assert_int_equal(cgstats_read(&d, &s, &err), 0);
	assert_int_equal(s.mem_max_usage, 8192);
}

/* each malformed value: the error names the file */
static void expect_bad(struct cgstats_dirs *d, const char *dir, const char *file, const char *text,
		       int want, const char *says)
{
	put(dir, file, text);
	struct cgstats s;
	struct errmsg err = {{0}};
	assert_int_equal(cgstats_read(d, &s, &err), want);
	assert_non_null(strstr(err.text, file));
	assert_non_null(strstr(err.text, says));
}

static void test_malformed(void **st)
{
	(void)st;
	struct cgstats_dirs d;
	v1_tree(&d);
	const char *f = "memory.usage_in_bytes";
	expect_bad(&d, "memory", f, "12a\n", -EINVAL, "not a decimal number");
	expect_bad(&d, "memory", f, "-1\n", -EINVAL, "not a decimal number");
	expect_bad(&d, "memory", f, " 12\n", -EINVAL, "not a decimal number");
	expect_bad(&d, "memory", f, "12\n\n", -EINVAL, "not a decimal number");
	expect_bad(&d, "memory", f, "", -EINVAL, "not a decimal number");
	expect_bad(&d, "memory", f, "max\n", -EINVAL, "not a decimal number"); /* v1: no max */
	expect_bad(&d, "memory", f, "18446744073709551616\n", -ERANGE, "out of range");
	put("memory", f, "1\n");
	/* a key's value, and a tick count that overflows once in ns */
	expect_bad(&d, "cpuacct", "cpuacct.stat", "user x\nsystem 1\n", -EINVAL, "user");
	expect_bad(&d, "cpuacct", "cpuacct.stat", "user 18446744073709551615\n", -ERANGE,
		   "out of range");
	put("cpuacct", "cpuacct.stat", "user 1\nsystem 1\n");
	/* oversized */
	char *big = malloc(CGSTATS_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '1', CGSTATS_FILE_MAX + 1);
	big[CGSTATS_FILE_MAX + 1] = '\0';
	expect_bad(&d, "pids", "pids.current", big, -EFBIG, "larger than expected");
	free(big);
	put("pids", "pids.current", "1\n");
	struct cgstats s;
	struct errmsg err = {{0}};
	assert_int_equal(cgstats_read(&d, &s, &err), 0);
}

static void test_missing(void **st)
{
	(void)st;
	struct cgstats_dirs d;
	v1_tree(&d);
	struct cgstats s;
	struct errmsg err = {{0}};
	/* v1 cpu.stat has no usage_usec and no cpuacct: no CPU usage */
	char p[700];
	snprintf(p, sizeof(p), "%s/cpuacct/cpuacct.usage", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(cgstats_read(&d, &s, &err), -EINVAL);
	assert_non_null(strstr(err.text, "no CPU usage"));
	/* optional figures may be missing */
	put("cpuacct", "cpuacct.usage", "7\n");
	snprintf(p, sizeof(p), "%s/cpuacct/cpuacct.stat", root);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/memory/memory.max_usage_in_bytes", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(cgstats_read(&d, &s, &err), 0);
	assert_int_equal(s.cpu_ns, 7);
	assert_int_equal(s.cpu_user_ns, 0);
	assert_int_equal(s.mem_max_usage, 0);
	/* the cgroup removed (the VM ended): -ENOENT */
	snprintf(p, sizeof(p), "%s/pids/pids.current", root);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/pids/pids.max", root);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/pids", root);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(cgstats_read(&d, &s, &err), -ENOENT);
	/* no directories at all */
	d.n = 0;
	assert_int_equal(cgstats_read(&d, &s, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
