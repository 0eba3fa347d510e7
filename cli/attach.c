#include "attach.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

void attach_init(struct attach *a, struct control *ctl, const struct attach_opts *o)
{
	memset(a, 0, sizeof(*a));
	a->ctl = ctl;
	a->o = *o;
	a->in_fd = STDIN_FILENO;
	a->term.fd = -1;
	if (!a->o.stop_signo)
		a->o.stop_signo = SIGTERM;
}

static void send_winsize(struct attach *a)
{
	uint16_t rows, cols;
	if (term_winsize(STDIN_FILENO, &rows, &cols) == 0 ||
	    term_winsize(STDOUT_FILENO, &rows, &cols) == 0)
		control_resize(a->ctl, rows, cols); /* a lost RESIZE only costs a redraw */
}

int attach_start(struct attach *a)
{
	control_set_stdin_open(a->ctl, a->o.interactive);
	if (!a->o.tty)
		return 0;
	send_winsize(a);
	if (a->o.interactive)
		return term_raw(&a->term, a->in_fd);
	return 0;
}

void attach_end(struct attach *a)
{
	term_restore(&a->term);
}

void attach_sigset(const struct attach *a, sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
	if (a->o.tty)
		sigaddset(set, SIGWINCH);
}

int attach_stdin_fd(const struct attach *a)
{
	/* before the spec is out, a chunk read waits (retried) like a refused one */
	if (!a->o.interactive || a->in_done || a->len)
		return -1;
	return a->in_fd;
}

static bool want_retry(const struct attach *a)
{
	return a->o.interactive && (a->len || (a->in_done && !a->eof_sent));
}

int attach_timeout_ms(const struct attach *a, uint64_t now_ns)
{
	int t = stop_timeout_ms(&a->stop, now_ns);
	if (want_retry(a) && (t < 0 || t > ATTACH_RETRY_MS))
		t = ATTACH_RETRY_MS;
	return t;
}

/* Push the held chunk, then STDIN_EOF; whatever is refused stays for later. */
static void flush(struct attach *a)
{
	if (a->len) {
		int rc = control_stdin(a->ctl, a->buf, a->len);
		if (rc == -ENOBUFS || rc == -EAGAIN)
			return;
		a->len = 0; /* sent, or never will be (-EPIPE: the process is gone) */
	}
	if (a->in_done && !a->eof_sent) {
		int rc = control_stdin_eof(a->ctl);
		if (rc == -ENOBUFS || rc == -EAGAIN)
			return;
		a->eof_sent = true;
	}
}

void attach_on_stdin(struct attach *a)
{
	ssize_t n = read(a->in_fd, a->buf, sizeof(a->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		a->in_done = true; /* end of file, or unreadable: either way no more input */
	else
		a->len = (size_t)n;
	flush(a);
}

void attach_tick(struct attach *a, uint64_t now_ns)
{
	if (want_retry(a))
		flush(a);
	if (stop_kill_due(&a->stop, now_ns))
		control_signal(a->ctl, SIGKILL);
}

int attach_on_signal(struct attach *a, int signo, uint64_t now_ns)
{
	if (signo == SIGWINCH) {
		send_winsize(a);
		return 0;
	}
	if (signo == SIGTERM && !a->stop.armed) {
		int rc = control_signal(a->ctl, a->o.stop_signo);
		if (rc == 0)
			stop_arm(&a->stop, now_ns, a->o.stop_timeout_s);
		return rc;
	}
	return control_signal(a->ctl, signo);
}
