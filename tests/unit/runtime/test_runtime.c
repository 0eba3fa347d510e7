/* runtime: the API of runtime/runtime.h driven end to end without a VM: a
 * fake VM process (fake_vm.h) speaks hcp as guest-init does, so create,
 * start, wait, signal, stop, exec, output, stdin, exit statuses, the
 * supervisor's socket, the log and the recorded state are all the
 * runtime's real code. */
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
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "fake_vm.h"
#include "common/readfile.h"
#include "runtime/ctrlog.h"
#include "runtime/state.h"
#include "runtime/runtime.h"

static char root[64];

struct cap {
	char out[4096], err[4096], diag[8192];
	size_t n_out, n_err, n_diag;
	int event_fd;
	int action; /* what on_event does: a signal, or STOP */
	int events;
	bool try_pause; /* on_event also asks for a pause: pause_rc */
	int pause_rc;
};
#define STOP (-1)

static void add(char *buf, size_t *n, size_t cap, const void *b, size_t len)
{
	if (*n + len >= cap)
		len = cap - 1 - *n;
	memcpy(buf + *n, b, len);
	*n += len;
	buf[*n] = '\0';
}

static void cap_output(void *ctx, int stream, const uint8_t *b, size_t n)
{
	struct cap *c = ctx;
	if (stream == 1)
		add(c->out, &c->n_out, sizeof(c->out), b, n);
	else
		add(c->err, &c->n_err, sizeof(c->err), b, n);
}

static void cap_diag(void *ctx, const char *b, size_t n)
{
	struct cap *c = ctx;
	add(c->diag, &c->n_diag, sizeof(c->diag), b, n);
}

static int cap_winsize(void *ctx, uint16_t *rows, uint16_t *cols)
{
	(void)ctx;
	*rows = 33;
	*cols = 99;
	return 0;
}

static void cap_event(void *ctx, struct rt_session *s)
{
	struct cap *c = ctx;
	uint64_t v;
	assert_int_equal(read(c->event_fd, &v, sizeof(v)), sizeof(v));
	c->events++;
	if (c->try_pause) {
		struct errmsg err;
		c->pause_rc = rt_session_pause(s, true, &err);
	}
	if (c->action == STOP)
		assert_int_equal(rt_session_stop(s), 0);
	else
		assert_int_equal(rt_session_signal(s, c->action), 0);
}

static struct rt_io io_for(struct cap *c, int in_fd)
{
	memset(c, 0, sizeof(*c));
	c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(c->event_fd >= 0);
	return (struct rt_io){.ctx = c,
			      .in_fd = in_fd,
			      .output = cap_output,
			      .diag = cap_diag,
			      .winsize = cap_winsize,
			      .event_fd = c->event_fd,
			      .on_event = cap_event};
}

static void poke(struct cap *c, int action)
{
	uint64_t one = 1;
	c->action = action;
	assert_int_equal(write(c->event_fd, &one, sizeof(one)), sizeof(one));
}

static char *args_echo[] = {"echo", "hello", "world"};

static struct rt_config config(char **argv, size_t argc)
{
	return (struct rt_config){
	    .image = "fake:latest",
	    .digest = "sha256:0123",
	    .rootfs = "/images/fake.ext4",
	    .process = {.argv = argv, .argc = argc},
	    .cpus = 2,
	    .mem_bytes = 256ull << 20,
	    .kernel = "/fake/vmlinux",
	    .initrd = "/fake/initramfs",
	    .template_root = "/fake/templates",
	    .stop_timeout = 10,
	    .vm = &fake_vm_ops,
	};
}

