#include "exec.h"

#include <stdlib.h>
#include <string.h>

#include "cli/attach.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"

static const struct opt exec_opts[] = {
    {'i', 'i', "interactive", NULL, "forward stdin to the command"},
    {'t', 't', "tty", NULL, "run the command on a pseudo-terminal"},
    {'e', 'e', "env", "KEY[=VALUE]", "add an environment variable (KEY alone: take hull's)"},
    {'w', 'w', "workdir", "DIR", "working directory (default: the container's)"},
    {'u', 'u', "user", "USER[:GROUP]", "user (default: the container's)"},
    {0},
};

const struct cmd_opts exec_cmd_opts = {
    .name = "exec",
    .synopsis = "[OPTIONS] CONTAINER COMMAND [ARG...]",
    .about = "Run a command in a running container.\n"
	     "CONTAINER is a running container's name or id (or the path of its VM's vsock "
	     "socket).\n",
    .opts = exec_opts,
    .min_args = 2,
    .max_args = -1,
    .stop_at_arg = true,
};

struct exec_opts {
	bool interactive, tty;
	struct spec_overrides so;
	char **env;
};

static int set_opt(void *ctx, int id, const char *v)
{
	struct exec_opts *o = ctx;
	switch (id) {
	case 'i':
		o->interactive = true;
		break;
	case 't':
		o->tty = true;
		break;
	case 'e':
		o->env[o->so.n_env++] = (char *)v;
		break;
	case 'w':
		o->so.workdir = v;
		break;
	case 'u':
		o->so.user = v;
		break;
	}
	return 0;
}

int exec_main(int argc, char **argv)
{
	struct exec_opts o = {0};
	int status = RT_EXIT_FAILED, first;
	if (!(o.env = calloc((size_t)argc + 1, sizeof(char *))))
		return status;
	int prc = opts_parse(&exec_cmd_opts, argc, argv, set_opt, &o, &first);
	if (prc) {
		free(o.env);
		return prc == OPTS_HELP ? 0 : status;
	}
	const char *name = argv[first];
	/* docker's rules, with the image's part empty: the container's own
	 * values are guest-init's to apply (execcfg) */
	o.so.env = o.env;
	o.so.args = argv + first + 1;
	o.so.n_args = (size_t)(argc - first - 1);
	o.so.tty = o.tty;
	struct spec_image none = {0};
	struct hcp_spec x;
	struct errmsg err;
	if (spec_build(&none, &o.so, &x, &err)) {
		fprintf(stderr, "hull: exec: %s\n", err.text);
		free(o.env);
		return status;
	}
	struct rt_process p = {.argv = x.argv,
			       .argc = x.argc,
			       .env = x.envp,
			       .n_env = x.envc,
			       .cwd = o.so.workdir ? x.cwd : NULL,
			       .user = x.user,
			       .tty = o.tty,
			       .stdin_open = o.interactive};
	struct attach at;
	struct rt_exec *ex = NULL;
	attach_init(&at, o.interactive, o.tty);
	if (rt_exec_start(name, &p, &at.io, &ex, &err))
		fprintf(stderr, "hull: exec: %s\n", err.text);
	else if (attach_start(&at, &err))
		fprintf(stderr, "hull: %s\n", err.text);
	else
		status = rt_exec_wait(ex);
	attach_end(&at);
	rt_exec_free(ex);
	hcp_spec_free(&x);
	free(o.env);
	return status;
}
