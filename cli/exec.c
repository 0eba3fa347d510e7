#include "exec.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/control.h"
#include "cli/outq.h"
#include "cli/runtime.h"
#include "cli/spec.h"
#include "cli/stop.h"
#include "cli/vsock_host.h"
#include "common/clock.h"
#include "proto/hcp.h"

#define CONNECT_TIMEOUT_MS 10000

void exec_usage(FILE *f)
{
	fprintf(f, "Usage: hull exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
		   "\n"
		   "Run a command in a running container.\n"
		   "CONTAINER is a running container's name or id (or the path of its VM's vsock socket).\n"
		   "\n"
		   "Options:\n"
		   "  -i, --interactive         forward stdin to the command\n"
		   "  -t, --tty                 run the command on a pseudo-terminal\n"
		   "  -e, --env KEY[=VALUE]     add an environment variable (KEY alone: take hull's)\n"
		   "  -w, --workdir DIR         working directory (default: the container's)\n"
		   "  -u, --user USER[:GROUP]   user (default: the container's)\n");
}

/* ---- the exec session ---- */

struct session {
	struct outq q;
	struct control ctl;
	struct attach at;
	int sigfd;
	bool eof;
};

/* One round of the event loop. Returns 1 when the session is over. */
static int session_step(struct session *s)
{
	struct pollfd p[3] = {
		{ .fd = s->q.fd, .events = POLLIN | (outq_pending(&s->q) ? POLLOUT : 0) },
		{ .fd = s->sigfd, .events = POLLIN },
		{ .fd = attach_stdin_fd(&s->at), .events = POLLIN },
	};
	if (poll(p, 3, attach_timeout_ms(&s->at, clock_now_ns())) < 0)
		return errno == EINTR ? 0 : 1;
	if (p[0].revents & POLLOUT)
		outq_flush(&s->q);
	if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
		uint8_t buf[64 * 1024];
		ssize_t n = read(s->q.fd, buf, sizeof(buf));
		if (n > 0)
			control_feed(&s->ctl, buf, (size_t)n);
		else if (n == 0 || errno != EINTR)
			s->eof = true;
	}
	if (p[2].revents)
		attach_on_stdin(&s->at);
	attach_tick(&s->at, clock_now_ns());
	if (p[1].revents) {
		struct signalfd_siginfo si;
		if (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
			attach_on_signal(&s->at, (int)si.ssi_signo, clock_now_ns());
	}
	return s->eof || s->q.error || control_failed(&s->ctl);
}

int exec_run(const char *vsock_path, const struct hcp_spec *x, const struct attach_opts *ao)
{
	struct errmsg err;
	struct session s = { .sigfd = -1 };
	int status = HCP_EXIT_HULL_FAILED;
	bool ctl_ok = false;

	s.q.fd = vsock_host_connect(vsock_path, HCP_VSOCK_PORT_EXEC, CONNECT_TIMEOUT_MS, &err);
	if (s.q.fd < 0) {
		fprintf(stderr, "hull: exec: %s\n", err.text);
		return status;
	}
	if (control_init_exec(&s.ctl, x, STDOUT_FILENO, STDERR_FILENO, outq_send, &s.q)) {
		fprintf(stderr, "hull: exec: the command is too large for one message\n");
		goto out;
	}
	ctl_ok = true;
	attach_init(&s.at, &s.ctl, ao);
	int trc = attach_start(&s.at);
	if (trc) {
		fprintf(stderr, "hull: cannot put the terminal in raw mode: %s\n", strerror(-trc));
		goto out;
	}
	sigset_t set;
	attach_sigset(&s.at, &set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (s.sigfd < 0) {
		fprintf(stderr, "hull: exec: %s\n", strerror(errno));
		goto out;
	}
	if (control_resume_ready(&s.ctl)) {
		fprintf(stderr, "hull: exec: cannot send the command to the guest\n");
		goto out;
	}
	while (!session_step(&s))
		;
	attach_end(&s.at);
	int code;
	const char *f = control_failed(&s.ctl);
	if (control_exit_status(&s.ctl, &code))
		status = code;
	else if (f)
		fprintf(stderr, "hull: exec: %s\n", f);
	else
		fprintf(stderr, "hull: exec: the session ended without an exit status%s%s\n",
			s.q.error ? ": " : " (did the container stop?)",
			s.q.error ? strerror(-s.q.error) : "");
out:
	if (ctl_ok) {
		attach_end(&s.at);
		control_free(&s.ctl);
	}
	if (s.sigfd >= 0)
		close(s.sigfd);
	close(s.q.fd);
	outq_free(&s.q);
	return status;
}

/* ---- the command ---- */

int exec_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct attach_opts ao = { .stop_signo = SIGTERM, .stop_timeout_s = STOP_DEFAULT_TIMEOUT_S };
	struct spec_overrides so = { 0 };
	char **env = calloc((size_t)argc + 1, sizeof(char *));
	int c, status = HCP_EXIT_HULL_FAILED;
	if (!env)
		return status;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ite:w:u:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			ao.interactive = true;
			break;
		case 't':
			ao.tty = true;
			break;
		case 'e':
			env[so.n_env++] = optarg;
			break;
		case 'w':
			so.workdir = optarg;
			break;
		case 'u':
			so.user = optarg;
			break;
		case 'h':
			exec_usage(stdout);
			free(env);
			return 0;
		default:
			exec_usage(stderr);
			free(env);
			return status;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "hull: exec: %s\n", optind < argc ? "missing COMMAND" : "missing CONTAINER");
		exec_usage(stderr);
		free(env);
		return status;
	}
	const char *name = argv[optind];
	/* a container's name or id (cli/runtime.h); a path: the VM's socket U */
	char *sock = NULL;
	struct errmsg err;
	if (!strchr(name, '/') && runtime_running_sock(name, &sock, &err)) {
		fprintf(stderr, "hull: exec: %s\n", err.text);
		free(env);
		return status;
	}
	/* docker's rules, with the image's part empty: the container's own
	 * values are guest-init's to apply (execcfg) */
	so.env = env;
	so.args = argv + optind + 1;
	so.n_args = (size_t)(argc - optind - 1);
	so.tty = ao.tty;
	struct spec_image none = { 0 };
	struct hcp_spec x;
	if (spec_build(&none, &so, &x, &err)) {
		fprintf(stderr, "hull: exec: %s\n", err.text);
		free(sock);
		free(env);
		return status;
	}
	free(x.rootfs);
	x.rootfs = NULL;
	if (!so.workdir) {
		free(x.cwd);
		x.cwd = NULL;
	}
	status = exec_run(sock ? sock : name, &x, &ao);
	hcp_spec_free(&x);
	free(sock);
	free(env);
	return status;
}
