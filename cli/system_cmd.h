/* system_cmd: hull as a whole.
 *   hull info          version, directories, KVM (available? which kind),
 *                      the guest kernel and init in use, templates, counts
 *   hull system df     disk space of images, containers and templates
 *   hull system info   the same as hull info
 * Each returns the process exit status: 0, 1 when something could not be
 * read (said on stderr), 2 for bad usage. */
#ifndef HULL_CLI_SYSTEM_CMD_H
#define HULL_CLI_SYSTEM_CMD_H

int info_main(int argc, char **argv);
int system_main(int argc, char **argv);

#endif
