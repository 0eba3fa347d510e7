/* log: console lines and the errno wording sent to the host. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest-init/log.h"

static void test_errtext(void **state)
{
	char buf[64];
	(void)state;

	assert_string_equal(log_errtext(ENOENT, buf, sizeof(buf)), "no such file or directory");
	assert_string_equal(log_errtext(-EACCES, buf, sizeof(buf)), "permission denied");
	assert_string_equal(log_errtext(ENOEXEC, buf, sizeof(buf)), "exec format error");
	/* truncated, still terminated */
	assert_string_equal(log_errtext(ENOENT, buf, 6), "no su");
}

static void test_syserr(void **state)
{
	struct errmsg err;
	(void)state;

	assert_int_equal(log_syserr(&err, ENOENT, "mount %s on %s", "/dev/vda", "/lower"), -ENOENT);
	assert_string_equal(err.text, "mount /dev/vda on /lower: no such file or directory");
	assert_int_equal(log_syserr(&err, -EPERM, "setuid"), -EPERM);
	assert_string_equal(err.text, "setuid: operation not permitted");
	assert_int_equal(log_syserr(NULL, EIO, "x"), -EIO);
}

static size_t drain(int fd, char *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap - 1);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

static void test_lines(void **state)
{
	int p[2];
	char buf[2048];
	(void)state;

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	struct log l = {.fd = p[1], .debug = false};

	log_msg(&l, "hello %d", 42);
	drain(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "hull-init: hello 42\n");

	/* debug lines only in debug mode, with a boot-time stamp */
	log_debug(&l, "quiet");
	assert_int_equal(drain(p[0], buf, sizeof(buf)), 0);
	l.debug = true;
	log_debug(&l, "loud");
	drain(p[0], buf, sizeof(buf));
	assert_memory_equal(buf, "hull-init: [", 12);
	assert_non_null(strstr(buf, "] loud\n"));

	/* an overlong line is cut but still ends the line */
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_msg(&l, "%s", big);
	size_t n = drain(p[0], buf, sizeof(buf));
	assert_true(n > 1000 && n <= 1024);
	assert_int_equal(buf[n - 1], '\n');

	/* no console: nothing happens */
	struct log none = {.fd = -1};
	log_msg(&none, "dropped");
	log_msg(NULL, "dropped");
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errtext),
	    cmocka_unit_test(test_syserr),
	    cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
