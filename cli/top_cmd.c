#include "top_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/attach.h"
#include "cli/opts.h"
#include "runtime/runtime.h"

static const struct cmd_opts top_cmd = {
    .name = "top",
    .synopsis = "NAME|ID [ps OPTIONS]",
    .about = "List the processes running in a container. docker runs ps on the host; a\n"
	     "hull container's processes live in its VM, so hull runs the image's own ps\n"
	     "inside the container (default options: -ef, docker's), as hull exec would.\n"
	     "An image without ps cannot be listed (status 127).\n",
    .min_args = 1,
    .max_args = -1,
    .stop_at_arg = true,
};

int top_main(int argc, char **argv)
{
	int first, rc = opts_parse(&top_cmd, argc, argv, NULL, NULL, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	const char *name = argv[first];
	size_t n_opts = (size_t)(argc - first - 1);
	char *dflt = "-ef";
	char **av = calloc(n_opts + 2, sizeof(char *));
	if (!av)
		return 1;
	av[0] = "ps";
	if (n_opts)
		memcpy(av + 1, argv + first + 1, n_opts * sizeof(char *));
	else
		av[1] = dflt;
	struct rt_process p = {.argv = av, .argc = n_opts ? n_opts + 1 : 2};
	struct attach at;
	struct rt_exec *ex = NULL;
	struct errmsg err;
	int status = 1;
	attach_init(&at, false, false);
	if (rt_exec_start(name, &p, &at.io, &ex, &err))
		fprintf(stderr, "hull: top: %s\n", err.text);
	else if (attach_start(&at, &err))
		fprintf(stderr, "hull: %s\n", err.text);
	else if ((status = rt_exec_wait(ex)) == 127)
		fprintf(stderr, "hull: top %s: the image has no ps to list its processes with\n",
			name);
	else if (status == RT_EXIT_FAILED)
		status = 1;
	attach_end(&at);
	rt_exec_free(ex);
	free(av);
	return status;
}
