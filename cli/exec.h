/* exec: `hull exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...`, a
 * second process in a running container, over the runtime
 * (runtime/runtime.h: rt_exec_start, the same session loop as hull run).
 *
 * Contract
 * - stdio, signals and the terminal exactly as `hull run` does
 *   (cli/attach.h). Returns the process's exit status (its code, or 128+N),
 *   126/127 when the command cannot run, 125 when hull or the session failed
 *   (the reason on stderr); 0 after --help.
 * - The process defaults to the container's environment, working directory
 *   and user; -e adds to the environment (`-e K` takes hull's value), -w and
 *   -u replace the others, -t adds TERM=xterm unless TERM is given.
 * - CONTAINER: a running container's name or id, or the path of its VM's
 *   vsock socket (anything containing a '/'); a container that does not run
 *   is refused with 125.
 */
#ifndef HULL_CLI_EXEC_H
#define HULL_CLI_EXEC_H

#include "cli/opts.h"

extern const struct cmd_opts exec_cmd_opts;
int exec_main(int argc, char **argv);

#endif
