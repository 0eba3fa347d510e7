/* imgopt: the image options every command that converts images shares (run,
 * import, pull), read in one place.
 *
 * imgopt_limits(): --max-image-size SIZE (cli_value, NULL when not given),
 * else $HULL_MAX_IMAGE_SIZE, else the default (images/limits.h). SIZE is a
 * number with an optional K, M or G suffix (binary). Returns 0, or -EINVAL
 * after printing "hull: <where> <value>: ..." on stderr. */
#ifndef HULL_CLI_IMGOPT_H
#define HULL_CLI_IMGOPT_H

#include "images/limits.h"

/* --max-image-size's help text, for the commands' option tables (cli/opts.h) */
#define IMGOPT_MAX_SIZE_TEXT                                                                       \
	"cap on an image's uncompressed layers (default 16G,\n"                                    \
	"or $HULL_MAX_IMAGE_SIZE)"

int imgopt_limits(const char *cli_value, struct image_limits *l);

#endif
