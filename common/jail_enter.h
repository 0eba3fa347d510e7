/* jail_enter: the last step of a helper's jail, run by the helper itself
 * (hull-vmm, hull-slirp) before it reads a byte from the guest or the
 * network. runtime/jail.h prepares everything that needs privilege before
 * exec; this only moves into the prepared root and gives up the two
 * capabilities the runtime left for exactly that.
 *
 * Contract
 * - jail_enter(root): root is a mount point the runtime made in this
 *   process's own mount namespace (JAIL_ROOT). pivot_root()s into it and
 *   detaches the old root, so nothing of the host's file system stays
 *   reachable; then empties the capability bounding set, the ambient and
 *   inheritable sets and the permitted/effective sets, sets no_new_privs
 *   and turns core dumps off (RLIMIT_CORE 0). 0, or -errno with err naming
 *   the step. The process must not have a second thread yet (capabilities
 *   are per thread; threads started later inherit the empty sets).
 * - After it, the process can open only what the runtime mounted or
 *   passed as fds; a seccomp filter, if any, is installed after this.
 * - jail_pivot(root): jail_enter()'s first step alone (pivot_root into
 *   root, the host's root detached, cwd "/"), for the runtime's forked
 *   child that execs a program of someone else's (runtime/jail.h,
 *   jail_foreign), which cannot do it itself. Raw system calls only:
 *   async-signal-safe. 0 or -errno.
 * - jail_user(): who every helper started by root runs as, the system user
 *   JAIL_USER (setup.sh creates it); the one owner of that identity, for
 *   the exec'd helpers (runtime/jail.c) and the forked image converter
 *   (images/convert_proc.c). 0; -ENOENT when there is no such user, -EINVAL
 *   when it is root. getpwnam_r: any thread may call it.
 * - jail_become(uid, gid): the same end state as jail_enter() without a
 *   new root, for a forked child that never execs (the image converter):
 *   called with euid 0, the process switches to uid/gid with no
 *   supplementary groups (bounding set emptied first, while CAP_SETPCAP is
 *   still there); called by anyone else it keeps its ids. Then every
 *   capability set empty, no_new_privs, RLIMIT_CORE 0. Single-threaded
 *   callers only, as jail_enter(). 0, or -errno with err naming the step.
 * - jail_set_ids(uid, gid): no supplementary groups, then gid, then uid
 *   (real, effective, saved), for the calling thread only: raw system
 *   calls, not glibc's wrappers, because it runs in a child forked from a
 *   multithreaded process (the containerd shim), where glibc's wrappers
 *   broadcast the change to the parent's threads' stale descriptors and
 *   can wait forever for one that was starting or exiting at the fork.
 *   0 or -errno.
 */
#ifndef HULL_JAIL_ENTER_H
#define HULL_JAIL_ENTER_H

#include "common/errmsg.h"

/* Where the runtime mounts a helper's jail root, inside the helper's own
 * mount namespace (the host's directory of that name is not touched: the
 * jail's tmpfs hides it from this process only). */
#define JAIL_ROOT "/tmp"

#include <sys/types.h>

#define JAIL_USER "hull"

int jail_enter(const char *root, struct errmsg *err);
int jail_pivot(const char *root);
int jail_user(uid_t *uid, gid_t *gid);
int jail_become(uid_t uid, gid_t gid, struct errmsg *err);
int jail_set_ids(uid_t uid, gid_t gid);

#endif
