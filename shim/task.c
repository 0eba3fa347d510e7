#include "task.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim/shimio.h"
#include "events.pb-c.h"
#include "metrics.pb-c.h"
#include "task.pb-c.h"

enum pstatus {
	P_CREATED = CONTAINERD__TASK__V2__STATUS__CREATED,
	P_RUNNING = CONTAINERD__TASK__V2__STATUS__RUNNING,
	P_STOPPED = CONTAINERD__TASK__V2__STATUS__STOPPED,
	P_PAUSED = CONTAINERD__TASK__V2__STATUS__PAUSED,
};

struct proc {
	bool used;
	char exec_id[SHIM_ID_MAX + 1]; /* "" for init */
	enum pstatus status;
	uint32_t pid;
	uint32_t exit_status;
	struct timespec exited_at;
	struct shim_stdio stdio;
	char *stdin_path, *stdout_path, *stderr_path;
};

struct shim_task {
	struct shim_task_config cfg;
	struct ttrpc_service svc;
	pthread_mutex_t be_lock;	       /* one backend call at a time; taken before lock */
	pthread_mutex_t lock;		       /* procs */
	pthread_cond_t changed;		       /* a process changed status */
	struct proc procs[1 + SHIM_MAX_EXECS]; /* [0]: init */
};

/* ---- helpers ---- */

static const char *status_name(enum pstatus s)
{
	switch (s) {
	case P_CREATED:
		return "created";
	case P_RUNNING:
		return "running";
	case P_STOPPED:
		return "stopped";
	case P_PAUSED:
		return "paused";
	}
	return "unknown";
}

/* Map a backend's -errno to a gRPC code containerd understands. */
static uint32_t code_of(int rc)
{
	switch (rc) {
	case -ENOENT:
		return TTRPC_NOT_FOUND;
	case -ENOTSUP:
		return TTRPC_UNIMPLEMENTED;
	case -EINVAL:
		return TTRPC_INVALID_ARGUMENT;
	case -EEXIST:
		return TTRPC_ALREADY_EXISTS;
	case -ESRCH:
	case -EBUSY:
		return TTRPC_FAILED_PRECONDITION;
	default:
		return TTRPC_UNKNOWN;
	}
}

static void fail_be(struct ttrpc_call *call, int rc, const struct errmsg *err)
{
	ttrpc_fail(call, code_of(rc), "%s", err->text[0] ? err->text : strerror(-rc));
}

/* The client's stdio paths are arguments of the request, whatever errno. */
static void fail_stdio(struct ttrpc_call *call, int rc, const struct errmsg *err)
{
	ttrpc_fail(call, rc == -ENOTSUP ? TTRPC_UNIMPLEMENTED : TTRPC_INVALID_ARGUMENT, "%s",
		   err->text);
}

static int check_id(struct shim_task *t, struct ttrpc_call *call, const char *id)
{
	if (strcmp(id, t->cfg.id) == 0)
		return 0;
	ttrpc_fail(call, TTRPC_NOT_FOUND, "task %.*s: this shim runs task %s", SHIM_ID_MAX, id,
		   t->cfg.id);
	return -1;
}

/* The process exec_id, or NULL (call failed NOT_FOUND). Under t->lock. */
static struct proc *find(struct shim_task *t, struct ttrpc_call *call, const char *exec_id)
{
	for (size_t i = 0; i < sizeof(t->procs) / sizeof(t->procs[0]); i++)
		if (t->procs[i].used && strcmp(t->procs[i].exec_id, exec_id) == 0)
			return &t->procs[i];
	if (call) {
		if (exec_id[0])
			ttrpc_fail(call, TTRPC_NOT_FOUND, "exec process %.*s does not exist",
				   SHIM_ID_MAX, exec_id);
		else
			ttrpc_fail(call, TTRPC_NOT_FOUND, "task %s is not created", t->cfg.id);
	}
	return NULL;
}

static void proc_release(struct proc *p)
{
	free(p->stdin_path);
	free(p->stdout_path);
	free(p->stderr_path);
	memset(p, 0, sizeof(*p));
}

