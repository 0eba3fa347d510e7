/* args: the command line containerd gives a v2 shim (Go flag syntax):
 *   start:  -namespace NS -address A -publish-binary B -id ID [-debug] start
 *   delete: -namespace NS -address A -publish-binary B -id ID -bundle DIR delete
 *   serve:  the shim's own re-exec of itself without an action
 * Flags take one or two dashes and "-flag value" or "-flag=value"; -debug and
 * -v are booleans. Unknown flags and stray words are errors naming them.
 * Pointers in struct shim_args point into argv. 0 or -EINVAL with err. */
#ifndef HULL_SHIM_ARGS_H
#define HULL_SHIM_ARGS_H

#include <stdbool.h>

#include "common/errmsg.h"

enum shim_action { SHIM_SERVE, SHIM_START, SHIM_DELETE, SHIM_VERSION };

struct shim_args {
	const char *ns, *id, *address, *publish_binary, *bundle, *socket;
	bool debug;
	enum shim_action action;
};

int shim_args_parse(int argc, char **argv, struct shim_args *a, struct errmsg *err);

#endif
