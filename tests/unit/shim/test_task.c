/* The task v2 service over a mock backend, driven through a real ttrpc
 * connection with the requests containerd sends. */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "shim/task.h"
#include "metrics.pb-c.h"
#include "task.pb-c.h"
#include "ttrpc.pb-c.h"

/* ---- mock backend ---- */

struct mock {
	struct shim_task *task;
	int created, started, removed, closed_stdin, paused;
	int last_signal;
	char log[1024]; /* backend calls, space separated */
	int out_fd;	/* stdout fd handed over at create */
	pthread_mutex_t m;
	char events[16][40];
	int n_events;
	int shutdowns;
};

static void logf_(struct mock *mk, const char *s)
{
	strncat(mk->log, s, sizeof(mk->log) - strlen(mk->log) - 1);
	strncat(mk->log, " ", sizeof(mk->log) - strlen(mk->log) - 1);
}

static int m_create(void *be, const struct shim_create *c, uint32_t *pid, struct errmsg *err)
{
	struct mock *mk = be;
	if (strcmp(c->id, "refuse") == 0)
		return errmsg_set(err, -EINVAL, "config.json: no process");
	mk->created++;
	assert_int_equal(c->n_rootfs, 1);
	assert_string_equal(c->rootfs[0].type, "overlay");
	assert_int_equal(c->rootfs[0].n_options, 2);
	mk->out_fd = c->io.out;
	if (c->io.in >= 0)
		close(c->io.in);
	if (c->io.err >= 0)
		close(c->io.err);
	*pid = 4242;
	logf_(mk, "create");
	return 0;
}

static int m_start(void *be, const char *exec_id, uint32_t *pid, struct errmsg *err)
{
	struct mock *mk = be;
	(void)err;
	mk->started++;
	*pid = exec_id[0] ? 5000 : 0; /* init: keep the create pid */
	logf_(mk, exec_id[0] ? "start-exec" : "start");
	if (mk->out_fd >= 0 && !exec_id[0])
		assert_int_equal(write(mk->out_fd, "hi\n", 3), 3);
	return 0;
}

static int m_exec(void *be, const char *exec_id, const uint8_t *spec, size_t len,
		  const struct shim_io *io, struct errmsg *err)
{
	struct mock *mk = be;
	(void)exec_id;
	(void)err;
	assert_int_equal(len, 13);
	assert_memory_equal(spec, "{\"args\":[\"a\"]", 13);
	assert_int_equal(io->in, -1);
	logf_(mk, "exec");
	return 0;
}

static int m_signal(void *be, const char *exec_id, int signo, bool all, struct errmsg *err)
{
	struct mock *mk = be;
	(void)all;
	(void)err;
	mk->last_signal = signo;
	logf_(mk, "signal");
	if (signo == SIGKILL)
		shim_task_exited(mk->task, exec_id, 128 + signo);
	return 0;
}

static int m_resize(void *be, const char *exec_id, unsigned w, unsigned h, struct errmsg *err)
{
	(void)exec_id;
	(void)err;
	assert_int_equal(w, 100);
	assert_int_equal(h, 30);
	logf_(be, "resize");
	return 0;
}

static int m_close_stdin(void *be, const char *exec_id, struct errmsg *err)
{
	struct mock *mk = be;
	(void)exec_id;
	(void)err;
	mk->closed_stdin++;
	return 0;
}

static int m_pause(void *be, struct errmsg *err)
{
	(void)err;
	logf_(be, "pause");
	return 0;
}

static int m_resume(void *be, struct errmsg *err)
{
	(void)err;
	logf_(be, "resume");
	return 0;
}

static int m_stats(void *be, struct shim_stats *st, struct errmsg *err)
{
	(void)be;
	(void)err;
	*st = (struct shim_stats){.cpu_total_ns = 5000000,
				  .cpu_user_ns = 3000000,
				  .cpu_kernel_ns = 2000000,
				  .memory_usage_bytes = 50 << 20,
				  .memory_limit_bytes = 128 << 20,
				  .memory_max_usage_bytes = 60 << 20,
				  .memory_rss_bytes = 40 << 20,
				  .pids = 3,
				  .pids_limit = 128};
	return 0;
}