static Google__Protobuf__Timestamp ts_of(const struct timespec *ts)
{
	Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	t.seconds = ts->tv_sec;
	t.nanos = (int32_t)ts->tv_nsec;
	return t;
}

/* Pack msg into call->resp (the reply payload). */
#define REPLY(call, type, msg)                                                                     \
	do {                                                                                       \
		size_t n_ = type##__get_packed_size(msg);                                          \
		(call)->resp = malloc(n_ ? n_ : 1);                                                \
		if (!(call)->resp) {                                                               \
			ttrpc_fail(call, TTRPC_RESOURCE_EXHAUSTED, "out of memory");               \
			break;                                                                     \
		}                                                                                  \
		(call)->resp_len = type##__pack(msg, (call)->resp);                                \
	} while (0)

#define DECODE(call, type, var)                                                                    \
	var = type##__unpack(NULL, (call)->payload_len, (call)->payload);                          \
	if (!var) {                                                                                \
		ttrpc_fail(call, TTRPC_INVALID_ARGUMENT, "%s: request is not a valid %s",          \
			   (call)->method, #type);                                                 \
		return;                                                                            \
	}

#define PUBLISH(t, topic, name, type, msg)                                                         \
	do {                                                                                       \
		if (!(t)->cfg.publish)                                                             \
			break;                                                                     \
		size_t n_ = type##__get_packed_size(msg);                                          \
		uint8_t *b_ = malloc(n_ ? n_ : 1);                                                 \
		if (!b_)                                                                           \
			break;                                                                     \
		type##__pack(msg, b_);                                                             \
		(t)->cfg.publish((t)->cfg.publish_ctx, topic, "containerd.events." name, b_, n_);  \
		free(b_);                                                                          \
	} while (0)

static bool id_ok(struct ttrpc_call *call, const char *exec_id)
{
	if (strlen(exec_id) <= SHIM_ID_MAX)
		return true;
	ttrpc_fail(call, TTRPC_INVALID_ARGUMENT, "exec id longer than %d bytes", SHIM_ID_MAX);
	return false;
}

/* ---- handlers ---- */

static void h_create(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__CreateTaskRequest *r;
	DECODE(call, containerd__task__v2__create_task_request, r);
	if (check_id(t, call, r->id) < 0)
		goto out;
	if (r->checkpoint[0] || r->parent_checkpoint[0]) {
		ttrpc_fail(call, TTRPC_UNIMPLEMENTED, "task %s: checkpoints are not supported",
			   r->id);
		goto out;
	}
	pthread_mutex_lock(&t->be_lock);
	pthread_mutex_lock(&t->lock);
	bool exists = t->procs[0].used;
	pthread_mutex_unlock(&t->lock);
	if (exists) {
		pthread_mutex_unlock(&t->be_lock);
		ttrpc_fail(call, TTRPC_ALREADY_EXISTS, "task %s already exists", r->id);
		goto out;
	}
	struct errmsg err = {{0}};
	struct proc p = {.used = true, .status = P_CREATED};
	int rc = shim_stdio_open(r->stdin, r->stdout, r->stderr, r->terminal, &p.stdio, &err);
	if (rc < 0) {
		pthread_mutex_unlock(&t->be_lock);
		fail_stdio(call, rc, &err);
		goto out;
	}
	struct shim_mount *mounts = calloc(r->n_rootfs ? r->n_rootfs : 1, sizeof(*mounts));
	if (!mounts) {
		shim_stdio_close(&p.stdio);
		pthread_mutex_unlock(&t->be_lock);
		ttrpc_fail(call, TTRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->n_rootfs; i++)
		mounts[i] = (struct shim_mount){r->rootfs[i]->type, r->rootfs[i]->source,
						r->rootfs[i]->target, r->rootfs[i]->options,
						r->rootfs[i]->n_options};
	struct shim_create c = {.id = r->id,
				.bundle = r->bundle[0] ? r->bundle : t->cfg.bundle,
				.rootfs = mounts,
				.n_rootfs = r->n_rootfs,
				.io = p.stdio.io};
	rc = t->cfg.ops->create(t->cfg.be, &c, &p.pid, &err);
	free(mounts);
	if (rc < 0) {
		shim_stdio_close(&p.stdio);
		pthread_mutex_unlock(&t->be_lock);
		fail_be(call, rc, &err);
		goto out;
	}
	/* the backend owns the process's fds now */
	p.stdio.io = (struct shim_io){.in = -1, .out = -1, .err = -1};
	p.stdin_path = strdup(r->stdin);
	p.stdout_path = strdup(r->stdout);
	p.stderr_path = strdup(r->stderr);
	p.stdio.io.terminal = r->terminal;
	pthread_mutex_lock(&t->lock);
	t->procs[0] = p;
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&t->be_lock);

	Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;
	io.stdin = r->stdin;
	io.stdout = r->stdout;
	io.stderr = r->stderr;
	io.terminal = r->terminal;
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	ev.container_id = r->id;
	ev.bundle = r->bundle;
	ev.n_rootfs = r->n_rootfs;
	ev.rootfs = r->rootfs;
	ev.io = &io;
	ev.pid = p.pid;
	PUBLISH(t, "/tasks/create", "TaskCreate", containerd__events__task_create, &ev);

	Containerd__Task__V2__CreateTaskResponse resp =
	    CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
	resp.pid = p.pid;
	REPLY(call, containerd__task__v2__create_task_response, &resp);
out:
	containerd__task__v2__create_task_request__free_unpacked(r, NULL);
}

static void h_start(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__StartRequest *r;
	DECODE(call, containerd__task__v2__start_request, r);
	if (check_id(t, call, r->id) < 0 || !id_ok(call, r->exec_id))
		goto out;
	pthread_mutex_lock(&t->be_lock);
	pthread_mutex_lock(&t->lock);
	struct proc *p = find(t, call, r->exec_id);
	enum pstatus st = p ? p->status : P_STOPPED;
	pthread_mutex_unlock(&t->lock);
	if (!p) {
		pthread_mutex_unlock(&t->be_lock);
		goto out;
	}
	if (st != P_CREATED) {
		pthread_mutex_unlock(&t->be_lock);
		ttrpc_fail(call, TTRPC_FAILED_PRECONDITION, "process %s%s is %s, not created",
			   r->id, r->exec_id[0] ? "/" : "", status_name(st));
		goto out;
	}
	struct errmsg err = {{0}};
	uint32_t pid = 0;
	int rc = t->cfg.ops->start(t->cfg.be, r->exec_id, &pid, &err);
	if (rc < 0) {
		pthread_mutex_unlock(&t->be_lock);
		fail_be(call, rc, &err);
		goto out;
	}
	pthread_mutex_lock(&t->lock);
	if (pid)
		p->pid = pid;
	pid = p->pid;
	if (p->status == P_CREATED) /* an exit may have been reported already */
		p->status = P_RUNNING;
	pthread_cond_broadcast(&t->changed);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&t->be_lock);

	if (r->exec_id[0]) {
		Containerd__Events__TaskExecStarted ev =
		    CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
		ev.container_id = r->id;
		ev.exec_id = r->exec_id;
		ev.pid = pid;
		PUBLISH(t, "/tasks/exec-started", "TaskExecStarted",
			containerd__events__task_exec_started, &ev);
	} else {
		Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
		ev.container_id = r->id;
		ev.pid = pid;
		PUBLISH(t, "/tasks/start", "TaskStart", containerd__events__task_start, &ev);
	}
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	resp.pid = pid;
	REPLY(call, containerd__task__v2__start_response, &resp);
out:
	containerd__task__v2__start_request__free_unpacked(r, NULL);
}

