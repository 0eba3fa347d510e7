/* runtime/ctrstats: the supervisor's stats line round-trips, and every
 * malformed, truncated or out-of-range line is refused by name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/ctrstats.h"

static struct ctrstats sample(void)
{
	struct ctrstats s = {.vmm = 4242,
			     .has_cgroup = true,
			     .mem_usage = 123456789,
			     .mem_limit = UINT64_MAX,
			     .mem_cache = 4096,
			     .cpu_ns = 987654321012,
			     .pids = 17,
			     .has_counters = true};
	s.io = (struct vmmapi_counters){.net_rx_bytes = 1000000,
					.net_rx_frames = 700,
					.net_tx_bytes = UINT64_MAX - 1,
					.net_tx_frames = 300,
					.blk_read_bytes = 1 << 20,
					.blk_reads = 4,
					.blk_write_bytes = 8 << 20,
					.blk_writes = 9};
	return s;
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct ctrstats s = sample(), d;
	char line[CTRSTATS_LINE_MAX];
	assert_int_equal(ctrstats_format(&s, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "stats1 vmm=4242 cg=1 mem=123456789 "));
	struct errmsg err;
	assert_int_equal(ctrstats_parse(line, &d, &err), 0);
	assert_int_equal(d.vmm, 4242);
	assert_true(d.has_cgroup && d.has_counters);
	assert_true(d.mem_limit == UINT64_MAX);
	assert_int_equal(d.mem_cache, 4096);
	assert_int_equal(d.cpu_ns, 987654321012);
	assert_int_equal(d.pids, 17);
	assert_memory_equal(&d.io, &s.io, sizeof(s.io));
	/* the largest line fits the bound */
	struct ctrstats big;
	memset(&big, 0xff, sizeof(big));
	big.vmm = INT32_MAX;
	big.has_cgroup = big.has_counters = true;
	assert_int_equal(ctrstats_format(&big, line, sizeof(line)), 0);
	assert_int_equal(ctrstats_parse(line, &d, &err), 0);
	/* a buffer too small says so */
	assert_int_equal(ctrstats_format(&s, line, 40), -ENOSPC);
	/* no cgroup, no counters: zeros and flags 0 */
	struct ctrstats none = {.vmm = 1};
	assert_int_equal(ctrstats_format(&none, line, sizeof(line)), 0);
	assert_int_equal(ctrstats_parse(line, &d, &err), 0);
	assert_false(d.has_cgroup || d.has_counters);
}

static void expect_bad(const char *line, const char *want)
{
	struct ctrstats d;
	struct errmsg err = {{0}};
	assert_int_equal(ctrstats_parse(line, &d, &err), -EBADMSG);
	if (!strstr(err.text, want))
		fail_msg("'%s': error '%s' lacks '%s'", line, err.text, want);
}

static void test_malformed(void **state)
{
	(void)state;
	struct ctrstats s = sample();
	char line[CTRSTATS_LINE_MAX], bad[CTRSTATS_LINE_MAX + 64];
	assert_int_equal(ctrstats_format(&s, line, sizeof(line)), 0);
	/* every strict prefix is refused (the last value, wrn=9, is one
	 * digit: no prefix is a shorter number) */
	for (size_t n = 0; n < strlen(line); n++) {
		snprintf(bad, sizeof(bad), "%.*s", (int)n, line);
		struct ctrstats d;
		struct errmsg err;
		assert_int_equal(ctrstats_parse(bad, &d, &err), -EBADMSG);
	}
	expect_bad("", "not a stats1 line");
	expect_bad("stats2 vmm=1", "not a stats1 line");
	snprintf(bad, sizeof(bad), "%s ", line);
	expect_bad(bad, "trailing");
	snprintf(bad, sizeof(bad), "%s x=1", line);
	expect_bad(bad, "trailing");
	/* out of order, a doubled space, a sign, hex, overflow */
	expect_bad("stats1 cg=1 vmm=1", "vmm: missing or out of order");
	expect_bad("stats1  vmm=1", "vmm");
	expect_bad("stats1 vmm=-1", "vmm: not a decimal number");
	expect_bad("stats1 vmm=0x10", "cg: missing");
	expect_bad("stats1 vmm=1 cg=1 mem=18446744073709551616", "mem: out of range");
	/* a pid too large, flags other than 0/1 */
	char *p = strstr(line, "vmm=4242");
	snprintf(bad, sizeof(bad), "stats1 vmm=4294967296%s", p + strlen("vmm=4242"));
	expect_bad(bad, "vmm: not a pid");
	p = strstr(line, "cg=1");
	snprintf(bad, sizeof(bad), "%.*scg=2%s", (int)(p - line), line, p + 4);
	expect_bad(bad, "cg: not 0 or 1");
	p = strstr(line, "io=1");
	snprintf(bad, sizeof(bad), "%.*sio=7%s", (int)(p - line), line, p + 4);
	expect_bad(bad, "io: not 0 or 1");
}