static int m_pids(void *be, uint32_t *pids, size_t max, size_t *n, struct errmsg *err)
{
	(void)be;
	(void)err;
	assert_true(max >= 2);
	pids[0] = 4242;
	pids[1] = 5000;
	*n = 2;
	return 0;
}

static int m_remove(void *be, const char *exec_id, struct errmsg *err)
{
	struct mock *mk = be;
	(void)err;
	mk->removed++;
	logf_(mk, exec_id[0] ? "remove-exec" : "remove");
	return 0;
}

static const struct shim_backend_ops mock_ops = {
    m_create, m_start,	m_exec,	 m_signal, m_resize, m_close_stdin,
    m_pause,  m_resume, m_stats, m_pids,   m_remove,
};

static void m_publish(void *ctx, const char *topic, const char *type, const uint8_t *ev, size_t len)
{
	struct mock *mk = ctx;
	(void)ev;
	(void)len;
	assert_non_null(strstr(type, "containerd.events.Task"));
	pthread_mutex_lock(&mk->m);
	if (mk->n_events < 16)
		snprintf(mk->events[mk->n_events++], 40, "%s", topic);
	pthread_mutex_unlock(&mk->m);
}

static void m_shutdown(void *ctx)
{
	struct mock *mk = ctx;
	mk->shutdowns++;
}

/* ---- a containerd-like client ---- */

struct env {
	struct mock mk;
	int cfd;
	pthread_t t;
	int sfd;
	uint32_t sid;
	char dir[32];
	char fifo_in[128], fifo_out[128];
	int out_reader;
};

static void *serve(void *arg)
{
	struct env *e = arg;
	struct errmsg err;
	ttrpc_serve_conn(e->sfd, shim_task_service(e->mk.task), 1, &err);
	return NULL;
}

static struct env the_env;

struct stashed {
	uint32_t sid;
	Ttrpc__Response *r;
};
static struct stashed stash[8];