static void h_state(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__StateRequest *r;
	DECODE(call, containerd__task__v2__state_request, r);
	if (check_id(t, call, r->id) < 0 || !id_ok(call, r->exec_id))
		goto out;
	pthread_mutex_lock(&t->lock);
	struct proc *p = find(t, call, r->exec_id);
	if (p) {
		Google__Protobuf__Timestamp ts = ts_of(&p->exited_at);
		Containerd__Task__V2__StateResponse resp =
		    CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
		resp.id = r->exec_id[0] ? r->exec_id : r->id;
		resp.bundle = (char *)t->cfg.bundle;
		resp.pid = p->pid;
		resp.status = (Containerd__Task__V2__Status)p->status;
		resp.stdin = p->stdin_path;
		resp.stdout = p->stdout_path;
		resp.stderr = p->stderr_path;
		resp.terminal = p->stdio.io.terminal;
		resp.exit_status = p->exit_status;
		if (p->status == P_STOPPED)
			resp.exited_at = &ts;
		REPLY(call, containerd__task__v2__state_response, &resp);
	}
	pthread_mutex_unlock(&t->lock);
out:
	containerd__task__v2__state_request__free_unpacked(r, NULL);
}

static void h_wait(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__WaitRequest *r;
	DECODE(call, containerd__task__v2__wait_request, r);
	if (check_id(t, call, r->id) < 0 || !id_ok(call, r->exec_id))
		goto out;
	pthread_mutex_lock(&t->lock);
	struct proc *p = find(t, call, r->exec_id);
	/* The slot may be deleted and reused meanwhile: wait on the id. */
	while (p && p->status != P_STOPPED) {
		pthread_cond_wait(&t->changed, &t->lock);
		p = find(t, call, r->exec_id);
	}
	if (p) {
		Google__Protobuf__Timestamp ts = ts_of(&p->exited_at);
		Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
		resp.exit_status = p->exit_status;
		resp.exited_at = &ts;
		REPLY(call, containerd__task__v2__wait_response, &resp);
	}
	pthread_mutex_unlock(&t->lock);
out:
	containerd__task__v2__wait_request__free_unpacked(r, NULL);
}

