/* oomwatch: the kernel-log record parser (the /dev/kmsg reading itself runs
 * in the guest: e2e-faults2's OOM case). */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "guest-init/oomwatch.h"

static bool memcg;

static int parse(const char *rec, pid_t *pid)
{
	*pid = -1;
	memcg = false;
	return oomwatch_parse(rec, strlen(rec), pid, &memcg);
}

static void test_kernel_records(void **state)
{
	pid_t pid;
	(void)state;

	/* 6.1's global OOM kill, with a continuation line */
	assert_int_equal(parse("3,812,27000345,-;Out of memory: Killed process 123 (tail) "
			       "total-vm:118532kB, anon-rss:110340kB, file-rss:4kB, "
			       "shmem-rss:0kB, UID:0 pgtables:260kB oom_score_adj:0\n"
			       " SUBSYSTEM=x\n",
			       &pid),
			 1);
	assert_int_equal(pid, 123);
	/* a memory cgroup's */
	assert_int_equal(
	    parse("3,9,1,-;Memory cgroup out of memory: Killed process 7 (a b) x", &pid), 1);
	assert_int_equal(pid, 7);
	/* any kernel level counts (facility 0) */
	assert_int_equal(parse("0,1,1,-;Killed process 99999 (x)", &pid), 1);
	assert_int_equal(pid, 99999);
}

static void test_not_counted(void **state)
{
	pid_t pid;
	(void)state;

	/* a user write to /dev/kmsg (facility 1 and up): forged */
	assert_int_equal(parse("14,5,1,-;Killed process 1 (init)", &pid), 0);
	assert_int_equal(parse("8,5,1,-;Killed process 1 (init)", &pid), 0);
	/* other kernel messages */
	assert_int_equal(parse("6,5,1,-;oom_reaper: reaped process 123 (tail)", &pid), 0);
	assert_int_equal(parse("4,5,1,-;tail invoked oom-killer: gfp_mask=0x0", &pid), 0);
	/* the key only in a continuation line */
	assert_int_equal(parse("6,5,1,-;hello\n Killed process 5 (x)", &pid), 0);
	/* malformed numbers, missing parts */
	assert_int_equal(parse("3,5,1,-;Killed process  5 (x)", &pid), 0);
	assert_int_equal(parse("3,5,1,-;Killed process 0 (x)", &pid), 0);
	assert_int_equal(parse("3,5,1,-;Killed process 5(x)", &pid), 0);
	assert_int_equal(parse("3,5,1,-;Killed process 5 x", &pid), 0);
	assert_int_equal(parse("3,5,1,-;Killed process 1234567890 (x)", &pid), 0);
	assert_int_equal(parse("3,5,1,-;Killed process 5", &pid), 0);
	assert_int_equal(parse("3,5,1,-;Killed process 5 ", &pid), 0);
	assert_int_equal(parse("Killed process 5 (x)", &pid), 0);
	assert_int_equal(parse("3,5,1,- Killed process 5 (x)", &pid), 0);
	assert_int_equal(parse("", &pid), 0);
	assert_int_equal(pid, -1);
	/* a length that stops before the pid ends: nothing read past it */
	const char *rec = "3,5,1,-;Killed process 55 (x)";
	assert_int_equal(oomwatch_parse(rec, strlen(rec) - 5, &pid, &memcg), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kernel_records),
	    cmocka_unit_test(test_not_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
