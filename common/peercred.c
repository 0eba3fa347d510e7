#include "peercred.h"

#include <errno.h>
#include <unistd.h>

int peercred_check(int fd, pid_t pid, struct ucred *peer)
{
	struct ucred c;
	socklen_t len = sizeof(c);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0)
		return -errno;
	if (peer)
		*peer = c;
	if (c.uid == geteuid() || c.uid == 0 || (pid > 0 && c.pid == pid))
		return 0;
	return -EPERM;
}
