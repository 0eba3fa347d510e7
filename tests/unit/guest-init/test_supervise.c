/* supervise: the conversation before SPEC, and the supervision loop with
 * real child processes standing in for the container. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest-init/supervise.h"
#include "peer.h"

struct fixture {
	int host;
	int sigfd;
	struct chan ch;
	struct log log;
	struct supervisor sup;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	sigset_t set;
	int sv[2];

	if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	/* As in init: the signals supervise handles arrive through a signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	f->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (f->sigfd < 0)
		return -1;
	f->host = sv[0];
	chan_init(&f->ch, sv[1]);
	f->log = (struct log){.fd = -1};
	supervise_init(&f->sup, &f->ch, f->sigfd, &f->log);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	supervise_free(&f->sup);
	chan_close(&f->ch);
	close(f->host);
	close(f->sigfd);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	free(f);
	return 0;
}

static char *spec_argv[] = {"sh", "-c", "true", NULL};

static void send_spec(int fd)
{
	struct hcp_spec s = {
	    .argv = spec_argv,
	    .argc = 3,
	    .cwd = "/work",
	    .rootfs = "/dev/vda",
	    .user = "1000:1000",
	};
	peer_send_spec(fd, &s);
}

static void test_spec_first(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;

	send_spec(f->host);
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), 0);
	assert_int_equal(spec.argc, 3);
	assert_string_equal(spec.argv[2], "true");
	assert_string_equal(spec.cwd, "/work");
	assert_string_equal(spec.user, "1000:1000");
	assert_null(spec.hostname);
	hcp_spec_free(&spec);
}

static void test_frames_before_spec_are_kept(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;
	const uint8_t *p;
	size_t n;

	peer_send(f->host, HCP_STDIN, "early ", 6);
	peer_send_u32(f->host, HCP_SIGNAL, SIGTERM);
	peer_send(f->host, HCP_STDIN, "input", 5);
	peer_send_u32(f->host, HCP_SIGNAL, 0);	 /* no such signal: ignored */
	peer_send_u32(f->host, HCP_SIGNAL, 999); /* no such signal: ignored */
	peer_send_u32(f->host, HCP_SIGNAL, SIGINT);
	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	send_spec(f->host);
	/* what comes after SPEC stays in the channel for the run loop */
	peer_send_u32(f->host, HCP_SIGNAL, SIGHUP);

	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), 0);
	hcp_spec_free(&spec);
	p = bytequeue_peek(&f->sup.main.stdin_q, &n);
	assert_int_equal(n, 11);
	assert_memory_equal(p, "early input", 11);
	assert_true(f->sup.main.stdin_eof);
	assert_int_equal(f->sup.main.npending, 2);
	assert_int_equal(f->sup.main.pending[0], SIGTERM);
	assert_int_equal(f->sup.main.pending[1], SIGINT);
}

static void test_hostile_before_spec(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;
	uint8_t bad[8] = {HCP_SPEC, 1, 0, 0, 0, 0, 0, 0}; /* reserved byte set */

	peer_write_all(f->host, bad, sizeof(bad));
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), -EPROTO);
	assert_non_null(strstr(err.text, "control channel"));
	assert_null(spec.argv);
}

static void test_guest_type_from_host(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;

	peer_send(f->host, HCP_READY, NULL, 0);
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), -EPROTO);
	assert_non_null(strstr(err.text, "unexpected frame type 0x01"));
}

static void test_malformed_spec(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;
	const uint8_t truncated[] = {HCP_SPEC_ARG, 10, 0, 0, 0, 'a'};

	peer_send(f->host, HCP_SPEC, truncated, sizeof(truncated));
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), -EPROTO);
	assert_non_null(strstr(err.text, "malformed SPEC"));
}

static void test_bad_signal_payload(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;

	peer_send(f->host, HCP_SIGNAL, "\x0f\0\0", 3);
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), -EPROTO);
	assert_non_null(strstr(err.text, "SIGNAL"));
}