static void h_kill(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__KillRequest *r;
	DECODE(call, containerd__task__v2__kill_request, r);
	if (check_id(t, call, r->id) < 0 || !id_ok(call, r->exec_id))
		goto out;
	if (r->signal == 0 || r->signal >= 65) {
		ttrpc_fail(call, TTRPC_INVALID_ARGUMENT, "signal %u is not a signal number",
			   r->signal);
		goto out;
	}
	pthread_mutex_lock(&t->be_lock);
	pthread_mutex_lock(&t->lock);
	struct proc *p = find(t, call, r->exec_id);
	enum pstatus st = p ? p->status : P_STOPPED;
	pthread_mutex_unlock(&t->lock);
	if (p && st == P_STOPPED) {
		/* containerd maps NotFound here to "process already finished" */
		ttrpc_fail(call, TTRPC_NOT_FOUND, "process %s%s%s already finished", r->id,
			   r->exec_id[0] ? "/" : "", r->exec_id);
	} else if (p) {
		struct errmsg err = {{0}};
		int rc = t->cfg.ops->signal(t->cfg.be, r->exec_id, (int)r->signal, r->all, &err);
		if (rc < 0)
			fail_be(call, rc, &err);
	}
	pthread_mutex_unlock(&t->be_lock);
out:
	containerd__task__v2__kill_request__free_unpacked(r, NULL);
}

