/* monitor: registration, the control socket's requests (as hull stop/kill
 * send them) acted on through fake ops, the start and the end recorded,
 * --rm. A real socket in a temp runtime root; no VM. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/attach_conn.h"
#include "runtime/supervisor.h"

struct fake {
	int rows, cols; /* the last resize */
	int signals[8], n_signals;
	int halted; /* signo given to halt, 0 = not halted */
	bool running;
};

static int fake_signal(void *ctx, int signo)
{
	struct fake *f = ctx;
	if (!f->running)
		return -EAGAIN;
	f->signals[f->n_signals++] = signo;
	return 0;
}

static void fake_halt(void *ctx, int signo)
{
	((struct fake *)ctx)->halted = signo;
}

static void fake_resize(void *ctx, uint16_t rows, uint16_t cols)
{
	struct fake *f = ctx;
	f->rows = rows;
	f->cols = cols;
}

/* a running VM's figures: recognisable numbers */
static int fake_stats(void *ctx, struct ctrstats *out)
{
	struct fake *f = ctx;
	if (!f->running)
		return -ESRCH;
	*out = (struct ctrstats){.vmm = 77, .has_cgroup = true, .mem_limit = UINT64_MAX, .pids = 3};
	out->has_counters = true;
	out->io.net_rx_bytes = 123456;
	out->io.blk_write_bytes = 1ull << 40;
	return 0;
}

static const struct supervisor_ops ops = {
    .signal = fake_signal, .halt = fake_halt, .stats = fake_stats, .resize = fake_resize};

struct call {
	struct runtime_state *s;
	const char *req;
	struct ctrstats *stats; /* set: supervisor_stats() instead of req */
	int rc;
	struct errmsg err;
	atomic_bool done;
};

static void *call_thread(void *arg)
{
	struct call *c = arg;
	c->rc = c->stats ? supervisor_stats(c->s, c->stats, &c->err)
			 : supervisor_call(c->s, c->req, &c->err);
	atomic_store(&c->done, true);
	return NULL;
}

/* Serve the monitor on this thread, as hull run's control thread does,
 * while a client thread sends req. */
static int call_for(struct supervisor *m, struct runtime_state *s, const char *req,
		    struct ctrstats *stats, struct errmsg *err)
{
	struct call c = {.s = s, .req = req, .stats = stats};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
	while (!atomic_load(&c.done)) {
		struct pollfd p = {.fd = supervisor_fd(m), .events = POLLIN};
		if (poll(&p, 1, 50) > 0)
			supervisor_dispatch(m);
	}
	pthread_join(t, NULL);
	*err = c.err;
	return c.rc;
}

static int call(struct supervisor *m, struct runtime_state *s, const char *req, struct errmsg *err)
{
	return call_for(m, s, req, NULL, err);
}

struct att {
	struct runtime_state *s;
	int rc, fd;
	struct errmsg err;
	atomic_bool done;
};

static void *attach_thread(void *arg)
{
	struct att *a = arg;
	a->rc = supervisor_attach(a->s, &a->fd, &a->err);
	atomic_store(&a->done, true);
	return NULL;
}

/* supervisor_attach() from a thread while this one serves: its rc, *fd */
static int attach(struct supervisor *m, struct runtime_state *s, int *fd, struct errmsg *err)
{
	struct att a = {.s = s};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, attach_thread, &a), 0);
	while (!atomic_load(&a.done)) {
		struct pollfd p = {.fd = supervisor_fd(m), .events = POLLIN};
		if (poll(&p, 1, 50) > 0)
			supervisor_dispatch(m);
	}
	pthread_join(t, NULL);
	*err = a.err;
	*fd = a.fd;
	return a.rc;
}

/* supervisor_stdin_read() until n bytes came (or the writer is gone) */
static size_t stdin_got(struct supervisor *m, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n && supervisor_stdin_fd(m) >= 0) {
		struct pollfd p = {.fd = supervisor_stdin_fd(m), .events = POLLIN};
		assert_int_equal(poll(&p, 1, 5000), 1);
		got += supervisor_stdin_read(m, buf + got, n - got);
	}
	return got;
}

static void serve_for(struct supervisor *m, int ms)
{
	struct pollfd p = {.fd = supervisor_fd(m), .events = POLLIN};
	while (poll(&p, 1, ms) > 0)
		supervisor_dispatch(m);
}

static char tmpdir[64];

