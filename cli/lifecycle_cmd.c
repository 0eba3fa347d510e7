/* create, start, restart, wait, rename, port (cli/lifecycle_cmd.h). hull
 * create records run's arguments with the container; start replays them
 * through run (cli/run.h) in a new VM, since a VM that ended is gone. */
#include "lifecycle_cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/opts.h"
#include "cli/run.h"
#include "runtime/net_opts.h"
#include "runtime/runtime.h"
#include "runtime/stop.h"
#include "runtime/supervisor.h"

/* The exit status after opts_parse() said something other than OPTS_OK. */
static int parse_status(int rc)
{
	return rc == OPTS_HELP ? 0 : 2;
}

static int inspect_or_report(const char *ref, struct runtime_state *s)
{
	struct errmsg err;
	int rc = rt_inspect(ref, s, &err);
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	return rc;
}

/* ---- create ---- */

int create_main(int argc, char **argv)
{
	struct run_mode m = {.cmd = &create_cmd_opts, .create = true};
	return run_with(argc, argv, &m);
}

/* ---- start ---- */

/* Boot ref's container again from the arguments it was created with; the
 * exit status of hull start for it. */
static int start_one(const char *ref, bool attach, bool interactive)
{
	struct runtime_state s;
	if (inspect_or_report(ref, &s))
		return 1;
	int status = 1;
	if (runtime_status_eff(&s, NULL) == RUNTIME_RUNNING ||
	    (s.monitor_pid && runtime_monitor_alive(&s))) {
		/* docker: starting a running container does nothing */
		if (attach)
			fprintf(stderr,
				"hull: container %s is already running (hull attach is "
				"not available yet: hull logs -f follows its output)\n",
				ref);
		else
			printf("%s\n", ref);
		status = attach ? 1 : 0;
	} else if (!s.n_args) {
		fprintf(stderr,
			"hull: cannot start %s: it was recorded by an older hull, without the "
			"arguments it was created with (hull rm it and run it again)\n",
			ref);
	} else {
		char **av = calloc(s.n_args + 2, sizeof(char *));
		if (!av) {
			fprintf(stderr, "hull: out of memory\n");
		} else {
			av[0] = "start";
			memcpy(av + 1, s.args, s.n_args * sizeof(char *));
			struct run_mode m = {.cmd = &run_cmd_opts,
					     .claim = s.id,
					     .attach = attach,
					     .interactive = interactive};
			status = run_with((int)s.n_args + 1, av, &m);
			/* detached: 0 once it runs; docker start says 1 on failure */
			if (!attach && status)
				status = 1;
			free(av);
		}
	}
	runtime_state_free(&s);
	return status;
}

static const struct opt start_opts[] = {
    {'a', 'a', "attach", NULL,
     "stay attached: print the container's output and end with its\n"
     "exit status (one container only)"},
    {'i', 'i', "interactive", NULL, "with -a, forward stdin (when created with -i)"},
    {0},
};

