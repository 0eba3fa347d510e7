/* hull attach (cli/attach_cmd.h): the container log followed from its end
 * (as hull logs -f follows it), stdin through the supervisor's control
 * socket (cli/attach_in.h), signals forwarded as hull kill sends them, and
 * the exit status as hull wait learns it. */
#include "attach_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/attach.h"
#include "cli/attach_in.h"
#include "cli/detachkeys.h"
#include "cli/term.h"
#include "cli/lifecycle_cmd.h"
#include "cli/opts.h"
#include "runtime/ctrlog.h"
#include "runtime/runtime.h"
#include "runtime/supervisor.h"

/* how often the log is read again while the container runs (hull logs -f
 * polls the same way: the log is a file, not a stream) */
#define ATTACH_POLL_MS 100

enum { O_NO_STDIN = 256, O_SIG_PROXY, O_DETACH_KEYS };

static const struct opt attach_opts[] = {
    {O_NO_STDIN, 0, "no-stdin", NULL,
     "do not forward stdin (only a container run with -i\n"
     "takes any: without -i attach forwards nothing)"},
    {O_SIG_PROXY, 0, "sig-proxy", "=BOOL",
     "forward hull attach's signals to the container (default\n"
     "true; with false, ^C ends attach and not the container)"},
    {O_DETACH_KEYS, 0, "detach-keys", "KEYS",
     "on a TTY container (-t), these keys detach attach and\n"
     "leave the container running (default ctrl-p,ctrl-q;\n"
     "comma-separated, each a character or ctrl-X)"},
    {0},
};

static const struct cmd_opts attach_cmd = {
    .name = "attach",
    .synopsis = "[OPTIONS] NAME|ID",
    .about = "Attach to a running container: print its output from now on (its stdout to\n"
	     "stdout, its stderr to stderr), forward stdin and signals to it, and exit with\n"
	     "its exit status when it ends. Stdin goes to a container run with -i (hull run\n"
	     "-d -i, -d -it), one hull attach at a time; the end of attach's stdin ends its\n"
	     "forwarding and the container's stdin stays open for the next attach (docker's\n"
	     "rule for -d -i). On a TTY container the terminal goes raw, its size follows\n"
	     "attach's terminal, and the detach keys leave (\"read escape sequence\", status\n"
	     "1, as docker); its stdin must then be a terminal. Foreground hull run -it has no\n"
	     "detach keys: that process is the VM's supervisor and cannot hand it over.\n",
    .opts = attach_opts,
    .min_args = 1,
    .max_args = 1,
};

struct attach_opts {
	bool no_stdin, sig_proxy;
	struct detach_keys keys;
};

static int attach_set(void *ctx, int id, const char *v)
{
	struct attach_opts *o = ctx;
	struct errmsg err;
	if (id == O_NO_STDIN) {
		o->no_stdin = true;
		return 0;
	}
	if (id == O_DETACH_KEYS) {
		if (detach_keys_parse(v, &o->keys, &err)) {
			fprintf(stderr, "hull attach: %s\n", err.text);
			return -EINVAL;
		}
		return 0;
	}
	if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
		o->sig_proxy = true;
	} else if (!strcmp(v, "false") || !strcmp(v, "0")) {
		o->sig_proxy = false;
	} else {
		fprintf(stderr, "hull attach: --sig-proxy=%s: expected true or false\n", v);
		return -EINVAL;
	}
	return 0;
}

/* What one attach holds while it follows the container. */
struct follower {
	const struct runtime_state *s;
	const char *ref;
	int sigfd; /* -1: none */
	struct attach_in in;
	struct term term;
};

/* The signals waiting on sigfd: SIGWINCH resizes, the others go to the
 * container. */
static void on_signals(struct follower *f)
{
	struct signalfd_siginfo si;
	while (read(f->sigfd, &si, sizeof(si)) == sizeof(si)) {
		uint16_t rows, cols;
		struct errmsg err;
		if (si.ssi_signo == SIGWINCH) {
			if (term_winsize(STDIN_FILENO, &rows, &cols) == 0)
				attach_in_resize(&f->in, rows, cols);
		} else if (rt_kill(f->s->id, (int)si.ssi_signo, &err)) {
			fprintf(stderr, "hull: attach: %s\n", err.text);
		}
	}
}

