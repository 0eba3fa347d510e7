/* confine: the container's confinement inside the guest, as `hull run`'s
 * docker flags ask it (proto/hcp.h tags 25-31). The VM is the security
 * boundary; these only shape what the container's processes may do in it.
 *
 * Contract
 * - confine_mounts(): after the volumes, inside the container's root:
 *   /dev/shm remounted with size=shm_size (when given), then each tmpfs
 *   (hcp_tmpfs_parse; the mountpoint is created). confine_read_only(): the
 *   root remounted read-only; called last, once init wrote everything it
 *   writes into the root (/etc/hosts, the working directory).
 * - struct confine is what every process of the container gets (main and
 *   exec'd): ulimits, the capability mask, no_new_privs. In the forked
 *   child, confine_child_pre() (before setuid: setrlimit, then the bounding
 *   set cut to the mask) and confine_child_post() (after setuid: uid 0 gets
 *   the mask as effective, permitted and inheritable sets; other uids have
 *   lost every capability at setuid already; then PR_SET_NO_NEW_PRIVS).
 *   Both return 0 or -errno and only make system calls (vfork-safe).
 * - Values come from the host: every one was bounds-checked by the hcp
 *   decoder; a capability the guest kernel does not know is ignored.
 */
#ifndef HULL_GUEST_INIT_CONFINE_H
#define HULL_GUEST_INIT_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"
#include "log.h"
#include "proto/hcp.h"

struct confine {
	const struct hcp_ulimit *ulimits;
	size_t n_ulimits;
	bool has_caps; /* false: every capability (what init has) */
	uint64_t caps;
	bool no_new_privs;
};

/* The confinement the spec asks for (points into spec). */
void confine_from_spec(const struct hcp_spec *spec, struct confine *c);

int confine_mounts(const struct hcp_spec *spec, const struct log *l, struct errmsg *err);
int confine_read_only(const struct log *l, struct errmsg *err);

/* *bset: the capabilities left in the bounding set (the mask's bits the
 * kernel knows), for confine_child_post(). */
int confine_child_pre(const struct confine *c, uint64_t *bset);
int confine_child_post(const struct confine *c, uint64_t bset, uid_t uid);

#endif
