#include "supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/attach_conn.h"
#include "runtime/ctrlog.h"
#include "runtime/stop.h"
#include "common/peercred.h"
#include "common/clock.h"
#include "common/fdio.h"
#include "proto/hcp.h"

enum stop_stage { STOP_NONE, STOP_WAIT_HALT, STOP_HALTED };

/* Control clients whose request line has not all arrived. Read from the
 * event loop as their bytes come, so that a slow client (a `hull stop` of
 * 50 containers on a loaded host can be descheduled for seconds between
 * its connect and its write) neither blocks the loop nor is refused; at
 * most SUP_PENDING wait, a newer one drops the oldest. */
#define SUP_PENDING 8
#define SUP_LINE_MAX 128
struct sup_client {
	int fd; /* -1: free */
	size_t n;
	char line[SUP_LINE_MAX];
};

struct supervisor {
	struct runtime_state st;
	char *root;
	struct ctrlog log;
	int ep, timer_fd, listen_fd;
	int result_fd; /* -d: tells the waiting parent how the start went */
	const struct supervisor_ops *ops;
	void *ctx;
	struct stop_seq seq;   /* hull stop: SIGKILL after the timeout (runtime/stop.h) */
	enum stop_stage stage; /* after SIGKILL: halt the VM if it lingers */
	bool start_recorded;
	/* hull attach's stdin (supervisor.h: "attach") */
	bool stdin_attachable;
	int att_fd;
	struct attach_conn_rx att_rx;
	struct sup_client pend[SUP_PENDING];
	unsigned pend_next; /* the slot a full table gives up next */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void set_self(struct runtime_state *s)
{
	s->monitor_pid = getpid();
	if (runtime_proc_start(s->monitor_pid, &s->monitor_start))
		s->monitor_start = 0;
}

static int ep_add(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void release(struct supervisor *m)
{
	int fds[] = {m->ep, m->timer_fd, m->listen_fd, m->result_fd, m->att_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (unsigned i = 0; i < SUP_PENDING; i++)
		if (m->pend[i].fd >= 0)
			close(m->pend[i].fd);
	ctrlog_close(&m->log);
	runtime_state_free(&m->st);
	free(m->root);
	free(m);
}

/* The record of a new container, from in. */
static int record_new(const struct supervisor_info *in, struct runtime_state *s, struct errmsg *err)
{
	if (in->name)
		snprintf(s->name, sizeof(s->name), "%s", in->name);
	if (in->name && strlen(in->name) >= sizeof(s->name))
		return errmsg_set(err, -EINVAL, "name \"%s\": longer than %d characters", in->name,
				  RUNTIME_NAME_MAX);
	if (in->n_args > RUNTIME_MAX_ARGS)
		return errmsg_set(err, -EINVAL, "too many arguments (at most %d)",
				  RUNTIME_MAX_ARGS);
	snprintf(s->digest, sizeof(s->digest), "%s", in->digest ? in->digest : "");
	s->image = strdup(in->image);
	s->cmd = calloc(in->n_cmd + 1, sizeof(char *));
	s->args = calloc(in->n_args + 1, sizeof(char *));
	if (!s->image || !s->cmd || !s->args)
		return -ENOMEM;
	for (; s->n_cmd < in->n_cmd; s->n_cmd++)
		if (!(s->cmd[s->n_cmd] = strdup(in->cmd[s->n_cmd])))
			return -ENOMEM;
	for (; s->n_args < in->n_args; s->n_args++)
		if (!(s->args[s->n_args] = strdup(in->args[s->n_args])))
			return -ENOMEM;
	if (in->config && runtime_config_copy(&s->cfg, in->config))
		return -ENOMEM;
	s->created_ns = now_ns();
	s->status = RUNTIME_CREATED;
	s->stop_signal = in->stop_signal;
	s->stop_timeout = in->stop_timeout;
	s->auto_remove = in->auto_remove;
	set_self(s);
	return 0;
}

int supervisor_create(const struct supervisor_info *in, struct supervisor **out, struct errmsg *err)
{
	*out = NULL;
	struct supervisor *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ep = m->timer_fd = m->listen_fd = m->result_fd = m->log.fd = m->att_fd = -1;
	for (unsigned i = 0; i < SUP_PENDING; i++)
		m->pend[i].fd = -1;
	struct runtime_state *s = &m->st;
	int rc = -ENOMEM;
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	m->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (m->ep < 0 || m->timer_fd < 0 || ep_add(m->ep, m->timer_fd)) {
		rc = errmsg_set(err, -errno, "monitor: %s", strerror(errno));
		goto fail;
	}
	if ((rc = runtime_root(&m->root, err)))
		goto fail;
	if (in->claim) {
		if ((rc = runtime_claim(m->root, in->claim, s, err)))
			goto fail;
	} else if ((rc = record_new(in, s, err)) || (rc = runtime_create(m->root, s, err))) {
		goto fail;
	}
	char *lp = runtime_path(s, RUNTIME_LOG_FILE);
	rc = lp ? ctrlog_open(lp, in->log, &m->log) : -ENOMEM;
	if (rc) {
		errmsg_set(err, rc, "%s: %s", lp ? lp : "log", strerror(-rc));
		free(lp);
		if (!in->claim) /* a claimed container is the user's: it stays */
			runtime_remove(s);
		goto fail;
	}
	free(lp);
	*out = m;
	return 0;
fail:
	if (rc == -ENOMEM)
		errmsg_set(err, rc, "out of memory");
	release(m);
	return rc;
}

int supervisor_register(const struct supervisor_info *in, struct runtime_state *s,
			struct errmsg *err)
{
	memset(s, 0, sizeof(*s));
	char *root = NULL;
	int rc = record_new(in, s, err);
	if (!rc) {
		s->monitor_pid = 0; /* none until hull start claims it */
		s->monitor_start = 0;
		rc = runtime_root(&root, err);
	}
	if (!rc)
		rc = runtime_create(root, s, err);
	free(root);
	if (!rc) {
		/* an empty log: hull logs on it prints nothing rather than failing */
		char *lp = runtime_path(s, RUNTIME_LOG_FILE);
		struct ctrlog l;
		rc = lp ? ctrlog_open(lp, in->log, &l) : -ENOMEM;
		if (rc) {
			errmsg_set(err, rc, "%s: %s", lp ? lp : "log", strerror(-rc));
			runtime_remove(s);
		} else {
			ctrlog_close(&l);
		}
		free(lp);
	}
	if (rc == -ENOMEM)
		errmsg_set(err, rc, "out of memory");
	if (rc)
		runtime_state_free(s);
	return rc;
}

const struct runtime_state *supervisor_state(const struct supervisor *m)
{
	return &m->st;
}

/* The parent of hull run -d: relay the supervisor's messages until the
 * result pipe says how the start went (a status, or EOF: it is gone), then
 * what is left in the message pipe, without waiting for that pipe's end:
 * the VM monitor the supervisor started (hull-vmm) inherits its stderr and
 * keeps it open while the VM runs. */
static void relay(int fd)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		fdio_write_all(STDERR_FILENO, buf, (size_t)n);
	}
}

static int wait_start(struct supervisor *m, pid_t child, int err_r, int res_r)
{
	struct pollfd p[2] = {{.fd = err_r, .events = POLLIN}, {.fd = res_r, .events = POLLIN}};
	char buf[4096];
	ssize_t n;
	while (!p[1].revents) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			n = read(err_r, buf, sizeof(buf));
			if (n > 0)
				fdio_write_all(STDERR_FILENO, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				p[0].fd = -1; /* closed: only the result is left to wait for */
		}
	}
	/* everything written before the result is in the pipe by now */
	if (p[0].fd >= 0 && fcntl(err_r, F_SETFL, O_NONBLOCK) == 0)
		relay(err_r);
	int32_t v = 0;
	do
		n = read(res_r, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(v) && v == 0) {
		printf("%s\n", m->st.id);
		fflush(stdout);
		return 0;
	}
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(v)) {
		/* the monitor died without a word: nothing of it is left running */
		fprintf(stderr,
			"hull: the container's monitor ended before the container started\n");
		if (m->st.auto_remove)
			runtime_remove(&m->st);
		return HCP_EXIT_HULL_FAILED;
	}
	return v > 0 && v < 256 ? v : HCP_EXIT_HULL_FAILED;
}

