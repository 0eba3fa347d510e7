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
 * - Stdin (docker's rules): forwarded only to a container run with -i and
 *   not with --no-stdin, through its supervisor's control socket
 *   (supervisor_attach(), runtime/attach_conn.h), one attach at a time (a
 *   second is refused, status 1). The end of attach's stdin ends its
 *   forwarding; the container's stdin stays open and attach follows on.
 *   Without -i nothing is read from stdin.
 * - A TTY container (-t): with stdin forwarded, attach's stdin must be a
 *   terminal ("the input device is not a TTY", status 1, else); it goes raw,
 *   its size is sent at once and on every SIGWINCH, and --detach-keys
 *   (default ctrl-p,ctrl-q; cli/detachkeys.h) end attach with "read escape
 *   sequence" and status 1 (docker's), the container left running.
 * - Single-threaded; blocks the signals it forwards for its lifetime.
 */
#ifndef HULL_CLI_ATTACH_CMD_H
#define HULL_CLI_ATTACH_CMD_H

int attach_main(int argc, char **argv);

#endif
