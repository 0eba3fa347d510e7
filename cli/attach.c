#include "attach.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static int winsize(void *ctx, uint16_t *rows, uint16_t *cols)
{
	(void)ctx;
	if (term_winsize(STDIN_FILENO, rows, cols) == 0 ||
	    term_winsize(STDOUT_FILENO, rows, cols) == 0)
		return 0;
	return -ENOTTY;
}

static void on_signal(void *ctx, struct rt_session *s)
{
	struct attach *a = ctx;
	struct signalfd_siginfo si;
	if (read(a->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	int signo = (int)si.ssi_signo;
	uint16_t rows, cols;
	if (signo == SIGWINCH) {
		if (winsize(a, &rows, &cols) == 0)
			rt_session_resize(s, rows, cols); /* a lost RESIZE only costs a redraw */
		return;
	}
	if (signo != SIGTERM || rt_session_stop(s) == -EALREADY)
		rt_session_signal(s, signo);
}

/* hull's own messages after the session need a sane terminal */
static void ended(void *ctx)
{
	term_restore(&((struct attach *)ctx)->term);
}

void attach_signals(sigset_t *set)
{
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

void attach_init(struct attach *a, bool interactive, bool tty)
{
	memset(a, 0, sizeof(*a));
	a->term.fd = -1;
	a->sigfd = -1;
	a->interactive = interactive;
	a->tty = tty;
	a->io = (struct rt_io){.ctx = a,
			       .in_fd = interactive ? STDIN_FILENO : -1,
			       .winsize = winsize,
			       .event_fd = -1,
			       .on_event = on_signal,
			       .ended = ended};
}

int attach_start(struct attach *a, struct errmsg *err)
{
	if (a->tty && a->interactive) {
		int rc = term_raw(&a->term, STDIN_FILENO);
		if (rc)
			return errmsg_set(err, rc, "cannot put the terminal in raw mode: %s",
					  strerror(-rc));
	}
	sigset_t set;
	sigemptyset(&set);
	attach_signals(&set);
	if (a->tty)
		sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (a->sigfd < 0) {
		int rc = -errno;
		attach_end(a);
		return errmsg_set(err, rc, "signalfd: %s", strerror(-rc));
	}
	a->io.event_fd = a->sigfd;
	return 0;
}

void attach_end(struct attach *a)
{
	term_restore(&a->term);
	if (a->sigfd >= 0)
		close(a->sigfd);
	a->sigfd = a->io.event_fd = -1;
}