static int setup(void **st)
{
	(void)st;
	snprintf(root, sizeof(root), "/tmp/hull-rt.XXXXXX");
	assert_non_null(mkdtemp(root));
	setenv("HULL_RUNTIME_DIR", root, 1);
	signal(SIGPIPE, SIG_IGN);
	fake_vm_template_fits = false;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* create, start, wait, close: the whole life, with *id kept */
static int run(const struct rt_config *cfg, struct rt_io *io, char *id, size_t idn)
{
	struct errmsg err;
	struct rt_container *c;
	assert_int_equal(rt_create(cfg, &c, &err), 0);
	if (id)
		snprintf(id, idn, "%s", rt_container_id(c));
	int rc = rt_start(c, io, &err);
	if (rc)
		fail_msg("rt_start: %s", err.text);
	int status = rt_wait(c);
	rt_close(c);
	return status;
}

static void test_run_echo(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	struct rt_config cfg = config(args_echo, 3);
	cfg.name = "greeter";
	char id[80];
	assert_int_equal(run(&cfg, &io, id, sizeof(id)), 0);
	assert_string_equal(c.out, "hello world\n");
	/* what reached the VM: a cold boot saves the template, then the image */
	assert_int_equal(fake_vm_last.cpus, 2);
	assert_int_equal(fake_vm_last.mem, 256ull << 20);
	assert_true(fake_vm_last.template_root);
	assert_int_equal(fake_vm_last.templates_saved, 1);
	assert_string_equal(fake_vm_last.disk, "/images/fake.ext4");
	/* recorded: exited 0, by name and by id */
	struct runtime_state s;
	struct errmsg err;
	assert_int_equal(rt_inspect("greeter", &s, &err), 0);
	assert_string_equal(s.id, id);
	assert_int_equal(s.status, RUNTIME_EXITED);
	assert_int_equal(s.exit_code, 0);
	assert_null(s.error);
	assert_string_equal(s.image, "fake:latest");
	assert_string_equal(s.cmd[0], "echo");
	/* the log has the output */
	char *log = runtime_path(&s, RUNTIME_LOG_FILE);
	struct ctrlog_reader r;
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ctrlog_reader_open(log, SIZE_MAX, &r), 0);
	assert_int_equal(ctrlog_pump(&r, p[1], p[1]), 0);
	char buf[64] = {0};
	assert_int_equal(read(p[0], buf, sizeof(buf) - 1), 12);
	assert_string_equal(buf, "hello world\n");
	ctrlog_reader_close(&r);
	close(p[0]);
	close(p[1]);
	free(log);
	runtime_state_free(&s);
	/* removed on request */
	assert_int_equal(rt_delete(id, false, &err), 0);
	assert_int_equal(rt_inspect(id, &s, &err), -ENOENT);
	close(c.event_fd);
}

static void test_restored_saves_no_template(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	struct rt_config cfg = config(args_echo, 2);
	cfg.auto_remove = true;
	fake_vm_template_fits = true;
	char id[80];
	assert_int_equal(run(&cfg, &io, id, sizeof(id)), 0);
	assert_int_equal(fake_vm_last.templates_saved, 0);
	/* --rm: gone */
	struct runtime_state s;
	struct errmsg err;
	assert_int_equal(rt_inspect(id, &s, &err), -ENOENT);
	/* templates off: none saved either */
	fake_vm_template_fits = false;
	cfg.template_root = NULL;
	assert_int_equal(run(&cfg, &io, NULL, 0), 0);
	assert_false(fake_vm_last.template_root);
	assert_int_equal(fake_vm_last.templates_saved, 0);
	close(c.event_fd);
}

static void test_exit_status_and_error(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	char *ex[] = {"exit", "3"};
	struct rt_config cfg = config(ex, 2);
	assert_int_equal(run(&cfg, &io, NULL, 0), 3);
	/* guest-init cannot run it: its ERROR is hull's message, status 127 */
	char *nf[] = {"fail"};
	cfg = config(nf, 1);
	assert_int_equal(run(&cfg, &io, NULL, 0), 127);
	assert_non_null(strstr(c.diag, "hull: fake: no such command\n"));
	close(c.event_fd);
}

/* The run `argv` ends with status; diag, the state's error and the log all
 * have note. */
static void ends_recorded(char *argv[], int status, const char *diag, const char *note)
{
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	struct rt_config cfg = config(argv, 1);
	char id[80];
	assert_int_equal(run(&cfg, &io, id, sizeof(id)), status);
	assert_non_null(strstr(c.diag, diag));
	struct runtime_state s;
	struct errmsg err;
	assert_int_equal(rt_inspect(id, &s, &err), 0);
	assert_int_equal(s.exit_code, status);
	assert_non_null(s.error);
	assert_non_null(strstr(s.error, note));
	char *lp = runtime_path(&s, RUNTIME_LOG_FILE), *log = NULL;
	size_t n;
	assert_non_null(lp);
	assert_int_equal(readfile(lp, 1 << 20, &log, &n), 0);
	assert_non_null(strstr(log, note));
	free(log);
	free(lp);
	runtime_state_free(&s);
	close(c.event_fd);
}