static int setup(void **state)
{
	struct env *e = &the_env;
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->mk.m, NULL);
	e->mk.out_fd = -1;
	struct shim_task_config cfg = {
	    .id = "t1",
	    .bundle = "/run/c/default/t1",
	    .ops = &mock_ops,
	    .be = &e->mk,
	    .publish = m_publish,
	    .publish_ctx = &e->mk,
	    .shutdown = m_shutdown,
	    .shutdown_ctx = &e->mk,
	};
	struct errmsg err;
	assert_int_equal(shim_task_new(&cfg, &e->mk.task, &err), 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	e->cfd = sv[0];
	e->sfd = sv[1];
	e->sid = 1;
	assert_int_equal(pthread_create(&e->t, NULL, serve, e), 0);
	/* FIFOs as ctr makes them: the client holds the read end of stdout */
	snprintf(e->dir, sizeof(e->dir), "/tmp/shim-task-test.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->fifo_in, sizeof(e->fifo_in), "%.31s/t1-stdin", e->dir);
	snprintf(e->fifo_out, sizeof(e->fifo_out), "%.31s/t1-stdout", e->dir);
	assert_int_equal(mkfifo(e->fifo_in, 0600), 0);
	assert_int_equal(mkfifo(e->fifo_out, 0600), 0);
	e->out_reader = open(e->fifo_out, O_RDONLY | O_NONBLOCK);
	assert_true(e->out_reader >= 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	close(e->cfd);
	pthread_join(e->t, NULL);
	if (e->mk.out_fd >= 0)
		close(e->mk.out_fd);
	close(e->out_reader);
	unlink(e->fifo_in);
	unlink(e->fifo_out);
	rmdir(e->dir);
	for (size_t i = 0; i < 8; i++) {
		assert_null(stash[i].r); /* every reply was expected */
	}
	shim_task_free(e->mk.task);
	return 0;
}

static uint32_t send_call(struct env *e, const char *method, const void *payload, size_t len)
{
	Ttrpc__Request r = TTRPC__REQUEST__INIT;
	r.service = SHIM_TASK_SERVICE;
	r.method = (char *)method;
	r.payload.data = (uint8_t *)payload;
	r.payload.len = len;
	size_t n = ttrpc__request__get_packed_size(&r);
	uint8_t *buf = malloc(n + 1);
	ttrpc__request__pack(&r, buf);
	uint32_t sid = e->sid;
	e->sid += 2;
	assert_int_equal(ttrpc_write_frame(e->cfd, sid, TTRPC_REQUEST, 0, buf, n), 0);
	free(buf);
	return sid;
}

/* Replies may overtake each other (a Wait answered by a Kill's exit): frames
 * for other streams are kept until asked for. */
static Ttrpc__Response *read_reply(struct env *e, uint32_t sid)
{
	for (size_t i = 0; i < 8; i++) {
		if (stash[i].r && stash[i].sid == sid) {
			Ttrpc__Response *r = stash[i].r;
			stash[i].r = NULL;
			return r;
		}
	}
	for (;;) {
		struct ttrpc_hdr h;
		uint8_t *data;
		struct errmsg err;
		assert_int_equal(ttrpc_read_frame(e->cfd, TTRPC_MAX_DATA, &h, &data, &err), 0);
		Ttrpc__Response *r = ttrpc__response__unpack(NULL, h.len, data);
		free(data);
		assert_non_null(r);
		if (h.sid == sid)
			return r;
		size_t i = 0;
		while (i < 8 && stash[i].r)
			i++;
		assert_true(i < 8);
		stash[i] = (struct stashed){h.sid, r};
	}
}

#define CALL(e, method, type, msg, resp)                                                           \
	do {                                                                                       \
		size_t n_ = type##__get_packed_size(msg);                                          \
		uint8_t *b_ = malloc(n_ + 1);                                                      \
		type##__pack(msg, b_);                                                             \
		uint32_t s_ = send_call(e, method, b_, n_);                                        \
		free(b_);                                                                          \
		resp = read_reply(e, s_);                                                          \
	} while (0)

static int code(Ttrpc__Response *r)
{
	return r->status ? r->status->code : 0;
}

static void expect_code(Ttrpc__Response *r, int want, const char *msg_part)
{
	assert_int_equal(code(r), want);
	if (msg_part)
		assert_non_null(strstr(r->status->message, msg_part));
	ttrpc__response__free_unpacked(r, NULL);
}

static Ttrpc__Response *create(struct env *e, const char *id)
{
	char *opts[] = {"lowerdir=/a", "upperdir=/b"};
	Containerd__Task__V2__Mount m = CONTAINERD__TASK__V2__MOUNT__INIT;
	m.type = "overlay";
	m.source = "overlay";
	m.n_options = 2;
	m.options = opts;
	Containerd__Task__V2__Mount *ms[] = {&m};
	Containerd__Task__V2__CreateTaskRequest c = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	c.id = (char *)id;
	c.bundle = "/run/c/default/t1";
	c.n_rootfs = 1;
	c.rootfs = ms;
	c.stdin = e->fifo_in;
	c.stdout = e->fifo_out;
	Ttrpc__Response *r;
	CALL(e, "Create", containerd__task__v2__create_task_request, &c, r);
	return r;
}

static Containerd__Task__V2__StateResponse *state_of(struct env *e, const char *exec_id)
{
	Containerd__Task__V2__StateRequest s = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	s.id = "t1";
	s.exec_id = (char *)exec_id;
	Ttrpc__Response *r;
	CALL(e, "State", containerd__task__v2__state_request, &s, r);
	assert_int_equal(code(r), 0);
	Containerd__Task__V2__StateResponse *st =
	    containerd__task__v2__state_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_non_null(st);
	ttrpc__response__free_unpacked(r, NULL);
	return st;
}

static Ttrpc__Response *simple(struct env *e, const char *method, const char *exec_id)
{
	/* Start, Delete, Wait, State share {id=1, exec_id=2} */
	Containerd__Task__V2__StartRequest s = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	s.id = "t1";
	s.exec_id = (char *)exec_id;
	Ttrpc__Response *r;
	CALL(e, method, containerd__task__v2__start_request, &s, r);
	return r;
}

static uint32_t send_wait(struct env *e, const char *exec_id)
{
	Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	w.id = "t1";
	w.exec_id = (char *)exec_id;
	uint8_t b[64];
	size_t n = containerd__task__v2__wait_request__pack(&w, b);
	return send_call(e, "Wait", b, n);
}

static Ttrpc__Response *kill_(struct env *e, const char *exec_id, uint32_t sig)
{
	Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	k.id = "t1";
	k.exec_id = (char *)exec_id;
	k.signal = sig;
	Ttrpc__Response *r;
	CALL(e, "Kill", containerd__task__v2__kill_request, &k, r);
	return r;
}

static void shutdown_(struct env *e)
{
	Containerd__Task__V2__ShutdownRequest s = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	s.id = "t1";
	Ttrpc__Response *r;
	CALL(e, "Shutdown", containerd__task__v2__shutdown_request, &s, r);
	expect_code(r, 0, NULL);
}

/* ---- tests ---- */

/* ctr run --rm, as containerd 1.6 sequences it. */
static void test_lifecycle(void **state)
{
	struct env *e = *state;
	Ttrpc__Response *r = create(e, "t1");
	assert_int_equal(code(r), 0);
	Containerd__Task__V2__CreateTaskResponse *cr =
	    containerd__task__v2__create_task_response__unpack(NULL, r->payload.len,
							       r->payload.data);
	assert_int_equal(cr->pid, 4242);
	containerd__task__v2__create_task_response__free_unpacked(cr, NULL);
	ttrpc__response__free_unpacked(r, NULL);

	Containerd__Task__V2__ConnectRequest cn = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	cn.id = "t1";
	CALL(e, "Connect", containerd__task__v2__connect_request, &cn, r);
	Containerd__Task__V2__ConnectResponse *cresp =
	    containerd__task__v2__connect_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_int_equal(cresp->shim_pid, (uint32_t)getpid());
	assert_int_equal(cresp->task_pid, 4242);
	containerd__task__v2__connect_response__free_unpacked(cresp, NULL);
	ttrpc__response__free_unpacked(r, NULL);

	Containerd__Task__V2__StateResponse *st = state_of(e, "");
	assert_int_equal(st->status, CONTAINERD__TASK__V2__STATUS__CREATED);
	assert_null(st->exited_at);
	assert_string_equal(st->stdout, e->fifo_out);
	containerd__task__v2__state_response__free_unpacked(st, NULL);

	r = simple(e, "Start", "");
	assert_int_equal(code(r), 0);
	ttrpc__response__free_unpacked(r, NULL);
	char out[8] = {0};
	assert_int_equal(read(e->out_reader, out, sizeof(out)), 3); /* the backend's output */
	assert_string_equal(out, "hi\n");

	uint32_t wsid = send_wait(e, ""); /* blocks until the exit */
	st = state_of(e, "");		  /* answered meanwhile */
	assert_int_equal(st->status, CONTAINERD__TASK__V2__STATUS__RUNNING);
	assert_int_equal(st->pid, 4242);
	containerd__task__v2__state_response__free_unpacked(st, NULL);

	expect_code(simple(e, "Delete", ""), TTRPC_FAILED_PRECONDITION, "running");
	expect_code(kill_(e, "", 2), 0, NULL);
	assert_int_equal(e->mk.last_signal, 2);
	expect_code(kill_(e, "", 9), 0, NULL); /* the mock exits on SIGKILL */

	r = read_reply(e, wsid);
	assert_int_equal(code(r), 0);
	Containerd__Task__V2__WaitResponse *w =
	    containerd__task__v2__wait_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_int_equal(w->exit_status, 137);
	assert_non_null(w->exited_at);
	assert_true(w->exited_at->seconds > 1700000000);
	containerd__task__v2__wait_response__free_unpacked(w, NULL);
	ttrpc__response__free_unpacked(r, NULL);

	st = state_of(e, "");
	assert_int_equal(st->status, CONTAINERD__TASK__V2__STATUS__STOPPED);
	assert_int_equal(st->exit_status, 137);
	assert_non_null(st->exited_at);
	containerd__task__v2__state_response__free_unpacked(st, NULL);
	expect_code(kill_(e, "", 15), TTRPC_NOT_FOUND, "already finished");

	/* a Wait after the exit answers at once */
	r = read_reply(e, send_wait(e, ""));
	assert_int_equal(code(r), 0);
	ttrpc__response__free_unpacked(r, NULL);

	r = simple(e, "Delete", "");
	assert_int_equal(code(r), 0);
	Containerd__Task__V2__DeleteResponse *d =
	    containerd__task__v2__delete_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_int_equal(d->pid, 4242);
	assert_int_equal(d->exit_status, 137);
	assert_non_null(d->exited_at);
	containerd__task__v2__delete_response__free_unpacked(d, NULL);
	ttrpc__response__free_unpacked(r, NULL);
	assert_int_equal(e->mk.removed, 1);
	expect_code(simple(e, "State", ""), TTRPC_NOT_FOUND, "not created");

	shutdown_(e);
	assert_int_equal(e->mk.shutdowns, 1);
	assert_string_equal(e->mk.log, "create start signal signal remove ");
	assert_int_equal(e->mk.n_events, 4);
	assert_string_equal(e->mk.events[0], "/tasks/create");
	assert_string_equal(e->mk.events[1], "/tasks/start");
	assert_string_equal(e->mk.events[2], "/tasks/exit");
	assert_string_equal(e->mk.events[3], "/tasks/delete");
}

static void test_errors(void **state)
{
	struct env *e = *state;
	expect_code(simple(e, "Start", ""), TTRPC_NOT_FOUND, "not created");
	Containerd__Task__V2__StartRequest s = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	s.id = "other";
	Ttrpc__Response *r;
	CALL(e, "Start", containerd__task__v2__start_request, &s, r);
	expect_code(r, TTRPC_NOT_FOUND, "this shim runs task t1");

	expect_code(create(e, "refuse"), TTRPC_NOT_FOUND, NULL); /* id checked first */
	static const uint8_t junk[] = {0x0a, 0x50, 'x'};
	expect_code(read_reply(e, send_call(e, "Create", junk, sizeof(junk))),
		    TTRPC_INVALID_ARGUMENT, "Create");
	expect_code(read_reply(e, send_call(e, "Stats", NULL, 0)), TTRPC_NOT_FOUND,
		    "this shim runs task t1");
	Containerd__Task__V2__StatsRequest sq = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
	sq.id = "t1";
	CALL(e, "Stats", containerd__task__v2__stats_request, &sq, r);
	expect_code(r, TTRPC_NOT_FOUND, "not created");
	expect_code(read_reply(e, send_call(e, "Checkpoint", NULL, 0)), TTRPC_UNIMPLEMENTED, NULL);
	expect_code(read_reply(e, send_call(e, "Nope", NULL, 0)), TTRPC_UNIMPLEMENTED, "Nope");

	expect_code(create(e, "t1"), 0, NULL);
	expect_code(create(e, "t1"), TTRPC_ALREADY_EXISTS, NULL);
	expect_code(kill_(e, "", 0), TTRPC_INVALID_ARGUMENT, "signal 0");
	expect_code(kill_(e, "", 99), TTRPC_INVALID_ARGUMENT, NULL);
	expect_code(kill_(e, "nope", 9), TTRPC_NOT_FOUND, "exec process nope");
	char long_id[SHIM_ID_MAX + 2];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = 0;
	expect_code(simple(e, "State", long_id), TTRPC_INVALID_ARGUMENT, "longer");

	/* Shutdown with a task left: the shim stays */
	shutdown_(e);
	assert_int_equal(e->mk.shutdowns, 0);
	/* Delete of a created, never started task */
	r = simple(e, "Delete", "");
	assert_int_equal(code(r), 0);
	Containerd__Task__V2__DeleteResponse *d =
	    containerd__task__v2__delete_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_int_equal(d->exit_status, 137);
	containerd__task__v2__delete_response__free_unpacked(d, NULL);
	ttrpc__response__free_unpacked(r, NULL);
	shutdown_(e);
	assert_int_equal(e->mk.shutdowns, 1);
}

static void test_bad_stdio(void **state)
{
	struct env *e = *state;
	Containerd__Task__V2__CreateTaskRequest c = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	c.id = "t1";
	c.stdout = "binary:///usr/bin/logger";
	Ttrpc__Response *r;
	CALL(e, "Create", containerd__task__v2__create_task_request, &c, r);
	expect_code(r, TTRPC_UNIMPLEMENTED, "binary:///usr/bin/logger");
	c.stdout = "/nonexistent/fifo";
	CALL(e, "Create", containerd__task__v2__create_task_request, &c, r);
	expect_code(r, TTRPC_INVALID_ARGUMENT, "/nonexistent/fifo");
	assert_int_equal(e->mk.created, 0);
}

static void test_exec_pause_resize(void **state)
{
	struct env *e = *state;
	expect_code(create(e, "t1"), 0, NULL);
	expect_code(simple(e, "Start", ""), 0, NULL);

	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
	spec.value.data = (uint8_t *)"{\"args\":[\"a\"]";
	spec.value.len = 13;
	Containerd__Task__V2__ExecProcessRequest x =
	    CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	x.id = "t1";
	x.exec_id = "x1";
	x.spec = &spec;
	Ttrpc__Response *r;
	CALL(e, "Exec", containerd__task__v2__exec_process_request, &x, r);
	expect_code(r, 0, NULL);
	CALL(e, "Exec", containerd__task__v2__exec_process_request, &x, r);
	expect_code(r, TTRPC_ALREADY_EXISTS, "x1");

	Containerd__Task__V2__StateResponse *st = state_of(e, "x1");
	assert_int_equal(st->status, CONTAINERD__TASK__V2__STATUS__CREATED);
	assert_string_equal(st->id, "x1");
	containerd__task__v2__state_response__free_unpacked(st, NULL);
	expect_code(simple(e, "Start", "x1"), 0, NULL);
	expect_code(simple(e, "Start", "x1"), TTRPC_FAILED_PRECONDITION, "running");
	uint32_t wsid = send_wait(e, "x1");
	shim_task_exited(e->mk.task, "x1", 3);
	r = read_reply(e, wsid);
	Containerd__Task__V2__WaitResponse *w =
	    containerd__task__v2__wait_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_int_equal(w->exit_status, 3);
	containerd__task__v2__wait_response__free_unpacked(w, NULL);
	ttrpc__response__free_unpacked(r, NULL);
	expect_code(simple(e, "Delete", "x1"), 0, NULL);
	expect_code(simple(e, "State", "x1"), TTRPC_NOT_FOUND, "x1");

	Containerd__Task__V2__ResizePtyRequest rz = CONTAINERD__TASK__V2__RESIZE_PTY_REQUEST__INIT;
	rz.id = "t1";
	rz.width = 100;
	rz.height = 30;
	CALL(e, "ResizePty", containerd__task__v2__resize_pty_request, &rz, r);
	expect_code(r, 0, NULL);

	Containerd__Task__V2__CloseIORequest ci = CONTAINERD__TASK__V2__CLOSE_IOREQUEST__INIT;
	ci.id = "t1";
	ci.stdin = 1;
	CALL(e, "CloseIO", containerd__task__v2__close_iorequest, &ci, r);
	expect_code(r, 0, NULL);
	assert_int_equal(e->mk.closed_stdin, 1);

	Containerd__Task__V2__PauseRequest pr = CONTAINERD__TASK__V2__PAUSE_REQUEST__INIT;
	pr.id = "t1";
	CALL(e, "Pause", containerd__task__v2__pause_request, &pr, r);
	expect_code(r, 0, NULL);
	st = state_of(e, "");
	assert_int_equal(st->status, CONTAINERD__TASK__V2__STATUS__PAUSED);
	containerd__task__v2__state_response__free_unpacked(st, NULL);
	CALL(e, "Resume", containerd__task__v2__pause_request, &pr, r);
	expect_code(r, 0, NULL);
	st = state_of(e, "");
	assert_int_equal(st->status, CONTAINERD__TASK__V2__STATUS__RUNNING);
	containerd__task__v2__state_response__free_unpacked(st, NULL);

	Containerd__Task__V2__PidsRequest pq = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
	pq.id = "t1";
	CALL(e, "Pids", containerd__task__v2__pids_request, &pq, r);
	assert_int_equal(code(r), 0);
	Containerd__Task__V2__PidsResponse *pids =
	    containerd__task__v2__pids_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_int_equal(pids->n_processes, 2);
	assert_int_equal(pids->processes[1]->pid, 5000);
	containerd__task__v2__pids_response__free_unpacked(pids, NULL);
	ttrpc__response__free_unpacked(r, NULL);

	/* Stats: cgroups v1 Metrics in an Any, with what ctr dereferences */
	Containerd__Task__V2__StatsRequest sq = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
	sq.id = "t1";
	CALL(e, "Stats", containerd__task__v2__stats_request, &sq, r);
	assert_int_equal(code(r), 0);
	Containerd__Task__V2__StatsResponse *sr =
	    containerd__task__v2__stats_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_non_null(sr);
	assert_non_null(sr->stats);
	assert_string_equal(sr->stats->type_url, "io.containerd.cgroups.v1.Metrics");
	Io__Containerd__Cgroups__V1__Metrics *m = io__containerd__cgroups__v1__metrics__unpack(
	    NULL, sr->stats->value.len, sr->stats->value.data);
	assert_non_null(m);
	assert_non_null(m->cpu);
	assert_non_null(m->cpu->usage);
	assert_int_equal(m->cpu->usage->total, 5000000);
	assert_int_equal(m->cpu->usage->user, 3000000);
	assert_int_equal(m->cpu->usage->kernel, 2000000);
	assert_non_null(m->memory);
	assert_non_null(m->memory->usage);
	assert_int_equal(m->memory->usage->usage, 50 << 20);
	assert_int_equal(m->memory->usage->limit, 128 << 20);
	assert_int_equal(m->memory->usage->max, 60 << 20);
	assert_int_equal(m->memory->rss, 40 << 20);
	assert_int_equal(m->memory->total_rss, 40 << 20);
	assert_non_null(m->pids);
	assert_int_equal(m->pids->current, 3);
	assert_int_equal(m->pids->limit, 128);
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	containerd__task__v2__stats_response__free_unpacked(sr, NULL);
	ttrpc__response__free_unpacked(r, NULL);

	assert_string_equal(e->mk.log,
			    "create start exec start-exec remove-exec resize pause resume ");
	const char *want[] = {"/tasks/create",	     "/tasks/start", "/tasks/exec-added",
			      "/tasks/exec-started", "/tasks/exit",  "/tasks/paused",
			      "/tasks/resumed"};
	assert_int_equal(e->mk.n_events, 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(e->mk.events[i], want[i]);
	expect_code(kill_(e, "", 9), 0, NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_stdio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_pause_resize, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
