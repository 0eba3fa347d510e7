/* volume: `-v HOSTDIR:GUESTDIR[:ro|:rw]` for hull run.
 *
 * - HOSTDIR must exist and be a directory; relative paths are taken from
 *   hull's working directory and resolved with realpath(3) (so the VMM
 *   serves the directory the user meant, whatever symlinks led to it).
 *   A ':' in HOSTDIR is allowed; GUESTDIR is what follows the last ':' (after
 *   an optional :ro or :rw).
 * - GUESTDIR must be absolute, not "/", without "." or ".." components;
 *   trailing slashes are dropped. Two volumes may not share a GUESTDIR.
 * - At most VMM_MAX_VOLUMES volumes.
 * - volume_apply() puts the volumes into the VM config (volume i: device
 *   slot i, mount tag VMM_VOLUME_TAG) and the container spec, and raises
 *   hull's soft RLIMIT_NOFILE to the hard limit: the 9p server holds one fd
 *   per file the guest has looked up.
 * Functions return 0 or -errno; err names the bad value and the problem. */
#ifndef HULL_RUNTIME_VOLUME_H
#define HULL_RUNTIME_VOLUME_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"
#include "proto/hcp.h"
#include "vmm/vmm.h"

struct volume_arg {
	char *host;  /* realpath of HOSTDIR */
	char *guest; /* absolute, cleaned */
	bool read_only;
};

int volume_parse(const char *arg, struct volume_arg *out, struct errmsg *err);
void volume_arg_free(struct volume_arg *v);

/* v[0, n) into vols[0, n) (pointing into v: keep v alive) and
 * spec->volumes (copied). */
int volume_apply(const struct volume_arg *v, size_t n, struct vmm_volume vols[VMM_MAX_VOLUMES],
		 struct hcp_spec *spec, struct errmsg *err);

#endif
