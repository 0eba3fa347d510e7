/* spec: what the user asked for plus what the image says -> the process spec
 * guest-init runs (proto/hcp.h), following docker's override rules:
 *   - `--entrypoint E` replaces the image's Entrypoint and clears its Cmd;
 *     an empty E removes the entrypoint.
 *   - command-line arguments after IMAGE replace the image's Cmd.
 *   - argv = Entrypoint ++ Cmd; empty argv is an error ("no command").
 *   - Env: the image's, then each `-e K=V` in order replaces K or adds it;
 *     `-e K` takes K from hull's own environment, and drops K when unset.
 *   - `-w DIR` replaces WorkingDir (must be absolute); default "/".
 *   - `-u USER` replaces User; default root.
 *   - `-t`: the process runs on a pty, and TERM=xterm is added when the
 *     environment has no TERM (docker does the same).
 * Pure logic, unit-tested; strings are copied, the result is freed with
 * hcp_spec_free(). */
#ifndef HULL_RUNTIME_SPEC_H
#define HULL_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"
#include "proto/hcp.h"

struct spec_image {
	char **entrypoint;
	size_t n_entrypoint;
	char **cmd;
	size_t n_cmd;
	char **env;
	size_t n_env;
	const char *working_dir; /* may be NULL or "" */
	const char *user;	 /* may be NULL or "" */
};

struct spec_overrides {
	const char *entrypoint; /* NULL: not given; "" clears */
	char **args;		/* after IMAGE */
	size_t n_args;
	char **env; /* "-e" values in order */
	size_t n_env;
	const char *workdir; /* NULL: not given */
	const char *user;    /* NULL: not given */
	const char *hostname;
	const char *rootfs; /* guest device, e.g. /dev/vda */
	/* lookup for `-e K` without a value; NULL means getenv */
	const char *(*host_getenv)(const char *name);
	bool tty; /* -t */
};

int spec_build(const struct spec_image *img, const struct spec_overrides *o, struct hcp_spec *out,
	       struct errmsg *err);

#endif