static void h_delete(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__DeleteRequest *r;
	DECODE(call, containerd__task__v2__delete_request, r);
	if (check_id(t, call, r->id) < 0 || !id_ok(call, r->exec_id))
		goto out;
	pthread_mutex_lock(&t->be_lock);
	pthread_mutex_lock(&t->lock);
	struct proc *p = find(t, call, r->exec_id);
	enum pstatus st = p ? p->status : P_STOPPED;
	bool execs_left = false;
	for (size_t i = 1; !r->exec_id[0] && i < sizeof(t->procs) / sizeof(t->procs[0]); i++)
		execs_left |= t->procs[i].used && t->procs[i].status != P_STOPPED;
	pthread_mutex_unlock(&t->lock);
	if (!p) {
		pthread_mutex_unlock(&t->be_lock);
		goto out;
	}
	if (st != P_STOPPED && st != P_CREATED) {
		pthread_mutex_unlock(&t->be_lock);
		ttrpc_fail(call, TTRPC_FAILED_PRECONDITION, "process %s%s%s is %s: kill it first",
			   r->id, r->exec_id[0] ? "/" : "", r->exec_id, status_name(st));
		goto out;
	}
	if (execs_left) {
		pthread_mutex_unlock(&t->be_lock);
		ttrpc_fail(call, TTRPC_FAILED_PRECONDITION, "task %s still has exec processes",
			   r->id);
		goto out;
	}
	struct errmsg err = {{0}};
	int rc = t->cfg.ops->remove(t->cfg.be, r->exec_id, &err);
	if (rc < 0 && rc != -ENOENT) {
		pthread_mutex_unlock(&t->be_lock);
		fail_be(call, rc, &err);
		goto out;
	}
	pthread_mutex_lock(&t->lock);
	if (p->status != P_STOPPED) { /* deleted before it ran */
		p->status = P_STOPPED;
		p->exit_status = 128 + SIGKILL;
		clock_gettime(CLOCK_REALTIME, &p->exited_at);
	}
	uint32_t pid = p->pid, status = p->exit_status;
	struct timespec at = p->exited_at;
	if (!r->exec_id[0]) /* the container is gone with its execs */
		for (size_t i = 1; i < sizeof(t->procs) / sizeof(t->procs[0]); i++)
			if (t->procs[i].used)
				proc_release(&t->procs[i]);
	proc_release(p);
	pthread_cond_broadcast(&t->changed);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&t->be_lock);

	Google__Protobuf__Timestamp ts = ts_of(&at);
	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	ev.container_id = r->id;
	ev.pid = pid;
	ev.exit_status = status;
	ev.exited_at = &ts;
	ev.id = r->exec_id;
	if (!r->exec_id[0]) /* containerd publishes exec deletes itself */
		PUBLISH(t, "/tasks/delete", "TaskDelete", containerd__events__task_delete, &ev);
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	resp.pid = pid;
	resp.exit_status = status;
	resp.exited_at = &ts;
	REPLY(call, containerd__task__v2__delete_response, &resp);
out:
	containerd__task__v2__delete_request__free_unpacked(r, NULL);
}

static void h_exec(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__ExecProcessRequest *r;
	DECODE(call, containerd__task__v2__exec_process_request, r);
	if (check_id(t, call, r->id) < 0 || !id_ok(call, r->exec_id))
		goto out;
	if (!r->exec_id[0] || !r->spec) {
		ttrpc_fail(call, TTRPC_INVALID_ARGUMENT, "exec on %s needs an exec id and a spec",
			   r->id);
		goto out;
	}
	pthread_mutex_lock(&t->be_lock);
	pthread_mutex_lock(&t->lock);
	struct proc *slot = NULL;
	const char *why = NULL;
	if (!t->procs[0].used || t->procs[0].status == P_STOPPED)
		why = "the task is not running";
	else if (find(t, NULL, r->exec_id))
		why = "exists";
	for (size_t i = 1; !why && !slot && i < sizeof(t->procs) / sizeof(t->procs[0]); i++)
		if (!t->procs[i].used)
			slot = &t->procs[i];
	if (!why && !slot)
		why = "too many exec processes";
	pthread_mutex_unlock(&t->lock);
	if (why) {
		pthread_mutex_unlock(&t->be_lock);
		ttrpc_fail(call,
			   strcmp(why, "exists") == 0 ? TTRPC_ALREADY_EXISTS
						      : TTRPC_FAILED_PRECONDITION,
			   "exec %s on %s: %s", r->exec_id, r->id,
			   strcmp(why, "exists") == 0 ? "already exists" : why);
		goto out;
	}
	struct errmsg err = {{0}};
	struct proc p = {.used = true, .status = P_CREATED};
	snprintf(p.exec_id, sizeof(p.exec_id), "%s", r->exec_id);
	int rc = shim_stdio_open(r->stdin, r->stdout, r->stderr, r->terminal, &p.stdio, &err);
	if (rc < 0) {
		pthread_mutex_unlock(&t->be_lock);
		fail_stdio(call, rc, &err);
		goto out;
	}
	rc = t->cfg.ops->exec(t->cfg.be, r->exec_id, r->spec->value.data, r->spec->value.len,
			      &p.stdio.io, &err);
	if (rc < 0) {
		shim_stdio_close(&p.stdio);
		pthread_mutex_unlock(&t->be_lock);
		fail_be(call, rc, &err);
		goto out;
	}
	p.stdio.io = (struct shim_io){.in = -1, .out = -1, .err = -1, .terminal = r->terminal};
	p.stdin_path = strdup(r->stdin);
	p.stdout_path = strdup(r->stdout);
	p.stderr_path = strdup(r->stderr);
	pthread_mutex_lock(&t->lock);
	*slot = p;
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&t->be_lock);

	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
	ev.container_id = r->id;
	ev.exec_id = r->exec_id;
	PUBLISH(t, "/tasks/exec-added", "TaskExecAdded", containerd__events__task_exec_added, &ev);