static const struct cmd_opts start_cmd = {
    .name = "start",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Start created or stopped containers, each in a new microVM (restored from the\n"
	     "template when one fits, else booted cold) with the options it was created\n"
	     "with; its log goes on. Detached unless -a: prints the container's id.\n",
    .opts = start_opts,
    .min_args = 1,
    .max_args = -1,
};

struct start_opts {
	bool attach, interactive;
};

static int start_set(void *ctx, int id, const char *v)
{
	(void)v;
	struct start_opts *o = ctx;
	if (id == 'a')
		o->attach = true;
	else
		o->interactive = true;
	return 0;
}

int start_main(int argc, char **argv)
{
	struct start_opts o = {0};
	int first, rc = opts_parse(&start_cmd, argc, argv, start_set, &o, &first);
	if (rc)
		return parse_status(rc);
	if ((o.attach || o.interactive) && argc - first > 1) {
		fprintf(stderr, "hull start: -a and -i take one container\n");
		return 2;
	}
	if (o.attach)
		return start_one(argv[first], true, o.interactive);
	int status = 0;
	for (int i = first; i < argc; i++)
		if (start_one(argv[i], false, false))
			status = 1;
	return status;
}

/* ---- restart ---- */

static const struct opt restart_opts[] = {
    {'t', 't', "time", "SECONDS", "seconds to wait before SIGKILL (default: the container's, 10)"},
    {0},
};

static const struct cmd_opts restart_cmd = {
    .name = "restart",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Restart containers: hull stop, then hull start. The process runs again in a\n"
	     "new microVM (the old VM is gone once stopped): restored from the template\n"
	     "when one fits, so it takes seconds, not a cold boot. Prints each id.\n",
    .opts = restart_opts,
    .min_args = 1,
    .max_args = -1,
};

static int restart_set(void *ctx, int id, const char *v)
{
	(void)id;
	unsigned t;
	if (stop_timeout_parse(v, &t)) {
		fprintf(stderr, "hull restart: -t %s: expected seconds from 0 to %d\n", v,
			STOP_MAX_TIMEOUT_S);
		return -EINVAL;
	}
	*(int *)ctx = (int)t;
	return 0;
}

int restart_main(int argc, char **argv)
{
	int timeout = -1;
	int first, rc = opts_parse(&restart_cmd, argc, argv, restart_set, &timeout, &first);
	if (rc)
		return parse_status(rc);
	int status = 0;
	for (int i = first; i < argc; i++) {
		struct errmsg err;
		if (rt_stop(argv[i], timeout, &err)) {
			fprintf(stderr, "hull: %s\n", err.text);
			status = 1;
		} else if (start_one(argv[i], false, false)) {
			status = 1;
		}
	}
	return status;
}

/* ---- wait ---- */

static const struct cmd_opts wait_cmd = {
    .name = "wait",
    .synopsis = "NAME|ID...",
    .about = "Wait until each container has ended, and print its exit status (125 for one\n"
	     "whose monitor died). A created container is waited for through its start.\n",
    .min_args = 1,
    .max_args = -1,
};

int lifecycle_wait_one(const char *ref, int *code)
{
	struct runtime_state s;
	if (inspect_or_report(ref, &s))
		return 1;
	/* by id from here on: a rename meanwhile must not lose it */
	char id[RUNTIME_ID_LEN + 1];
	memcpy(id, s.id, sizeof(id));
	for (;;) {
		enum runtime_status st = runtime_status_eff(&s, NULL);
		if (st == RUNTIME_EXITED || st == RUNTIME_DEAD) {
			*code = st == RUNTIME_EXITED ? s.exit_code : RT_EXIT_FAILED;
			runtime_state_free(&s);
			return 0;
		}
		if (s.monitor_pid) {
			/* its supervisor records the end before it exits */
			supervisor_wait(&s, -1);
		} else {
			/* hull create's: nothing to wait on until hull start claims
			 * it (that rewrites the record), so look again shortly */
			struct timespec ts = {0, 200 * 1000000};
			nanosleep(&ts, NULL);
		}
		runtime_state_free(&s);
		struct errmsg err;
		if (rt_inspect(id, &s, &err)) {
			fprintf(stderr,
				"hull: wait %s: the container was removed before it ended%s\n", ref,
				" (--rm or hull rm: its exit status is gone with it)");
			return 1;
		}
	}
}

int wait_main(int argc, char **argv)
{
	int first, rc = opts_parse(&wait_cmd, argc, argv, NULL, NULL, &first);
	if (rc)
		return parse_status(rc);
	int status = 0;
	for (int i = first; i < argc; i++) {
		int code;
		if (lifecycle_wait_one(argv[i], &code))
			status = 1;
		else
			printf("%d\n", code);
		fflush(stdout);
	}
	return status;
}

/* ---- rename ---- */

static const struct cmd_opts rename_cmd = {
    .name = "rename",
    .synopsis = "OLD NEW",
    .about = "Rename a container (running or not).\n",
    .min_args = 2,
    .max_args = 2,
};

int rename_main(int argc, char **argv)
{
	int first, rc = opts_parse(&rename_cmd, argc, argv, NULL, NULL, &first);
	if (rc)
		return parse_status(rc);
	char *root;
	struct errmsg err;
	if (!(rc = runtime_root(&root, &err))) {
		rc = runtime_rename(root, argv[first], argv[first + 1], &err);
		free(root);
	}
	if (rc)
		fprintf(stderr, "hull: rename %s: %s\n", argv[first], err.text);
	return rc ? 1 : 0;
}

/* ---- port ---- */

static const struct cmd_opts port_cmd = {
    .name = "port",
    .synopsis = "NAME|ID [PRIVATE_PORT[/tcp|/udp]]",
    .about = "List a running container's published ports (hull run -p), or the host\n"
	     "addresses of one container port.\n",
    .min_args = 1,
    .max_args = 2,
};

int port_main(int argc, char **argv)
{
	int first, rc = opts_parse(&port_cmd, argc, argv, NULL, NULL, &first);
	if (rc)
		return parse_status(rc);
	uint16_t want = 0;
	bool udp = false;
	if (argc - first == 2 && net_opts_port_spec(argv[first + 1], &want, &udp)) {
		fprintf(stderr,
			"hull port: %s: expected a port (1-65535), optionally /tcp or /udp\n",
			argv[first + 1]);
		return 2;
	}
	struct runtime_state s;
	if (inspect_or_report(argv[first], &s))
		return 1;
	/* docker shows ports only while the container runs */
	bool running = runtime_status_eff(&s, NULL) == RUNTIME_RUNNING;
	size_t shown = 0;
	for (size_t i = 0; running && i < s.cfg.n_ports; i++) {
		const struct runtime_port *p = &s.cfg.ports[i];
		if (want && (p->guest_port != want || p->udp != udp))
			continue;
		char ip[INET_ADDRSTRLEN] = "0.0.0.0";
		struct in_addr a = {.s_addr = htonl(p->host_ip)}; /* the state's: host order */
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		if (want)
			printf("%s:%u\n", ip, p->host_port);
		else
			printf("%u/%s -> %s:%u\n", p->guest_port, p->udp ? "udp" : "tcp", ip,
			       p->host_port);
		shown++;
	}
	if (want && !shown)
		fprintf(stderr, "hull: no public port '%u/%s' published for %s\n", want,
			udp ? "udp" : "tcp", argv[first]);
	runtime_state_free(&s);
	return want && !shown ? 1 : 0;
}
