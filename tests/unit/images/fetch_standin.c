/* A stand-in for hull-fetch (tests/unit/images/test_fetch_proc.c): the
 * real start of the child, fetch_child_begin() (caps, warm-up, the HSC_FETCH
 * filter), then stand-in work chosen by the request's bytes: "limits"
 * (what it sees of itself), "execs", "forks", "thread-execs" (a call
 * outside the filter, from the main thread or from a thread made after
 * the filter), "unix" (a Unix socket: refused, not killed), "big" (a
 * write at its RLIMIT_FSIZE into work fd 0). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "images/fetch_proc.h"
#include "tests/unit/images/fetch_standin.h"

static int is(const void *req, size_t len, const char *what)
{
	return len == strlen(what) && !memcmp(req, what, len);
}

/* "Seccomp:" and "Seccomp_filters:" of /proc/self/status: a read-only open
 * the filter allows */
static void seccomp_status(struct fetch_seen *s)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "Seccomp: %d", &s->seccomp);
		sscanf(line, "Seccomp_filters: %d", &s->filters);
	}
	if (f)
		fclose(f);
}

/* A limit as /proc/self/limits shows it (getrlimit is prlimit64, in no
 * allow-list): "unlimited" is UINT64_MAX. */
static void limit_of(const char *name, uint64_t *cur, uint64_t *max)
{
	FILE *f = fopen("/proc/self/limits", "r");
	char line[256], a[32] = "", b[32] = "";
	*cur = *max = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) &&
		    sscanf(line + strlen(name), "%31s %31s", a, b) == 2) {
			*cur = strcmp(a, "unlimited") ? strtoull(a, NULL, 10) : UINT64_MAX;
			*max = strcmp(b, "unlimited") ? strtoull(b, NULL, 10) : UINT64_MAX;
		}
	if (f)
		fclose(f);
}

static void *thread_execs(void *arg)
{
	char *const argv[] = {"true", NULL};
	execve("/bin/true", argv, argv + 1);
	return arg;
}

int main(void)
{
	struct convproc cp;
	struct errmsg err = {{0}};
	struct fetch_seen s = {0};
	void *req;
	size_t len;
	int rc = fetch_child_begin(&cp, &req, &len, &err);
	if (rc)
		convproc_child_exit(&cp, rc, NULL, 0, &err);
	if (is(req, len, "limits")) {
		limit_of("Max address space", &s.as_cur, &s.as_max);
		limit_of("Max open files", &s.nofile_cur, &s.nofile_max);
		limit_of("Max file size", &s.fsize_cur, &s.fsize_max);
		seccomp_status(&s);
	} else if (is(req, len, "execs")) {
		convproc_progress(&cp, 0);
		char *const argv[] = {"true", NULL};
		execve("/bin/true", argv, argv + 1);
		rc = -errno;
	} else if (is(req, len, "forks")) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		rc = pid < 0 ? -errno : 0;
	} else if (is(req, len, "thread-execs")) {
		pthread_t t;
		rc = -pthread_create(&t, NULL, thread_execs, NULL);
		if (!rc)
			pthread_join(t, NULL);
	} else if (is(req, len, "unix")) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		rc = fd < 0 ? -errno : 0;
	} else if (is(req, len, "big")) {
		/* a byte at the limit: nothing of it fits */
		uint64_t cur, max;
		limit_of("Max file size", &cur, &max);
		rc = pwrite(CONVPROC_FD_WORK, "x", 1, (off_t)cur) < 0 ? -errno : 0;
	} else {
		rc = errmsg_set(&err, -EINVAL, "standin: unknown request");
	}
	free(req);
	convproc_child_exit(&cp, rc, &s, sizeof(s), &err);
}
