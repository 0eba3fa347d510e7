/* vsock_host: hull's socket plumbing against a stand-in for the VMM's side
 * of the Firecracker convention (real Unix sockets). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/vsock_host.h"

struct fake_vmm {
	int lfd;
	const char *answer; /* written after reading the CONNECT line; NULL: close */
	char line[64];
};

static void *vmm_main(void *arg)
{
	struct fake_vmm *v = arg;
	int fd = accept(v->lfd, NULL, NULL);
	size_t n = 0;
	while (n < sizeof(v->line) - 1 && read(fd, v->line + n, 1) == 1 && v->line[n] != '\n')
		n++;
	v->line[n] = '\0';
	if (v->answer)
		(void)!write(fd, v->answer, strlen(v->answer));
	else
		close(fd);
	return NULL;
}

static int start_vmm(struct fake_vmm *v, const char *uds, pthread_t *t)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", uds);
	v->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(v->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(v->lfd, 1), 0);
	return pthread_create(t, NULL, vmm_main, v);
}

static void test_listen(void **state)
{
	(void)state;
	char dir[] = "/tmp/hull-vh-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct errmsg err;
	struct stat st;
	char uds[256];
	snprintf(uds, sizeof(uds), "%s/vsock.sock", dir);
	int lfd = vsock_host_listen(uds, 1024, &err);
	assert_true(lfd >= 0);
	char p[300];
	snprintf(p, sizeof(p), "%s_1024", uds);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	/* a second listener on the same port: refused, named */
	assert_int_equal(vsock_host_listen(uds, 1024, &err), -EADDRINUSE);
	assert_non_null(strstr(err.text, "vsock.sock_1024"));
	close(lfd);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_path_too_long(void **state)
{
	(void)state;
	char uds[200];
	memset(uds, 'a', sizeof(uds) - 1);
	uds[0] = '/';
	uds[sizeof(uds) - 1] = '\0';
	struct errmsg err;
	assert_int_equal(vsock_host_listen(uds, 1, &err), -ENAMETOOLONG);
	assert_int_equal(vsock_host_connect(uds, 1, 100, &err), -ENAMETOOLONG);
}

static void connect_case(const char *answer, int timeout_ms, int want_rc, const char *want_err)
{
	char dir[] = "/tmp/hull-vh-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char uds[128];
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	struct fake_vmm v = {.answer = answer};
	pthread_t t;
	assert_int_equal(start_vmm(&v, uds, &t), 0);
	struct errmsg err = {{0}};
	int fd = vsock_host_connect(uds, 1025, timeout_ms, &err);
	pthread_join(t, NULL);
	assert_string_equal(v.line, "CONNECT 1025");
	if (want_rc == 0) {
		assert_true(fd >= 0);
		/* bytes after the OK line stay for the caller */
		char b[8] = {0};
		assert_int_equal(read(fd, b, 5), 5);
		assert_string_equal(b, "hello");
		close(fd);
	} else {
		assert_int_equal(fd, want_rc);
		assert_non_null(strstr(err.text, want_err));
	}
	close(v.lfd);
	unlink(uds);
	rmdir(dir);
}

static void test_connect(void **state)
{
	(void)state;
	connect_case("OK 1073741824\nhello", 5000, 0, NULL);
	connect_case(NULL, 5000, -ECONNREFUSED, "refused");
	connect_case("NO\n", 5000, -EPROTO, "unexpected answer");
	connect_case("OK 1", 200, -ETIMEDOUT, "no answer"); /* no newline ever */
	struct errmsg err;
	assert_int_equal(vsock_host_connect("/nonexistent-hull-dir/v.sock", 1, 100, &err), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen),
	    cmocka_unit_test(test_path_too_long),
	    cmocka_unit_test(test_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