bool supervisor_detach(struct supervisor **mp, int *status)
{
	struct supervisor *m = *mp;
	int errp[2] = {-1, -1}, resp[2] = {-1, -1};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	fflush(NULL);
	pid_t pid = -1;
	if (null >= 0 && !pipe2(errp, O_CLOEXEC) && !pipe2(resp, O_CLOEXEC))
		pid = fork();
	if (pid == 0) {
		setsid();
		/* its stderr is a pipe to a parent that may be gone (Ctrl-C of
		 * `hull run -d`) and its stdout /dev/null: no write of the
		 * detached supervisor is worth the container's life */
		signal(SIGPIPE, SIG_IGN);
		if (dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(errp[1], STDERR_FILENO) < 0)
			_exit(HCP_EXIT_HULL_FAILED);
		close(null);
		close(errp[0]);
		close(errp[1]);
		close(resp[0]);
		m->result_fd = resp[1];
		set_self(&m->st);
		runtime_save(&m->st);
		return false;
	}
	int e = errno;
	int fds[] = {null, errp[1], resp[1]};
	for (size_t i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (pid < 0) {
		fprintf(stderr, "hull: cannot start the container's monitor: %s\n", strerror(e));
		*status = HCP_EXIT_HULL_FAILED;
		supervisor_finish(m, false, HCP_EXIT_HULL_FAILED, "cannot start the monitor");
	} else {
		*status = wait_start(m, pid, errp[0], resp[0]);
		release(m);
	}
	if (errp[0] >= 0)
		close(errp[0]);
	if (resp[0] >= 0)
		close(resp[0]);
	*mp = NULL;
	return true;
}

/* The address of s's socket `name` (through the short-id link). */
static int sock_addr(const struct runtime_state *s, const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	char *p = runtime_sock_path(s, name);
	int rc = !p ? -ENOMEM : strlen(p) >= sizeof(a->sun_path) ? -ENAMETOOLONG : 0;
	if (!rc)
		strcpy(a->sun_path, p);
	free(p);
	return rc;
}

int supervisor_listen(struct supervisor *m, const struct supervisor_ops *ops, void *ctx,
		      struct errmsg *err)
{
	struct sockaddr_un a;
	int rc = sock_addr(&m->st, RUNTIME_MONITOR_SOCK, &a);
	m->ops = ops;
	m->ctx = ctx;
	m->listen_fd = rc ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (!rc && (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
		    listen(m->listen_fd, 8) || ep_add(m->ep, m->listen_fd)))
		rc = -errno;
	if (rc)
		return errmsg_set(err, rc, "%s/%s: %s", m->st.dir, RUNTIME_MONITOR_SOCK,
				  strerror(-rc));
	return 0;
}

int supervisor_fd(const struct supervisor *m)
{
	return m->ep;
}

static void arm(struct supervisor *m, int64_t ms)
{
	struct itimerspec it = {
	    .it_value = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 + 1}};
	timerfd_settime(m->timer_fd, 0, &it, NULL);
}

