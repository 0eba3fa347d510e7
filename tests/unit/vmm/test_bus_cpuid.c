/* bus dispatch and the CPUID policy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/bus.h"
#include "vmm/x86/cpuid.h"

static uint64_t last_off;
static int calls;

static void dev(void *ctx, uint64_t off, void *data, uint32_t len, bool write)
{
	(void)ctx;
	last_off = off;
	calls++;
	if (!write)
		memset(data, 0x5a, len);
}

static void test_bus(void **st)
{
	(void)st;
	struct bus b = {0};
	assert_int_equal(bus_add(&b, 0x3f8, 8, dev, NULL), 0);
	assert_int_equal(bus_add(&b, 0x3fc, 8, dev, NULL), -EEXIST);
	assert_int_equal(bus_add(&b, 0x3f0, 9, dev, NULL), -EEXIST);
	assert_int_equal(bus_add(&b, 0x3f0, 8, dev, NULL), 0);
	assert_int_equal(bus_add(&b, 0, 0, dev, NULL), -EINVAL);
	assert_int_equal(bus_add(&b, UINT64_MAX - 1, 8, dev, NULL), -EINVAL);
	uint8_t d[8];
	assert_true(bus_access(&b, 0x3fd, d, 1, false));
	assert_int_equal(last_off, 5);
	assert_int_equal(d[0], 0x5a);
	calls = 0;
	assert_false(bus_access(&b, 0x3ff, d, 2, false)); /* straddles the end */
	assert_false(bus_access(&b, 0x400, d, 1, false));
	assert_false(bus_access(&b, 0x3f8, d, 0, false));
	assert_false(bus_access(&b, 0x3f8, d, 9, false));
	assert_int_equal(calls, 0);
	for (int i = 2; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_add(&b, 0x1000 + 16 * (uint64_t)i, 16, dev, NULL), 0);
	assert_int_equal(bus_add(&b, 0x9000, 1, dev, NULL), -ENOSPC);
}

static void test_cpuid(void **st)
{
	(void)st;
	struct kvm_cpuid_entry2 e[5] = {
	    {.function = 1,
	     .ebx = 0xff00ffff,
	     .ecx = (1u << 26) | (1u << 27) | (1u << 28) | (1u << 13) | (1u << 23) | 1u},
	    {.function = 7, .index = 0, .ebx = (1u << 20) | 1u},
	    {.function = 0xd, .eax = 7, .ebx = 1, .ecx = 2, .edx = 3},
	    {.function = 0x80000008, .ebx = 0},
	    {.function = 0x40000001, .eax = (1u << 3) | (1u << 7) | (1u << 11) | (1u << 13)},
	};
	struct kvm_cpuid_entry2 v[5];
	memcpy(v, e, sizeof(e));
	cpuid_adjust(v, 5, 1, 2, false);
	/* VMX/SVM: features stay, APIC id and count set, TSC deadline on */
	assert_int_equal(v[0].ebx >> 24, 1);
	assert_int_equal((v[0].ebx >> 16) & 0xff, 2);
	assert_int_equal(v[0].ebx & 0xffff, 0xffff);
	assert_true(v[0].ecx & (1u << 26));
	assert_true(v[0].ecx & (1u << 24));
	assert_true(v[0].ecx & (1u << 31));
	assert_true(v[1].ebx & (1u << 20));
	assert_int_equal(v[2].eax, 7);
	assert_int_equal(v[3].ebx, 0);
	assert_int_equal(v[4].eax, e[4].eax);

	memcpy(v, e, sizeof(e));
	cpuid_adjust(v, 5, 0, 1, true);
	/* PVM: what the CPL0 emulator lacks is hidden */
	assert_false(v[0].ecx & ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 13) | (1u << 23)));
	assert_true(v[0].ecx & 1u);
	assert_true(v[0].ecx & (1u << 24));
	assert_false(v[1].ebx & (1u << 20));
	assert_true(v[1].ebx & 1u);
	assert_int_equal(v[2].eax | v[2].ebx | v[2].ecx | v[2].edx, 0);
	assert_true(v[3].ebx & (1u << 2));
	/* PVM: hypercall-based PV features (unhalt, IPI, yield) gone, kvm-clock kept */
	assert_int_equal(v[4].eax, 1u << 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bus),
	    cmocka_unit_test(test_cpuid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
