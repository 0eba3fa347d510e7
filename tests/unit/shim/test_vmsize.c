/* vmsize: the VM's size from hull's annotations, containerd's
 * linux.resources and hull's defaults, in that order, per dimension. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shim/vmsize.h"

#define MIB (1ull << 20)

/* a spec with these annotations ("KEY=VALUE"...) and linux.resources */
static struct shim_spec spec(char **ann, size_t n, uint64_t mem_limit, uint32_t cpu_milli)
{
	return (struct shim_spec){
	    .annotations = ann, .n_annotations = n, .mem_limit = mem_limit, .cpu_milli = cpu_milli};
}

static void test_defaults(void **state)
{
	(void)state;
	struct shim_spec s = spec(NULL, 0, 0, 0);
	struct shim_vmsize v;
	struct errmsg err;
	assert_int_equal(shim_vmsize(&s, &v, &err), 0);
	assert_int_equal(v.cpus, 1);
	assert_int_equal(v.cpu_quota_milli, 0);
	assert_int_equal(v.mem_bytes, 128 * MIB);
}

static void test_resources(void **state)
{
	(void)state;
	struct shim_vmsize v;
	struct errmsg err;
	/* ctr run --memory-limit 300000000 --cpus 1.5 */
	struct shim_spec s = spec(NULL, 0, 300000000, 1500);
	assert_int_equal(shim_vmsize(&s, &v, &err), 0);
	assert_int_equal(v.cpus, 2);
	assert_int_equal(v.cpu_quota_milli, 1500);
	assert_int_equal(v.mem_bytes, 287 * MIB); /* rounded up to MiB */
	s = spec(NULL, 0, 1ull << 40, 2000);	  /* whole CPUs: no quota; 1 TiB: the max */
	assert_int_equal(shim_vmsize(&s, &v, &err), 0);
	assert_int_equal(v.cpus, 2);
	assert_int_equal(v.cpu_quota_milli, 0);
	assert_int_equal(v.mem_bytes, SHIM_VM_MEM_MAX);
	s = spec(NULL, 0, 0, 64000); /* more CPUs than a VM has: all of them */
	assert_int_equal(shim_vmsize(&s, &v, &err), 0);
	assert_int_equal(v.cpus, VMM_MAX_CPUS);
	assert_int_equal(v.cpu_quota_milli, 0);
	s = spec(NULL, 0, 32 * MIB, 0);
	assert_int_equal(shim_vmsize(&s, &v, &err), -EINVAL);
	assert_non_null(strstr(err.text, "linux.resources.memory.limit 33554432 bytes"));
}

static void test_annotations(void **state)
{
	(void)state;
	struct shim_vmsize v;
	struct errmsg err;
	char *both[] = {"other=x", "io.hull.cpus=3", "io.hull.memory=256M", NULL};
	/* they win over linux.resources */
	struct shim_spec s = spec(both, 3, 1ull << 30, 1500);
	assert_int_equal(shim_vmsize(&s, &v, &err), 0);
	assert_int_equal(v.cpus, 3);
	assert_int_equal(v.cpu_quota_milli, 0);
	assert_int_equal(v.mem_bytes, 256 * MIB);
	/* per dimension: the memory from linux.resources, a fraction a quota */
	char *cpus[] = {"io.hull.cpus=0.5", NULL};
	s = spec(cpus, 1, 512 * MIB, 4000);
	assert_int_equal(shim_vmsize(&s, &v, &err), 0);
	assert_int_equal(v.cpus, 1);
	assert_int_equal(v.cpu_quota_milli, 500);
	assert_int_equal(v.mem_bytes, 512 * MIB);
	char *mem[] = {"io.hull.memory=1g", NULL};
	s = spec(mem, 1, 0, 2000);
	assert_int_equal(shim_vmsize(&s, &v, &err), 0);
	assert_int_equal(v.cpus, 2);
	assert_int_equal(v.mem_bytes, 1024 * MIB);
}

static void expect_bad(char *ann, const char *part)
{
	char *a[] = {ann, NULL};
	struct shim_spec s = spec(a, 1, 0, 0);
	struct shim_vmsize v;
	struct errmsg err = {{0}};
	assert_int_equal(shim_vmsize(&s, &v, &err), -EINVAL);
	if (!strstr(err.text, part))
		fail_msg("'%s' not in '%s'", part, err.text);
}

static void test_bad_annotations(void **state)
{
	(void)state;
	expect_bad("io.hull.memory=lots",
		   "annotation io.hull.memory=lots: expected a size like 256M or 1G");
	expect_bad("io.hull.memory=", "annotation io.hull.memory=: expected a size");
	expect_bad("io.hull.memory=-1G", "expected a size");
	expect_bad("io.hull.memory=32M", "io.hull.memory=32M: a VM's memory is 64 MiB to 64 GiB");
	expect_bad("io.hull.memory=65G", "a VM's memory is 64 MiB to 64 GiB");
	expect_bad("io.hull.cpus=two", "annotation io.hull.cpus (as hull run's): --cpus two: "
				       "expected a number");
	expect_bad("io.hull.cpus=0", "--cpus 0: expected a number above 0, at most 8");
	expect_bad("io.hull.cpus=9", "at most 8");
	expect_bad("io.hull.cpus=", "io.hull.cpus");
	expect_bad("io.hull.cpus=1.0001", "at most three decimals");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_resources),
	    cmocka_unit_test(test_annotations),
	    cmocka_unit_test(test_bad_annotations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