/* Signal the container; before it runs, halting the VM is the answer. */
static void deliver(struct supervisor *m, int signo)
{
	if (m->ops->signal(m->ctx, signo) == -EAGAIN) {
		m->ops->halt(m->ctx, signo);
		m->stage = STOP_HALTED;
	} else if (signo == SIGKILL && m->stage != STOP_HALTED) {
		/* a guest that does not act on it is stopped from outside */
		m->stage = STOP_WAIT_HALT;
		arm(m, SUPERVISOR_HALT_GRACE_S * 1000);
	}
}

static void on_timer(struct supervisor *m)
{
	uint64_t v;
	if (read(m->timer_fd, &v, sizeof(v)) != sizeof(v))
		return;
	if (stop_kill_due(&m->seq, clock_now_ns())) {
		deliver(m, SIGKILL);
	} else if (m->stage == STOP_WAIT_HALT) {
		m->ops->halt(m->ctx, SIGKILL);
		m->stage = STOP_HALTED;
	}
}

void supervisor_started(struct supervisor *m)
{
	if (m->start_recorded)
		return;
	m->start_recorded = true;
	m->st.status = RUNTIME_RUNNING;
	m->st.started_ns = now_ns();
	runtime_save(&m->st);
	if (m->result_fd >= 0) {
		int32_t ok = 0;
		fdio_write_all(m->result_fd, &ok, sizeof(ok));
		close(m->result_fd);
		m->result_fd = -1;
		/* the parent stops reading our stderr when it sees it closed */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDERR_FILENO);
			close(null);
		}
	}
}

