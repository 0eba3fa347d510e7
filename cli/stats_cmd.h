/* stats_cmd: `hull stats [--no-stream] [-a] [--format F] [NAME...]`,
 * docker's live table of what containers cost and move: each sample from
 * the container's supervisor (runtime/ctrstats.h: the VM's cgroup, the
 * guest's NIC and disk counters), /proc of its monitor without a cgroup
 * (runtime/vmstats.h); the cells as cli/stats_fmt.h makes them. Returns the
 * exit status: 0; 1 when a container named is unknown (said on stderr); 2
 * for bad usage (a bad --format included). */
#ifndef HULL_CLI_STATS_CMD_H
#define HULL_CLI_STATS_CMD_H

int stats_main(int argc, char **argv);

#endif
