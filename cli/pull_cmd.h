/* pull_cmd: `hull pull [-q] [--insecure-registry H]... [--root DIR] REF` —
 * store an image from a registry and convert it (runtime/imageref.h); prints
 * the normalised reference on stdout. Returns the exit status: 0, or 125
 * with the reason on stderr (2 for bad usage). */
#ifndef HULL_CLI_PULL_CMD_H
#define HULL_CLI_PULL_CMD_H

int pull_main(int argc, char **argv);

#endif