/* "stats": the reply's text after "ok " into out; NULL or the error. */
static const char *handle_stats(struct supervisor *m, char *out, size_t cap)
{
	struct ctrstats st;
	if (!m->ops->stats || m->ops->stats(m->ctx, &st))
		return "no figures: the VM does not run";
	if (ctrstats_format(&st, out, cap))
		return "stats line too long";
	return NULL;
}

static const char *handle_request(struct supervisor *m, char *line, char *out, size_t cap)
{
	char verb[8];
	long arg;
	char tail;
	if (!strcmp(line, "stats\n"))
		return handle_stats(m, out, cap);
	if (sscanf(line, "%7s %ld %c", verb, &arg, &tail) != 2)
		return "malformed request";
	if (!strcmp(verb, "stop")) {
		if (arg < -1 || arg > STOP_MAX_TIMEOUT_S)
			return "bad timeout";
		if (arg < 0)
			arg = m->st.stop_timeout;
		if (m->seq.armed || m->stage != STOP_NONE)
			return NULL; /* already being stopped */
		deliver(m, m->st.stop_signal ? m->st.stop_signal : SIGTERM);
		if (m->stage == STOP_NONE) {
			uint64_t now = clock_now_ns();
			stop_arm(&m->seq, now, (unsigned)arg);
			arm(m, stop_timeout_ms(&m->seq, now));
		}
		return NULL;
	}
	if (!strcmp(verb, "kill")) {
		if (arg < 1 || arg > SIGRTMAX)
			return "bad signal";
		deliver(m, (int)arg);
		return NULL;
	}
	return "unknown request";
}

void supervisor_stdin_attachable(struct supervisor *m)
{
	m->stdin_attachable = true;
}

int supervisor_stdin_fd(const struct supervisor *m)
{
	return m->att_fd;
}

static void drop_writer(struct supervisor *m)
{
	if (m->att_fd >= 0)
		close(m->att_fd);
	m->att_fd = -1;
}

size_t supervisor_stdin_read(struct supervisor *m, uint8_t *buf, size_t cap)
{
	if (m->att_fd < 0)
		return 0;
	struct attach_conn_ev ev;
	int n = attach_conn_read(&m->att_rx, m->att_fd, buf, cap, &ev);
	if (n < 0) {
		/* gone, or a bad frame (framing lost): the next attach may come */
		drop_writer(m);
		return 0;
	}
	if (ev.resized && m->ops->resize)
		m->ops->resize(m->ctx, ev.rows, ev.cols);
	return (size_t)n;
}

