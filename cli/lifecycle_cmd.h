/* lifecycle_cmd: docker's container lifecycle commands beyond run, stop,
 * kill and rm: create, start, restart, wait, rename, port.
 *
 * Contract: each takes its argv (argv[0] = the command's name) and returns
 * the process exit status, as docker's do: 0; 1 when a container cannot be
 * acted on (the reason on stderr; the other containers named are still
 * handled); 2 for bad usage; create and start -a: 125 when hull failed, else
 * the container's own status (start -a). */
#ifndef HULL_CLI_LIFECYCLE_CMD_H
#define HULL_CLI_LIFECYCLE_CMD_H

int create_main(int argc, char **argv);
int start_main(int argc, char **argv);
int restart_main(int argc, char **argv);
int wait_main(int argc, char **argv);
int rename_main(int argc, char **argv);
int port_main(int argc, char **argv);

/* hull wait's wait for one container (name, id or prefix): 0 and *code,
 * its exit status once it ended (125 when its monitor died), or 1 after
 * saying on stderr why there is none (unknown, or removed before it
 * ended: --rm). Blocks until then; hull attach ends with it. */
int lifecycle_wait_one(const char *ref, int *code);

#endif
