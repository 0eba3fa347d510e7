/* cli/stats_fmt: docker's stats cells from two samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/stats_fmt.h"

static void test_cgroup_sample(void **state)
{
	(void)state;
	struct ctrstats cs = {.vmm = 10,
			      .has_cgroup = true,
			      .mem_usage = 300ull << 20,
			      .mem_cache = 44ull << 20,
			      .mem_limit = 512ull << 20,
			      .cpu_ns = 1000000000,
			      .pids = 12,
			      .has_counters = true};
	cs.io.net_rx_bytes = 1234567;
	cs.io.net_tx_bytes = 999;
	cs.io.blk_read_bytes = 0;
	cs.io.blk_write_bytes = 5000000000ull;
	struct stats_sample a, b;
	stats_sample_ctr(&cs, 1000000000, &a);
	cs.cpu_ns += 500000000; /* half a CPU over the second */
	stats_sample_ctr(&cs, 2000000000, &b);
	struct stats_cells c;
	stats_cells(&a, &b, 8ull << 30, &c);
	assert_string_equal(c.cpu, "50.00%");
	/* usage less the inactive cache, over the cgroup's limit */
	assert_string_equal(c.mem_usage, "256MiB / 512MiB");
	assert_string_equal(c.mem_perc, "50.00%");
	assert_string_equal(c.net, "1.23MB / 999B");
	assert_string_equal(c.block, "0B / 5GB");
	assert_string_equal(c.pids, "12");

	/* two CPUs busy: 200%; no limit: the host's memory */
	cs.cpu_ns += 2000000000;
	cs.mem_limit = UINT64_MAX;
	cs.mem_cache = cs.mem_usage + 1; /* never below zero */
	struct stats_sample d;
	stats_sample_ctr(&cs, 3000000000, &d);
	stats_cells(&b, &d, 8ull << 30, &c);
	assert_string_equal(c.cpu, "200.00%");
	assert_string_equal(c.mem_usage, "0B / 8GiB");
	assert_string_equal(c.mem_perc, "0.00%");
}

static void test_proc_sample_and_unknowns(void **state)
{
	(void)state;
	/* no cgroup, no counters (the monitor did not answer) */
	struct ctrstats cs = {.vmm = 10};
	struct stats_sample a, b;
	stats_sample_ctr(&cs, 5, &a);
	struct vmstats p = {
	    .at_ns = 1000000000, .cpu_ns = 100, .rss_bytes = 1536 << 10, .threads = 4};
	stats_sample_proc(&p, &a);
	p.at_ns += 1000000000;
	p.cpu_ns += 10000000;
	stats_sample_ctr(&cs, 5, &b);
	stats_sample_proc(&p, &b);
	struct stats_cells c;
	stats_cells(&a, &b, 3ull << 20, &c);
	assert_string_equal(c.cpu, "1.00%");
	assert_string_equal(c.mem_usage, "1.5MiB / 3MiB");
	assert_string_equal(c.mem_perc, "50.00%");
	assert_string_equal(c.net, "--");
	assert_string_equal(c.block, "--");
	assert_string_equal(c.pids, "4");

	/* no earlier sample, or one from the other source: no CPU % */
	struct stats_sample none = {0};
	stats_cells(&none, &b, 3ull << 20, &c);
	assert_string_equal(c.cpu, "--");
	struct stats_sample same_time = b;
	stats_cells(&same_time, &b, 3ull << 20, &c);
	assert_string_equal(c.cpu, "--"); /* no time passed: nothing divides by zero */

	/* a counter that went backwards (another VM under the name) */
	struct stats_sample later = b;
	later.at_ns += 1000000000;
	later.cpu_ns = 5000000; /* below b's 10000100 */
	stats_cells(&b, &later, 3ull << 20, &c);
	assert_string_equal(c.cpu, "0.50%"); /* the later sample alone */
	/* host memory unknown: 0% rather than a division by zero */
	stats_cells(&a, &b, 0, &c);
	assert_string_equal(c.mem_perc, "0.00%");
}

static void test_not_running(void **state)
{
	(void)state;
	struct stats_sample a = {0}, b = {0};
	struct stats_cells c;
	stats_cells(&a, &b, 1 << 30, &c);
	assert_string_equal(c.cpu, "0.00%");
	assert_string_equal(c.mem_usage, "0B / 0B");
	assert_string_equal(c.mem_perc, "0.00%");
	assert_string_equal(c.net, "0B / 0B");
	assert_string_equal(c.block, "0B / 0B");
	assert_string_equal(c.pids, "0");
}

static void test_sizes(void **state)
{
	(void)state;
	struct stats_sample a = {0}, b = {.ok = true, .io = true, .mem_limit = 1ull << 40};
	struct stats_cells c;
	b.c.net_rx_bytes = 1000;
	b.c.net_tx_bytes = 999999;
	b.c.blk_read_bytes = UINT64_MAX;
	b.c.blk_write_bytes = 512;
	b.mem_usage = 1023;
	stats_cells(&a, &b, 0, &c);
	assert_string_equal(c.net, "1kB / 1e+03kB"); /* %.3g, as docker's Go code */
	assert_string_equal(c.block, "1.84e+07TB / 512B");
	assert_string_equal(c.mem_usage, "1023B / 1TiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroup_sample),
	    cmocka_unit_test(test_proc_sample_and_unknowns),
	    cmocka_unit_test(test_not_running),
	    cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
