#include "vsock_host.h"
#include "common/peercred.h"
#include "common/clock.h"
#include "runtime/jail.h"

#include <stdbool.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int uds_addr(struct sockaddr_un *a, const char *uds, uint32_t port, bool with_port,
		    struct errmsg *err)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = with_port ? snprintf(a->sun_path, sizeof(a->sun_path), "%s_%u", uds, port)
			  : snprintf(a->sun_path, sizeof(a->sun_path), "%s", uds);
	if (n < 0 || (size_t)n >= sizeof(a->sun_path))
		return errmsg_set(err, -ENAMETOOLONG, "vsock socket path %s: too long", uds);
	return 0;
}

int vsock_host_listen(const char *uds, uint32_t port, struct errmsg *err)
{
	struct sockaddr_un a;
	int rc = uds_addr(&a, uds, port, true, err);
	if (rc)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg_set(err, -errno, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0) {
		rc = -errno;
		close(fd);
		return errmsg_set(err, rc, "listen on %s: %s", a.sun_path, strerror(-rc));
	}
	return fd;
}

/* Read the answer line byte by byte: what follows it is the guest's. */
static int read_ok_line(int fd, int timeout_ms, struct errmsg *err, const char *path)
{
	char line[32];
	size_t n = 0;
	uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
	while (n < sizeof(line) - 1) {
		uint64_t now = clock_now_ns();
		if (now >= deadline)
			return errmsg_set(err, -ETIMEDOUT, "%s: no answer from the guest", path);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t got = read(fd, line + n, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return errmsg_set(err, -ECONNREFUSED,
					  "%s: the guest refused the connection", path);
		if (line[n] == '\n') {
			line[n] = '\0';
			if (strncmp(line, "OK ", 3) != 0)
				return errmsg_set(err, -EPROTO, "%s: unexpected answer \"%s\"",
						  path, line);
			return 0;
		}
		n++;
	}
	return errmsg_set(err, -EPROTO, "%s: answer line too long", path);
}

int vsock_host_connect(const char *uds, uint32_t port, int timeout_ms, struct errmsg *err)
{
	struct sockaddr_un a;
	int rc = uds_addr(&a, uds, 0, false, err);
	if (rc)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		rc = -errno;
		close(fd);
		return errmsg_set(err, rc, "connect to %s: %s", uds, strerror(-rc));
	}
	/* served by the VM monitor: jailed, it runs as the user `hull` when
	 * we are root (runtime/jail.h); any other user's socket is refused */
	struct ucred peer = {0};
	uid_t helper;
	rc = peercred_check(fd, 0, &peer);
	if (rc == -EPERM && jail_helper_uid(&helper) == 0 && peer.uid == helper)
		rc = 0;
	if (rc) {
		close(fd);
		return errmsg_set(err, rc, "%s: %s", uds,
				  rc == -EPERM ? "served by another user: refused" : strerror(-rc));
	}
	char req[32];
	int n = snprintf(req, sizeof(req), "CONNECT %u\n", port);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = errno ? -errno : -EIO;
		close(fd);
		return errmsg_set(err, rc, "%s: cannot send CONNECT: %s", uds, strerror(-rc));
	}
	rc = read_ok_line(fd, timeout_ms, err, uds);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}