static int setup(void **st)
{
	(void)st;
	strcpy(tmpdir, "/tmp/hull-mon-test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv("HULL_RUNTIME_DIR", tmpdir, 1);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static char *cmdv[] = {"sleep", "100", NULL};

static struct supervisor *mk(const char *name, bool rm, struct fake *f, struct runtime_state *s)
{
	struct supervisor_info in = {.name = name,
				     .image = "img.oci",
				     .digest = "sha256:ab",
				     .cmd = cmdv,
				     .n_cmd = 2,
				     .stop_signal = SIGTERM,
				     .stop_timeout = 0,
				     .auto_remove = rm};
	struct supervisor *m;
	struct errmsg err;
	assert_int_equal(supervisor_create(&in, &m, &err), 0);
	assert_int_equal(supervisor_listen(m, &ops, f, &err), 0);
	assert_int_equal(runtime_lookup(tmpdir, name, s, &err), 0);
	assert_int_equal(s->status, RUNTIME_CREATED);
	assert_int_equal(s->monitor_pid, getpid());
	assert_int_equal(runtime_status_eff(s, NULL), RUNTIME_CREATED);
	return m;
}

static void test_requests(void **st)
{
	(void)st;
	struct fake f = {0};
	struct runtime_state s;
	struct errmsg err;
	struct supervisor *m = mk("c1", false, &f, &s);

	/* a second monitor cannot take the name */
	struct supervisor_info dup = {.name = "c1", .image = "i", .cmd = cmdv, .n_cmd = 2};
	struct supervisor *m2;
	assert_int_equal(supervisor_create(&dup, &m2, &err), -EEXIST);

	/* before the VM runs there are no figures */
	struct ctrstats cs;
	assert_int_equal(call_for(m, &s, NULL, &cs, &err), -EINVAL);
	assert_non_null(strstr(err.text, "no figures"));

	supervisor_started(m);
	f.running = true;
	serve_for(m, 100);
	struct runtime_state now;
	assert_int_equal(runtime_load(s.dir, &now, NULL), 0);
	assert_int_equal(now.status, RUNTIME_RUNNING);
	assert_true(now.started_ns > 0);
	runtime_state_free(&now);

	/* stats: the ops' figures travel whole */
	assert_int_equal(call_for(m, &s, NULL, &cs, &err), 0);
	assert_int_equal(cs.vmm, 77);
	assert_true(cs.has_cgroup && cs.has_counters);
	assert_true(cs.mem_limit == UINT64_MAX);
	assert_int_equal(cs.pids, 3);
	assert_int_equal(cs.io.net_rx_bytes, 123456);
	assert_int_equal(cs.io.blk_write_bytes, 1ull << 40);
	/* "stats" with anything after it is not the stats request */
	assert_int_equal(call(m, &s, "stats 1", &err), -EINVAL);
	assert_non_null(strstr(err.text, "unknown request"));

	assert_int_equal(call(m, &s, "kill 10", &err), 0);
	assert_int_equal(f.n_signals, 1);
	assert_int_equal(f.signals[0], SIGUSR1);

	assert_int_equal(call(m, &s, "kill 0", &err), -EINVAL);
	assert_non_null(strstr(err.text, "bad signal"));
	assert_int_equal(call(m, &s, "jump 1", &err), -EINVAL);
	assert_non_null(strstr(err.text, "unknown request"));
	assert_int_equal(call(m, &s, "stop", &err), -EINVAL);
	assert_non_null(strstr(err.text, "malformed"));

	/* stop -1: the stop signal now, SIGKILL after the container's timeout (0) */
	assert_int_equal(call(m, &s, "stop -1", &err), 0);
	serve_for(m, 200);
	assert_int_equal(f.signals[1], SIGTERM);
	assert_int_equal(f.n_signals, 3);
	assert_int_equal(f.signals[2], SIGKILL);
	assert_int_equal(f.halted, 0); /* the halt comes SUPERVISOR_HALT_GRACE_S later */

	uint8_t out[] = "hello\n";
	supervisor_output(m, 1, out, 6);
	supervisor_finish(m, true, 137, NULL);
	assert_int_equal(runtime_load(s.dir, &now, NULL), 0);
	assert_int_equal(now.status, RUNTIME_EXITED);
	assert_int_equal(now.exit_code, 137);
	assert_true(now.finished_ns >= now.started_ns);
	runtime_state_free(&now);
	char *sock = runtime_path(&s, RUNTIME_MONITOR_SOCK),
	     *log = runtime_path(&s, RUNTIME_LOG_FILE);
	struct stat sb;
	assert_int_equal(stat(sock, &sb), -1); /* the socket is gone */
	assert_int_equal(stat(log, &sb), 0);
	assert_true(sb.st_size > 6);
	/* and nobody answers there any more */
	assert_int_equal(supervisor_call(&s, "kill 9", &err), -ENOENT);
	free(sock);
	free(log);
	runtime_state_free(&s);
}

/* A raw client of s's control socket, connected and silent. */
static int raw_client(struct runtime_state *s)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char *p = runtime_sock_path(s, RUNTIME_MONITOR_SOCK);
	assert_non_null(p);
	assert_true(strlen(p) < sizeof(a.sun_path));
	strcpy(a.sun_path, p);
	free(p);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* The reply line on fd (the supervisor closes after it), "" on EOF. */
static void reply_of(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

/* Slow and vanishing clients (found by bench/load: a `hull stop` of 50
 * containers on a loaded host): a request whose bytes come seconds after
 * the connect, in pieces, is answered; a client that leaves before its
 * answer costs the supervisor nothing (this process would die of SIGPIPE
 * otherwise); a ninth silent client drops the oldest, and requests still
 * get through. */
static void test_slow_clients(void **st)
{
	(void)st;
	struct fake f = {0};
	struct runtime_state s;
	struct errmsg err;
	struct supervisor *m = mk("slow", false, &f, &s);
	supervisor_started(m);
	f.running = true;

	int c = raw_client(&s);
	serve_for(m, 1500); /* longer than the second the old code gave */
	assert_int_equal(write(c, "ki", 2), 2);
	serve_for(m, 100);
	assert_int_equal(write(c, "ll 10\n", 6), 6);
	serve_for(m, 100);
	char buf[256];
	reply_of(c, buf, sizeof(buf));
	assert_string_equal(buf, "ok\n");
	close(c);
	assert_int_equal(f.n_signals, 1);
	assert_int_equal(f.signals[0], SIGUSR1);

	/* gone before the answer: the request is still acted on */
	c = raw_client(&s);
	assert_int_equal(write(c, "kill 12\n", 8), 8);
	close(c);
	serve_for(m, 100);
	assert_int_equal(f.n_signals, 2);
	assert_int_equal(f.signals[1], SIGUSR2);

	/* nine silent clients: the first is dropped (EOF), eight wait */
	int sil[9];
	for (int i = 0; i < 9; i++) {
		sil[i] = raw_client(&s);
		serve_for(m, 20);
	}
	reply_of(sil[0], buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(call(m, &s, "kill 10", &err), 0);
	assert_int_equal(f.n_signals, 3);
	for (int i = 0; i < 9; i++)
		close(sil[i]);
	serve_for(m, 100);
	assert_int_equal(call(m, &s, "kill 10", &err), 0);
	assert_int_equal(f.n_signals, 4);

	supervisor_finish(m, true, 0, NULL);
	runtime_state_free(&s);
}

/* "attach": who may take stdin, and the frames that carry it */
static void test_attach(void **st)
{
	(void)st;
	struct fake f = {.running = true};
	struct runtime_state s, s2;
	struct errmsg err;
	int fd;
	/* without -i: nothing to attach to */
	struct supervisor *m = mk("noi", false, &f, &s);
	assert_int_equal(attach(m, &s, &fd, &err), -EBUSY);
	assert_non_null(strstr(err.text, "not run with -i"));
	supervisor_finish(m, true, 0, NULL);
	runtime_state_free(&s);

	struct runtime_config cfg = {.open_stdin = true};
	struct supervisor_info in = {.name = "withi",
				     .image = "img.oci",
				     .cmd = cmdv,
				     .n_cmd = 2,
				     .stop_signal = SIGTERM,
				     .config = &cfg};
	assert_int_equal(supervisor_create(&in, &m, &err), 0);
	assert_int_equal(supervisor_listen(m, &ops, &f, &err), 0);
	assert_int_equal(runtime_lookup(tmpdir, "withi", &s, &err), 0);
	/* a foreground run feeds its own stdin */
	assert_int_equal(attach(m, &s, &fd, &err), -EBUSY);
	assert_non_null(strstr(err.text, "foreground"));
	supervisor_stdin_attachable(m);
	assert_int_equal(supervisor_stdin_fd(m), -1);
	assert_int_equal(attach(m, &s, &fd, &err), 0);
	assert_true(supervisor_stdin_fd(m) >= 0);
	/* one writer at a time */
	int fd2;
	assert_int_equal(runtime_lookup(tmpdir, "withi", &s2, &err), 0);
	assert_int_equal(attach(m, &s2, &fd2, &err), -EBUSY);
	assert_non_null(strstr(err.text, "one at a time"));
	/* stdin bytes, a resize between them */
	uint8_t ws[HCP_WINSIZE_LEN], buf[64];
	hcp_winsize_encode(ws, 30, 100);
	assert_int_equal(attach_conn_send(fd, HCP_STDIN, "hello ", 6), 0);
	assert_int_equal(attach_conn_send(fd, HCP_RESIZE, ws, sizeof(ws)), 0);
	assert_int_equal(attach_conn_send(fd, HCP_STDIN, "world", 5), 0);
	assert_int_equal(stdin_got(m, buf, 11), 11);
	assert_memory_equal(buf, "hello world", 11);
	assert_int_equal(f.rows, 30);
	assert_int_equal(f.cols, 100);
	/* the client's own checks */
	assert_int_equal(attach_conn_send(fd, HCP_STDIN, "", 0), -EINVAL);
	assert_int_equal(attach_conn_send(fd, HCP_SIGNAL, "abcd", 4), -EINVAL);
	assert_int_equal(attach_conn_send(fd, HCP_RESIZE, ws, 3), -EINVAL);
	/* a frame of another type ends the writer; the stdin is free again */
	uint8_t bad[HCP_HDR_LEN + 4];
	assert_int_equal(hcp_header_encode(bad, HCP_SIGNAL, 4), 0);
	assert_int_equal(write(fd, bad, sizeof(bad)), (ssize_t)sizeof(bad));
	assert_int_equal(stdin_got(m, buf, 1), 0);
	assert_int_equal(supervisor_stdin_fd(m), -1);
	close(fd);
	assert_int_equal(attach(m, &s2, &fd, &err), 0);
	/* an oversized STDIN frame ends it too */
	assert_int_equal(hcp_header_encode(bad, HCP_STDIN, ATTACH_CONN_MAX_STDIN + 1), 0);
	assert_int_equal(write(fd, bad, HCP_HDR_LEN), HCP_HDR_LEN);
	assert_int_equal(stdin_got(m, buf, 1), 0);
	assert_int_equal(supervisor_stdin_fd(m), -1);
	close(fd);
	/* a hangup mid-frame ends it */
	assert_int_equal(attach(m, &s2, &fd, &err), 0);
	assert_int_equal(write(fd, bad, 3), 3);
	close(fd);
	assert_int_equal(stdin_got(m, buf, 1), 0);
	assert_int_equal(supervisor_stdin_fd(m), -1);
	/* "attach" with anything after it is not an attach */
	assert_int_equal(call(m, &s, "attach 1", &err), -EINVAL);
	assert_non_null(strstr(err.text, "malformed attach"));
	supervisor_finish(m, true, 0, NULL);
	runtime_state_free(&s);
	runtime_state_free(&s2);
}

static void test_auto_remove(void **st)
{
	(void)st;
	struct fake f = {.running = true};
	struct runtime_state s;
	struct supervisor *m = mk("c2", true, &f, &s);
	supervisor_finish(m, false, 127, "exec failed");
	struct stat sb;
	assert_int_equal(stat(s.dir, &sb), -1);
	assert_int_equal(errno, ENOENT);
	runtime_state_free(&s);
}

static void test_failed_start_recorded(void **st)
{
	(void)st;
	struct fake f = {0};
	struct runtime_state s, now;
	struct supervisor *m = mk("c3", false, &f, &s);
	struct errmsg err;
	/* before the container runs, a signal halts the VM */
	assert_int_equal(call(m, &s, "kill 15", &err), 0);
	assert_int_equal(f.halted, SIGTERM);
	assert_int_equal(f.n_signals, 0);
	supervisor_finish(m, false, 125, "the VM stopped");
	assert_int_equal(runtime_load(s.dir, &now, NULL), 0);
	assert_int_equal(now.status, RUNTIME_EXITED);
	assert_int_equal(now.exit_code, 125);
	assert_int_equal(now.started_ns, 0);
	assert_string_equal(now.error, "the VM stopped");
	runtime_state_free(&now);
	runtime_state_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attach, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_start_recorded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
