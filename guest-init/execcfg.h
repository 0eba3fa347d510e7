/* execcfg: what an exec session runs: the exec spec (proto/hcp.h, HCP_EXEC)
 * laid over the running container's defaults, as `docker exec` does.
 *
 * Contract
 * - Environment: the container's environment (as built for its main
 *   process), then each of the exec's "KEY=VALUE" entries replaces KEY or is
 *   added; an entry without '=' is ignored (the host resolves `-e KEY`).
 * - Working directory: the exec's, else the container's. It must exist (no
 *   mkdir: an exec must not change the container's filesystem by accident).
 * - User: the exec's, resolved against the container's /etc/passwd and
 *   /etc/group (init has switched root, so these are the image's), else the
 *   container's resolved ids.
 * - TTY and window size: the exec's.
 * - Confinement: the container's (capabilities, no_new_privs), with the
 *   exec's ulimits in place of the container's when it carries any (as runc
 *   does with an exec's process.rlimits), else the container's ulimits.
 * - execcfg_resolve_user() is the file-reading half of userspec (also used
 *   for the main process): a missing passwd or group file counts as empty.
 * - Functions return 0 or -errno with err filled; execcfg_build() output
 *   owns its memory (execcfg_free).
 */
#ifndef HULL_GUEST_INIT_EXECCFG_H
#define HULL_GUEST_INIT_EXECCFG_H

#include "common/errmsg.h"
#include "container.h"
#include "proto/hcp.h"
#include "userspec.h"

/* The running container's defaults; owned by the caller. */
struct execcfg_base {
	char *const *envp;
	const char *cwd;
	const struct user_ids *ids;
	const struct confine *conf; /* the container's, for exec'd processes too */
};

struct execcfg {
	struct container_cfg cfg; /* points into the fields below and into x */
	char **env;
	struct user_ids ids;
	bool own_ids;
	struct confine conf; /* cfg.conf when the exec has ulimits of its own */
};

int execcfg_resolve_user(const char *spec, struct user_ids *ids, struct errmsg *err);
/* x must outlive out (argv and the ulimits point into it); out is not to be
 * moved (out->cfg may point into it). */
int execcfg_build(const struct execcfg_base *b, const struct hcp_spec *x, struct execcfg *out,
		  struct errmsg *err);
void execcfg_free(struct execcfg *e);

#endif
