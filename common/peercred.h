/* peercred: who is at the other end of a connected AF_UNIX socket, from the
 * kernel (SO_PEERCRED: the credentials the peer had at connect() or
 * listen()), so a socket reached through a shared directory cannot be
 * spoken to by, or speak for, another local user.
 *
 * peercred_check(fd, pid): 0 when the peer runs as this process's
 * effective uid or as root, or (pid > 0) is process pid itself (the
 * runtime's own VM monitor, whatever uid its jail gives it); -EPERM
 * otherwise, -errno when getsockopt fails. *peer (may be NULL) gets the
 * peer's credentials for the caller's message. Thread-safe; no state. */
#ifndef HULL_COMMON_PEERCRED_H
#define HULL_COMMON_PEERCRED_H

#include <sys/socket.h>
#include <sys/types.h>

int peercred_check(int fd, pid_t pid, struct ucred *peer);

#endif
