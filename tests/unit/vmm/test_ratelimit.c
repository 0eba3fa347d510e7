/* Unit tests for vmm/ratelimit.c: the token buckets behind the devices'
 * I/O limits, on a simulated clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/ratelimit.h"

#define S 1000000000ull
#define MS 1000000ull

static void test_unlimited(void **st)
{
	(void)st;
	struct tbucket b;
	tbucket_init(&b, 0, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(tbucket_take(&b, 1ull << 40, 0));
	assert_int_equal(tbucket_wait_ns(&b, 1ull << 40, 0), 0);
	struct ratelimit r;
	ratelimit_init(&r, 0, 0, 0);
	assert_false(ratelimit_on(&r));
	assert_true(ratelimit_take(&r, 123456, 0));
}

/* Full at the start (one second's worth), then the rate. */
static void test_burst_then_rate(void **st)
{
	(void)st;
	struct tbucket b;
	tbucket_init(&b, 1000, 5 * S);
	assert_true(tbucket_take(&b, 1000, 5 * S));
	assert_false(tbucket_take(&b, 1, 5 * S));
	assert_int_equal(tbucket_wait_ns(&b, 1, 5 * S), MS);
	assert_int_equal(tbucket_wait_ns(&b, 10, 5 * S), 10 * MS);
	assert_false(tbucket_take(&b, 1, 5 * S + MS - 1));
	assert_true(tbucket_take(&b, 1, 5 * S + MS));
	/* a full bucket stays full: idle time is no credit beyond capacity */
	assert_true(tbucket_take(&b, 0, 100 * S));
	assert_true(tbucket_take(&b, 1000, 100 * S));
	assert_false(tbucket_take(&b, 1, 100 * S));
}

/* Polled far more often than a token accrues, the fractions add up: no
 * starvation, no drift. */
static void test_fractions(void **st)
{
	(void)st;
	struct tbucket b;
	tbucket_init(&b, 1000, 0);
	unsigned taken = 0;
	for (uint64_t t = 0; t <= 10 * S; t += 300000) /* every 0.3 ms */
		while (tbucket_take(&b, 1, t))
			taken++;
	/* 1000 at the start, then 1000 a second for 10 s */
	assert_in_range(taken, 10999, 11000);
}

/* A request larger than the bucket passes when the bucket is full and is
 * paid back before anything else passes. */
static void test_oversized(void **st)
{
	(void)st;
	struct tbucket b;
	tbucket_init(&b, 100, 0);
	assert_true(tbucket_take(&b, 1000, 0));
	assert_false(tbucket_take(&b, 1, 0));
	/* budget -900: 901 tokens to earn at 100/s */
	assert_int_equal(tbucket_wait_ns(&b, 1, 0), 9010 * MS);
	assert_false(tbucket_take(&b, 1, 9010 * MS - 1));
	assert_true(tbucket_take(&b, 1, 9010 * MS));
}

/* A device that sleeps exactly as long as told: the long-run rate holds for
 * any request size. */
static void test_long_run_rate(void **st)
{
	(void)st;
	const uint64_t sizes[] = {512, 4096, 65536, 3u << 20};
	for (unsigned k = 0; k < 4; k++) {
		struct ratelimit r;
		ratelimit_init(&r, 1u << 20, 0, 0); /* 1 MiB/s */
		uint64_t t = 0, bytes = 0;
		while (t < 20 * S) {
			uint64_t w = ratelimit_wait_ns(&r, sizes[k], t);
			t += w;
			assert_true(ratelimit_take(&r, sizes[k], t));
			bytes += sizes[k];
		}
		/* 20 s at 1 MiB/s plus the first second's burst, one request over */
		assert_true(bytes >= 20ull << 20);
		assert_true(bytes <= (21ull << 20) + sizes[k]);
	}
}

/* Both buckets or neither: an empty ops bucket costs the bytes nothing. */
static void test_both_or_neither(void **st)
{
	(void)st;
	struct ratelimit r;
	ratelimit_init(&r, 10000, 2, 0);
	assert_true(ratelimit_on(&r));
	assert_true(ratelimit_take(&r, 100, 0));
	assert_true(ratelimit_take(&r, 100, 0));
	assert_false(ratelimit_take(&r, 100, 0)); /* ops: 2 a second */
	assert_int_equal(r.bytes.budget, 10000 - 200);
	assert_int_equal(ratelimit_wait_ns(&r, 100, 0), S / 2);
	assert_true(ratelimit_take(&r, 100, S / 2));
	/* and an empty bytes bucket costs no operation */
	struct ratelimit q;
	ratelimit_init(&q, 1000, 100, 0);
	assert_true(ratelimit_take(&q, 1000, 0));
	assert_false(ratelimit_take(&q, 1, 0));
	assert_int_equal(q.ops.budget, 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unlimited),	  cmocka_unit_test(test_burst_then_rate),
	    cmocka_unit_test(test_fractions),	  cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_long_run_rate), cmocka_unit_test(test_both_or_neither),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
