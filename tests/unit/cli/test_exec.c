/* exec_stop: the stop sequence through the exec port, against a stand-in
 * VMM socket that plays the guest's side (CONNECT, MAIN_SIGNAL, EXIT). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/exec.h"
#include "common/clock.h"

struct guest {
	int lfd;
	bool obeys;	 /* exits on the stop signal (else only on SIGKILL) */
	int sigs[4], nsigs;
	char connect_line[32];
};

static void read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

static void *guest_main(void *arg)
{
	struct guest *g = arg;
	int fd = accept(g->lfd, NULL, NULL);
	size_t n = 0;
	while (n + 1 < sizeof(g->connect_line) && read(fd, g->connect_line + n, 1) == 1 &&
	       g->connect_line[n] != '\n')
		n++;
	g->connect_line[n] = 0;
	if (write(fd, "OK 7\n", 5) != 5)
		abort();
	while (g->nsigs < 4) {
		uint8_t f[HCP_HDR_LEN + 4] = { 0 };
		read_full(fd, f, sizeof(f));
		if (f[0] != HCP_MAIN_SIGNAL)
			break;
		int sig = f[8] | f[9] << 8;
		g->sigs[g->nsigs++] = sig;
		if (sig == SIGKILL) {
			close(fd); /* the VM goes away without a word */
			return NULL;
		}
		if (g->obeys) {
			uint8_t e[HCP_HDR_LEN + 4];
			hcp_header_encode(e, HCP_EXIT, 4);
			hcp_u32_encode(e + HCP_HDR_LEN, 128 + (uint32_t)sig);
			if (write(fd, e, sizeof(e)) != (ssize_t)sizeof(e))
				abort();
			break;
		}
	}
	close(fd);
	return NULL;
}

static void run(bool obeys, int *code, struct guest *g, uint64_t *ms)
{
	char dir[] = "/tmp/hull-exec-test-XXXXXX", path[64];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	pthread_t t;
	struct errmsg err;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vsock.sock", dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	memset(g, 0, sizeof(*g));
	g->obeys = obeys;
	g->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(g->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(g->lfd, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, guest_main, g), 0);
	uint64_t t0 = clock_now_ns();
	assert_int_equal(exec_stop(path, SIGQUIT, 1, code, &err), 0);
	*ms = (clock_now_ns() - t0) / 1000000;
	pthread_join(t, NULL);
	close(g->lfd);
	unlink(path);
	rmdir(dir);
}

static void test_stop_obeyed(void **st)
{
	(void)st;
	struct guest g;
	int code;
	uint64_t ms;
	run(true, &code, &g, &ms);
	assert_string_equal(g.connect_line, "CONNECT 1025");
	assert_int_equal(g.nsigs, 1);
	assert_int_equal(g.sigs[0], SIGQUIT);
	assert_int_equal(code, 128 + SIGQUIT);
	assert_true(ms < 1000);
}

static void test_stop_ignored_then_killed(void **st)
{
	(void)st;
	struct guest g;
	int code;
	uint64_t ms;
	run(false, &code, &g, &ms);
	assert_int_equal(g.nsigs, 2);
	assert_int_equal(g.sigs[0], SIGQUIT);
	assert_int_equal(g.sigs[1], SIGKILL);
	assert_int_equal(code, -1); /* the VM went away without an EXIT */
	assert_true(ms >= 1000);
}

static void test_nothing_there(void **st)
{
	(void)st;
	int code;
	struct errmsg err;
	assert_true(exec_stop("/nonexistent/hull/vsock.sock", SIGTERM, 1, &code, &err) < 0);
	assert_non_null(strstr(err.text, "/nonexistent/hull/vsock.sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_obeyed),
		cmocka_unit_test(test_stop_ignored_then_killed),
		cmocka_unit_test(test_nothing_there),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
