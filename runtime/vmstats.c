#include "vmstats.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VMM_COMM "hull-vmm"

/* A /proc file into buf (NUL-terminated, at most n-1 bytes). */
static int read_proc(pid_t pid, const char *file, char *buf, size_t n)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	size_t len = 0;
	ssize_t r;
	while (len < n - 1 && (r = read(fd, buf + len, n - 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;
			close(fd);
			return rc;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return 0;
}

/* /proc/PID/stat: comm (field 2, in parentheses, may hold anything) and the
 * fields after it, from field 3 (state) on, split at spaces. */
static int stat_fields(pid_t pid, char *comm, size_t comm_n, char **f, int nf, char *buf, size_t n)
{
	int rc = read_proc(pid, "stat", buf, n);
	if (rc)
		return rc;
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close || close < open || close[1] != ' ')
		return -EINVAL;
	snprintf(comm, comm_n, "%.*s", (int)(close - open - 1), open + 1);
	char *p = close + 2;
	for (int i = 0; i < nf; i++) {
		f[i] = p;
		p += strcspn(p, " ");
		if (!*p && i < nf - 1)
			return -EINVAL;
		if (*p)
			*p++ = '\0';
	}
	return 0;
}

static int u64(const char *s, uint64_t *v)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || (*end && *end != '\n'))
		return -EINVAL;
	*v = x;
	return 0;
}

int vmstats_find(pid_t supervisor, pid_t *vmm)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	struct dirent *e;
	int rc = -ESRCH;
	while (rc && (e = readdir(d))) {
		uint64_t pid;
		if (u64(e->d_name, &pid) || pid == 0 || pid > INT32_MAX)
			continue;
		char buf[1024], comm[64], *f[2];
		uint64_t ppid;
		if (stat_fields((pid_t)pid, comm, sizeof(comm), f, 2, buf, sizeof(buf)) ||
		    u64(f[1], &ppid))
			continue;
		if (ppid == (uint64_t)supervisor && !strcmp(comm, VMM_COMM)) {
			*vmm = (pid_t)pid;
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

/* "Key:   value kB" lines */
static int field(const char *text, const char *key, uint64_t *v)
{
	size_t k = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, k) && l[k] == ':') {
			const char *p = l + k + 1;
			p += strspn(p, " \t");
			char *end;
			errno = 0;
			unsigned long long x = strtoull(p, &end, 10);
			if (errno || end == p)
				return -EINVAL;
			*v = x;
			return 0;
		}
	}
	return -ENOENT;
}

int vmstats_sample(pid_t vmm, struct vmstats *out)
{
	memset(out, 0, sizeof(*out));
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	out->at_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	char buf[4096], comm[64], *f[18];
	/* fields 3..20: utime is 14, stime 15, num_threads 20 */
	int rc = stat_fields(vmm, comm, sizeof(comm), f, 18, buf, sizeof(buf));
	if (rc)
		return rc;
	uint64_t ut, st, th;
	if (u64(f[11], &ut) || u64(f[12], &st) || u64(f[17], &th))
		return -EINVAL;
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	out->cpu_ns = (ut + st) * (1000000000u / (uint64_t)hz);
	out->threads = (unsigned)(th > 65535 ? 65535 : th);
	uint64_t rss_kb = 0;
	if ((rc = read_proc(vmm, "status", buf, sizeof(buf))) ||
	    (rc = field(buf, "VmRSS", &rss_kb)))
		return rc == -ENOENT ? -ESRCH : rc; /* a zombie has no VmRSS */
	out->rss_bytes = rss_kb * 1024;
	if ((rc = read_proc(vmm, "io", buf, sizeof(buf))) ||
	    (rc = field(buf, "read_bytes", &out->read_bytes)) ||
	    (rc = field(buf, "write_bytes", &out->write_bytes)))
		return rc;
	return 0;
}

double vmstats_cpu_percent(const struct vmstats *a, const struct vmstats *b)
{
	if (b->at_ns <= a->at_ns || b->cpu_ns < a->cpu_ns)
		return 0.0;
	return 100.0 * (double)(b->cpu_ns - a->cpu_ns) / (double)(b->at_ns - a->at_ns);
}
