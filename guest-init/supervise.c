#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	/* vDSO: no kernel entry, so timing the grace period costs nothing. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int supervise_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return HCP_EXIT_INIT_FAILED;
}

static void session_init(struct session *x, enum session_kind kind, struct chan *ch)
{
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->ch = ch;
	x->stdin_fd = x->out_fd = x->err_fd = x->tty_fd = -1;
	bytequeue_init(&x->stdin_q);
}

void supervise_init(struct supervisor *s, struct chan *ch, int sigfd, const struct log *l)
{
	memset(s, 0, sizeof(*s));
	s->sigfd = sigfd;
	s->log = l;
	s->listen_fd = -1;
	session_init(&s->main, SESSION_MAIN, ch);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_stdin(struct session *x)
{
	close_fd(&x->stdin_fd);
	x->stdin_closed = true;
	bytequeue_clear(&x->stdin_q);
}

static void session_free(struct session *x)
{
	close_fd(&x->stdin_fd);
	close_fd(&x->out_fd);
	close_fd(&x->err_fd);
	close_fd(&x->tty_fd);
	bytequeue_free(&x->stdin_q);
	if (x->ch == &x->own_ch)
		chan_close(&x->own_ch);
}

/* An exec session is over: its process (group) must not outlive it. */
static void exec_end(struct supervisor *s, size_t i)
{
	struct session *x = s->exec[i];

	if (x->pid > 0 && !x->exited)
		kill(-x->pid, SIGKILL); /* reaped by the SIGCHLD handling */
	session_free(x);
	free(x);
	s->exec[i] = NULL;
}

void supervise_free(struct supervisor *s)
{
	for (size_t i = 0; i < SUPERVISE_MAX_EXEC; i++)
		if (s->exec[i])
			exec_end(s, i);
	close_fd(&s->listen_fd);
	session_free(&s->main);
}

static bool alive(const struct session *x)
{
	return x->pid > 0 && !x->exited;
}

static int channel_error(int rc, struct errmsg *err)
{
	if (rc == -EPROTO)
		return errmsg_set(err, rc, "control channel: protocol error");
	return log_syserr(err, rc, "control channel");
}

/* Signal a session's process, or queue the signal until it exists. */
static void signal_session(const struct supervisor *s, struct session *x, uint32_t signo)
{
	if (alive(x)) {
		/* ESRCH: it just exited; its SIGCHLD is on the way. */
		if (kill(x->pid, (int)signo) < 0 && errno != ESRCH)
			log_msg(s->log, "kill %d, %u: %m", (int)x->pid, signo);
	} else if (x->pid == 0) {
		if (x->npending < SUPERVISE_MAX_PENDING)
			x->pending[x->npending++] = (int)signo;
		else
			log_msg(s->log, "dropping SIGNAL %u: too many before the process started",
				signo);
	}
}

/* A SIGNAL or MAIN_SIGNAL payload; 0 for an out-of-range number (ignored). */
static int signal_number(const struct supervisor *s, const struct hcp_msg *m, uint32_t *signo,
			 struct errmsg *err)
{
	if (hcp_u32_decode(m, signo) < 0)
		return errmsg_set(err, -EPROTO, "control channel: SIGNAL frame of %u bytes",
				  m->len);
	if (*signo < 1 || *signo >= _NSIG) {
		log_msg(s->log, "ignoring SIGNAL %u: no such signal", *signo);
		*signo = 0;
	}
	return 0;
}

static void apply_winsize(const struct supervisor *s, struct session *x)
{
	struct winsize ws = {.ws_row = x->rows, .ws_col = x->cols};

	/* The kernel sends SIGWINCH to the terminal's foreground group. */
	if (x->tty_fd >= 0 && ioctl(x->tty_fd, TIOCSWINSZ, &ws) < 0)
		log_msg(s->log, "set window size: %m");
}

/* What the host may send to a process's session (not SPEC, EXEC). */
static int handle_frame(struct supervisor *s, struct session *x, const struct hcp_msg *m,
			struct errmsg *err)
{
	uint32_t signo;
	int rc;

	switch (m->type) {
	case HCP_STDIN:
		if (x->stdin_eof)
			return errmsg_set(err, -EPROTO, "control channel: STDIN after STDIN_EOF");
		if (x->stdin_closed)
			return 0; /* nobody reads it any more */
		if (bytequeue_push(&x->stdin_q, m->payload, m->len) < 0)
			return errmsg_set(err, -ENOMEM, "out of memory queueing stdin");
		return 0;
	case HCP_STDIN_EOF:
		x->stdin_eof = true;
		return 0;
	case HCP_SIGNAL:
		rc = signal_number(s, m, &signo, err);
		if (rc == 0 && signo)
			signal_session(s, x, signo);
		if (rc == 0 && signo && x == &s->main)
			s->host_signalled = true;
		return rc;
	case HCP_RESIZE:
		if (hcp_winsize_decode(m, &x->rows, &x->cols) < 0)
			return errmsg_set(err, -EPROTO, "control channel: RESIZE frame of %u bytes",
					  m->len);
		x->has_winsize = true;
		apply_winsize(s, x);
		return 0;
	default:
		return errmsg_set(err, -EPROTO, "control channel: unexpected frame type 0x%02x",
				  m->type);
	}
}

int supervise_wait_spec(struct supervisor *s, struct hcp_spec *spec, struct errmsg *err)
{
	struct hcp_msg m;
	int rc;

	memset(spec, 0, sizeof(*spec));
	for (;;) {
		rc = chan_next(s->main.ch, &m);
		if (rc < 0)
			return channel_error(rc, err);
		if (rc == 1 && m.type == HCP_SPEC) {
			rc = hcp_spec_decode(m.payload, m.len, spec);
			if (rc == -EPROTO)
				return errmsg_set(err, rc, "control channel: malformed SPEC");
			if (rc < 0)
				return channel_error(rc, err);
			return 0;
		}
		if (rc == 1) {
			rc = handle_frame(s, &s->main, &m, err);
			if (rc < 0)
				return rc;
			continue;
		}
		/* Nothing else to do before the SPEC: a blocking read is fine. */
		rc = chan_fill(s->main.ch);
		if (rc == 0)
			return errmsg_set(err, -EPIPE, "control channel closed before SPEC");
		if (rc < 0)
			return channel_error(rc, err);
	}
}

static void session_attach(const struct supervisor *s, struct session *x,
			   const struct container_proc *p)
{
	x->pid = p->pid;
	x->stdin_fd = p->stdin_fd;
	x->out_fd = p->stdout_fd;
	x->err_fd = p->stderr_fd;
	x->tty_fd = p->tty_fd;
	/* fresh pipes, default size; a pty is never resized */
	x->out_grown = x->err_grown = p->tty_fd >= 0;
	if (x->has_winsize)
		apply_winsize(s, x);
	for (size_t i = 0; i < x->npending; i++)
		if (kill(x->pid, x->pending[i]) < 0)
			log_msg(s->log, "kill %d, %d: %m", (int)x->pid, x->pending[i]);
	x->npending = 0;
}

void supervise_attach(struct supervisor *s, const struct container_proc *p)
{
	session_attach(s, &s->main, p);
}

void supervise_restart(struct supervisor *s, const struct container_proc *p)
{
	struct session *m = &s->main;
	close_fd(&m->out_fd);
	close_fd(&m->err_fd);
	close_fd(&m->tty_fd);
	close_stdin(m);
	m->exited = false;
	m->wstatus = 0;
	m->deadline_ms = 0;
	m->stdin_closed = false;
	session_attach(s, m, p);
}

void supervise_listen_exec(struct supervisor *s, int listen_fd, const struct execcfg_base *base)
{
	close_fd(&s->listen_fd);
	/* accept() must never block init: a peer may go away in between. */
	if (fcntl(listen_fd, F_SETFL, O_NONBLOCK) < 0)
		log_msg(s->log, "exec listener: %m");
	s->listen_fd = listen_fd;
	s->exec_base = base;
}

/* Write what we can without blocking; close the pipe once the host said EOF
 * and everything went out. */
static void flush_stdin(struct session *x)
{
	while (x->stdin_fd >= 0 && bytequeue_len(&x->stdin_q)) {
		size_t n;
		const uint8_t *b = bytequeue_peek(&x->stdin_q, &n);
		ssize_t w = write(x->stdin_fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* EPIPE (SIGPIPE is blocked in init): the process closed its
			 * stdin. What it did not read is gone, as with a real pipe. */
			close_stdin(x);
			return;
		}
		bytequeue_pop(&x->stdin_q, (size_t)w);
	}
	/* With a pty this closes one of three master descriptors: input ends,
	 * the terminal stays (see proto/hcp.h). */
	if (x->stdin_fd >= 0 && x->stdin_eof && !bytequeue_len(&x->stdin_q))
		close_stdin(x);
}

static void mark_exited(struct session *x, int st)
{
	x->exited = true;
	x->wstatus = st;
	x->deadline_ms = now_ms() + SUPERVISE_GRACE_MS;
	/* Only orphans could read it now; they are about to be killed. */
	close_stdin(x);
}

static void reap(struct supervisor *s)
{
	for (;;) {
		int st;
		/* __WALL: orphans may be clone()d children that do not signal
		 * SIGCHLD; they still have to be reaped by init. */
		pid_t pid = waitpid(-1, &st, WNOHANG | __WALL);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		if (pid == s->main.pid && !s->main.exited) {
			mark_exited(&s->main, st);
			continue;
		}
		for (size_t i = 0; i < SUPERVISE_MAX_EXEC; i++)
			if (s->exec[i] && s->exec[i]->pid == pid && !s->exec[i]->exited)
				mark_exited(s->exec[i], st);
	}
}

static void handle_signals(struct supervisor *s)
{
	struct signalfd_siginfo si[8];
	ssize_t n;

	n = read(s->sigfd, si, sizeof(si));
	if (n <= 0)
		return;
	for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
		int signo = (int)si[i].ssi_signo;

		if (signo == SIGCHLD)
			reap(s);
		else if (alive(&s->main) && kill(s->main.pid, signo) < 0 && errno != ESRCH)
			log_msg(s->log, "forwarding signal %d: %m", signo);
	}
}

