/* attach_cmd: `hull attach`, docker's attach for a container that runs
 * without a terminal of its own (hull run -d, create + start).
 *
 * Contract
 * - attach_main() takes its argv (argv[0] "attach") and returns the exit
 *   status: the container's own once it ended (125 when its monitor died),
 *   1 when it cannot attach (unknown container, one that does not run:
 *   docker's "You cannot attach to a stopped container"), 2 for bad usage.
 * - Output: what the container writes from the moment attach looked at its
 *   log on (docker's attach shows no earlier output; `hull logs` does),
 *   stdout to stdout, stderr to stderr, read from the container log
 *   (runtime/ctrlog.h) as `hull logs -f` reads it.
 * - Signals: with --sig-proxy (the default) the signals of attach_signals()
 *   (cli/attach.h) sent to hull attach go to the container (as hull kill
 *   sends them); --sig-proxy=false leaves them their default action, which
 *   ends hull attach and leaves the container running.
 * - Stdin: a detached container's supervisor keeps no stdin (it reads
 *   /dev/null, runtime/supervisor.h), so there is none to attach to; for a
 *   container run with -i, attach says so in one line on stderr (not with
 *   --no-stdin). No detach keys: they would come from stdin.
 * - Single-threaded; blocks the signals it forwards for its lifetime.
 */
#ifndef HULL_CLI_ATTACH_CMD_H
#define HULL_CLI_ATTACH_CMD_H

int attach_main(int argc, char **argv);

#endif
