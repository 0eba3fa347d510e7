/* exec: `hull exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] NAME CMD...`, a
 * second process in a running container, and the stop sequence from outside
 * the hull process that owns the VM.
 *
 * Contract
 * - Both talk to guest-init's exec port (HCP_VSOCK_PORT_EXEC) through the
 *   VM's vsock Unix socket U ("CONNECT <port>\n", answered "OK ...\n"), one
 *   connection per session, speaking hcp (proto/hcp.h "Exec sessions").
 * - exec_run(): EXEC, then stdio, signals and the terminal exactly as
 *   `hull run` does (cli/attach.h). Returns the process's exit status (its
 *   code, or 128+N), 126/127 when the command cannot run, 125 when hull or
 *   the session failed (the reason on stderr).
 * - The process defaults to the container's environment, working directory
 *   and user; -e adds to the environment (`-e K` takes hull's value), -w and
 *   -u replace the others, -t adds TERM=xterm unless TERM is given.
 * - NAME: a running container's name or id (runtime/state.h: its VM's
 *   socket U is <root>/<short id>/vsock.sock), or the path of a U (anything
 *   containing a '/'); a container that does not run is refused with 125.
 */
#ifndef HULL_CLI_EXEC_H
#define HULL_CLI_EXEC_H

#include <stdio.h>

#include "cli/attach.h"
#include "common/errmsg.h"
#include "proto/hcp.h"

int exec_main(int argc, char **argv);
void exec_usage(FILE *f);
int exec_run(const char *vsock_path, const struct hcp_spec *x, const struct attach_opts *ao);

#endif