/* guest-init's word on how the running container ended (its OOM killer) */
static void test_note_after_start(void **st)
{
	(void)st;
	char *oo[] = {"oom"};
	const char *note = "the container's process was killed by the guest's OOM killer";
	ends_recorded(oo, 137, note, note);
}

/* the panic line names the end, escaped, to the end of its line */
static void test_guest_panics(void **st)
{
	(void)st;
	char *pa[] = {"panic"};
	ends_recorded(pa, RT_EXIT_FAILED,
		      "hull: the VM stopped (the guest kernel panicked: Attempted to kill init! "
		      "?[2Jexitcode=0x5) before the container reported an exit status",
		      "the guest kernel panicked: Attempted to kill init!");
}

static void test_vm_dies(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	char *cr[] = {"crash"};
	struct rt_config cfg = config(cr, 1);
	char id[80];
	assert_int_equal(run(&cfg, &io, id, sizeof(id)), RT_EXIT_FAILED);
	/* said why, with the console's last words */
	assert_non_null(strstr(c.diag, "before the container reported an exit status"));
	assert_non_null(strstr(c.diag, "fake console\\x1b[2J\n")); /* escaped */
	assert_null(strchr(c.diag, '\x1b'));
	struct runtime_state s;
	struct errmsg err;
	assert_int_equal(rt_inspect(id, &s, &err), 0);
	assert_int_equal(s.status, RUNTIME_EXITED);
	assert_int_equal(s.exit_code, RT_EXIT_FAILED);
	assert_non_null(s.error);
	/* the monitor's why is in the state (hull ps, inspect) and in the log */
	assert_non_null(strstr(s.error, "fake guest status"));
	char *lp = runtime_path(&s, RUNTIME_LOG_FILE), *log = NULL;
	size_t n;
	assert_non_null(lp);
	assert_int_equal(readfile(lp, 1 << 20, &log, &n), 0);
	assert_non_null(strstr(log, "hull: the VM stopped ("));
	assert_non_null(strstr(log, "fake guest status"));
	free(log);
	free(lp);
	runtime_state_free(&s);
	close(c.event_fd);
}

/* A guest that never says READY: the run gives up after ready_timeout with
 * a clear message and 125, the VM stopped, the state recording why. */
static void test_never_ready(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	struct rt_config cfg = config(args_echo, 3);
	cfg.ready_timeout = 1;
	fake_vm_never_ready = true;
	char id[80];
	uint64_t t0 = clock_now_ns();
	assert_int_equal(run(&cfg, &io, id, sizeof(id)), RT_EXIT_FAILED);
	fake_vm_never_ready = false;
	uint64_t took = clock_now_ns() - t0;
	assert_true(took >= 1000000000ull);
	assert_non_null(strstr(c.diag, "did not report ready within 1 s"));
	assert_non_null(strstr(c.diag, "fake console")); /* the console's last words */
	assert_true(fake_vm_last.stops >= 1);
	assert_int_equal(fake_vm_last.templates_saved, 0);
	struct runtime_state s;
	struct errmsg err;
	assert_int_equal(rt_inspect(id, &s, &err), 0);
	assert_int_equal(s.exit_code, RT_EXIT_FAILED);
	assert_non_null(s.error);
	assert_non_null(strstr(s.error, "did not report ready"));
	runtime_state_free(&s);
	close(c.event_fd);
}

