#include "fdio.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* write() or, for a socket, send(MSG_NOSIGNAL) until all of buf went */
static int put_all(int fd, const void *buf, size_t n, bool sock)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fdio_write_all(int fd, const void *buf, size_t n)
{
	return put_all(fd, buf, n, false);
}

int fdio_send_all(int fd, const void *buf, size_t n)
{
	return put_all(fd, buf, n, true);
}

int fdio_pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *p = buf;
	while (n) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENODATA;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int fdio_pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int fdio_parse_fd(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 3 || v > 65535)
		return -1;
	return (int)v;
}

void fdio_close_others(const int *keep, unsigned nkeep)
{
	unsigned next = 3;
	for (;;) {
		/* the lowest kept fd at or above next */
		int lo = -1;
		for (unsigned i = 0; i < nkeep; i++)
			if (keep[i] >= (int)next && (lo < 0 || keep[i] < lo))
				lo = keep[i];
		if (lo < 0)
			break;
		if ((unsigned)lo > next)
			close_range(next, (unsigned)lo - 1, 0);
		next = (unsigned)lo + 1;
	}
	close_range(next, ~0u, 0);
}