/* "attach": why this client cannot have the stdin, or NULL when it now has */
static const char *take_stdin(struct supervisor *m, int fd)
{
	if (!m->st.cfg.open_stdin)
		return "the container was not run with -i: it has no stdin to attach";
	if (!m->stdin_attachable)
		return "the container's stdin is its foreground hull run's own";
	char b;
	/* a writer that hung up and sent nothing more is gone already */
	if (m->att_fd >= 0 && recv(m->att_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		drop_writer(m);
	if (m->att_fd >= 0)
		return "another hull attach is forwarding the container's stdin (one at a time; "
		       "--no-stdin attaches output and signals only)";
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return "cannot make the connection non-blocking";
	m->att_fd = fd;
	attach_conn_rx_init(&m->att_rx);
	return NULL;
}

static void pend_drop(struct supervisor *m, struct sup_client *c)
{
	epoll_ctl(m->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

/* A whole request line arrived (or the client hung up or sent too much):
 * answer it; the connection is closed unless it became the attach one. */
static void pend_answer(struct supervisor *m, struct sup_client *c)
{
	int fd = c->fd;
	epoll_ctl(m->ep, EPOLL_CTL_DEL, fd, NULL);
	c->fd = -1;
	c->line[c->n] = '\0';
	char *nl = memchr(c->line, '\n', c->n);
	bool attach = false;
	char data[CTRSTATS_LINE_MAX] = "";
	const char *e;
	if (!nl)
		e = "no request";
	else if (strcmp(c->line, "attach\n") == 0)
		e = take_stdin(m, fd), attach = !e;
	else if (!strncmp(c->line, "attach", 6))
		e = "malformed attach request (nothing may follow it before the answer)";
	else
		e = handle_request(m, c->line, data, sizeof(data));
	char reply[CTRSTATS_LINE_MAX + 16];
	int len = e	  ? snprintf(reply, sizeof(reply), "error %s\n", e)
		  : *data ? snprintf(reply, sizeof(reply), "ok %s\n", data)
			  : snprintf(reply, sizeof(reply), "ok\n");
	/* one short line into a fresh socket's buffer; a client gone away is
	 * its own loss (MSG_NOSIGNAL), not the container's */
	fdio_send_all(fd, reply, (size_t)len);
	if (!attach)
		close(fd);
}

static void pend_read(struct supervisor *m, struct sup_client *c)
{
	for (;;) {
		ssize_t r = read(c->fd, c->line + c->n, sizeof(c->line) - 1 - c->n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return; /* the rest later */
		if (r < 0) {
			pend_drop(m, c);
			return;
		}
		c->n += (size_t)r;
		if (r == 0 || memchr(c->line, '\n', c->n) || c->n == sizeof(c->line) - 1) {
			pend_answer(m, c);
			return;
		}
	}
}

static void on_client(struct supervisor *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (peercred_check(fd, 0, NULL)) {
		close(fd); /* another user: not a client of this container */
		return;
	}
	struct sup_client *c = NULL;
	for (unsigned i = 0; i < SUP_PENDING && !c; i++)
		if (m->pend[i].fd < 0)
			c = &m->pend[i];
	if (!c) {
		c = &m->pend[m->pend_next];
		m->pend_next = (m->pend_next + 1) % SUP_PENDING;
		pend_drop(m, c);
	}
	c->fd = fd;
	c->n = 0;
	if (ep_add(m->ep, fd)) {
		close(fd);
		c->fd = -1;
		return;
	}
	pend_read(m, c); /* the request is usually there already */
}

void supervisor_dispatch(struct supervisor *m)
{
	struct epoll_event ev[4];
	int n = epoll_wait(m->ep, ev, 4, 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.fd == m->timer_fd)
			on_timer(m);
		else if (ev[i].data.fd == m->listen_fd)
			on_client(m);
		else
			for (unsigned k = 0; k < SUP_PENDING; k++)
				if (m->pend[k].fd >= 0 && m->pend[k].fd == ev[i].data.fd) {
					pend_read(m, &m->pend[k]);
					break;
				}
	}
}

void supervisor_output(struct supervisor *m, int stream, const uint8_t *buf, size_t n)
{
	/* a full disk loses log lines, not the container */
	ctrlog_write(&m->log, stream, buf, n);
}

/* The run's sockets (monitor.sock, the VM's vsock.sock and vsock.sock_PORT)
 * end with it. */
static void remove_sockets(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	struct stat sb;
	while ((e = readdir(d)))
		if (!fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) && S_ISSOCK(sb.st_mode))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

void supervisor_finish(struct supervisor *m, bool started, int status, const char *error)
{
	struct runtime_state *s = &m->st;
	remove_sockets(s->dir);
	if (started && !status)
		error = NULL;
	if (s->auto_remove) {
		runtime_remove(s);
	} else {
		int64_t t = now_ns();
		s->status = RUNTIME_EXITED;
		if (started && !s->started_ns)
			s->started_ns = t;
		s->finished_ns = t;
		s->exit_code = status & 255;
		free(s->error);
		s->error = error ? strdup(error) : NULL;
		runtime_save(s);
	}
	if (m->result_fd >= 0) {
		/* started (however briefly) is a successful start */
		int32_t v = started ? 0 : status ? status : HCP_EXIT_HULL_FAILED;
		fdio_write_all(m->result_fd, &v, sizeof(v));
	}
	release(m);
}

/* Connect to s's control socket, served by this user or root: the fd, or
 * -errno with err. */
static int connect_ctl(const struct runtime_state *s, struct errmsg *err)
{
	struct sockaddr_un a;
	int rc = sock_addr(s, RUNTIME_MONITOR_SOCK, &a);
	int fd = rc ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!rc && (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))))
		rc = -errno;
	struct ucred peer = {0};
	if (!rc && peercred_check(fd, 0, &peer) == -EPERM) {
		close(fd);
		return errmsg_set(err, -EPERM,
				  "container %s: its control socket is served by uid %u, neither "
				  "you nor root: refused",
				  s->name, (unsigned)peer.uid);
	}
	if (rc) {
		if (fd >= 0)
			close(fd);
		return errmsg_set(err, rc, "container %s: cannot reach its monitor: %s", s->name,
				  strerror(-rc));
	}
	return fd;
}

/* Send req, read the one-line answer: 0 with the text after "ok" (and its
 * space) in data (may be NULL: none wanted), or -errno with err. */
static int call(const struct runtime_state *s, const char *req, char *data, size_t cap,
		struct errmsg *err)
{
	int fd = connect_ctl(s, err), rc = 0;
	if (fd < 0)
		return fd;
	char line[CTRSTATS_LINE_MAX + 16];
	int len = snprintf(line, sizeof(line), "%s\n", req);
	rc = fdio_send_all(fd, line, (size_t)len);
	/* the answer is one line; the supervisor closes after it */
	size_t n = 0;
	while (!rc && n < sizeof(line) - 1) {
		ssize_t r = read(fd, line + n, sizeof(line) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(line, '\n', n))
			break;
	}
	close(fd);
	if (rc || n == 0)
		return errmsg_set(err, rc ? rc : -EPIPE, "container %s: its monitor did not answer",
				  s->name);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strncmp(line, "ok", 2) && (line[2] == '\0' || line[2] == ' ')) {
		const char *t = line[2] ? line + 3 : "";
		size_t tl = strlen(t);
		if (data && tl >= cap)
			return errmsg_set(err, -EBADMSG,
					  "container %s: its monitor's answer is too long",
					  s->name);
		if (data)
			memcpy(data, t, tl + 1);
		return 0;
	}
	return errmsg_set(err, -EINVAL, "container %s: monitor: %s", s->name,
			  strncmp(line, "error ", 6) ? line : line + 6);
}