out:
	containerd__task__v2__exec_process_request__free_unpacked(r, NULL);
}

/* A backend call on an existing, not stopped process. */
static void simple_call(struct shim_task *t, struct ttrpc_call *call, const char *id,
			const char *exec_id,
			int (*fn)(struct shim_task *, const char *, void *, struct errmsg *),
			void *ctx)
{
	if (check_id(t, call, id) < 0 || !id_ok(call, exec_id))
		return;
	pthread_mutex_lock(&t->be_lock);
	pthread_mutex_lock(&t->lock);
	struct proc *p = find(t, call, exec_id);
	enum pstatus st = p ? p->status : P_STOPPED;
	pthread_mutex_unlock(&t->lock);
	if (p && st == P_STOPPED) {
		ttrpc_fail(call, TTRPC_FAILED_PRECONDITION, "process %s%s%s is stopped", id,
			   exec_id[0] ? "/" : "", exec_id);
	} else if (p) {
		struct errmsg err = {{0}};
		int rc = fn(t, exec_id, ctx, &err);
		if (rc < 0)
			fail_be(call, rc, &err);
	}
	pthread_mutex_unlock(&t->be_lock);
}

static int do_resize(struct shim_task *t, const char *exec_id, void *ctx, struct errmsg *err)
{
	Containerd__Task__V2__ResizePtyRequest *r = ctx;
	return t->cfg.ops->resize(t->cfg.be, exec_id, r->width, r->height, err);
}

static void h_resize(void *arg, struct ttrpc_call *call)
{
	Containerd__Task__V2__ResizePtyRequest *r;
	DECODE(call, containerd__task__v2__resize_pty_request, r);
	simple_call(arg, call, r->id, r->exec_id, do_resize, r);
	containerd__task__v2__resize_pty_request__free_unpacked(r, NULL);
}

static int do_close_io(struct shim_task *t, const char *exec_id, void *ctx, struct errmsg *err)
{
	(void)ctx;
	return t->cfg.ops->close_stdin(t->cfg.be, exec_id, err);
}

static void h_close_io(void *arg, struct ttrpc_call *call)
{
	Containerd__Task__V2__CloseIORequest *r;
	DECODE(call, containerd__task__v2__close_iorequest, r);
	if (r->stdin)
		simple_call(arg, call, r->id, r->exec_id, do_close_io, NULL);
	containerd__task__v2__close_iorequest__free_unpacked(r, NULL);
}

