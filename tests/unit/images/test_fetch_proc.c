/* hull-fetch's confinement (images/fetch_proc.h), with a stand-in
 * executable (fetch_standin.c, $HULL_TEST_FETCH_STANDIN) that starts as
 * hull-fetch does (fetch_child_begin()) and is spawned as pull.c spawns it
 * (fetch_helper, an RLIMIT_FSIZE): its seccomp filter and resource caps
 * seen from inside; an exec, a fork, an exec from a thread made after the
 * filter each end it with the filter's text, reported by convproc; a Unix
 * socket is refused without a kill; a write past RLIMIT_FSIZE fails. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/fetch_proc.h"
#include "tests/unit/images/fetch_standin.h"

#define FSIZE 4096

static const char *standin(void)
{
	const char *p = getenv("HULL_TEST_FETCH_STANDIN");
	if (!p)
		fail_msg("HULL_TEST_FETCH_STANDIN is not set (meson test sets it)");
	return p;
}

/* The stand-in on request `what`, one work fd (a temp file), as pull.c
 * runs hull-fetch. */
static int run(const char *what, struct fetch_seen *s, int *item, struct errmsg *err)
{
	char path[] = "/tmp/hull-test-fetch.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct convproc_helper h = fetch_helper;
	h.fsize = FSIZE;
	struct fetch_seen seen;
	int rc = convproc_spawn(&h, standin(), what, strlen(what), &fd, 1, 1, s ? s : &seen,
				sizeof(seen), item, err);
	close(fd);
	return rc;
}

static void test_limits_and_filter_in_place(void **state)
{
	(void)state;
	struct fetch_seen s;
	struct errmsg err = {{0}};
	int item;
	if (run("limits", &s, &item, &err))
		fail_msg("limits: %s", err.text);
	assert_int_equal(s.seccomp, 2); /* SECCOMP_MODE_FILTER */
	assert_int_equal(s.filters, 1);
	assert_int_equal(s.nofile_cur, CONVPROC_FD_WORK + 1 + FETCH_NOFILE_EXTRA);
	assert_int_equal(s.nofile_max, s.nofile_cur);
	assert_int_equal(s.fsize_cur, FSIZE);
	assert_int_equal(s.fsize_max, FSIZE);
	/* the stand-in is sanitized (ASan's shadow is reserved address
	 * space): RLIMIT_AS is the real hull-fetch's, checked from /proc by
	 * e2e-pull-hostile; here it must be left alone, not half set */
	assert_true(s.as_cur == s.as_max);
}

static void expect_killed(const char *what, const char *call)
{
	struct errmsg err = {{0}};
	int item = -1;
	char want[160];
	assert_int_equal(run(what, NULL, &item, &err), -EIO);
	snprintf(want, sizeof(want),
		 "hull-fetch killed by its seccomp filter (syscall %s, thread role fetch) (pid ",
		 call);
	if (strncmp(err.text, want, strlen(want)))
		fail_msg("%s: message: %s", what, err.text);
}

/* a taken-over hull-fetch cannot become another program, start one, or
 * escape through a thread */
static void test_forbidden_calls(void **state)
{
	(void)state;
	expect_killed("execs", "59 execve");
	expect_killed("forks", "56 clone");
	expect_killed("thread-execs", "59 execve");
}

/* glibc's nscd probe is a Unix socket: refused, the process goes on */
static void test_unix_socket_refused(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item;
	assert_int_equal(run("unix", NULL, &item, &err), -EACCES);
}

static void test_file_size_cap(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item;
	assert_int_equal(run("big", NULL, &item, &err), -EFBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_and_filter_in_place),
	    cmocka_unit_test(test_forbidden_calls),
	    cmocka_unit_test(test_unix_socket_refused),
	    cmocka_unit_test(test_file_size_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
