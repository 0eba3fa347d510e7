/* A stand-in for hull-convert (tests/unit/images/test_convert_proc.c): the
 * child half of images/convert_proc.h around stand-in work, chosen by the
 * request's bytes ("report", "failing", "dies", "opens", "execs",
 * "garbage"). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/convert_proc.h"
#include "tests/unit/images/convert_standin.h"

static int is(const void *req, size_t len, const char *what)
{
	return len == strlen(what) && !memcmp(req, what, len);
}

/* A taken-over child writing garbage on its status pipe (the one FIFO it
 * holds), then running on: the parent stops it. */
static int garbage(void)
{
	static char junk[8192];
	memset(junk, 0xff, sizeof(junk));
	for (int fd = 3; fd < 64; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		    write(fd, junk, sizeof(junk)) < 0)
			return -errno;
	}
	char b;
	for (;;)
		if (read(0, &b, 1) < 0)
			return -errno;
}

int main(void)
{
	struct convproc cp;
	struct errmsg err = {{0}};
	struct standin_seen s = {0};
	void *req;
	size_t len;
	int rc = convproc_child_begin(&cp, &req, &len, &err);
	if (rc)
		convproc_child_exit(&cp, rc, NULL, 0, &err);
	if (is(req, len, "report")) {
		convproc_progress(&cp, 0);
		s.uid = (unsigned)getuid();
		s.gid = (unsigned)getgid();
		s.nfds = (unsigned)cp.nfds;
		struct stat st;
		s.work_ok = fstat(CONVPROC_FD_WORK, &st) == 0 && S_ISCHR(st.st_mode);
		s.req_closed = fstat(CONVPROC_FD_REQ, &st) < 0 && errno == EBADF;
		s.others_closed = 1;
		for (int fd = CONVPROC_FD_WORK + 1; fd < 256; fd++)
			if (fstat(fd, &st) == 0)
				s.others_closed = 0;
		s.dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	} else if (is(req, len, "failing")) {
		rc = errmsg_set(&err, -EBADMSG, "layer 1 (sha256:0123456789ab): bad");
	} else if (is(req, len, "dies")) {
		convproc_progress(&cp, 0);
		convproc_progress(&cp, 2);
		raise(SIGKILL);
	} else if (is(req, len, "opens")) {
		convproc_progress(&cp, 1);
		rc = socket(AF_INET, SOCK_STREAM, 0) < 0 ? -errno : 0;
	} else if (is(req, len, "execs")) {
		char *const argv[] = {"true", NULL};
		execve("/bin/true", argv, argv + 1);
		rc = -errno;
	} else if (is(req, len, "waits")) {
		/* a byte count, then wait for a byte that never comes */
		convproc_progress_bytes(&cp, 0, 42);
		char b;
		rc = read(CONVPROC_FD_WORK, &b, 1) < 0 ? -errno : 0;
	} else if (is(req, len, "garbage")) {
		rc = garbage();
	} else {
		rc = errmsg_set(&err, -EINVAL, "standin: unknown request");
	}
	free(req);
	convproc_child_exit(&cp, rc, &s, sizeof(s), &err);
}