/* KVM's stats ride after wrn as kvm.NAME pairs: round trip, an older
 * supervisor's line without them, and unknown, doubled, out-of-order or
 * malformed pairs refused by name. */
static void test_kvm(void **state)
{
	(void)state;
	struct ctrstats s = sample(), d;
	s.io.kvm_present = 1u | 1u << 8 | 1ull << (VMMAPI_KSTATS - 1);
	s.io.kvm[0] = 123;
	s.io.kvm[8] = UINT64_MAX;
	s.io.kvm[VMMAPI_KSTATS - 1] = 7;
	char line[CTRSTATS_LINE_MAX], bad[CTRSTATS_LINE_MAX + 64];
	struct errmsg err;
	assert_int_equal(ctrstats_format(&s, line, sizeof(line)), 0);
	assert_non_null(
	    strstr(line, " wrn=9 kvm.exits=123 kvm.insn_emulation=18446744073709551615 "));
	assert_int_equal(ctrstats_parse(line, &d, &err), 0);
	assert_memory_equal(&d.io, &s.io, sizeof(s.io));
	/* every stat at its maximum still fits the line */
	struct ctrstats big;
	memset(&big, 0xff, sizeof(big));
	big.vmm = INT32_MAX;
	big.has_cgroup = big.has_counters = true;
	big.io.kvm_present = (1ull << VMMAPI_KSTATS) - 1;
	assert_int_equal(ctrstats_format(&big, line, sizeof(line)), 0);
	assert_int_equal(ctrstats_parse(line, &d, &err), 0);
	assert_true(d.io.kvm_present == big.io.kvm_present);
	assert_memory_equal(d.io.kvm, big.io.kvm, sizeof(big.io.kvm));
	/* an older supervisor: no pairs, nothing present */
	s.io.kvm_present = 0;
	assert_int_equal(ctrstats_format(&s, line, sizeof(line)), 0);
	assert_null(strstr(line, "kvm."));
	assert_int_equal(ctrstats_parse(line, &d, &err), 0);
	assert_true(d.io.kvm_present == 0);
	/* no counters at all: no pairs written, and none accepted */
	s.has_counters = false;
	s.io.kvm_present = 1;
	assert_int_equal(ctrstats_format(&s, line, sizeof(line)), 0);
	assert_null(strstr(line, "kvm."));
	snprintf(bad, sizeof(bad), "%s kvm.exits=1", line);
	expect_bad(bad, "KVM stats with io=0");
	s = sample();
	assert_int_equal(ctrstats_format(&s, line, sizeof(line)), 0);
	/* what follows a good line, and what the refusal names */
	static const char *const tails[][2] = {
	    {" kvm.nosuch=1", "kvm.nosuch: unknown"},
	    {" kvm.exits=1 kvm.exits=2", "kvm.exits: unknown, doubled or out of order"},
	    {" kvm.pf_guest=1 kvm.exits=2", "kvm.exits: unknown, doubled or out of order"},
	    {" kvm.exits=", "kvm.exits: not a decimal number"},
	    {" kvm.exits=18446744073709551616", "kvm.exits: out of range"},
	    {" kvm.exits", "kvm.exits: unknown"},
	    {" kvm.exits=1 ", "trailing text after the KVM stats"},
	    {" kvm.exits=1x", "trailing"},
	    {" kvm.exit=1", "kvm.exit: unknown"}, /* a prefix of a name is not the name */
	};
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(bad, sizeof(bad), "%s%s", line, tails[i][0]);
		expect_bad(bad, tails[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_kvm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
