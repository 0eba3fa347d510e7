/* cgstats: a VM's cgroup figures from its v1 or v2 files (cgstats.h). */
#include "runtime/cgstats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/readfile.h"

/* One place a figure may be read from: file (in any of the directories),
 * the line key (NULL: the whole file is the value), times mul; "max" where
 * the kernel may write it stands for max_val. */
struct src {
	const char *file;
	const char *key;
	uint64_t mul;
	bool max_ok;
	uint64_t max_val;
};

/* s[0..len) as a decimal uint64 (digits only), or "max" if s allows. */
static int parse_value(const char *v, size_t len, const struct src *s, uint64_t *out)
{
	if (s->max_ok && len == 3 && !memcmp(v, "max", 3)) {
		*out = s->max_val;
		return 0;
	}
	if (len == 0)
		return -EINVAL;
	uint64_t x = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, v[i] - '0', &x))
			return -ERANGE;
	}
	if (__builtin_mul_overflow(x, s->mul, &x))
		return -ERANGE;
	*out = x;
	return 0;
}

/* The value text in buf for s: the file less one final newline, or the rest
 * of the line that starts with "key ". NULL when the key is not there. */
static const char *value_text(const char *buf, size_t len, const struct src *s, size_t *vlen)
{
	if (!s->key) {
		*vlen = len && buf[len - 1] == '\n' ? len - 1 : len;
		return buf;
	}
	size_t klen = strlen(s->key);
	for (const char *l = buf, *end = buf + len; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		size_t ll = nl ? (size_t)(nl - l) : (size_t)(end - l);
		if (ll > klen && !memcmp(l, s->key, klen) && l[klen] == ' ') {
			*vlen = ll - klen - 1;
			return l + klen + 1;
		}
		l += ll + 1;
	}
	return NULL;
}

/* The figure from the first of srcs found in one of d's directories: 1 and
 * *v, 0 when none is there, or -errno with err naming the file. */
static int figure(const struct cgstats_dirs *d, const struct src *srcs, unsigned nsrcs, uint64_t *v,
		  struct errmsg *err)
{
	for (unsigned i = 0; i < nsrcs; i++) {
		const struct src *s = &srcs[i];
		for (unsigned k = 0; k < d->n; k++) {
			char path[CGSTATS_PATH_MAX + 64];
			if (snprintf(path, sizeof(path), "%s/%s", d->dir[k], s->file) >=
			    (int)sizeof(path))
				return errmsg_set(err, -ENAMETOOLONG, "cgroup %s: path too long",
						  d->dir[k]);
			char *buf = NULL;
			size_t len = 0;
			int rc = readfile_pseudo(path, CGSTATS_FILE_MAX, &buf, &len);
			if (rc == -ENOENT)
				continue;
			if (rc)
				return errmsg_set(err, rc, "cgroup file %s: %s", path,
						  rc == -EFBIG ? "larger than expected"
							       : strerror(-rc));
			size_t vlen = 0;
			const char *t = value_text(buf, len, s, &vlen);
			rc = t ? parse_value(t, vlen, s, v) : 0;
			free(buf);
			if (rc)
				return errmsg_set(err, rc, "cgroup file %s: %s%s%s", path,
						  s->key ? s->key : "", s->key ? ": " : "",
						  rc == -ERANGE ? "value out of range"
								: "not a decimal number");
			if (t)
				return 1;
			/* a file of that name without the key (v1 cpu.stat has
			 * no usage_usec): look on */
		}
	}
	return 0;
}

static int need(const struct cgstats_dirs *d, const struct src *srcs, unsigned nsrcs, uint64_t *v,
		const char *what, struct errmsg *err)
{
	int rc = figure(d, srcs, nsrcs, v, err);
	if (rc == 0)
		rc = errmsg_set(err, -EINVAL, "cgroup %s: no %s (%s%s%s)", d->dir[0], what,
				srcs[0].file, nsrcs > 1 ? " or " : "",
				nsrcs > 1 ? srcs[nsrcs - 1].file : "");
	return rc < 0 ? rc : 0;
}

#define N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

int cgstats_read(const struct cgstats_dirs *d, struct cgstats *st, struct errmsg *err)
{
	*st = (struct cgstats){0};
	if (d->n == 0 || d->n > CGSTATS_MAX_DIRS)
		return errmsg_set(err, -EINVAL, "cgroup: %u directories", d->n);
	for (unsigned k = 0; k < d->n; k++) {
		struct stat sb;
		if (memchr(d->dir[k], '\0', CGSTATS_PATH_MAX) == NULL)
			return errmsg_set(err, -ENAMETOOLONG, "cgroup: a path too long");
		if (stat(d->dir[k], &sb) < 0)
			return errmsg_set(err, -errno, "cgroup %s: %s", d->dir[k], strerror(errno));
		if (!S_ISDIR(sb.st_mode))
			return errmsg_set(err, -ENOTDIR, "cgroup %s: not a directory", d->dir[k]);
	}
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0 || hz > 1000000000)
		return errmsg_set(err, -EINVAL, "cgroup: no clock tick rate");
	uint64_t tick_ns = 1000000000ull / (uint64_t)hz;

	static const struct src usage[] = {{"memory.current", NULL, 1, false, 0},
					   {"memory.usage_in_bytes", NULL, 1, false, 0}};
	static const struct src limit[] = {{"memory.max", NULL, 1, true, UINT64_MAX},
					   {"memory.limit_in_bytes", NULL, 1, false, 0}};
	static const struct src peak[] = {{"memory.peak", NULL, 1, false, 0},
					  {"memory.max_usage_in_bytes", NULL, 1, false, 0}};
	static const struct src rss[] = {{"memory.stat", "anon", 1, false, 0},
					 {"memory.stat", "total_rss", 1, false, 0}};
	static const struct src inact[] = {{"memory.stat", "inactive_file", 1, false, 0},
					   {"memory.stat", "total_inactive_file", 1, false, 0}};
	static const struct src cpu[] = {{"cpu.stat", "usage_usec", 1000, false, 0},
					 {"cpuacct.usage", NULL, 1, false, 0}};
	static const struct src pids[] = {{"pids.current", NULL, 1, false, 0}};
	static const struct src pids_max[] = {{"pids.max", NULL, 1, true, 0}};
	const struct src user[] = {{"cpu.stat", "user_usec", 1000, false, 0},
				   {"cpuacct.stat", "user", tick_ns, false, 0}};
	const struct src sys[] = {{"cpu.stat", "system_usec", 1000, false, 0},
				  {"cpuacct.stat", "system", tick_ns, false, 0}};
	int rc;
	if ((rc = need(d, usage, N(usage), &st->mem_usage, "memory usage", err)) ||
	    (rc = need(d, limit, N(limit), &st->mem_limit, "memory limit", err)) ||
	    (rc = need(d, cpu, N(cpu), &st->cpu_ns, "CPU usage", err)) ||
	    (rc = need(d, pids, N(pids), &st->pids, "task count", err)) ||
	    (rc = need(d, pids_max, N(pids_max), &st->pids_limit, "task limit", err)))
		return rc;
	if ((rc = figure(d, peak, N(peak), &st->mem_max_usage, err)) < 0 ||
	    (rc = figure(d, rss, N(rss), &st->mem_rss, err)) < 0 ||
	    (rc = figure(d, inact, N(inact), &st->mem_inactive_file, err)) < 0 ||
	    (rc = figure(d, user, N(user), &st->cpu_user_ns, err)) < 0 ||
	    (rc = figure(d, sys, N(sys), &st->cpu_system_ns, err)) < 0)
		return rc;
	return 0;
}
