/* hull: run OCI containers, one per KVM microVM. */
#include <stdio.h>
#include <string.h>

#include "cli/image_cmd.h"
#include "cli/pull_cmd.h"
#include "cli/container_cmd.h"
#include "cli/exec.h"
#include "cli/run.h"
#include "cli/snapshot_cmd.h"
#include "common/version.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: hull COMMAND [OPTIONS]\n"
		   "\n"
		   "Commands:\n"
		   "  pull      download an image from a registry\n"
		   "  run       run a command in a new container, in its own microVM\n"
		   "  exec      run a command in a running container\n"
		   "  ps        list containers\n"
		   "  logs      print a container's output\n"
		   "  stop      stop containers (stop signal, then SIGKILL)\n"
		   "  kill      send a signal to containers\n"
		   "  rm        remove containers\n"
		   "  inspect   print containers' state as JSON\n"
		   "  snapshot  manage templates (pre-booted VMs): ls, rm, prune\n"
		   "  import    store images from a docker-archive, oci-archive or OCI layout\n"
		   "  images    list stored images\n"
		   "  rmi       remove stored images\n"
		   "  image     prune (and ls, rm, import)\n"
		   "  version   print hull's version\n"
		   "\n"
		   "Run 'hull COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "run"))
		return run_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "import"))
		return import_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "images"))
		return images_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "rmi"))
		return rmi_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "image"))
		return image_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "pull"))
		return pull_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "exec"))
		return exec_main(argc - 1, argv + 1);
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} lifecycle[] = { { "ps", ps_main },	 { "logs", logs_main }, { "stop", stop_main },
			  { "kill", kill_main }, { "rm", rm_main },	{ "inspect", inspect_main } };
	for (size_t i = 0; i < sizeof(lifecycle) / sizeof(lifecycle[0]); i++)
		if (!strcmp(cmd, lifecycle[i].name))
			return lifecycle[i].fn(argc - 1, argv + 1);
	if (!strcmp(cmd, "snapshot"))
		return snapshot_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("hull %s\n", HULL_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "hull: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
