#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_path(const char *path, int flags, bool to_eof, size_t max, char **buf, size_t *len);

int readfile(const char *path, size_t max, char **buf, size_t *len)
{
	return read_path(path, 0, false, max, buf, len);
}

int readfile_nofollow(const char *path, size_t max, char **buf, size_t *len)
{
	return read_path(path, O_NOFOLLOW, false, max, buf, len);
}

int readfile_pseudo(const char *path, size_t max, char **buf, size_t *len)
{
	return read_path(path, O_NOFOLLOW, true, max, buf, len);
}

/* to_eof: the size stat gives is not the content's (pseudo files): read
 * until EOF, one byte more than max at most to tell a file too large. */
static int read_path(const char *path, int flags, bool to_eof, size_t max, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (to_eof ? max >= SIZE_MAX - 1 : (uint64_t)st.st_size > max)
		rc = -EFBIG;
	size_t cap = to_eof ? max + 1 : (size_t)st.st_size;
	char *p = rc ? NULL : malloc(cap + 1);
	if (!rc && !p)
		rc = -ENOMEM;
	size_t n = 0;
	while (!rc && n < cap) {
		ssize_t r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		else if (r == 0)
			break;
		else
			n += (size_t)r;
	}
	if (!rc && n > max)
		rc = -EFBIG;
	close(fd);
	if (rc) {
		free(p);
		return rc;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}
