#include "bootstrap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fileutil.h"

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

int shim_socket_path(const char *bundle, const char *address, const char *ns, const char *id,
		     char *out, size_t n)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
	if (n > max)
		n = max;
	int w = snprintf(out, n, "%s/shim.sock", bundle);
	if (w > 0 && (size_t)w < n)
		return 0;
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv1a(fnv1a(fnv1a(fnv1a(fnv1a(h, address), "/"), ns), "/"), id);
	w = snprintf(out, n, SHIM_SOCKET_FALLBACK_DIR "/%016llx.sock", (unsigned long long)h);
	if (w < 0 || (size_t)w >= n)
		return -ENAMETOOLONG;
	return 0;
}

static int connectable(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int ok = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return ok;
}

int shim_listen(const char *path, int *fd, struct errmsg *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return errmsg_set(err, -ENAMETOOLONG, "socket %s: path too long", path);
	size_t fb = strlen(SHIM_SOCKET_FALLBACK_DIR);
	if (strncmp(path, SHIM_SOCKET_FALLBACK_DIR "/", fb + 1) == 0) {
		int rc = fileutil_mkdirs(SHIM_SOCKET_FALLBACK_DIR, 0700);
		if (rc < 0)
			return errmsg_set(err, rc, "%s: %s", SHIM_SOCKET_FALLBACK_DIR,
					  strerror(-rc));
	}
	strcpy(sa.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errmsg_set(err, -errno, "socket: %s", strerror(errno));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == EADDRINUSE) {
			if (connectable(&sa)) {
				close(s);
				return -EADDRINUSE;
			}
			unlink(path); /* a dead shim's */
			e = bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
		}
		if (e) {
			close(s);
			return errmsg_set(err, -e, "socket %s: %s", path, strerror(e));
		}
	}
	if (chmod(path, 0600) < 0 || listen(s, 64) < 0) {
		int rc = -errno;
		close(s);
		unlink(path);
		return errmsg_set(err, rc, "socket %s: %s", path, strerror(-rc));
	}
	*fd = s;
	return 0;
}

int shim_write_address(const char *dir, const char *path, struct errmsg *err)
{
	char tmp[4200], dst[4200], addr[256];
	int n = snprintf(addr, sizeof(addr), "unix://%s", path);
	if (snprintf(tmp, sizeof(tmp), "%s/.address.tmp", dir) >= (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/address", dir) >= (int)sizeof(dst) || n < 0 ||
	    n >= (int)sizeof(addr))
		return errmsg_set(err, -ENAMETOOLONG, "bundle %s: path too long", dir);
	int rc = fileutil_write_sync(tmp, addr, (size_t)n);
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return errmsg_set(err, rc, "%s: %s", dst, strerror(-rc));
	}
	return 0;
}

int shim_socket_from_address(const char *address, char *out, size_t n)
{
	const char *p = strncmp(address, "unix://", 7) == 0 ? address + 7 : address;
	if (p[0] != '/' || strlen(p) >= n)
		return -EINVAL;
	strcpy(out, p);
	return 0;
}
