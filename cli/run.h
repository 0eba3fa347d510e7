/* run: `hull run [OPTIONS] IMAGE [CMD...]` — convert the image (cached), boot
 * a microVM with the bundled kernel and init, run the container, and exit
 * with its status. Returns the process exit status: the container's, or 125
 * when hull itself failed (docker's convention), with the reason on stderr. */
#ifndef HULL_CLI_RUN_H
#define HULL_CLI_RUN_H

#include <stdio.h>

int run_main(int argc, char **argv);
void run_usage(FILE *f);

#endif
