/* convert_proc: the converter child, hull-convert, with stand-in work:
 * its result and message come back; what it runs as (as root: the user
 * hull); a child that dies is
 * reported with the last item it started; one that makes a call outside its
 * filter is reported with the filter's text; it keeps only the fds it was
 * given. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/jail_enter.h"
#include "images/convert_proc.h"

struct seen {
	unsigned uid, gid;
	int kept_ok, other_closed;
};

static int keep_fd = -1, other_fd = -1;

static int report(void *ctx, struct convproc *cp, void *out, size_t out_len, struct errmsg *err)
{
	(void)ctx;
	(void)err;
	struct seen s = {0};
	convproc_progress(cp, 0);
	s.uid = (unsigned)getuid();
	s.gid = (unsigned)getgid();
	struct stat st;
	s.kept_ok = fstat(keep_fd, &st) == 0;
	s.other_closed = fstat(other_fd, &st) < 0 && errno == EBADF;
	/* no_new_privs, the capability sets and the name are read from /proc
	 * by e2e-image-import: the filter lets the child ask for none of them */
	assert_true(out_len >= sizeof(s));
	memcpy(out, &s, sizeof(s));
	return 0;
}

static int failing(void *ctx, struct convproc *cp, void *out, size_t out_len, struct errmsg *err)
{
	(void)ctx;
	(void)cp;
	(void)out;
	(void)out_len;
	return errmsg_set(err, -EBADMSG, "layer 1 (sha256:0123456789ab): bad");
}

static int dies(void *ctx, struct convproc *cp, void *out, size_t out_len, struct errmsg *err)
{
	(void)ctx;
	(void)out;
	(void)out_len;
	(void)err;
	convproc_progress(cp, 0);
	convproc_progress(cp, 2);
	raise(SIGKILL);
	return 0;
}

static int opens(void *ctx, struct convproc *cp, void *out, size_t out_len, struct errmsg *err)
{
	(void)ctx;
	(void)out;
	(void)out_len;
	(void)err;
	convproc_progress(cp, 1);
	return socket(AF_INET, SOCK_STREAM, 0) < 0 ? -errno : 0;
}

/* A taken-over child writing garbage on its status pipe (the one FIFO it
 * holds), then running on: the parent stops it. */
static int garbage(void *ctx, struct convproc *cp, void *out, size_t out_len, struct errmsg *err)
{
	(void)ctx;
	(void)cp;
	(void)out;
	(void)out_len;
	(void)err;
	static char junk[8192];
	memset(junk, 0xff, sizeof(junk));
	for (int fd = 3; fd < 64; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		    write(fd, junk, sizeof(junk)) < 0)
			return -errno;
	}
	char b;
	for (;;)
		if (read(0, &b, 1) < 0)
			return -errno;
}

static void test_result_and_identity(void **state)
{
	(void)state;
	keep_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	other_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(keep_fd >= 0 && other_fd >= 0);
	struct seen s;
	struct errmsg err = {{0}};
	int item = 7;
	int rc = convproc_run(&keep_fd, 1, 1, report, NULL, &s, sizeof(s), &item, &err);
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
	assert_true(s.kept_ok);
	assert_true(s.other_closed);
	close(keep_fd);
	close(other_fd);
}

static void test_error_comes_back(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = 7;
	char out[8];
	assert_int_equal(convproc_run(NULL, 0, 1, failing, NULL, out, sizeof(out), &item, &err),
			 -EBADMSG);
	assert_string_equal(err.text, "layer 1 (sha256:0123456789ab): bad");
	assert_int_equal(item, -1);
}

static void test_killed(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = -1;
	char out[8];
	assert_int_equal(convproc_run(NULL, 0, 3, dies, NULL, out, sizeof(out), &item, &err), -EIO);
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
	char out[8];
	assert_int_equal(convproc_run(NULL, 0, 3, opens, NULL, out, sizeof(out), &item, &err),
			 -EIO);
	assert_int_equal(item, 1);
	if (!strstr(err.text, "hull-convert killed by its seccomp filter (syscall 41 socket, "
			      "thread role convert) (pid "))
		fail_msg("message: %s", err.text);
}

static void test_malformed(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	int item = -1;
	char out[8];
	assert_int_equal(convproc_run(NULL, 0, 3, garbage, NULL, out, sizeof(out), &item, &err),
			 -EIO);
	assert_int_equal(item, -1);
	if (!strstr(err.text, "the converter hull-convert sent a malformed status record; killed"))
		fail_msg("message: %s", err.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_result_and_identity),
	    cmocka_unit_test(test_error_comes_back),
	    cmocka_unit_test(test_killed),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