/* One read of a process's output, forwarded as frames. A pty master reads
 * EIO once every slave descriptor is closed: that is its EOF. */
static int forward_output(struct session *x, int *fd, bool *grown, uint8_t type, struct errmsg *err)
{
	uint8_t buf[SUPERVISE_READ];
	ssize_t n;
	int rc;

	do {
		n = read(*fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		close_fd(fd);
		return 0;
	}
	if (!*grown && (size_t)n >= SUPERVISE_CHUNK) {
		/* a writer in bulk: let it run further ahead of us. Failing
		 * (the kernel's pipe page limits) only keeps the default. */
		*grown = true;
		(void)fcntl(*fd, F_SETPIPE_SZ, SUPERVISE_PIPE_SIZE);
	}
	rc = chan_send_split(x->ch, type, buf, (size_t)n);
	if (rc < 0)
		return channel_error(rc, err);
	return (int)n;
}

static int drain_output(struct session *x, int *fd, bool *grown, uint8_t type, struct errmsg *err)
{
	int rc;

	while (*fd >= 0) {
		rc = forward_output(x, fd, grown, type, err);
		if (rc <= 0)
			return rc;
	}
	return 0;
}

/* The first frame of an exec connection: run a process, or watch main. */
static int exec_first_frame(struct supervisor *s, struct session *x, const struct hcp_msg *m,
			    struct errmsg *err)
{
	struct hcp_spec spec;
	struct execcfg ec;
	struct container_proc p;
	uint32_t signo;
	int rc, code = HCP_EXIT_INIT_FAILED;

	if (m->type == HCP_MAIN_SIGNAL) {
		x->kind = SESSION_WATCH;
		s->host_signalled = true;
		rc = signal_number(s, m, &signo, err);
		if (rc == 0 && signo)
			signal_session(s, &s->main, signo);
		return rc;
	}
	if (m->type != HCP_EXEC)
		return errmsg_set(err, -EPROTO, "exec session: frame type 0x%02x before EXEC",
				  m->type);
	rc = hcp_exec_decode(m->payload, m->len, &spec);
	if (rc < 0)
		return errmsg_set(err, rc, "exec session: malformed EXEC");
	x->kind = SESSION_EXEC;
	rc = execcfg_build(s->exec_base, &spec, &ec, err);
	if (rc == 0) {
		rc = container_start(&ec.cfg, &p, &code, err);
		execcfg_free(&ec);
	}
	hcp_spec_free(&spec);
	if (rc < 0) {
		/* The host learns why, then the session ends (rc < 0). */
		if (chan_send(x->ch, HCP_ERROR, err->text, strlen(err->text)) == 0)
			chan_send_u32(x->ch, HCP_EXIT, (uint32_t)code);
		return rc;
	}
	session_attach(s, x, &p);
	rc = chan_send_u32(x->ch, HCP_STARTED, (uint32_t)p.pid);
	return rc < 0 ? channel_error(rc, err) : 0;
}

/* Frames waiting on one session's channel. */
static int serve_channel(struct supervisor *s, struct session *x, struct errmsg *err)
{
	struct hcp_msg m;
	int rc;

	while ((rc = chan_next(x->ch, &m)) == 1) {
		if (x->kind == SESSION_NEW) {
			rc = exec_first_frame(s, x, &m, err);
		} else if (x->kind == SESSION_WATCH) {
			uint32_t signo;

			if (m.type != HCP_MAIN_SIGNAL)
				return errmsg_set(err, -EPROTO,
						  "exec session: frame type 0x%02x "
						  "after MAIN_SIGNAL",
						  m.type);
			rc = signal_number(s, &m, &signo, err);
			if (rc == 0 && signo)
				signal_session(s, &s->main, signo);
		} else if (m.type == HCP_SPEC || m.type == HCP_EXEC) {
			return errmsg_set(err, -EPROTO, "control channel: second SPEC or EXEC");
		} else {
			rc = handle_frame(s, x, &m, err);
		}
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? channel_error(rc, err) : 0;
}

static void read_channel(struct supervisor *s, struct session *x)
{
	int rc = chan_fill(x->ch);

	if (rc == 0 || (rc < 0 && rc != -EAGAIN)) {
		/* The host hung up (or the port broke): no more input will come, but
		 * the main process may finish its work. */
		if (rc < 0)
			log_msg(s->log, "channel read: %s", strerror(-rc));
		x->chan_eof = true;
		x->stdin_eof = true;
	}
}

static void accept_exec(struct supervisor *s)
{
	static const char busy[] = "too many exec sessions";
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	size_t i;

	if (fd < 0)
		return; /* EAGAIN: the peer went away; anything else: retry on the next poll */
	for (i = 0; i < SUPERVISE_MAX_EXEC && s->exec[i]; i++)
		;
	struct session *x = i < SUPERVISE_MAX_EXEC ? malloc(sizeof(*x)) : NULL;
	if (!x) {
		struct chan c;

		chan_init(&c, fd);
		if (chan_send(&c, HCP_ERROR, busy, sizeof(busy) - 1) == 0)
			chan_send_u32(&c, HCP_EXIT, HCP_EXIT_INIT_FAILED);
		chan_close(&c);
		return;
	}
	session_init(x, SESSION_NEW, NULL);
	chan_init(&x->own_ch, fd);
	x->ch = &x->own_ch;
	s->exec[i] = x;
}

/* Exec sessions: serve their channels; end those that are over. */
static void exec_sessions_step(struct supervisor *s, int *timeout)
{
	int64_t now = now_ms();

	for (size_t i = 0; i < SUPERVISE_MAX_EXEC; i++) {
		struct session *x = s->exec[i];
		struct errmsg err;

		if (!x)
			continue;
		if (!x->chan_eof && serve_channel(s, x, &err) < 0) {
			log_msg(s->log, "%s", err.text);
			exec_end(s, i);
			continue;
		}
		flush_stdin(x);
		if (x->chan_eof && x->kind != SESSION_EXEC) {
			exec_end(s, i);
			continue;
		}
		if (x->chan_eof && alive(x))
			kill(-x->pid, SIGKILL); /* nobody to talk to: end it */
		if (!x->exited)
			continue;
		if ((x->out_fd >= 0 || x->err_fd >= 0) && x->deadline_ms > now) {
			int left = (int)(x->deadline_ms - now);

			if (*timeout < 0 || left < *timeout)
				*timeout = left;
			continue;
		}
		if (!x->chan_eof)
			chan_send_u32(x->ch, HCP_EXIT, (uint32_t)supervise_exit_code(x->wstatus));
		exec_end(s, i);
	}
}

/* The main process is gone: MAIN_SIGNAL sessions learn its code; they are
 * over then. */
static void tell_watchers(struct supervisor *s, int code)
{
	for (size_t i = 0; i < SUPERVISE_MAX_EXEC; i++) {
		if (s->exec[i] && s->exec[i]->kind == SESSION_WATCH) {
			chan_send_u32(s->exec[i]->ch, HCP_EXIT, (uint32_t)code);
			exec_end(s, i);
		}
	}
}

/* pollfd slots of one session; idx[] gets -1 for fds not polled. */
static void session_pollfds(const struct session *x, struct pollfd *pfd, int *np, int idx[4])
{
	int fds[4] = {-1, x->out_fd, x->err_fd, -1};
	short ev[4] = {POLLIN, POLLIN, POLLIN, POLLOUT};

	if (!x->chan_eof && bytequeue_len(&x->stdin_q) < SUPERVISE_STDIN_HIGH)
		fds[0] = x->ch->fd;
	if (x->stdin_fd >= 0 && bytequeue_len(&x->stdin_q))
		fds[3] = x->stdin_fd; /* POLLOUT/POLLERR: flush_stdin() next round */
	for (int k = 0; k < 4; k++) {
		idx[k] = -1;
		if (fds[k] >= 0) {
			idx[k] = *np;
			pfd[(*np)++] = (struct pollfd){.fd = fds[k], .events = ev[k]};
		}
	}
}

/* After poll: read what is ready. Returns -errno on a channel error. */
static int session_ready(struct supervisor *s, struct session *x, const struct pollfd *pfd,
			 const int idx[4], struct errmsg *err)
{
	int rc;

	/* Output before channel input: a process that floods stdout must not
	 * starve, nor be starved by, stdin. */
	if (idx[1] >= 0 && pfd[idx[1]].revents) {
		rc = forward_output(x, &x->out_fd, &x->out_grown, HCP_STDOUT, err);
		if (rc < 0)
			return rc;
	}
	if (idx[2] >= 0 && pfd[idx[2]].revents) {
		rc = forward_output(x, &x->err_fd, &x->err_grown, HCP_STDERR, err);
		if (rc < 0)
			return rc;
	}
	if (idx[0] >= 0 && pfd[idx[0]].revents)
		read_channel(s, x);
	return 0;
}

int supervise_run(struct supervisor *s, struct errmsg *err)
{
	struct session *m = &s->main;
	int rc;

	for (;;) {
		struct pollfd pfd[2 + 4 * (1 + SUPERVISE_MAX_EXEC)];
		int idx[1 + SUPERVISE_MAX_EXEC][4];
		int np = 0, timeout = -1, i_sig, i_listen = -1;

		if (!m->chan_eof) {
			rc = serve_channel(s, m, err);
			if (rc < 0)
				return rc;
		}
		flush_stdin(m);
		exec_sessions_step(s, &timeout);
		if (m->exited) {
			int64_t left = m->deadline_ms - now_ms();

			if ((m->out_fd < 0 && m->err_fd < 0) || left <= 0)
				break;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}

		i_sig = np;
		pfd[np++] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
		if (s->listen_fd >= 0 && !m->exited) {
			i_listen = np;
			pfd[np++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		}
		session_pollfds(m, pfd, &np, idx[0]);
		for (size_t i = 0; i < SUPERVISE_MAX_EXEC; i++)
			if (s->exec[i])
				session_pollfds(s->exec[i], pfd, &np, idx[1 + i]);

		rc = poll(pfd, (nfds_t)np, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return log_syserr(err, errno, "poll");
		}

		if (pfd[i_sig].revents)
			handle_signals(s);
		rc = session_ready(s, m, pfd, idx[0], err);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < SUPERVISE_MAX_EXEC; i++) {
			struct errmsg xerr;

			if (s->exec[i] &&
			    session_ready(s, s->exec[i], pfd, idx[1 + i], &xerr) < 0) {
				log_msg(s->log, "exec session: %s", xerr.text);
				exec_end(s, i);
			}
		}
		if (i_listen >= 0 && pfd[i_listen].revents)
			accept_exec(s);
	}

	rc = supervise_exit_code(m->wstatus);
	tell_watchers(s, rc);
	return rc;
}

int supervise_drain(struct supervisor *s, struct errmsg *err)
{
	struct session *m = &s->main;
	int rc = drain_output(m, &m->out_fd, &m->out_grown, HCP_STDOUT, err);

	if (rc == 0)
		rc = drain_output(m, &m->err_fd, &m->err_grown, HCP_STDERR, err);
	return rc;
}

void supervise_kill_all(void)
{
	/* kill(-1) from init reaches every process but init itself. */
	kill(-1, SIGKILL);
	for (;;) {
		pid_t pid = waitpid(-1, NULL, __WALL);

		if (pid < 0 && errno != EINTR)
			return; /* ECHILD: all gone */
	}
}
