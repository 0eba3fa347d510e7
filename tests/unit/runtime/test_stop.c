/* stop: signal names, the stop timer and the blocking sequence. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/stop.h"

static void test_signal_parse(void **st)
{
	(void)st;
	int s;
	const struct {
		const char *in;
		int want;
	} ok[] = {
	    {"SIGTERM", SIGTERM}, {"TERM", SIGTERM},	{"sigquit", SIGQUIT}, {"Int", SIGINT},
	    {"9", SIGKILL},	  {"SIGUSR1", SIGUSR1}, {"64", 64},	      {"WINCH", SIGWINCH},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(stop_signal_parse(ok[i].in, &s), 0);
		assert_int_equal(s, ok[i].want);
	}
	const char *bad[] = {"", "SIG", "0", "65", "-1", "15x", "SIGFOO", "TERM ", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(stop_signal_parse(bad[i], &s), -EINVAL);
	assert_int_equal(stop_signal_parse(NULL, &s), -EINVAL);
}

static void test_pick_and_timeout(void **st)
{
	(void)st;
	int s;
	assert_int_equal(stop_signal_pick(NULL, NULL, &s), 0);
	assert_int_equal(s, SIGTERM);
	assert_int_equal(stop_signal_pick(NULL, "SIGQUIT", &s), 0);
	assert_int_equal(s, SIGQUIT);
	assert_int_equal(stop_signal_pick(NULL, "nonsense", &s), 0); /* the image's problem */
	assert_int_equal(s, SIGTERM);
	assert_int_equal(stop_signal_pick("HUP", "SIGQUIT", &s), 0); /* the flag wins */
	assert_int_equal(s, SIGHUP);
	assert_int_equal(stop_signal_pick("nonsense", NULL, &s), -EINVAL);
	unsigned t;
	assert_int_equal(stop_timeout_parse("0", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(stop_timeout_parse("86400", &t), 0);
	assert_int_equal(t, 86400);
	const char *bad[] = {"", "-1", "86401", "1.5", "x", " 1", "99999999999999999999", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(stop_timeout_parse(bad[i], &t), -EINVAL);
}

static void test_timer(void **st)
{
	(void)st;
	struct stop_seq q = {0};
	const uint64_t s = 1000000000ull;
	assert_int_equal(stop_timeout_ms(&q, 5 * s), -1);
	assert_false(stop_kill_due(&q, 100 * s));
	stop_arm(&q, 5 * s, 2);
	stop_arm(&q, 6 * s, 2); /* a second stop request keeps the first deadline */
	assert_int_equal(stop_timeout_ms(&q, 5 * s), 2000);
	assert_int_equal(stop_timeout_ms(&q, 6 * s + 1), 1000); /* rounded up */
	assert_false(stop_kill_due(&q, 7 * s - 1));
	assert_int_equal(stop_timeout_ms(&q, 8 * s), 0);
	assert_true(stop_kill_due(&q, 7 * s));
	assert_false(stop_kill_due(&q, 8 * s)); /* once */
	assert_int_equal(stop_timeout_ms(&q, 8 * s), -1);
	/* timeout 0: due at once */
	struct stop_seq z = {0};
	stop_arm(&z, s, 0);
	assert_true(stop_kill_due(&z, s));
}

struct fake {
	int sigs[4], nsigs;
	int exits_on; /* the signal that makes it exit; 0: none */
	int waited_ms[4], nwaits;
	int fail_signal;
};

static int fake_signal(void *ctx, int signo)
{
	struct fake *f = ctx;
	if (f->fail_signal)
		return f->fail_signal;
	f->sigs[f->nsigs++] = signo;
	return 0;
}

static int fake_wait(void *ctx, int timeout_ms)
{
	struct fake *f = ctx;
	f->waited_ms[f->nwaits++] = timeout_ms;
	for (int i = 0; i < f->nsigs; i++)
		if (f->sigs[i] == f->exits_on || f->sigs[i] == SIGKILL)
			return 0;
	return -ETIMEDOUT;
}

static void test_run(void **st)
{
	(void)st;
	const struct stop_ops ops = {fake_signal, fake_wait};
	/* exits on the stop signal */
	struct fake f = {.exits_on = SIGTERM};
	assert_int_equal(stop_run(&ops, &f, SIGTERM, 10), 0);
	assert_int_equal(f.nsigs, 1);
	assert_int_equal(f.waited_ms[0], 10000);
	/* ignores it: killed after the timeout */
	struct fake g = {.exits_on = 0};
	assert_int_equal(stop_run(&ops, &g, SIGQUIT, 2), 1);
	assert_int_equal(g.nsigs, 2);
	assert_int_equal(g.sigs[0], SIGQUIT);
	assert_int_equal(g.sigs[1], SIGKILL);
	assert_int_equal(g.waited_ms[0], 2000);
	/* an operation that fails ends the sequence with its error */
	struct fake h = {.fail_signal = -ECONNREFUSED};
	assert_int_equal(stop_run(&ops, &h, SIGTERM, 1), -ECONNREFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal_parse),
	    cmocka_unit_test(test_pick_and_timeout),
	    cmocka_unit_test(test_timer),
	    cmocka_unit_test(test_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
