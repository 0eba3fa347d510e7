/* run: `hull run [OPTIONS] IMAGE [CMD...]` — convert the image (cached), boot
 * a microVM with the bundled kernel and init, run the container, and exit
 * with its status. Returns the process exit status: the container's, or 125
 * when hull itself failed (docker's convention), with the reason on stderr;
 * 0 after --help. */
#ifndef HULL_CLI_RUN_H
#define HULL_CLI_RUN_H

#include "cli/opts.h"

extern const struct cmd_opts run_cmd_opts;
int run_main(int argc, char **argv);

#endif
