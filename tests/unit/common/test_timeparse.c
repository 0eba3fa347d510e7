/* timeparse: docker's --since/--until forms and the log's RFC 3339 stamps;
 * damaged or out-of-range input refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/timeparse.h"

#define NS 1000000000LL

static void test_rfc3339(void **st)
{
	(void)st;
	int64_t t;
	assert_int_equal(time_parse_rfc3339("2023-11-14T22:13:20Z", &t), 0);
	assert_true(t == 1700000000 * NS);
	assert_int_equal(time_parse_rfc3339("2023-11-14T22:13:20.5Z", &t), 0);
	assert_true(t == 1700000000 * NS + 500000000);
	assert_int_equal(time_parse_rfc3339("2023-11-14T22:13:20.123456789Z", &t), 0);
	assert_true(t == 1700000000 * NS + 123456789);
	assert_int_equal(time_parse_rfc3339("2023-11-15T00:13:20+02:00", &t), 0);
	assert_true(t == 1700000000 * NS);
	assert_int_equal(time_parse_rfc3339("2023-11-14T21:13:20-01:00", &t), 0);
	assert_true(t == 1700000000 * NS);
	assert_int_equal(time_parse_rfc3339("2024-02-29T00:00Z", &t), 0);
	/* refused: damage, ranges, too fine, trailing bytes */
	const char *bad[] = {"",
			     "2023",
			     "2023-13-01",
			     "2023-02-29",
			     "1969-12-31T23:59:59Z",
			     "2023-11-14T24:00:00Z",
			     "2023-11-14T22:13:20.1234567891Z",
			     "2023-11-14T22:13:20.Z",
			     "2023-11-14T22:13:20Zx",
			     "2023-11-14T22:13:20+0200",
			     "2023-11-14 22:13:20Z",
			     "t"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(time_parse_rfc3339(bad[i], &t), -EINVAL);
}

static void test_roundtrip(void **st)
{
	(void)st;
	char buf[64];
	int64_t t;
	time_format_rfc3339(1700000000 * NS + 42, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20.000000042Z");
	assert_int_equal(time_parse_rfc3339(buf, &t), 0);
	assert_true(t == 1700000000 * NS + 42);
}

static void test_duration(void **st)
{
	(void)st;
	int64_t d;
	assert_int_equal(time_parse_duration("10m", &d), 0);
	assert_true(d == 600 * NS);
	assert_int_equal(time_parse_duration("1h30m", &d), 0);
	assert_true(d == 5400 * NS);
	assert_int_equal(time_parse_duration("1.5s", &d), 0);
	assert_true(d == 1500000000LL);
	assert_int_equal(time_parse_duration("250ms", &d), 0);
	assert_true(d == 250000000LL);
	assert_int_equal(time_parse_duration("3us7ns", &d), 0);
	assert_true(d == 3007);
	const char *bad[] = {"",	"10", "m", "-5m", "1x", "1.m", "99999999999999999999h",
			     "3000000h"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(time_parse_duration(bad[i], &d), -EINVAL);
}

static void test_point(void **st)
{
	(void)st;
	int64_t now = 1700000000 * NS, t;
	assert_int_equal(time_parse_point("10m", now, &t), 0);
	assert_true(t == now - 600 * NS);
	assert_int_equal(time_parse_point("1700000000", now, &t), 0);
	assert_true(t == 1700000000 * NS);
	assert_int_equal(time_parse_point("1700000000.25", now, &t), 0);
	assert_true(t == 1700000000 * NS + 250000000);
	assert_int_equal(time_parse_point("2023-11-14T22:13:20Z", now, &t), 0);
	assert_true(t == now);
	/* longer ago than the epoch, and junk */
	assert_int_equal(time_parse_point("1000000h", now, &t), -EINVAL);
	assert_int_equal(time_parse_point("yesterday", now, &t), -EINVAL);
	assert_int_equal(time_parse_point("17e8", now, &t), -EINVAL);
	assert_int_equal(time_parse_point("99999999999999999999", now, &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_point),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
