/* hull: run OCI containers, one per KVM microVM. The command table: each
 * command is a file of cli/ over the runtime library (runtime/runtime.h)
 * with its options described once (cli/opts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/attach_cmd.h"
#include "cli/container_cmd.h"
#include "cli/cp_cmd.h"
#include "cli/doc.h"
#include "cli/exec.h"
#include "cli/image_cmd.h"
#include "cli/lifecycle_cmd.h"
#include "cli/opts.h"
#include "cli/pull_cmd.h"
#include "cli/run.h"
#include "cli/snapshot_cmd.h"
#include "cli/stats_cmd.h"
#include "cli/system_cmd.h"
#include "cli/top_cmd.h"
#include "common/version.h"

static const struct cmd_opts version_cmd = {
    .name = "version",
    .synopsis = "",
    .about = "Print hull's version.\n",
    .min_args = 0,
    .max_args = 0,
};

static int version_main(int argc, char **argv)
{
	int first, rc = opts_parse(&version_cmd, argc, argv, NULL, NULL, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	printf("hull %s\n", HULL_VERSION);
	return 0;
}

static const char *const snapshot_verbs[] = {"ls", "rm", "prune", NULL};
static const char *const image_verbs[] = {"prune", NULL};
/* the sub-commands, so that hull(1) documents their options too */
static const struct cli_verbs verbs[] = {
    {"snapshot", snapshot_verbs},
    {"image", image_verbs},
    {NULL, NULL},
};

/* hull(1) and the bash completion come from this table (cli/doc.h). */
static const struct cli_command commands[] = {
    {"pull", pull_main, "download an image from a registry"},
    {"run", run_main, "run a command in a new container, in its own microVM"},
    {"create", create_main, "create a container without booting it"},
    {"start", start_main, "start created or stopped containers (a new microVM each)"},
    {"restart", restart_main, "stop, then start containers"},
    {"exec", exec_main, "run a command in a running container"},
    {"attach", attach_main, "follow a running container's output and forward signals to it"},
    {"ps", ps_main, "list containers"},
    {"logs", logs_main, "print a container's output"},
    {"stop", stop_main, "stop containers (stop signal, then SIGKILL)"},
    {"kill", kill_main, "send a signal to containers"},
    {"rm", rm_main, "remove containers"},
    {"wait", wait_main, "wait for containers to end; print their exit statuses"},
    {"rename", rename_main, "rename a container"},
    {"port", port_main, "list a container's published ports"},
    {"inspect", inspect_main, "print containers' state as JSON"},
    {"cp", cp_main, "copy files between a container and the host"},
    {"top", top_main, "list the processes running in a container"},
    {"stats", stats_main, "show containers' CPU, memory and I/O (their VMs')"},
    {"snapshot", snapshot_main, "manage templates (pre-booted VMs): ls, rm, prune"},
    {"import", import_main, "store images from a docker-archive, oci-archive or OCI layout"},
    {"images", images_main, "list stored images"},
    {"rmi", rmi_main, "remove stored images"},
    {"image", image_main, "prune (and ls, rm, import)"},
    {"info", info_main, "show hull's setup: KVM, kernel, directories, counts"},
    {"system", system_main, "df (disk usage), info"},
    {"version", version_main, "print hull's version"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: hull [--root DIR] COMMAND [OPTIONS]\n\n"
		   "Global options:\n"
		   "  --root DIR  hull's state directory: images, templates, and containers\n"
		   "              under DIR/run (default: $HULL_ROOT, else /var/lib/hull for\n"
		   "              root, else ~/.local/share/hull with containers under\n"
		   "              $XDG_RUNTIME_DIR/hull; $HULL_RUNTIME_DIR overrides where\n"
		   "              containers live)\n"
		   "\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'hull COMMAND --help' for a command's options.\n");
}

/* The global --root DIR (or --root=DIR) before the command: it becomes
 * $HULL_ROOT, which every command and the processes hull starts read
 * (runtime/paths.h, runtime/state.h), so no command can miss it. Returns
 * how many words it took, or -1 after saying what is wrong. */
static int global_root(int argc, char **argv)
{
	if (argc < 2 || strncmp(argv[1], "--root", 6) || (argv[1][6] && argv[1][6] != '='))
		return 0;
	const char *dir = argv[1][6] == '=' ? argv[1] + 7 : argc > 2 ? argv[2] : NULL;
	if (!dir || !dir[0]) {
		fprintf(stderr, "hull: --root needs a directory\n");
		return -1;
	}
	if (setenv("HULL_ROOT", dir, 1)) {
		perror("hull: --root");
		return -1;
	}
	return argv[1][6] == '=' ? 1 : 2;
}

int main(int argc, char **argv)
{
	int took = global_root(argc, argv);
	if (took < 0)
		return 2;
	argv[took] = argv[0];
	argc -= took;
	argv += took;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	if (!strcmp(cmd, "__doc")) /* the build makes hull(1) and the completion */
		return doc_main(commands, N_COMMANDS, verbs, argc - 1, argv + 1);
	if (!strcmp(cmd, "--version"))
		return version_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "hull: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
