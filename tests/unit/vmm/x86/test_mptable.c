#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86/mptable.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static void check(unsigned ncpus)
{
	uint8_t buf[1024];
	uint64_t gpa = 0x9fc00;
	long n = mptable_write(buf, sizeof(buf), gpa, ncpus);
	assert_true(n > 0);
	/* floating pointer: signature, checksum, points right behind itself */
	assert_memory_equal(buf, "_MP_", 4);
	assert_int_equal(sum(buf, 16), 0);
	uint32_t phys;
	memcpy(&phys, buf + 4, 4);
	assert_int_equal(phys, gpa + 16);
	/* configuration table */
	const uint8_t *c = buf + 16;
	assert_memory_equal(c, "PCMP", 4);
	uint16_t len, count;
	memcpy(&len, c + 4, 2);
	memcpy(&count, c + 34, 2);
	assert_int_equal(sum(c, len), 0);
	assert_int_equal(16 + len, n);
	/* cpus + bus + ioapic + 24 irqs + 2 lints */
	assert_int_equal(count, ncpus + 1 + 1 + MPTABLE_IRQS + 2);
	/* the processor entries come first; exactly one boot processor */
	unsigned bsp = 0;
	for (unsigned i = 0; i < ncpus; i++) {
		const uint8_t *e = c + 44 + 20 * i;
		assert_int_equal(e[0], 0);
		assert_int_equal(e[1], i);
		bsp += (e[3] & 2) ? 1 : 0;
		assert_true(e[3] & 1);
	}
	assert_int_equal(bsp, 1);
	/* the I/O APIC gets the id after the CPUs */
	const uint8_t *io = c + 44 + 20 * ncpus + 8;
	assert_int_equal(io[0], 2);
	assert_int_equal(io[1], ncpus);
}

static void test_layouts(void **st)
{
	(void)st;
	check(1);
	check(2);
	check(8);
	check(MPTABLE_MAX_CPUS);
}

static void test_limits(void **st)
{
	(void)st;
	uint8_t buf[1024];
	assert_int_equal(mptable_write(buf, sizeof(buf), 0, 0), -EINVAL);
	assert_int_equal(mptable_write(buf, sizeof(buf), 0, MPTABLE_MAX_CPUS + 1), -EINVAL);
	assert_int_equal(mptable_write(buf, 100, 0, 1), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layouts),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
