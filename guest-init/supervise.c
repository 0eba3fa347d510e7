#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
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

void supervise_init(struct supervisor *s, struct chan *ch, int sigfd, const struct log *l)
{
	memset(s, 0, sizeof(*s));
	s->ch = ch;
	s->sigfd = sigfd;
	s->log = l;
	s->stdin_fd = s->out_fd = s->err_fd = -1;
	bytequeue_init(&s->stdin_q);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_stdin(struct supervisor *s)
{
	close_fd(&s->stdin_fd);
	s->stdin_closed = true;
	bytequeue_clear(&s->stdin_q);
}

void supervise_free(struct supervisor *s)
{
	close_fd(&s->stdin_fd);
	close_fd(&s->out_fd);
	close_fd(&s->err_fd);
	bytequeue_free(&s->stdin_q);
}

static bool alive(const struct supervisor *s)
{
	return s->pid > 0 && !s->exited;
}

static int handle_signal_frame(struct supervisor *s, const struct hcp_msg *m, struct errmsg *err)
{
	uint32_t signo;

	if (hcp_u32_decode(m, &signo) < 0)
		return errmsg_set(err, -EPROTO, "control channel: SIGNAL frame of %u bytes",
				  m->len);
	if (signo < 1 || signo >= _NSIG) {
		log_msg(s->log, "ignoring SIGNAL %u: no such signal", signo);
		return 0;
	}
	if (alive(s)) {
		/* ESRCH: it just exited; its SIGCHLD is on the way. */
		if (kill(s->pid, (int)signo) < 0 && errno != ESRCH)
			log_msg(s->log, "kill %d, %u: %m", (int)s->pid, signo);
	} else if (s->pid == 0) {
		if (s->npending < SUPERVISE_MAX_PENDING)
			s->pending[s->npending++] = (int)signo;
		else
			log_msg(s->log, "dropping SIGNAL %u: too many before the container started",
				signo);
	}
	return 0;
}

/* Everything the host may send except SPEC. */
static int handle_frame(struct supervisor *s, const struct hcp_msg *m, struct errmsg *err)
{
	switch (m->type) {
	case HCP_STDIN:
		if (s->stdin_eof)
			return errmsg_set(err, -EPROTO, "control channel: STDIN after STDIN_EOF");
		if (s->stdin_closed)
			return 0; /* nobody reads it any more */
		if (bytequeue_push(&s->stdin_q, m->payload, m->len) < 0)
			return errmsg_set(err, -ENOMEM, "out of memory queueing stdin");
		return 0;
	case HCP_STDIN_EOF:
		s->stdin_eof = true;
		return 0;
	case HCP_SIGNAL:
		return handle_signal_frame(s, m, err);
	default:
		return errmsg_set(err, -EPROTO, "control channel: unexpected frame type 0x%02x",
				  m->type);
	}
}

static int channel_error(int rc, struct errmsg *err)
{
	if (rc == -EPROTO)
		return errmsg_set(err, rc, "control channel: protocol error");
	return log_syserr(err, rc, "control channel");
}

int supervise_wait_spec(struct supervisor *s, struct hcp_spec *spec, struct errmsg *err)
{
	struct hcp_msg m;
	int rc;

	memset(spec, 0, sizeof(*spec));
	for (;;) {
		rc = chan_next(s->ch, &m);
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
			rc = handle_frame(s, &m, err);
			if (rc < 0)
				return rc;
			continue;
		}
		/* Nothing else to do before the SPEC: a blocking read is fine. */
		rc = chan_fill(s->ch);
		if (rc == 0)
			return errmsg_set(err, -EPIPE, "control channel closed before SPEC");
		if (rc < 0)
			return channel_error(rc, err);
	}
}

void supervise_attach(struct supervisor *s, const struct container_proc *p)
{
	s->pid = p->pid;
	s->stdin_fd = p->stdin_fd;
	s->out_fd = p->stdout_fd;
	s->err_fd = p->stderr_fd;
	for (size_t i = 0; i < s->npending; i++)
		if (kill(s->pid, s->pending[i]) < 0)
			log_msg(s->log, "kill %d, %d: %m", (int)s->pid, s->pending[i]);
	s->npending = 0;
}

/* Write what we can without blocking; close the pipe once the host said EOF
 * and everything went out. */
