/* run: `hull run [OPTIONS] IMAGE [CMD...]` — convert the image (cached), boot
 * a microVM with the bundled kernel and init, run the container, and exit
 * with its status. Returns the process exit status: the container's, or 125
 * when hull itself failed (docker's convention), with the reason on stderr;
 * 0 after --help. */
#ifndef HULL_CLI_RUN_H
#define HULL_CLI_RUN_H

#include "cli/opts.h"

#include <stdbool.h>

extern const struct cmd_opts run_cmd_opts, create_cmd_opts;
int run_main(int argc, char **argv);

/* What becomes of the container run's options describe: hull run boots it
 * and waits (or detaches with -d); hull create only registers it (printing
 * its id); hull start boots the existing container `claim` from the
 * arguments it was created with, detached unless attach, never pulling. */
struct run_mode {
	const struct cmd_opts *cmd; /* the option table (usage, --help) */
	bool create;
	const char *claim; /* hull start: the container's id */
	bool attach;	   /* hull start -a */
	bool interactive;  /* hull start -i: stdin too, when it was created with -i */
};
/* argv[0]: the command's name; argv[1..]: run's options, IMAGE, COMMAND. */
int run_with(int argc, char **argv, const struct run_mode *m);

#endif
