/* convert_proc: the exec'd converter, with a stand-in executable for the
 * work (convert_standin.c, $HULL_TEST_CONVERT_STANDIN): its result and
 * message come back; what it runs as (as root: the user hull), its fds at
 * their fixed numbers and nothing else, not dumpable; a child that dies is
 * reported with the last item it started; one that makes a call outside
 * its filter (a socket, an exec) is reported with the filter's text; one
 * writing garbage is killed. And the real hull-convert ($HULL_CONVERT)
 * refuses a request that is not one, and a missing executable is named. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/jail_enter.h"
#include "images/convert_proc.h"
#include "tests/unit/images/convert_standin.h"

static const char *standin(void)
{
	const char *p = getenv("HULL_TEST_CONVERT_STANDIN");
	if (!p)
		fail_msg("HULL_TEST_CONVERT_STANDIN is not set (meson test sets it)");
	return p;
}

/* Run the stand-in on request `what` with no work fds. */
static int run(const char *what, unsigned n_items, int *item, struct errmsg *err)
{
	char out[8];
	return convproc_run(standin(), what, strlen(what), NULL, 0, n_items, out, sizeof(out), item,
			    err);
}

static void test_result_and_identity(void **state)
{
	(void)state;
	int keep_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int other_fd = open("/dev/null", O_RDONLY); /* not CLOEXEC: closed all the same */
	assert_true(keep_fd >= 0 && other_fd >= 0);
	struct standin_seen s;
	struct errmsg err = {{0}};
	int item = 7;
	int rc = convproc_run(standin(), "report", 6, &keep_fd, 1, 1, &s, sizeof(s), &item, &err);
	if (rc)
		fail_msg("convproc_run: %s", err.text);
	assert_int_equal(item, -1);
	if (geteuid() == 0) {
		uid_t u;
		gid_t g;
		assert_int_equal(jail_user(&u, &g), 0);
		assert_int_equal(s.uid, u);
		assert_int_equal(s.gid, g);
	} else {
		assert_int_equal(s.uid, getuid());
	}
	assert_int_equal(s.nfds, 1);
	assert_true(s.work_ok);
	assert_true(s.req_closed);
	assert_true(s.others_closed);
	assert_int_equal(s.dumpable, 0);
	close(keep_fd);
	close(other_fd);
}

static void test_error_comes_back(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = 7;
	assert_int_equal(run("failing", 1, &item, &err), -EBADMSG);
	assert_string_equal(err.text, "layer 1 (sha256:0123456789ab): bad");
	assert_int_equal(item, -1);
}

static void test_killed(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = -1;
	assert_int_equal(run("dies", 3, &item, &err), -EIO);
	assert_int_equal(item, 2);
	if (!strstr(err.text, "the converter hull-convert (pid ") ||
	    !strstr(err.text, ") was killed by signal 9"))
		fail_msg("message: %s", err.text);
}

static void test_filter(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = -1;
	assert_int_equal(run("opens", 3, &item, &err), -EIO);
	assert_int_equal(item, 1);
	if (!strstr(err.text, "hull-convert killed by its seccomp filter (syscall 41 socket, "
			      "thread role convert) (pid "))
		fail_msg("message: %s", err.text);
}

/* the filter forbids exec: a taken-over converter cannot become another
 * program (with the inherited fds) */
static void test_no_exec(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = -1;
	assert_int_equal(run("execs", 1, &item, &err), -EIO);
	if (!strstr(err.text, "hull-convert killed by its seccomp filter (syscall 59 execve, "
			      "thread role convert) (pid "))
		fail_msg("message: %s", err.text);
}

static void test_malformed(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = -1;
	assert_int_equal(run("garbage", 3, &item, &err), -EIO);
	assert_int_equal(item, -1);
	if (!strstr(err.text, "the converter hull-convert sent a malformed status record; killed"))
		fail_msg("message: %s", err.text);
}

/* the real converter reads its request strictly: bytes that are not one
 * stop it before any work, with the field named */
static void test_real_refuses_junk(void **state)
{
	(void)state;
	const char *exe = getenv(CONVPROC_ENV);
	if (!exe)
		fail_msg(CONVPROC_ENV " is not set (meson test sets it)");
	struct errmsg err = {{0}};
	int item = -1;
	char out[8];
	static const char junk[200] = "not a request";
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(
	    convproc_run(NULL, junk, sizeof(junk), &fd, 1, 1, out, sizeof(out), &item, &err),
	    -EBADMSG);
	assert_string_equal(err.text, "hull-convert: request: length: shorter than its header");
	assert_int_equal(item, -1);
	close(fd);
}

static void test_missing_executable(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = -1;
	char out[8];
	assert_int_equal(convproc_run("/nonexistent/hull-convert", "x", 1, NULL, 0, 1, out,
				      sizeof(out), &item, &err),
			 -ENOENT);
	if (!strstr(err.text, "the image converter /nonexistent/hull-convert: "))
		fail_msg("message: %s", err.text);
}

/* convproc_spawn() with a helper's progress callback and cancel flag: the
 * byte count arrives, and a flag set meanwhile (here by the callback, as a
 * signal handler would) kills the waiting child: -EINTR, "interrupted". */
static volatile sig_atomic_t cancel_flag;
static uint64_t seen_done;
static void on_progress(void *arg, unsigned item, uint64_t done)
{
	(void)arg;
	if (item == 0)
		seen_done = done;
	cancel_flag = 1;
}

static void test_progress_and_cancel(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct convproc_helper h = convproc_convert;
	h.progress = on_progress;
	h.cancel = &cancel_flag;
	struct errmsg err = {{0}};
	int item;
	cancel_flag = 0;
	seen_done = 0;
	assert_int_equal(
	    convproc_spawn(&h, standin(), "waits", 5, &p[0], 1, 1, NULL, 0, &item, &err), -EINTR);
	assert_int_equal(seen_done, 42);
	assert_string_equal(err.text, "hull-convert: interrupted");
	/* set before the start: nothing is started */
	assert_int_equal(
	    convproc_spawn(&h, "/nonexistent", "waits", 5, &p[0], 1, 1, NULL, 0, &item, &err),
	    -EINTR);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_result_and_identity),
	    cmocka_unit_test(test_error_comes_back),
	    cmocka_unit_test(test_killed),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_no_exec),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_real_refuses_junk),
	    cmocka_unit_test(test_missing_executable),
	    cmocka_unit_test(test_progress_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
