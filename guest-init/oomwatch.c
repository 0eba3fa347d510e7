#include "oomwatch.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void oomwatch_start(struct oomwatch *w)
{
	w->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (w->fd >= 0 && lseek(w->fd, 0, SEEK_END) < 0) {
		close(w->fd);
		w->fd = -1;
	}
}

void oomwatch_stop(struct oomwatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* A decimal number of at most 9 digits at s[*i..n), ended by `end`. */
static int number(const char *s, size_t n, size_t *i, char end, long *v)
{
	size_t start = *i;

	*v = 0;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - start < 9)
		*v = *v * 10 + (s[(*i)++] - '0');
	if (*i == start || *i >= n || s[*i] != end)
		return -1;
	(*i)++;
	return 0;
}

int oomwatch_parse(const char *rec, size_t n, pid_t *pid, bool *memcg)
{
	static const char key[] = "Killed process ", cg[] = "Memory cgroup out of memory: ";
	size_t i = 0;
	long pri, pidv;

	/* "PRI,": facility 0 (the kernel) only */
	if (number(rec, n, &i, ',', &pri) < 0 || pri >= 8)
		return 0;
	const char *body = memchr(rec, ';', n);
	if (!body)
		return 0;
	body++;
	size_t left = n - (size_t)(body - rec);
	/* the message is one line; continuation lines (" KEY=value") follow
	 * after a newline and never count */
	const char *nl = memchr(body, '\n', left);
	if (nl)
		left = (size_t)(nl - body);
	const char *k = memmem(body, left, key, sizeof(key) - 1);
	if (!k)
		return 0;
	i = (size_t)(k - rec) + sizeof(key) - 1;
	size_t end = (size_t)(body - rec) + left;
	if (number(rec, end, &i, ' ', &pidv) < 0 || pidv <= 0 || i >= end || rec[i] != '(')
		return 0;
	*pid = (pid_t)pidv;
	*memcg = k - body >= (ptrdiff_t)sizeof(cg) - 1 &&
		 !memcmp(k - (sizeof(cg) - 1), cg, sizeof(cg) - 1);
	return 1;
}

void oomwatch_check(struct oomwatch *w, pid_t main, struct oomwatch_result *r)
{
	char rec[8192]; /* the kernel's longest record (CONSOLE_EXT_LOG_MAX) */

	memset(r, 0, sizeof(*r));
	r->all_memcg = true;
	if (w->fd < 0)
		return;
	/* one record per read (a record longer than the buffer would fail
	 * with EINVAL again and again: stop there rather than spin) */
	for (unsigned i = 0; i < OOMWATCH_MAX_RECORDS; i++) {
		ssize_t n = read(w->fd, rec, sizeof(rec));
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue; /* overwritten records: go on with the rest */
		if (n <= 0)
			return; /* EAGAIN: all read */
		pid_t pid;
		bool memcg;
		if (oomwatch_parse(rec, (size_t)n, &pid, &memcg)) {
			r->kills++;
			r->all_memcg = r->all_memcg && memcg;
			if (pid == main)
				r->main_killed = true;
		}
	}
}