/* A wakeup when the container log grows (else the poll's timeout). */
static int log_watch(const char *path)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd >= 0 && inotify_add_watch(fd, path, IN_MODIFY) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void drain(int fd)
{
	char buf[4096];
	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Print the log from its end until the supervisor is gone, forwarding
 * stdin and signals meanwhile. 0, 1 when the detach keys were read, or
 * -errno after saying why. */
static int follow(struct follower *f)
{
	char *path = runtime_path(f->s, RUNTIME_LOG_FILE);
	struct ctrlog_reader r;
	int rc = path ? ctrlog_reader_open(path, 0, &r) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "hull: attach %s: %s: %s\n", f->ref, path ? path : "",
			strerror(-rc));
		free(path);
		return rc;
	}
	int wfd = log_watch(path);
	free(path);
	bool detached = false;
	for (;;) {
		struct pollfd p[4];
		attach_in_events(&f->in, p);
		p[2] = (struct pollfd){.fd = f->sigfd, .events = POLLIN};
		p[3] = (struct pollfd){.fd = wfd, .events = POLLIN};
		if (poll(p, 4, ATTACH_POLL_MS) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (p[2].revents)
			on_signals(f);
		drain(wfd);
		if (attach_in_step(&f->in, p) == ATTACH_IN_DETACH) {
			detached = true;
			break;
		}
		int w = supervisor_wait(f->s, 0);
		/* the supervisor wrote its last record before it exited */
		if ((rc = ctrlog_pump(&r, STDOUT_FILENO, STDERR_FILENO)) || w == 0)
			break;
	}
	ctrlog_reader_close(&r);
	if (wfd >= 0)
		close(wfd);
	if (rc)
		fprintf(stderr, "hull: attach %s: %s\n", f->ref, strerror(-rc));
	return rc ? rc : detached;
}

/* The container's stdin when attach forwards its own: the connection from
 * supervisor_attach() (-1: none), or -errno after saying why. */
static int open_stdin(const struct runtime_state *s, const char *ref, bool tty)
{
	if (tty && !isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"hull: attach %s: the input device is not a TTY (the container runs "
			"with -t: attach from a terminal, or with --no-stdin)\n",
			ref);
		return -ENOTTY;
	}
	struct errmsg err;
	int fd, rc = supervisor_attach(s, &fd, &err);
	if (rc) {
		fprintf(stderr, "hull: attach: %s\n", err.text);
		return rc;
	}
	return fd;
}

int attach_main(int argc, char **argv)
{
	struct attach_opts o = {.sig_proxy = true};
	struct errmsg err;
	detach_keys_parse(NULL, &o.keys, &err);
	int first, rc = opts_parse(&attach_cmd, argc, argv, attach_set, &o, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	const char *ref = argv[first];
	struct runtime_state s;
	if (rt_inspect(ref, &s, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		return 1;
	}
	/* running, or booting under hull start (a supervisor that lives) */
	enum runtime_status eff = runtime_status_eff(&s, NULL);
	if (eff != RUNTIME_RUNNING && !(eff == RUNTIME_CREATED && s.monitor_pid)) {
		fprintf(stderr,
			"hull: You cannot attach to a stopped container, start it first (%s is "
			"%s)\n",
			ref, runtime_status_name(eff));
		runtime_state_free(&s);
		return 1;
	}
	/* docker's rule: stdin only to a container run with -i */
	bool tty = s.cfg.tty, fwd = s.cfg.open_stdin && !o.no_stdin;
	int conn = fwd ? open_stdin(&s, ref, tty) : -1;
	if (conn < 0 && fwd) {
		runtime_state_free(&s);
		return 1;
	}
	struct follower f = {.s = &s, .ref = ref, .sigfd = -1, .term = {.fd = -1}};
	attach_in_init(&f.in, STDIN_FILENO, conn, tty, &o.keys);
	sigset_t set;
	sigemptyset(&set);
	if (o.sig_proxy)
		attach_signals(&set);
	if (conn >= 0 && tty)
		sigaddset(&set, SIGWINCH);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	f.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (f.sigfd < 0) {
		fprintf(stderr, "hull: attach: signalfd: %s\n", strerror(errno));
		attach_in_close(&f.in);
		runtime_state_free(&s);
		return 1;
	}
	uint16_t rows, cols;
	if (conn >= 0 && tty) {
		if ((rc = term_raw(&f.term, STDIN_FILENO)))
			fprintf(stderr, "hull: attach: cannot put the terminal in raw mode: %s\n",
				strerror(-rc));
		/* docker's nudge: a size that changes twice makes the program
		 * redraw, even when the terminal has the size it had */
		if (term_winsize(STDIN_FILENO, &rows, &cols) == 0) {
			attach_in_resize(&f.in, rows + 1, cols + 1);
			attach_in_resize(&f.in, rows, cols);
		}
	}
	/* by id from here on: a rename meanwhile must not lose it */
	char id[RUNTIME_ID_LEN + 1];
	memcpy(id, s.id, sizeof(id));
	rc = follow(&f);
	term_restore(&f.term);
	attach_in_close(&f.in);
	close(f.sigfd);
	runtime_state_free(&s);
	if (rc == 1) {
		/* the detach keys: the container runs on (docker's words, status) */
		fprintf(stderr, "read escape sequence\n");
		return 1;
	}
	int code = 1;
	if (!rc && lifecycle_wait_one(id, &code))
		code = 1;
	return rc ? 1 : code;
}