static void test_stdin_after_eof(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;

	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	peer_send(f->host, HCP_STDIN, "late", 4);
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), -EPROTO);
}

static void test_hangup_before_spec(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;

	shutdown(f->host, SHUT_WR);
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), -EPIPE);
}

static void test_exit_code(void **state)
{
	(void)state;
	assert_int_equal(supervise_exit_code(0), 0);
	assert_int_equal(supervise_exit_code(7 << 8), 7);
	assert_int_equal(supervise_exit_code(255 << 8), 255);
	assert_int_equal(supervise_exit_code(SIGKILL), 137);
	assert_int_equal(supervise_exit_code(SIGTERM | 0x80), 143); /* core dumped */
}

/* A stand-in container: fork with three pipes, as container_start does. */
static struct container_proc spawn_proc(void (*body)(void))
{
	int in[2], out[2], err[2];
	struct container_proc p;
	pid_t pid;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		/* no exec here to close the close-on-exec ends: do it by hand */
		close(in[1]);
		close(out[0]);
		close(err[0]);
		body();
		_exit(99);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	p = (struct container_proc){pid, in[1], out[0], err[0], -1};
	return p;
}

static pid_t spawn(struct supervisor *s, void (*body)(void))
{
	struct container_proc p = spawn_proc(body);
	supervise_attach(s, &p);
	return p.pid;
}

/* Collect STDOUT/STDERR frames the guest sent until nothing comes for a while. */
struct output {
	char out[70000], err[70000];
	size_t nout, nerr;
	size_t frames;
	uint32_t max_frame;
};

static void collect(int host, struct output *o)
{
	uint8_t type, *p;
	uint32_t len;

	memset(o, 0, sizeof(*o));
	while (peer_recv(host, &type, &p, &len, 200) == 1) {
		char *dst = type == HCP_STDOUT ? o->out : o->err;
		size_t *n = type == HCP_STDOUT ? &o->nout : &o->nerr;

		assert_true(type == HCP_STDOUT || type == HCP_STDERR);
		assert_true(*n + len < sizeof(o->out));
		memcpy(dst + *n, p, len);
		*n += len;
		o->frames++;
		if (len > o->max_frame)
			o->max_frame = len;
		free(p);
	}
}

