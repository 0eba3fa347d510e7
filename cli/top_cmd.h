/* top_cmd: `hull top NAME [ps OPTIONS]`: the processes running in a
 * container. docker runs ps on the host over the container's cgroup; here
 * the processes live in the guest, so hull runs the image's own ps inside
 * the container (as hull exec would), with docker's default options -ef.
 * Returns ps's exit status; 1 when the container does not run (or hull
 * could not reach it), 127 when the image has no ps (said so on stderr),
 * 2 for bad usage. */
#ifndef HULL_CLI_TOP_CMD_H
#define HULL_CLI_TOP_CMD_H

int top_main(int argc, char **argv);

#endif
