/* hull attach (cli/attach_cmd.h): the container log followed from its end
 * (as hull logs -f follows it), signals forwarded as hull kill sends them,
 * and the exit status as hull wait learns it. */
#include "attach_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/attach.h"
#include "cli/lifecycle_cmd.h"
#include "cli/opts.h"
#include "runtime/ctrlog.h"
#include "runtime/runtime.h"
#include "runtime/supervisor.h"

/* how often the log is read again while the container runs (hull logs -f
 * polls the same way: the log is a file, not a stream) */
#define ATTACH_POLL_MS 100

enum { O_NO_STDIN = 256, O_SIG_PROXY };

static const struct opt attach_opts[] = {
    {O_NO_STDIN, 0, "no-stdin", NULL, "do not attach stdin (a detached container has none)"},
    {O_SIG_PROXY, 0, "sig-proxy", "=BOOL",
     "forward hull attach's signals to the container (default\n"
     "true; with false, ^C ends attach and not the container)"},
    {0},
};

static const struct cmd_opts attach_cmd = {
    .name = "attach",
    .synopsis = "[OPTIONS] NAME|ID",
    .about = "Attach to a running container: print its output from now on (its stdout to\n"
	     "stdout, its stderr to stderr), forward signals to it, and exit with its exit\n"
	     "status when it ends. Stdin is not attached: the supervisor of a container run\n"
	     "with -d keeps none (hull run -d -i gives the container an empty stdin), so\n"
	     "there are no detach keys either; hull says so for a container run with -i.\n",
    .opts = attach_opts,
    .min_args = 1,
    .max_args = 1,
};

struct attach_opts {
	bool no_stdin, sig_proxy;
};

static int attach_set(void *ctx, int id, const char *v)
{
	struct attach_opts *o = ctx;
	if (id == O_NO_STDIN) {
		o->no_stdin = true;
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

/* Forward every signal waiting on sigfd to the container. */
static void forward_signals(int sigfd, const char *id)
{
	struct signalfd_siginfo si;
	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		struct errmsg err;
		if (rt_kill(id, (int)si.ssi_signo, &err))
			fprintf(stderr, "hull: attach: %s\n", err.text);
	}
}

/* Print the log from its end until the supervisor is gone, forwarding
 * signals meanwhile (sigfd < 0: none); with note, say once the log is
 * open that stdin is not attached. 0, or -errno after saying why. */
static int follow(const struct runtime_state *s, const char *ref, int sigfd, bool note)
{
	char *path = runtime_path(s, RUNTIME_LOG_FILE);
	struct ctrlog_reader r;
	int rc = path ? ctrlog_reader_open(path, 0, &r) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "hull: attach %s: %s: %s\n", ref, path ? path : "", strerror(-rc));
		free(path);
		return rc;
	}
	free(path);
	if (note)
		fprintf(stderr,
			"hull: attach %s: stdin is not forwarded: a detached container's "
			"supervisor keeps none (output and signals are attached)\n",
			ref);
	for (;;) {
		int w = supervisor_wait(s, ATTACH_POLL_MS);
		if (sigfd >= 0)
			forward_signals(sigfd, s->id);
		/* the supervisor wrote its last record before it exited */
		if ((rc = ctrlog_pump(&r, STDOUT_FILENO, STDERR_FILENO)) || w == 0)
			break;
	}
	ctrlog_reader_close(&r);
	if (rc)
		fprintf(stderr, "hull: attach %s: %s\n", ref, strerror(-rc));
	return rc;
}

int attach_main(int argc, char **argv)
{
	struct attach_opts o = {.sig_proxy = true};
	int first, rc = opts_parse(&attach_cmd, argc, argv, attach_set, &o, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	const char *ref = argv[first];
	struct runtime_state s;
	struct errmsg err;
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
	int sigfd = -1;
	if (o.sig_proxy) {
		sigset_t set;
		sigemptyset(&set);
		attach_signals(&set);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (sigfd < 0) {
			fprintf(stderr, "hull: attach: signalfd: %s\n", strerror(errno));
			runtime_state_free(&s);
			return 1;
		}
	}
	/* by id from here on: a rename meanwhile must not lose it */
	char id[RUNTIME_ID_LEN + 1];
	memcpy(id, s.id, sizeof(id));
	rc = follow(&s, ref, sigfd, s.cfg.open_stdin && !o.no_stdin);
	runtime_state_free(&s);
	int code = 1;
	if (!rc && lifecycle_wait_one(id, &code))
		code = 1;
	if (sigfd >= 0)
		close(sigfd);
	return rc ? 1 : code;
}
