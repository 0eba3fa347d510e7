#include "session.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/peercred.h"
#include "common/clock.h"
#include "common/fdio.h"
#include "common/termesc.h"

void session_init(struct rt_session *s, const struct rt_io *io)
{
	memset(s, 0, sizeof(*s));
	s->io = io;
	s->listen_fd = s->q.fd = -1;
	s->stop_signo = SIGTERM;
	s->stop_timeout = STOP_DEFAULT_TIMEOUT_S;
	s->ready_timeout = SESSION_READY_TIMEOUT_S;
}

void session_free(struct rt_session *s)
{
	if (s->q.fd >= 0)
		close(s->q.fd);
	s->q.fd = -1;
	outq_free(&s->q);
}

static void diag_raw(struct rt_session *s, const void *buf, size_t n)
{
	if (s->io && s->io->diag)
		s->io->diag(s->io->ctx, buf, n);
	else
		fdio_write_all(STDERR_FILENO, buf, n);
}

void session_diag(struct rt_session *s, const char *fmt, ...)
{
	char line[1400];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	diag_raw(s, line, (size_t)n);
}

static void output(struct rt_session *s, int stream, const uint8_t *b, size_t n)
{
	if (s->io && s->io->output)
		s->io->output(s->io->ctx, stream, b, n);
	else
		fdio_write_all(stream == 1 ? STDOUT_FILENO : STDERR_FILENO, b, n);
	if (s->sup) /* a full disk loses log lines, not the container */
		supervisor_output(s->sup, stream, b, n);
}

/* ---- the guest console (container) ---- */

static void console_read(struct rt_session *s)
{
	int fd = s->vm && s->vmh ? s->vm->console_fd(s->vmh) : -1;
	uint8_t b[4096];
	ssize_t n;
	while (fd >= 0 && (n = read(fd, b, sizeof(b))) > 0) {
		if (s->echo_console) {
			char e[TERM_ESCAPE_MAX(sizeof(b))];
			diag_raw(s, e, term_escape(b, (size_t)n, e));
		}
		for (ssize_t i = 0; i < n; i++) {
			s->con[s->con_pos++] = (char)b[i];
			if (s->con_pos == sizeof(s->con)) {
				s->con_pos = 0;
				s->con_wrapped = true;
			}
		}
	}
}

void session_console_dump(struct rt_session *s)
{
	if (s->echo_console || (!s->con_wrapped && !s->con_pos))
		return; /* already shown, or nothing to show */
	session_diag(s, "hull: last guest console output:\n");
	/* in order, then escaped: guest bytes never reach the terminal raw */
	size_t head = s->con_wrapped ? sizeof(s->con) - s->con_pos : 0;
	char *lin = malloc(head + s->con_pos), *e = malloc(TERM_ESCAPE_MAX(head + s->con_pos) + 1);
	if (lin && e) {
		memcpy(lin, s->con + s->con_pos, head);
		memcpy(lin + head, s->con, s->con_pos);
		size_t n = term_escape(lin, head + s->con_pos, e);
		e[n++] = '\n';
		diag_raw(s, e, n);
	}
	free(lin);
	free(e);
}

