/* stats_cmd: `hull stats [--no-stream] [NAME...]`, docker's live table of
 * what containers cost: CPU %, memory, block I/O of each container's VM
 * monitor (runtime/vmstats.h says what is measured and what is not).
 * Returns the exit status: 0; 1 when a container named is unknown (said on
 * stderr); 2 for bad usage. */
#ifndef HULL_CLI_STATS_CMD_H
#define HULL_CLI_STATS_CMD_H

int stats_main(int argc, char **argv);

#endif
