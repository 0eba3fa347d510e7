#include "shimio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int open_out(const char *path, const char *what, int *fd, struct errmsg *err)
{
	*fd = -1;
	if (!path[0])
		return 0;
	if (strncmp(path, "file://", 7) == 0) {
		const char *p = path + 7;
		if (p[0] != '/')
			return errmsg_set(err, -EINVAL,
					  "%s %s: a file:// URI needs an absolute path", what,
					  path);
		*fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	} else if (strstr(path, "://")) {
		return errmsg_set(err, -ENOTSUP, "%s %s: only FIFOs and file:// are supported",
				  what, path);
	} else {
		struct stat st;
		if (stat(path, &st) < 0)
			return errmsg_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
		if (!S_ISFIFO(st.st_mode))
			return errmsg_set(err, -EINVAL, "%s %s: not a FIFO", what, path);
		*fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (*fd < 0)
		return errmsg_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	return 0;
}

int shim_stdio_open(const char *in, const char *out, const char *err_path, bool terminal,
		    struct shim_stdio *s, struct errmsg *err)
{
	*s = (struct shim_stdio){.io = {.in = -1, .out = -1, .err = -1, .terminal = terminal}};
	int rc;
	if (in[0]) {
		if (strstr(in, "://")) {
			rc = errmsg_set(err, -ENOTSUP, "stdin %s: only a FIFO is supported", in);
			goto fail;
		}
		s->io.in = open(in, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (s->io.in < 0) {
			rc = errmsg_set(err, -errno, "stdin %s: %s", in, strerror(errno));
			goto fail;
		}
	}
	rc = open_out(out, "stdout", &s->io.out, err);
	if (rc < 0)
		goto fail;
	rc = open_out(err_path, "stderr", &s->io.err, err);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	shim_stdio_close(s);
	return rc;
}

void shim_stdio_close(struct shim_stdio *s)
{
	close_fd(&s->io.in);
	close_fd(&s->io.out);
	close_fd(&s->io.err);
}