static int do_pause(struct shim_task *t, const char *exec_id, void *ctx, struct errmsg *err)
{
	bool pause = ctx != NULL;
	(void)exec_id;
	int rc = pause ? t->cfg.ops->pause(t->cfg.be, err) : t->cfg.ops->resume(t->cfg.be, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&t->lock);
	if (t->procs[0].status == (pause ? P_RUNNING : P_PAUSED))
		t->procs[0].status = pause ? P_PAUSED : P_RUNNING;
	pthread_cond_broadcast(&t->changed);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* Pause and Resume: PauseRequest and ResumeRequest are the same message
 * ({id = 1}), as are TaskPaused and TaskResumed ({container_id = 1}). */
static void pause_resume(struct shim_task *t, struct ttrpc_call *call, bool pause)
{
	Containerd__Task__V2__PauseRequest *r;
	DECODE(call, containerd__task__v2__pause_request, r);
	simple_call(t, call, r->id, "", do_pause, pause ? t : NULL);
	if (!call->code) {
		Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
		ev.container_id = r->id;
		if (pause)
			PUBLISH(t, "/tasks/paused", "TaskPaused", containerd__events__task_paused,
				&ev);
		else
			PUBLISH(t, "/tasks/resumed", "TaskResumed", containerd__events__task_paused,
				&ev);
	}
	containerd__task__v2__pause_request__free_unpacked(r, NULL);
}

static void h_pause(void *arg, struct ttrpc_call *call)
{
	pause_resume(arg, call, true);
}

static void h_resume(void *arg, struct ttrpc_call *call)
{
	pause_resume(arg, call, false);
}

static void h_pids(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__PidsRequest *r;
	DECODE(call, containerd__task__v2__pids_request, r);
	if (check_id(t, call, r->id) < 0)
		goto out;
	uint32_t pids[1 + SHIM_MAX_EXECS];
	size_t n = 0;
	struct errmsg err = {{0}};
	pthread_mutex_lock(&t->be_lock);
	int rc = t->cfg.ops->pids(t->cfg.be, pids, sizeof(pids) / sizeof(pids[0]), &n, &err);
	pthread_mutex_unlock(&t->be_lock);
	if (rc < 0) {
		fail_be(call, rc, &err);
		goto out;
	}
	Containerd__Task__V2__ProcessInfo infos[1 + SHIM_MAX_EXECS];
	Containerd__Task__V2__ProcessInfo *ptrs[1 + SHIM_MAX_EXECS];
	for (size_t i = 0; i < n; i++) {
		containerd__task__v2__process_info__init(&infos[i]);
		infos[i].pid = pids[i];
		ptrs[i] = &infos[i];
	}
	Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	resp.n_processes = n;
	resp.processes = ptrs;
	REPLY(call, containerd__task__v2__pids_response, &resp);
out:
	containerd__task__v2__pids_request__free_unpacked(r, NULL);
}

/* Stats: the backend's figures as containerd's cgroups v1 Metrics (what
 * `ctr task metrics` and the CRI decode, by the type URL below), packed
 * into an Any. Every message ctr dereferences is present. */
#define METRICS_TYPE_URL "io.containerd.cgroups.v1.Metrics"

static void h_stats(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__StatsRequest *r;
	DECODE(call, containerd__task__v2__stats_request, r);
	if (check_id(t, call, r->id) < 0)
		goto out;
	pthread_mutex_lock(&t->lock);
	bool created = t->procs[0].used;
	pthread_mutex_unlock(&t->lock);
	if (!created) {
		find(t, call, ""); /* NOT_FOUND, saying so */
		goto out;
	}
	struct shim_stats st = {0};
	struct errmsg err = {{0}};
	pthread_mutex_lock(&t->be_lock);
	int rc = t->cfg.ops->stats(t->cfg.be, &st, &err);
	pthread_mutex_unlock(&t->be_lock);
	if (rc < 0) {
		fail_be(call, rc, &err);
		goto out;
	}
	Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	usage.user = st.cpu_user_ns;
	usage.kernel = st.cpu_kernel_ns;
	usage.total = st.cpu_total_ns;
	Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	cpu.usage = &usage;
	Io__Containerd__Cgroups__V1__MemoryEntry mem_usage =
	    IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	mem_usage.usage = st.memory_usage_bytes;
	mem_usage.limit = st.memory_limit_bytes;
	mem_usage.max = st.memory_max_usage_bytes;
	Io__Containerd__Cgroups__V1__MemoryStat mem =
	    IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	mem.rss = mem.total_rss = st.memory_rss_bytes;
	mem.usage = &mem_usage;
	Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	pids.current = st.pids;
	pids.limit = st.pids_limit;
	Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	m.cpu = &cpu;
	m.memory = &mem;
	m.pids = &pids;
	size_t n = io__containerd__cgroups__v1__metrics__get_packed_size(&m);
	uint8_t *packed = malloc(n ? n : 1);
	if (!packed) {
		ttrpc_fail(call, TTRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	io__containerd__cgroups__v1__metrics__pack(&m, packed);
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = METRICS_TYPE_URL;
	any.value = (ProtobufCBinaryData){n, packed};
	Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	resp.stats = &any;
	REPLY(call, containerd__task__v2__stats_response, &resp);
	free(packed);
out:
	containerd__task__v2__stats_request__free_unpacked(r, NULL);
}

static void h_connect(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__ConnectRequest *r;
	DECODE(call, containerd__task__v2__connect_request, r);
	if (check_id(t, call, r->id) == 0) {
		Containerd__Task__V2__ConnectResponse resp =
		    CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
		resp.shim_pid = (uint32_t)getpid();
		pthread_mutex_lock(&t->lock);
		resp.task_pid = t->procs[0].used ? t->procs[0].pid : 0;
		pthread_mutex_unlock(&t->lock);
		REPLY(call, containerd__task__v2__connect_response, &resp);
	}
	containerd__task__v2__connect_request__free_unpacked(r, NULL);
}

static void h_shutdown(void *arg, struct ttrpc_call *call)
{
	struct shim_task *t = arg;
	Containerd__Task__V2__ShutdownRequest *r;
	DECODE(call, containerd__task__v2__shutdown_request, r);
	pthread_mutex_lock(&t->lock);
	bool left = t->procs[0].used;
	pthread_mutex_unlock(&t->lock);
	/* With a task left the shim stays (containerd asks again after Delete). */
	if (!left && t->cfg.shutdown)
		t->cfg.shutdown(t->cfg.shutdown_ctx);
	containerd__task__v2__shutdown_request__free_unpacked(r, NULL);
}

static void h_unimplemented(void *arg, struct ttrpc_call *call)
{
	(void)arg;
	ttrpc_fail(call, TTRPC_UNIMPLEMENTED, "%s is not implemented by containerd-shim-hull-v2",
		   call->method);
}

static const struct ttrpc_method task_methods[] = {
    {"State", h_state},
    {"Create", h_create},
    {"Start", h_start},
    {"Delete", h_delete},
    {"Pids", h_pids},
    {"Pause", h_pause},
    {"Resume", h_resume},
    {"Checkpoint", h_unimplemented},
    {"Kill", h_kill},
    {"Exec", h_exec},
    {"ResizePty", h_resize},
    {"CloseIO", h_close_io},
    {"Update", h_unimplemented},
    {"Wait", h_wait},
    {"Stats", h_stats},
    {"Connect", h_connect},
    {"Shutdown", h_shutdown},
};

/* ---- life cycle ---- */

void shim_task_exited(struct shim_task *t, const char *exec_id, int status)
{
	pthread_mutex_lock(&t->lock);
	struct proc *p = find(t, NULL, exec_id);
	if (!p || p->status == P_STOPPED) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	p->status = P_STOPPED;
	p->exit_status = (uint32_t)status;
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	uint32_t pid = p->pid;
	struct timespec at = p->exited_at;
	pthread_cond_broadcast(&t->changed);
	pthread_mutex_unlock(&t->lock);

	Google__Protobuf__Timestamp ts = ts_of(&at);
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	ev.container_id = (char *)t->cfg.id;
	ev.id = exec_id[0] ? (char *)exec_id : (char *)t->cfg.id;
	ev.pid = pid;
	ev.exit_status = (uint32_t)status;
	ev.exited_at = &ts;
	PUBLISH(t, "/tasks/exit", "TaskExit", containerd__events__task_exit, &ev);
}

int shim_task_new(const struct shim_task_config *cfg, struct shim_task **out, struct errmsg *err)
{
	struct shim_task *t = calloc(1, sizeof(*t));
	if (!t)
		return errmsg_set(err, -ENOMEM, "shim: no memory for the task");
	t->cfg = *cfg;
	t->svc = (struct ttrpc_service){SHIM_TASK_SERVICE, task_methods,
					sizeof(task_methods) / sizeof(task_methods[0]), t};
	pthread_mutex_init(&t->be_lock, NULL);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->changed, NULL);
	*out = t;
	return 0;
}

void shim_task_free(struct shim_task *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < sizeof(t->procs) / sizeof(t->procs[0]); i++)
		if (t->procs[i].used)
			proc_release(&t->procs[i]);
	pthread_cond_destroy(&t->changed);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->be_lock);
	free(t);
}

const struct ttrpc_service *shim_task_service(struct shim_task *t)
{
	return &t->svc;
}
