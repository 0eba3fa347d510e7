/* container_cmd: the lifecycle commands on containers hull run registered
 * (runtime/state.h): ps, logs, stop, kill, rm, inspect.
 *
 * Contract: each takes its argv (argv[0] = the command's name) and returns
 * the process exit status: 0, 1 when a container cannot be acted on (no
 * such container, not running, ...; the reason on stderr, others on the
 * command line still handled, as docker does), 2 for bad usage. */
#ifndef HULL_CLI_CONTAINER_CMD_H
#define HULL_CLI_CONTAINER_CMD_H

#include <stddef.h>
#include <stdint.h>

int ps_main(int argc, char **argv);
int logs_main(int argc, char **argv);
int stop_main(int argc, char **argv);
int kill_main(int argc, char **argv);
int rm_main(int argc, char **argv);
int inspect_main(int argc, char **argv);

/* docker's "5 seconds", "About a minute", "3 hours" for a duration. */
void container_human_duration(int64_t ns, char *out, size_t n);

#endif