static void flush_stdin(struct supervisor *s)
{
	while (s->stdin_fd >= 0 && bytequeue_len(&s->stdin_q)) {
		size_t n;
		const uint8_t *b = bytequeue_peek(&s->stdin_q, &n);
		ssize_t w = write(s->stdin_fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* EPIPE (SIGPIPE is blocked in init): the container closed its
			 * stdin. What it did not read is gone, as with a real pipe. */
			close_stdin(s);
			return;
		}
		bytequeue_pop(&s->stdin_q, (size_t)w);
	}
	if (s->stdin_fd >= 0 && s->stdin_eof && !bytequeue_len(&s->stdin_q))
		close_stdin(s);
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
		if (pid == s->pid && !s->exited) {
			s->exited = true;
			s->wstatus = st;
			s->deadline_ms = now_ms() + SUPERVISE_GRACE_MS;
			/* Only orphans could read it now; they are about to be killed. */
			close_stdin(s);
		}
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
		else if (alive(s) && kill(s->pid, signo) < 0 && errno != ESRCH)
			log_msg(s->log, "forwarding signal %d: %m", signo);
	}
}

/* One read of a container output pipe, forwarded as one frame. */
static int forward_output(struct supervisor *s, int *fd, uint8_t type, struct errmsg *err)
{
	uint8_t buf[SUPERVISE_CHUNK];
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
	rc = chan_send(s->ch, type, buf, (size_t)n);
	if (rc < 0)
		return channel_error(rc, err);
	return (int)n;
}

static int drain_output(struct supervisor *s, int *fd, uint8_t type, struct errmsg *err)
{
	int rc;

	while (*fd >= 0) {
		rc = forward_output(s, fd, type, err);
		if (rc <= 0)
			return rc;
	}
	return 0;
}

static int serve_channel(struct supervisor *s, struct errmsg *err)
{
	struct hcp_msg m;
	int rc;

	while ((rc = chan_next(s->ch, &m)) == 1) {
		if (m.type == HCP_SPEC)
			return errmsg_set(err, -EPROTO, "control channel: second SPEC");
		rc = handle_frame(s, &m, err);
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? channel_error(rc, err) : 0;
}

int supervise_run(struct supervisor *s, struct errmsg *err)
{
	int rc;

	for (;;) {
		struct pollfd pfd[5];
		int np = 0, timeout = -1;
		int i_ch = -1, i_sig, i_out = -1, i_err = -1, i_in = -1;

		if (!s->chan_eof) {
			rc = serve_channel(s, err);
			if (rc < 0)
				return rc;
		}
		flush_stdin(s);
		if (s->exited) {
			int64_t left = s->deadline_ms - now_ms();

			if ((s->out_fd < 0 && s->err_fd < 0) || left <= 0)
				break;
			timeout = (int)left;
		}

		if (!s->chan_eof && bytequeue_len(&s->stdin_q) < SUPERVISE_STDIN_HIGH) {
			i_ch = np;
			pfd[np++] = (struct pollfd){.fd = s->ch->fd, .events = POLLIN};
		}
		i_sig = np;
		pfd[np++] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
		if (s->out_fd >= 0) {
			i_out = np;
			pfd[np++] = (struct pollfd){.fd = s->out_fd, .events = POLLIN};
		}
		if (s->err_fd >= 0) {
			i_err = np;
			pfd[np++] = (struct pollfd){.fd = s->err_fd, .events = POLLIN};
		}
		if (s->stdin_fd >= 0 && bytequeue_len(&s->stdin_q)) {
			i_in = np;
			pfd[np++] = (struct pollfd){.fd = s->stdin_fd, .events = POLLOUT};
		}

		rc = poll(pfd, (nfds_t)np, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return log_syserr(err, errno, "poll");
		}
		(void)i_in; /* POLLOUT/POLLERR: flush_stdin() at the top of the loop */

		if (pfd[i_sig].revents)
			handle_signals(s);
		/* Output before channel input: a container that floods stdout
		 * must not starve, nor be starved by, stdin. */
		if (i_out >= 0 && pfd[i_out].revents) {
			rc = forward_output(s, &s->out_fd, HCP_STDOUT, err);
			if (rc < 0)
				return rc;
		}
		if (i_err >= 0 && pfd[i_err].revents) {
			rc = forward_output(s, &s->err_fd, HCP_STDERR, err);
			if (rc < 0)
				return rc;
		}
		if (i_ch >= 0 && pfd[i_ch].revents) {
			rc = chan_fill(s->ch);
			if (rc == 0 || (rc < 0 && rc != -EAGAIN)) {
				/* The host hung up (or the port broke): no more input
				 * will come, but the container may finish its work. */
				if (rc < 0)
					log_msg(s->log, "control channel read: %s", strerror(-rc));
				s->chan_eof = true;
				s->stdin_eof = true;
			}
		}
	}

	return supervise_exit_code(s->wstatus);
}

int supervise_drain(struct supervisor *s, struct errmsg *err)
{
	int rc = drain_output(s, &s->out_fd, HCP_STDOUT, err);

	if (rc == 0)
		rc = drain_output(s, &s->err_fd, HCP_STDERR, err);
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
