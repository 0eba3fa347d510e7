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
 */
#ifndef HULL_JAIL_ENTER_H
#define HULL_JAIL_ENTER_H

#include "common/errmsg.h"

/* Where the runtime mounts a helper's jail root, inside the helper's own
 * mount namespace (the host's directory of that name is not touched: the
 * jail's tmpfs hides it from this process only). */
#define JAIL_ROOT "/tmp"

int jail_enter(const char *root, struct errmsg *err);

#endif