int supervisor_call(const struct runtime_state *s, const char *req, struct errmsg *err)
{
	return call(s, req, NULL, 0, err);
}

int supervisor_stats(const struct runtime_state *s, struct ctrstats *out, struct errmsg *err)
{
	char data[CTRSTATS_LINE_MAX];
	int rc = call(s, "stats", data, sizeof(data), err);
	if (rc)
		return rc;
	struct errmsg perr;
	rc = ctrstats_parse(data, out, &perr);
	if (rc)
		return errmsg_set(err, rc, "container %s: %.200s", s->name, perr.text);
	return 0;
}

int supervisor_attach(const struct runtime_state *s, int *out, struct errmsg *err)
{
	*out = -1;
	int fd = connect_ctl(s, err);
	if (fd < 0)
		return fd;
	/* the answer byte by byte: nothing after its newline is taken */
	char line[256];
	size_t n = 0;
	int rc = fdio_send_all(fd, "attach\n", 7);
	while (!rc && n < sizeof(line) - 1) {
		ssize_t r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (!rc && !strcmp(line, "ok")) {
		*out = fd;
		return 0;
	}
	close(fd);
	if (rc || !n)
		return errmsg_set(err, rc ? rc : -EPIPE, "container %s: its monitor did not answer",
				  s->name);
	return errmsg_set(err, -EBUSY, "container %s: %s", s->name,
			  strncmp(line, "error ", 6) ? line : line + 6);
}

int supervisor_wait(const struct runtime_state *s, int timeout_ms)
{
	int fd = s->monitor_pid > 0 ? pidfd_open(s->monitor_pid, 0) : -1;
	if (fd < 0)
		return 0; /* gone already */
	int rc = 0;
	/* the pid is pinned now: make sure it is still the monitor */
	if (runtime_monitor_alive(s)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r;
		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		rc = r == 0 ? -ETIMEDOUT : 0;
	}
	close(fd);
	return rc;
}