static void test_stdin(void **st)
{
	(void)st;
	int p[2];
	assert_int_equal(pipe(p), 0);
	static char big[100000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	/* more than one chunk, and more than the pipe holds: written from a
	 * child while the session reads */
	pid_t w = fork();
	if (w == 0) {
		close(p[0]);
		_exit(write(p[1], big, sizeof(big)) == (ssize_t)sizeof(big) ? 0 : 1);
	}
	close(p[1]);
	struct cap c;
	struct rt_io io = io_for(&c, p[0]);
	char *cat[] = {"cat"};
	struct rt_config cfg = config(cat, 1);
	cfg.process.stdin_open = true;
	static struct cap big_cap; /* c.out is too small: count only */
	(void)big_cap;
	assert_int_equal(run(&cfg, &io, NULL, 0), 0);
	/* the capture keeps the first 4095 bytes */
	assert_int_equal(c.n_out, sizeof(c.out) - 1);
	assert_memory_equal(c.out, big, c.n_out);
	close(p[0]);
	close(c.event_fd);
}

static void test_closed_stdin(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	char *cat[] = {"cat"};
	struct rt_config cfg = config(cat, 1);
	/* stdin not open: the process reads an empty stdin and ends */
	assert_int_equal(run(&cfg, &io, NULL, 0), 0);
	assert_int_equal(c.n_out, 0);
	close(c.event_fd);
}

static void test_process_config(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	char *env[] = {"env"}, *vars[] = {"A=1", "B=two"};
	struct rt_config cfg = config(env, 1);
	cfg.process.env = vars;
	cfg.process.n_env = 2;
	cfg.process.cwd = "/work";
	cfg.process.user = "1000:1000";
	cfg.process.tty = true;
	cfg.hostname = "box";
	assert_int_equal(run(&cfg, &io, NULL, 0), 0);
	assert_string_equal(c.out,
			    "A=1\nB=two\ncwd=/work\nuser=1000:1000\nhost=box\ntty=1 33x99\n");
	/* defaults: cwd /, root, a random 12-digit hostname */
	c.n_out = 0;
	cfg = config(env, 1);
	assert_int_equal(run(&cfg, &io, NULL, 0), 0);
	char host[32];
	assert_non_null(strstr(c.out, "cwd=/\nuser=\nhost="));
	assert_int_equal(sscanf(strstr(c.out, "host=") + 5, "%31s", host), 1);
	assert_int_equal(strlen(host), 12);
	close(c.event_fd);
}

static void test_signal(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	char *sl[] = {"sleep"};
	struct rt_config cfg = config(sl, 1);
	struct rt_container *ct;
	struct errmsg err;
	assert_int_equal(rt_create(&cfg, &ct, &err), 0);
	assert_int_equal(rt_start(ct, &io, &err), 0);
	/* rt_start returned: the process runs, and is recorded so */
	struct runtime_state s;
	assert_int_equal(rt_inspect(rt_container_id(ct), &s, &err), 0);
	runtime_state_free(&s);
	/* the fake VM has no monitor process and cannot pause: said so */
	assert_int_equal(rt_container_vmm_pid(ct), 0);
	c.try_pause = true;
	poke(&c, SIGUSR1);
	assert_int_equal(rt_wait(ct), 128 + SIGUSR1);
	assert_int_equal(c.events, 1);
	assert_int_equal(c.pause_rc, -ENOTSUP);
	rt_close(ct);
	close(c.event_fd);
}

static void test_stop_sequence(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	char *sb[] = {"stubborn"};
	struct rt_config cfg = config(sb, 1);
	cfg.stop_signal = SIGQUIT;
	cfg.stop_timeout = 0; /* SIGKILL right after the stop signal */
	struct rt_container *ct;
	struct errmsg err;
	assert_int_equal(rt_create(&cfg, &ct, &err), 0);
	assert_int_equal(rt_start(ct, &io, &err), 0);
	poke(&c, STOP);
	assert_int_equal(rt_wait(ct), 128 + SIGKILL);
	char want[32];
	snprintf(want, sizeof(want), "got %d\ngot %d\n", SIGQUIT, SIGKILL);
	assert_string_equal(c.out, want);
	rt_close(ct);
	close(c.event_fd);
}

struct killer {
	char id[80];
	int sig, rc;
};

static void *kill_thread(void *arg)
{
	struct killer *k = arg;
	struct errmsg err;
	k->rc = rt_kill(k->id, k->sig, &err);
	return NULL;
}

static void test_kill_through_supervisor(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	char *sl[] = {"sleep"};
	struct rt_config cfg = config(sl, 1);
	cfg.name = "sleeper";
	struct rt_container *ct;
	struct errmsg err;
	assert_int_equal(rt_create(&cfg, &ct, &err), 0);
	assert_int_equal(rt_start(ct, &io, &err), 0);
	/* another "process" asks the supervisor (its socket), which runs in
	 * this one's session loop */
	struct killer k = {.sig = SIGTERM};
	snprintf(k.id, sizeof(k.id), "sleeper");
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, kill_thread, &k), 0);
	assert_int_equal(rt_wait(ct), 128 + SIGTERM);
	pthread_join(t, NULL);
	assert_int_equal(k.rc, 0);
	/* a running container cannot be deleted without force */
	rt_close(ct);
	assert_int_equal(rt_kill("sleeper", SIGTERM, &err), -EINVAL); /* not running */
	assert_int_equal(rt_delete("sleeper", false, &err), 0);
	close(c.event_fd);
}