int session_console_panic(const struct rt_session *s, char *out, size_t cap)
{
	static const char key[] = "Kernel panic - not syncing: ";
	size_t head = s->con_wrapped ? sizeof(s->con) - s->con_pos : 0, n = head + s->con_pos;
	char *lin = malloc(n + 1);
	int found = 0;
	if (!lin || !cap) {
		free(lin);
		return 0;
	}
	memcpy(lin, s->con + s->con_pos, head);
	memcpy(lin + head, s->con, s->con_pos);
	/* the last one: a panic while panicking repeats the first's line */
	for (const char *p = lin; (p = memmem(p, n - (size_t)(p - lin), key, sizeof(key) - 1));
	     p += sizeof(key) - 1) {
		const char *t = p + sizeof(key) - 1, *end = lin + n;
		size_t k = 0;
		while (t < end && *t != '\n' && *t != '\r' && k + 1 < cap) {
			unsigned char ch = (unsigned char)*t++;
			out[k++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
		}
		out[k] = 0;
		found = 1;
	}
	free(lin);
	return found;
}

void session_halt(struct rt_session *s, int signo)
{
	if (!s->vm || !s->vmh)
		return;
	s->killed_by = signo;
	s->vm->stop(s->vmh);
}

/* ---- stdin ---- */

static int stdin_fd(const struct rt_session *s)
{
	/* before the spec is out, a chunk read waits (retried) like a refused one */
	if (!s->in_open || s->in_done || s->in_len)
		return -1;
	if (s->io && s->io->in_fd >= 0)
		return s->io->in_fd;
	/* no stdin of the front end's: hull attach's, through the supervisor */
	return s->sup ? supervisor_stdin_fd(s->sup) : -1;
}

static bool want_retry(const struct rt_session *s)
{
	return s->in_open && (s->in_len || (s->in_done && !s->eof_sent));
}

/* Push the held chunk, then STDIN_EOF; whatever is refused stays for later. */
static void stdin_flush(struct rt_session *s)
{
	if (s->in_len) {
		int rc = control_stdin(&s->ctl, s->in_buf, s->in_len);
		if (rc == -ENOBUFS || rc == -EAGAIN || rc == -ENOTCONN)
			return;
		s->in_len = 0; /* sent, or never will be (-EPIPE: the process is gone) */
	}
	if (s->in_done && !s->eof_sent) {
		int rc = control_stdin_eof(&s->ctl);
		if (rc == -ENOBUFS || rc == -EAGAIN || rc == -ENOTCONN)
			return;
		s->eof_sent = true;
	}
}

static void stdin_read(struct rt_session *s)
{
	if (!s->io || s->io->in_fd < 0) {
		/* an attached writer's end is not the container's: no STDIN_EOF */
		s->in_len =
		    s->sup ? supervisor_stdin_read(s->sup, s->in_buf, sizeof(s->in_buf)) : 0;
		if (s->in_len)
			stdin_flush(s);
		return;
	}
	ssize_t n = read(s->io->in_fd, s->in_buf, sizeof(s->in_buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		s->in_done = true; /* end of file, or unreadable: either way no more input */
	else
		s->in_len = (size_t)n;
	stdin_flush(s);
}

static bool ready_pending(const struct rt_session *s)
{
	return s->vm && s->ready_deadline && !s->ctl.ready && !s->ready_expired && !s->vm_stopped;
}

static int timeout_ms(const struct rt_session *s, uint64_t now)
{
	int t = stop_timeout_ms(&s->stop, now);
	if (want_retry(s) && (t < 0 || t > SESSION_RETRY_MS))
		t = SESSION_RETRY_MS;
	if (ready_pending(s)) {
		uint64_t left = s->ready_deadline > now ? s->ready_deadline - now : 0;
		uint64_t ms = (left + 999999) / 1000000;
		if (t < 0 || ms < (uint64_t)t)
			t = ms > INT32_MAX ? INT32_MAX : (int)ms;
	}
	return t;
}

static void tick(struct rt_session *s, uint64_t now)
{
	if (want_retry(s))
		stdin_flush(s);
	if (stop_kill_due(&s->stop, now))
		control_signal(&s->ctl, SIGKILL);
	if (ready_pending(s) && now >= s->ready_deadline) {
		s->ready_expired = true;
		s->vm->stop(s->vmh);
	}
}

/* ---- signals from the front end ---- */

int rt_session_signal(struct rt_session *s, int signo)
{
	int rc = control_signal(&s->ctl, signo);
	if (rc == -EAGAIN && s->vm && !s->ctl.exited) {
		/* nothing runs yet: stopping the VM is the answer */
		session_halt(s, signo);
		return 0;
	}
	return rc;
}

int rt_session_stop(struct rt_session *s)
{
	if (s->stop.armed)
		return -EALREADY;
	int rc = control_signal(&s->ctl, s->stop_signo);
	if (rc == 0) {
		stop_arm(&s->stop, clock_now_ns(), s->stop_timeout);
	} else if (rc == -EAGAIN && s->vm && !s->ctl.exited) {
		/* not running yet: the VM stops, as if killed by SIGTERM */
		session_halt(s, SIGTERM);
		rc = 0;
	}
	return rc;
}

int rt_session_resize(struct rt_session *s, uint16_t rows, uint16_t cols)
{
	return control_resize(&s->ctl, rows, cols);
}

int rt_session_pause(struct rt_session *s, bool pause, struct errmsg *err)
{
	if (!s->vm)
		return errmsg_set(err, -ENOTSUP, "an exec session has no VM of its own to pause");
	int (*fn)(void *, struct errmsg *) = pause ? s->vm->pause : s->vm->resume;
	if (!fn)
		return errmsg_set(err, -ENOTSUP, "the VM host %s cannot pause a VM", s->vm->name);
	if (s->vm_stopped || !s->vmh)
		return errmsg_set(err, -ESHUTDOWN, "the VM has stopped");
	return fn(s->vmh, err);
}

/* ---- the VM (container) ---- */

/* guest-init is up and waiting: on a cold boot save the template (the VM as
 * it is now, its image disk still empty), then attach the image and send the
 * spec. A failed save costs this run nothing but the template. A restored
 * guest says READY again on a new connection (its old one died with the
 * template's VM), which lands here too. */
static void on_ready(struct rt_session *s)
{
	struct errmsg err;
	if (s->vm && s->save_template) {
		s->save_template = false;
		int rc = s->vm->save_template(s->vmh, &err);
		if (rc == -ESHUTDOWN)
			return;
		if (rc)
			session_diag(s, "hull: warning: could not save a template: %s\n", err.text);
		else
			s->t.template_saved = clock_now_ns();
	}
	if (s->vm && s->vm->attach_disk(s->vmh, 0, s->rootfs, &err)) {
		session_diag(s, "hull: %s\n", err.text);
		s->vm->stop(s->vmh);
		return;
	}
	control_send_spec(&s->ctl);
}

static void vm_events(struct rt_session *s)
{
	struct vmhost_event ev;
	struct errmsg err;
	int n;
	while (!s->vm_stopped && (n = s->vm->next_event(s->vmh, &ev, &err)) != 0) {
		if (n < 0) {
			/* the VM side is unreadable: treat it as gone */
			session_diag(s, "hull: %s\n", err.text);
			s->vm->stop(s->vmh);
			memset(&s->stopped, 0, sizeof(s->stopped));
			s->stopped.reason = "a VMM error";
			snprintf(s->stopped.why, sizeof(s->stopped.why), "%.400s", err.text);
			s->vm_stopped = true;
			return;
		}
		switch (ev.kind) {
		case VMHOST_CREATED:
			s->t.vm_setup = clock_now_ns();
			s->t.vmm_up = ev.t_ns;
			s->t.boot = ev.boot == VMHOST_BOOT_RESTORED ? "restored from template"
								    : "cold boot";
			if (ev.boot == VMHOST_BOOT_REFUSED)
				/* it was removed: this run saves a new one */
				session_diag(s, "hull: template not used, booting cold: %s\n",
					     ev.why);
			s->save_template =
			    ev.boot == VMHOST_BOOT_COLD || ev.boot == VMHOST_BOOT_REFUSED;
			if (s->io && s->io->booting)
				s->io->booting(s->io->ctx, ev.boot != VMHOST_BOOT_RESTORED);
			break;
		case VMHOST_STARTED:
			s->t.vcpus_started = ev.t_ns;
			break;
		case VMHOST_STOPPED:
			s->stopped = ev;
			s->t.stopped = clock_now_ns();
			s->vm_stopped = true;
			break;
		}
	}
}

/* ---- guest-init's connection ---- */

static void on_event(struct rt_session *s, const struct control_event *ev)
{
	switch (ev->type) {
	case CONTROL_READY:
		on_ready(s);
		break;
	case CONTROL_STARTED:
		s->t.started = s->ctl.t_started;
		if (s->sup)
			supervisor_started(s->sup);
		break;
	case CONTROL_OUTPUT:
		output(s, ev->stream, ev->data, ev->len);
		break;
	case CONTROL_ERROR:
		session_diag(s, "hull: %s\n", ev->text);
		if (s->ctl.started && s->sup) {
			/* about the running container (the guest's OOM killer
			 * ended it): its log keeps that too, as `hull logs`
			 * of a detached one has no other place to show it */
			char line[sizeof(s->ctl.text) + 8];
			int n = snprintf(line, sizeof(line), "hull: %s\n", ev->text);
			if (n > 0)
				supervisor_output(s->sup, 2, (const uint8_t *)line,
						  (size_t)n < sizeof(line) ? (size_t)n
									   : sizeof(line) - 1);
		}
		break;
	case CONTROL_EXIT:
		s->t.exited = s->ctl.t_exit;
		break;
	case CONTROL_FAILED:
		break; /* control_failed() says why, when the session ends */
	}
}

static void conn_closed(struct rt_session *s)
{
	close(s->q.fd);
	outq_reset(&s->q, -1);
	s->conn_done = true;
}

/* Feed what guest-init sent. With `drain`, read until nothing is left (the
 * VM stopped: its last bytes are in the socket buffer already). */
static void conn_read(struct rt_session *s, bool drain)
{
	uint8_t buf[64 * 1024];
	while (s->q.fd >= 0) {
		ssize_t n = recv(s->q.fd, buf, sizeof(buf), drain ? MSG_DONTWAIT : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_closed(s);
			return;
		}
		size_t off = 0;
		struct control_event ev;
		while (control_next(&s->ctl, buf, (size_t)n, &off, &ev))
			on_event(s, &ev);
		if (!drain)
			return;
	}
}

/* One control connection per container: later ones are refused (closed),
 * and so are connections from another user (the VM monitor connects). */
static void conn_accept(struct rt_session *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* the jailed monitor runs as another uid (runtime/jail.h): it is
	 * accepted by its pid */
	pid_t vmm = s->vm && s->vm->pid && s->vmh ? s->vm->pid(s->vmh) : 0;
	if (s->q.fd >= 0 || peercred_check(fd, vmm, NULL)) {
		close(fd);
	} else {
		outq_reset(&s->q, fd);
		s->conn_done = false;
	}
}

static bool ended(const struct rt_session *s)
{
	if (s->vm)
		return s->vm_stopped;
	/* not at a write error: what the guest sent before it closed (its
	 * EXIT, say) is still to be read, up to the end of the stream */
	return s->conn_done || control_failed(&s->ctl);
}

int session_run(struct rt_session *s, bool until_started)
{
	enum { P_VM, P_CONSOLE, P_LISTEN, P_CONN, P_STDIN, P_EVENT, P_SUP, P_N };
	if (s->vm && s->ready_timeout && !s->ready_deadline)
		s->ready_deadline = clock_now_ns() + (uint64_t)s->ready_timeout * 1000000000ull;
	while (!ended(s) && !(until_started && s->ctl.started)) {
		struct pollfd p[P_N];
		p[P_VM] = (struct pollfd){.fd = s->vm ? s->vm->fd(s->vmh) : -1, .events = POLLIN};
		p[P_CONSOLE] =
		    (struct pollfd){.fd = s->vm ? s->vm->console_fd(s->vmh) : -1, .events = POLLIN};
		p[P_LISTEN] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		p[P_CONN] = (struct pollfd){.fd = s->q.fd,
					    .events = POLLIN | (outq_pending(&s->q) ? POLLOUT : 0)};
		p[P_STDIN] = (struct pollfd){.fd = stdin_fd(s), .events = POLLIN};
		p[P_EVENT] = (struct pollfd){.fd = s->io ? s->io->event_fd : -1, .events = POLLIN};
		p[P_SUP] =
		    (struct pollfd){.fd = s->sup ? supervisor_fd(s->sup) : -1, .events = POLLIN};
		if (poll(p, P_N, timeout_ms(s, clock_now_ns())) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[P_CONSOLE].revents)
			console_read(s);
		if (p[P_VM].revents)
			vm_events(s);
		if (p[P_LISTEN].revents)
			conn_accept(s);
		if (p[P_CONN].revents & (POLLIN | POLLHUP | POLLERR))
			conn_read(s, false);
		if (p[P_SUP].revents)
			supervisor_dispatch(s->sup);
		if ((p[P_CONN].revents & POLLOUT) && s->q.fd >= 0)
			outq_flush(&s->q);
		if (p[P_STDIN].revents)
			stdin_read(s);
		tick(s, clock_now_ns());
		if (p[P_EVENT].revents && s->io->on_event)
			s->io->on_event(s->io->ctx, s);
	}
	if (s->vm && s->vm_stopped) {
		/* the VM's last words are in the buffers already */
		console_read(s);
		conn_read(s, true);
	}
	if (ended(s) && s->io && s->io->ended)
		s->io->ended(s->io->ctx);
	return 0;
}