static void echo_body(void)
{
	char buf[256];
	size_t n = 0;
	ssize_t r;

	while ((r = read(0, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	if (write(1, "out:", 4) < 0 || write(1, buf, n) < 0 || write(2, "err", 3) < 0)
		_exit(98);
	_exit(7);
}

static void test_run_stdio_and_exit(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;
	struct output o;

	peer_send(f->host, HCP_STDIN, "hello ", 6);
	peer_send(f->host, HCP_STDIN, "world", 5);
	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	spawn(&f->sup, echo_body);
	assert_int_equal(supervise_run(&f->sup, &err), 7);
	assert_int_equal(supervise_drain(&f->sup, &err), 0);
	collect(f->host, &o);
	assert_int_equal(o.nout, 15);
	assert_memory_equal(o.out, "out:hello world", 15);
	assert_int_equal(o.nerr, 3);
	assert_memory_equal(o.err, "err", 3);
}

static void test_stdin_queued_before_start(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;
	struct output o;

	peer_send(f->host, HCP_STDIN, "queued", 6);
	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	send_spec(f->host);
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), 0);
	hcp_spec_free(&spec);
	spawn(&f->sup, echo_body);
	assert_int_equal(supervise_run(&f->sup, &err), 7);
	assert_int_equal(supervise_drain(&f->sup, &err), 0);
	collect(f->host, &o);
	assert_int_equal(o.nout, 10);
	assert_memory_equal(o.out, "out:queued", 10);
}

static void wait_for_signal_body(void)
{
	for (;;)
		pause();
}

static void test_signal_frame_forwarded(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;

	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	spawn(&f->sup, wait_for_signal_body);
	peer_send_u32(f->host, HCP_SIGNAL, SIGTERM);
	assert_int_equal(supervise_run(&f->sup, &err), 128 + SIGTERM);
}

static void run1_body(void)
{
	if (write(1, "run1 ", 5) < 0)
		_exit(98);
	_exit(3);
}

static void run2_body(void)
{
	if (write(1, "run2 ", 5) < 0)
		_exit(98);
	_exit(0);
}

/* --restart: the main process started anew in the same supervisor; the
 * host's SIGNAL is what stops restarts (host_signalled). */
static void test_restart(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;
	struct output o;

	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	spawn(&f->sup, run1_body);
	assert_int_equal(supervise_run(&f->sup, &err), 3);
	assert_int_equal(supervise_drain(&f->sup, &err), 0);
	assert_false(f->sup.host_signalled);
	struct container_proc p = spawn_proc(run2_body);
	supervise_restart(&f->sup, &p);
	assert_int_equal(supervise_run(&f->sup, &err), 0);
	assert_int_equal(supervise_drain(&f->sup, &err), 0);
	assert_false(f->sup.host_signalled);
	p = spawn_proc(wait_for_signal_body);
	supervise_restart(&f->sup, &p);
	peer_send_u32(f->host, HCP_SIGNAL, SIGTERM);
	assert_int_equal(supervise_run(&f->sup, &err), 128 + SIGTERM);
	assert_true(f->sup.host_signalled);
	collect(f->host, &o);
	assert_int_equal(o.nout, 10);
	assert_memory_equal(o.out, "run1 run2 ", 10);
}

static void test_pending_signal_delivered_on_attach(void **state)
{
	struct fixture *f = *state;
	struct hcp_spec spec;
	struct errmsg err;

	peer_send_u32(f->host, HCP_SIGNAL, SIGKILL);
	send_spec(f->host);
	assert_int_equal(supervise_wait_spec(&f->sup, &spec, &err), 0);
	hcp_spec_free(&spec);
	spawn(&f->sup, wait_for_signal_body);
	assert_int_equal(supervise_run(&f->sup, &err), 128 + SIGKILL);
}

static void test_signal_to_init_forwarded(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;

	/* SIGUSR1 to "init" (this process): it reaches the container, whose
	 * default action is to die of it. */
	spawn(&f->sup, wait_for_signal_body);
	kill(getpid(), SIGUSR1);
	assert_int_equal(supervise_run(&f->sup, &err), 128 + SIGUSR1);
}

static void flood_body(void)
{
	static char buf[50000];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	for (size_t off = 0; off < sizeof(buf);) {
		ssize_t w = write(1, buf + off, sizeof(buf) - off);
		if (w <= 0)
			_exit(98);
		off += (size_t)w;
	}
	_exit(0);
}

static void test_output_chunked_in_order(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;
	struct output o;

	/* 50 kB fits the socketpair's buffer: no concurrent reader needed */
	spawn(&f->sup, flood_body);
	assert_int_equal(supervise_run(&f->sup, &err), 0);
	assert_int_equal(supervise_drain(&f->sup, &err), 0);
	collect(f->host, &o);
	assert_int_equal(o.nout, 50000);
	assert_true(o.max_frame <= SUPERVISE_CHUNK);
	assert_true(o.frames >= 50000 / SUPERVISE_CHUNK + 1);
	for (size_t i = 0; i < o.nout; i++)
		assert_int_equal(o.out[i], (char)('a' + i % 26));
}

/* Bulk output on both streams: 1 MiB of stdout in 200000-byte writes with
 * a line of stderr after each (the writer blocks on full pipes, so init reads
 * whole pipes' worth), collected by a thread while supervise_run() serves. */
#define BULK_OUT (1024 * 1024)
#define BULK_WRITE 200000
#define BULK_ERR_LINE "stderr line\n"

static uint8_t bulk_byte(size_t i)
{
	return (uint8_t)((i * 7 + i / 251) & 0xff);
}

static void bulk_body(void)
{
	static uint8_t buf[BULK_OUT];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = bulk_byte(i);
	for (size_t off = 0; off < sizeof(buf);) {
		size_t want = sizeof(buf) - off < BULK_WRITE ? sizeof(buf) - off : BULK_WRITE;
		ssize_t w = write(1, buf + off, want);
		if (w <= 0)
			_exit(98);
		off += (size_t)w;
		if (write(2, BULK_ERR_LINE, sizeof(BULK_ERR_LINE) - 1) !=
		    (ssize_t)sizeof(BULK_ERR_LINE) - 1)
			_exit(97);
	}
	/* init grew the pipe on its first full read, before this could end */
	_exit(fcntl(1, F_GETPIPE_SZ) == SUPERVISE_PIPE_SIZE ? 0 : 96);
}

struct bulk {
	int host;
	uint8_t *out;
	char err[4096];
	size_t nout, nerr;
	uint32_t max_frame;
	bool bad_type;
};

static void *bulk_collect(void *arg)
{
	struct bulk *b = arg;
	uint8_t type, *p;
	uint32_t len;

	/* until init's end of the socketpair closes (the test shuts it) */
	while (peer_recv(b->host, &type, &p, &len, 20000) == 1) {
		if (len > b->max_frame)
			b->max_frame = len;
		if (type == HCP_STDOUT && b->nout + len <= BULK_OUT) {
			memcpy(b->out + b->nout, p, len);
			b->nout += len;
		} else if (type == HCP_STDERR && b->nerr + len <= sizeof(b->err)) {
			memcpy(b->err + b->nerr, p, len);
			b->nerr += len;
		} else {
			b->bad_type = true;
		}
		free(p);
	}
	return NULL;
}

static void test_output_bulk_both_streams(void **state)
{
	struct fixture *f = *state;
	struct bulk b = {.host = f->host, .out = malloc(BULK_OUT)};
	size_t writes = (BULK_OUT + BULK_WRITE - 1) / BULK_WRITE;
	struct errmsg err;
	pthread_t t;

	assert_non_null(b.out);
	assert_int_equal(pthread_create(&t, NULL, bulk_collect, &b), 0);
	spawn(&f->sup, bulk_body);
	assert_int_equal(supervise_run(&f->sup, &err), 0);
	assert_int_equal(supervise_drain(&f->sup, &err), 0);
	shutdown(f->ch.fd, SHUT_WR);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_false(b.bad_type);
	assert_int_equal(b.nout, BULK_OUT);
	for (size_t i = 0; i < BULK_OUT; i++)
		if (b.out[i] != bulk_byte(i))
			fail_msg("stdout byte %zu: %u, want %u", i, b.out[i], bulk_byte(i));
	assert_int_equal(b.nerr, writes * (sizeof(BULK_ERR_LINE) - 1));
	for (size_t i = 0; i < writes; i++)
		assert_memory_equal(b.err + i * (sizeof(BULK_ERR_LINE) - 1), BULK_ERR_LINE,
				    sizeof(BULK_ERR_LINE) - 1);
	/* the writer holds the pipe until it is full: whole frames went */
	assert_int_equal(b.max_frame, SUPERVISE_CHUNK);
	free(b.out);
}

static void orphan_body(void)
{
	/* The grandchild keeps stdout open until the test kills it. */
	setpgid(0, 0);
	if (fork() == 0) {
		if (write(1, "bg", 2) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	if (write(1, "fg", 2) < 0)
		_exit(1);
	_exit(3);
}

static void test_orphans_holding_pipes(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;
	struct timespec a, b;
	pid_t pid;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = spawn(&f->sup, orphan_body);
	assert_int_equal(supervise_run(&f->sup, &err), 3);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	/* returned after the grace period, not after the orphan: it still
	 * runs (an event, where a bound on the time taken would depend on the
	 * host's load) */
	assert_true(ms >= SUPERVISE_GRACE_MS);
	assert_int_equal(kill(-pid, 0), 0);
	/* what init's supervise_kill_all() does, limited to the test's group */
	kill(-pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	assert_int_equal(supervise_drain(&f->sup, &err), 0);
}

static void test_second_spec_is_fatal(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;
	pid_t pid;

	pid = spawn(&f->sup, wait_for_signal_body);
	send_spec(f->host);
	assert_int_equal(supervise_run(&f->sup, &err), -EPROTO);
	assert_non_null(strstr(err.text, "second SPEC"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_host_hangup_lets_container_finish(void **state)
{
	struct fixture *f = *state;
	struct errmsg err;

	/* host goes away before sending STDIN_EOF: stdin ends, the echo body
	 * finishes, its output is written to the (dead) channel */
	signal(SIGPIPE, SIG_IGN);
	shutdown(f->host, SHUT_WR);
	spawn(&f->sup, echo_body);
	assert_int_equal(supervise_run(&f->sup, &err), 7);
}

/* ---- exec sessions: a client thread plays `hull exec` over a Unix socket ---- */

struct exec_result {
	int connected;
	uint32_t pid;
	char out[512], err[512];
	size_t nout, nerr;
	int exit_code; /* -1: none */
	int errors;    /* ERROR frames */
	int frames;
	bool eof;
};

static int exec_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		abort();
	return fd;
}

/* Read frames until EOF (the guest closes a session after EXIT). */
static void exec_collect(int fd, struct exec_result *r)
{
	uint8_t type, *p;
	uint32_t len;

	r->exit_code = -1;
	while (peer_recv(fd, &type, &p, &len, 5000) == 1) {
		r->frames++;
		if (type == HCP_STARTED && len == 4)
			memcpy(&r->pid, p, 4);
		else if (type == HCP_STDOUT && r->nout + len < sizeof(r->out))
			memcpy(r->out + r->nout, p, len), r->nout += len;
		else if (type == HCP_STDERR && r->nerr + len < sizeof(r->err))
			memcpy(r->err + r->nerr, p, len), r->nerr += len;
		else if (type == HCP_EXIT && len == 4)
			r->exit_code = p[0];
		else if (type == HCP_ERROR)
			r->errors++;
		free(p);
	}
	r->eof = true;
}

static void exec_send(int fd, char **argv, size_t argc, char **envp, size_t envc, bool tty)
{
	struct hcp_spec x = {.argv = argv,
			     .argc = argc,
			     .envp = envp,
			     .envc = envc,
			     .tty = tty,
			     .rows = 10,
			     .cols = 20};
	uint8_t *buf;
	size_t len;

	if (hcp_exec_encode(&x, &buf, &len) < 0)
		abort();
	peer_send(fd, HCP_EXEC, buf, len);
	free(buf);
}

struct exec_client {
	const char *path;
	struct exec_result pipes, missing, tty, hostile, early_stdin, watch;
};

static void *exec_client_main(void *arg)
{
	struct exec_client *c = arg;
	char *argv[] = {"sh", "-c", "read a; echo \"o:$a:$X:$Y:$(pwd)\"; echo e >&2; exit 4", NULL};
	char *envp[] = {"X=2", "NOEQUALS", NULL};
	char *missing[] = {"/no/such/cmd", NULL};
	char *ttyargv[] = {"sh", "-c", "stty size; tty; echo e >&2", NULL};
	int fd;

	fd = exec_connect(c->path);
	exec_send(fd, argv, 3, envp, 2, false);
	peer_send(fd, HCP_STDIN, "in\n", 3);
	peer_send(fd, HCP_STDIN_EOF, NULL, 0);
	exec_collect(fd, &c->pipes);
	close(fd);

	fd = exec_connect(c->path);
	exec_send(fd, missing, 1, NULL, 0, false);
	exec_collect(fd, &c->missing);
	close(fd);

	fd = exec_connect(c->path);
	exec_send(fd, ttyargv, 3, NULL, 0, true);
	exec_collect(fd, &c->tty);
	close(fd);

	/* a session that starts with garbage or with STDIN ends; nothing else does */
	fd = exec_connect(c->path);
	peer_write_all(fd, "\x7f\0\0\0\0\0\0\0", 8);
	exec_collect(fd, &c->hostile);
	close(fd);
	fd = exec_connect(c->path);
	peer_send(fd, HCP_STDIN, "x", 1);
	exec_collect(fd, &c->early_stdin);
	close(fd);

	/* MAIN_SIGNAL: the main process gets it; the session gets its code */
	fd = exec_connect(c->path);
	peer_send_u32(fd, HCP_MAIN_SIGNAL, SIGTERM);
	exec_collect(fd, &c->watch);
	close(fd);
	return NULL;
}

static void test_exec_sessions(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/hull-exec-XXXXXX", path[64];
	char *base_env[] = {"PATH=/usr/bin:/bin", "X=1", "Y=base", NULL};
	gid_t groups[] = {0};
	struct user_ids ids = {.uid = 0, .gid = 0, .groups = groups, .ngroups = 1};
	struct execcfg_base base = {.envp = base_env, .cwd = "/tmp", .ids = &ids};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct exec_client c = {.path = path};
	struct errmsg err;
	pthread_t t;
	int lfd;

	if (geteuid() != 0)
		skip(); /* exec'd processes setgroups() like the container's */
	signal(SIGPIPE, SIG_IGN);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/exec.sock", dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 8), 0);

	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	pid_t main_pid = spawn(&f->sup, wait_for_signal_body);
	supervise_listen_exec(&f->sup, lfd, &base);
	assert_int_equal(pthread_create(&t, NULL, exec_client_main, &c), 0);
	assert_int_equal(supervise_run(&f->sup, &err), 128 + SIGTERM);
	pthread_join(t, NULL);
	unlink(path);
	rmdir(dir);

	/* pipes: env merged over the container's, cwd the container's */
	assert_true(c.pipes.pid > 0 && (pid_t)c.pipes.pid != main_pid);
	c.pipes.out[c.pipes.nout] = 0;
	assert_string_equal(c.pipes.out, "o:in:2:base:/tmp\n");
	c.pipes.err[c.pipes.nerr] = 0;
	assert_string_equal(c.pipes.err, "e\n");
	assert_int_equal(c.pipes.exit_code, 4);
	assert_true(c.pipes.eof);
	/* a command that is not there: ERROR then EXIT 127, no STARTED */
	assert_int_equal(c.missing.errors, 1);
	assert_int_equal(c.missing.exit_code, 127);
	assert_int_equal(c.missing.pid, 0);
	/* a pty: sized as asked, everything on STDOUT */
	c.tty.out[c.tty.nout] = 0;
	assert_non_null(strstr(c.tty.out, "10 20\r\n"));
	assert_non_null(strstr(c.tty.out, "/dev/pts/"));
	assert_non_null(strstr(c.tty.out, "e\r\n"));
	assert_int_equal(c.tty.nerr, 0);
	assert_int_equal(c.tty.exit_code, 0);
	/* hostile sessions are closed without an answer */
	assert_int_equal(c.hostile.frames, 0);
	assert_true(c.hostile.eof);
	assert_int_equal(c.early_stdin.frames, 0);
	/* the watcher learns the main process's code */
	assert_int_equal(c.watch.exit_code, 128 + SIGTERM);
}

int main(void)
{
	/* Orphans of the stand-in containers must come back to this process. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_spec_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_frames_before_spec_are_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_before_spec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guest_type_from_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_spec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_signal_payload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stdin_after_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hangup_before_spec, setup, teardown),
	    cmocka_unit_test(test_exit_code),
	    cmocka_unit_test_setup_teardown(test_run_stdio_and_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stdin_queued_before_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signal_frame_forwarded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_signal_delivered_on_attach, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_signal_to_init_forwarded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_chunked_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_bulk_both_streams, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orphans_holding_pipes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_spec_is_fatal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_sessions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_hangup_lets_container_finish, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
