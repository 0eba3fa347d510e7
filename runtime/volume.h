/* volume: `-v HOSTDIR:GUESTDIR[:OPTS]` for hull run, OPTS a comma-separated
 * list of ro, rw (the default).
 *
 * - HOSTDIR must exist and be a directory; relative paths are taken from
 *   hull's working directory. No component of it may be a symlink (-ELOOP,
 *   the error names the symlink and its target): a container can plant
 *   symlinks in a volume, and one must not redirect the next run's -v to a
 *   directory of its choice. HOSTDIR is opened with openat2
 *   RESOLVE_NO_SYMLINKS; host is the canonical path of what was opened (no
 *   ".", ".."), and the 9p server opens it again the same way (p9/p9.h).
 *   A ':' in HOSTDIR is allowed; GUESTDIR is what follows the last ':'
 *   (after OPTS, which are recognised only after a second ':').
 * - Owners: the guest's chown and new files get the volume directory's
 *   owner, setuid/setgid bits are cleared (p9/p9.h, Ownership).
 *   passthrough-owners (keep the guest's owners and setuid bits) is refused
 *   with -EPERM and VOLUME_NO_PASSTHROUGH: it needs CAP_CHOWN and
 *   CAP_FOWNER in the VM monitor, which runs jailed without them
 *   (runtime/jail.h).
 * - GUESTDIR must be absolute, not "/", without "." or ".." components;
 *   trailing slashes are dropped. Two volumes may not share a GUESTDIR.
 * - At most VMM_MAX_VOLUMES volumes.
 * - volume_apply() puts the volumes into the VM config (volume i: device
 *   slot i, mount tag VMM_VOLUME_TAG) and the container spec, and raises
 *   hull's soft RLIMIT_NOFILE to the hard limit: each volume's 9p server
 *   may hold P9_FD_BUDGET (256) fds, 8 volumes more than a 1024 soft limit.
 * Functions return 0 or -errno; err names the bad value and the problem. */
#ifndef HULL_RUNTIME_VOLUME_H
#define HULL_RUNTIME_VOLUME_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"
#include "proto/hcp.h"
#include "vmm/vmm.h"

/* why -v ...:passthrough-owners is refused (cli/run.c --help, README) */
#define VOLUME_NO_PASSTHROUGH                                                                      \
	"passthrough-owners: not available: keeping the container's owners and "                   \
	"setuid bits on the host needs CAP_CHOWN and CAP_FOWNER in the VM monitor, which "         \
	"runs jailed as user hull without them (a monitor the guest compromised could "            \
	"otherwise give any file it reaches any owner); files get the volume's owner"

struct volume_arg {
	char *host;  /* HOSTDIR, canonical, opened without following symlinks */
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