static void test_exec(void **st)
{
	(void)st;
	struct cap c, xc;
	struct rt_io io = io_for(&c, -1);
	struct rt_io xio = io_for(&xc, -1);
	char *sl[] = {"sleep"};
	struct rt_config cfg = config(sl, 1);
	cfg.name = "host";
	struct rt_container *ct;
	struct errmsg err;
	assert_int_equal(rt_create(&cfg, &ct, &err), 0);
	assert_int_equal(rt_start(ct, &io, &err), 0);
	/* the exec session needs the container's session loop only for the
	 * container itself: the fake guest serves the exec port on its own */
	struct rt_process p = {.argv = args_echo, .argc = 3};
	struct rt_exec *x;
	if (rt_exec_start("host", &p, &xio, &x, &err))
		fail_msg("rt_exec_start: %s", err.text);
	int xs = rt_exec_wait(x);
	if (xs)
		fail_msg("exec: %d: %s", xs, xc.diag);
	assert_string_equal(xc.out, "hello world\n");
	rt_exec_free(x);
	/* exit statuses come through exec as well */
	char *ex[] = {"exit", "9"};
	p = (struct rt_process){.argv = ex, .argc = 2};
	assert_int_equal(rt_exec_start("host", &p, &xio, &x, &err), 0);
	assert_int_equal(rt_exec_wait(x), 9);
	rt_exec_free(x);
	/* its own rlimits reach the guest in the exec spec */
	char *en[] = {"env"};
	const struct hcp_ulimit ul[] = {{7, 4321, 5000}};
	p = (struct rt_process){.argv = en, .argc = 1, .ulimits = ul, .n_ulimits = 1};
	xc.n_out = 0;
	assert_int_equal(rt_exec_start("host", &p, &xio, &x, &err), 0);
	assert_int_equal(rt_exec_wait(x), 0);
	assert_non_null(strstr(xc.out, "\nulimit=7 4321 5000\n"));
	rt_exec_free(x);
	/* ...which a container's process cannot carry (rt_confine has them) */
	struct rt_container *bad;
	cfg.name = "bad";
	cfg.process.ulimits = ul;
	cfg.process.n_ulimits = 1;
	assert_int_equal(rt_create(&cfg, &bad, &err), -EINVAL);
	assert_non_null(strstr(err.text, "rt_confine"));
	/* no such container */
	p = (struct rt_process){.argv = ex, .argc = 2};
	assert_int_equal(rt_exec_start("nobody", &p, &xio, &x, &err), -ENOENT);
	poke(&c, SIGINT);
	assert_int_equal(rt_wait(ct), 128 + SIGINT);
	rt_close(ct);
	/* not running any more */
	assert_true(rt_exec_start("host", &p, &xio, &x, &err) < 0);
	assert_non_null(strstr(err.text, "not running"));
	close(c.event_fd);
	close(xc.event_fd);
}

static int count_one(void *ctx, struct runtime_state *s)
{
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

static void test_list(void **st)
{
	(void)st;
	struct cap c;
	struct rt_io io = io_for(&c, -1);
	struct rt_config cfg = config(args_echo, 1);
	struct errmsg err;
	int before = 0, after = 0;
	assert_int_equal(rt_list(count_one, &before, &err), 0);
	assert_int_equal(run(&cfg, &io, NULL, 0), 0);
	assert_int_equal(run(&cfg, &io, NULL, 0), 0);
	assert_int_equal(rt_list(count_one, &after, &err), 0);
	assert_int_equal(after, before + 2);
	close(c.event_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_echo),
	    cmocka_unit_test(test_restored_saves_no_template),
	    cmocka_unit_test(test_exit_status_and_error),
	    cmocka_unit_test(test_guest_panics),
	    cmocka_unit_test(test_note_after_start),
	    cmocka_unit_test(test_vm_dies),
	    cmocka_unit_test(test_never_ready),
	    cmocka_unit_test(test_stdin),
	    cmocka_unit_test(test_closed_stdin),
	    cmocka_unit_test(test_process_config),
	    cmocka_unit_test(test_signal),
	    cmocka_unit_test(test_stop_sequence),
	    cmocka_unit_test(test_kill_through_supervisor),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
