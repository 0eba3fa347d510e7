#include "ctrlog.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/size.h"
#include "common/timeparse.h"

void ctrlog_opts_init(struct ctrlog_opts *o)
{
	o->max_size = CTRLOG_DEFAULT_MAX_SIZE;
	o->max_files = CTRLOG_DEFAULT_MAX_FILES;
}

int ctrlog_opts_parse(struct ctrlog_opts *o, const char *kv, struct errmsg *err)
{
	if (!strncmp(kv, "max-size=", 9)) {
		uint64_t v;
		if (!strcmp(kv + 9, "-1")) {
			o->max_size = 0;
			return 0;
		}
		if (parse_size(kv + 9, &v) || v < CTRLOG_MIN_SIZE)
			return errmsg_set(err, -EINVAL,
					  "--log-opt %s: expected a size of at least 4k (e.g. "
					  "10m), or -1 for no cap",
					  kv);
		o->max_size = v;
		return 0;
	}
	if (!strncmp(kv, "max-file=", 9)) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(kv + 9, &end, 10);
		if (errno || end == kv + 9 || *end || v < 1 || v > CTRLOG_MAX_FILES)
			return errmsg_set(err, -EINVAL,
					  "--log-opt %s: expected a count from 1 to %u", kv,
					  CTRLOG_MAX_FILES);
		o->max_files = (unsigned)v;
		return 0;
	}
	return errmsg_set(err, -EINVAL, "--log-opt %s: expected max-size=SIZE or max-file=N", kv);
}

static int open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

int ctrlog_open(const char *path, const struct ctrlog_opts *o, struct ctrlog *l)
{
	memset(l, 0, sizeof(*l));
	if (o)
		l->opts = *o;
	else
		ctrlog_opts_init(&l->opts);
	if (l->opts.max_files < 1 || l->opts.max_files > CTRLOG_MAX_FILES)
		l->opts.max_files = CTRLOG_DEFAULT_MAX_FILES;
	l->fd = open_append(path);
	if (l->fd < 0)
		return l->fd;
	struct stat st;
	if (fstat(l->fd, &st) == 0)
		l->size = (uint64_t)st.st_size;
	if (!(l->path = strdup(path))) {
		ctrlog_close(l);
		return -ENOMEM;
	}
	return 0;
}

void ctrlog_close(struct ctrlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

/* PATH.n (n >= 1) into b. */
static void rotated_name(char *b, size_t cap, const char *path, unsigned n)
{
	snprintf(b, cap, "%s.%u", path, n);
}

/* PATH -> PATH.1 -> ... -> PATH.(max_files-1), a new PATH. */
static int rotate(struct ctrlog *l)
{
	if (l->opts.max_files == 1) {
		if (ftruncate(l->fd, 0) < 0)
			return -errno;
		l->size = 0;
		return 0;
	}
	size_t cap = strlen(l->path) + 16;
	char *from = malloc(cap), *to = malloc(cap);
	int rc = from && to ? 0 : -ENOMEM;
	for (unsigned n = l->opts.max_files - 1; !rc && n >= 1; n--) {
		rotated_name(to, cap, l->path, n);
		if (n > 1)
			rotated_name(from, cap, l->path, n - 1);
		else
			snprintf(from, cap, "%s", l->path);
		if (rename(from, to) < 0 && errno != ENOENT)
			rc = -errno;
	}
	free(from);
	free(to);
	if (rc)
		return rc;
	close(l->fd);
	l->fd = open_append(l->path);
	if (l->fd < 0)
		return l->fd;
	l->size = 0;
	return 0;
}

/* Append lb's records to the file, rotating first when they would take it
 * past the cap (a non-empty file only: a record larger than the cap goes
 * into a file of its own). */
static int flush(struct ctrlog *l, const char *b, size_t n)
{
	if (!n)
		return 0;
	if (l->opts.max_size && l->size > 0 && l->size + n > l->opts.max_size) {
		int rc = rotate(l);
		if (rc)
			return rc;
	}
	int rc = fdio_write_all(l->fd, b, n);
	if (!rc)
		l->size += n;
	return rc;
}

struct linebuf {
	char *b;
	size_t len, cap;
};

/* Append one record, newline-terminated, to lb. */
static int put_record(struct linebuf *lb, const char *stream, const char *now, const uint8_t *b,
		      size_t n)
{
	json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "log", json_object_new_string_len((const char *)b, (int)n));
	json_object_object_add(o, "stream", json_object_new_string(stream));
	json_object_object_add(o, "time", json_object_new_string(now));
	size_t len;
	const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	int rc = t ? 0 : -ENOMEM;
	if (!rc && lb->cap - lb->len < len + 1) {
		size_t cap = 2 * (lb->len + len + 1);
		char *nb = realloc(lb->b, cap);
		if (nb) {
			lb->b = nb;
			lb->cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (!rc) {
		memcpy(lb->b + lb->len, t, len);
		lb->b[lb->len + len] = '\n';
		lb->len += len + 1;
	}
	json_object_put(o);
	return rc;
}

int ctrlog_write(struct ctrlog *l, int stream, const uint8_t *buf, size_t n)
{
	struct timespec ts;
	char now[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_rfc3339((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, now, sizeof(now));
	const char *name = stream == 2 ? "stderr" : "stdout";
	struct linebuf lb = {0};
	int rc = 0;
	while (n && !rc) {
		const uint8_t *nl = memchr(buf, '\n', n);
		size_t k = nl ? (size_t)(nl - buf) + 1 : n;
		size_t before = lb.len;
		rc = put_record(&lb, name, now, buf, k);
		/* the records so far go to this file when this one would not
		 * fit: each file stays under the cap */
		if (!rc && l->opts.max_size && before && l->size + lb.len > l->opts.max_size) {
			rc = flush(l, lb.b, before);
			memmove(lb.b, lb.b + before, lb.len - before);
			lb.len -= before;
		}
		buf += k;
		n -= k;
	}
	/* one write per chunk (or per file): whole lines, few syscalls */
	if (!rc)
		rc = flush(l, lb.b, lb.len);
	free(lb.b);
	return rc;
}

static size_t count_lines(int fd)
{
	char b[65536];
	size_t lines = 0;
	off_t pos = 0;
	ssize_t r;
	while ((r = pread(fd, b, sizeof(b), pos)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			lines += b[i] == '\n';
		pos += r;
	}
	return lines;
}

/* Offset of the start of the last `tail` lines of fd, which has `lines`. */
static off_t tail_offset(int fd, size_t lines, size_t tail)
{
	char b[65536];
	off_t pos = 0;
	ssize_t r;
	if (lines <= tail)
		return 0;
	size_t skip = lines - tail;
	pos = 0;
	while (skip && (r = pread(fd, b, sizeof(b), pos)) > 0) {
		for (ssize_t i = 0; i < r && skip; i++)
			if (b[i] == '\n' && --skip == 0)
				return pos + i + 1;
		pos += r;
	}
	return pos;
}

static int open_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

int ctrlog_reader_open(const char *path, size_t tail, struct ctrlog_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	int fds[CTRLOG_MAX_FILES + 1]; /* PATH, PATH.1, ...: newest first */
	unsigned n = 0;
	if (!(r->path = strdup(path)))
		return -ENOMEM;
	int rc = open_read(path);
	if (rc < 0) {
		free(r->path);
		r->path = NULL;
		return rc;
	}
	fds[n++] = rc;
	rc = 0;
	char name[PATH_MAX];
	for (unsigned i = 1; i <= CTRLOG_MAX_FILES; i++) {
		rotated_name(name, sizeof(name), path, i);
		int fd = open_read(name);
		if (fd < 0)
			break; /* rotated files are numbered without gaps */
		fds[n++] = fd;
	}
	/* --tail: skip whole older files, then lines of the first one read */
	unsigned first = n ? n - 1 : 0;
	if (!rc && tail != SIZE_MAX) {
		size_t left = tail;
		off_t off = 0;
		for (unsigned i = 0; i < n; i++) {
			size_t lines = count_lines(fds[i]);
			first = i;
			if (lines >= left) {
				off = tail_offset(fds[i], lines, left);
				break;
			}
			left -= lines;
		}
		if (lseek(fds[first], off, SEEK_SET) < 0)
			rc = -errno;
	}
	if (rc) {
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		free(r->path);
		r->path = NULL;
		return rc;
	}
	for (unsigned i = first + 1; i < n; i++) /* not replayed */
		close(fds[i]);
	r->fd = fds[first];
	for (unsigned i = first; i-- > 0;)
		r->next[r->n_next++] = fds[i]; /* oldest first */
	return 0;
}

/* At the end of r->fd: go on with the next file, or, at the end of the
 * newest one, with a new PATH if the writer rotated it away. True when
 * there is more to read. */
static bool next_file(struct ctrlog_reader *r)
{
	if (r->n_next) {
		close(r->fd);
		r->fd = r->next[0];
		memmove(r->next, r->next + 1, --r->n_next * sizeof(r->next[0]));
		r->len = 0; /* a torn last line of a rotated file stays torn */
		return true;
	}
	struct stat a, b;
	if (fstat(r->fd, &a) < 0 || stat(r->path, &b) < 0 ||
	    (a.st_ino == b.st_ino && a.st_dev == b.st_dev))
		return false;
	int fd = open_read(r->path);
	if (fd < 0)
		return false;
	/* the writer is done with the old file once it renamed it: after
	 * this last look, nothing more arrives there */
	r->next[r->n_next++] = fd;
	return true;
}

/* One record to its fd, when it passes the reader's time window; 1 when
 * it is past --until (nothing after it can pass: records are appended in
 * time order). */
static int replay_line(struct ctrlog_reader *r, const char *line, size_t len, int out_fd,
		       int err_fd)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return 0;
	json_object *o = json_tokener_parse_ex(tok, line, (int)len);
	json_object *log, *stream, *when;
	int past = 0;
	if (json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "log", &log) &&
	    json_object_is_type(log, json_type_string) &&
	    json_object_object_get_ex(o, "stream", &stream) &&
	    json_object_is_type(stream, json_type_string)) {
		/* a record without a readable time passes when no window is
		 * asked for, and is shown without a timestamp */
		int64_t t = 0;
		bool timed = json_object_object_get_ex(o, "time", &when) &&
			     json_object_is_type(when, json_type_string) &&
			     !time_parse_rfc3339(json_object_get_string(when), &t);
		bool windowed = r->since_ns || r->until_ns;
		if (timed && r->until_ns && t > r->until_ns)
			past = 1;
		else if ((!windowed || timed) && (!r->since_ns || t >= r->since_ns)) {
			bool err = !strcmp(json_object_get_string(stream), "stderr");
			int fd = err ? err_fd : out_fd;
			if (r->timestamps && timed) {
				char ts[64];
				time_format_rfc3339(t, ts, sizeof(ts));
				strcat(ts, " ");
				fdio_write_all(fd, ts, strlen(ts));
			}
			fdio_write_all(fd, json_object_get_string(log),
				       (size_t)json_object_get_string_len(log));
		}
	}
	json_object_put(o);
	json_tokener_free(tok);
	return past;
}

int ctrlog_pump(struct ctrlog_reader *r, int out_fd, int err_fd)
{
	for (;;) {
		if (r->cap - r->len < 65536) {
			char *nb = realloc(r->buf, r->cap + 65536);
			if (!nb)
				return -ENOMEM;
			r->buf = nb;
			r->cap += 65536;
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (!r->n_next && !next_file(r))
				return 0;
			if (r->n_next) {
				/* drain the current file once more before moving */
				n = read(r->fd, r->buf + r->len, r->cap - r->len);
				if (n <= 0) {
					next_file(r);
					continue;
				}
			}
		}
		r->len += (size_t)n;
		size_t start = 0;
		char *nl;
		while ((nl = memchr(r->buf + start, '\n', r->len - start))) {
			size_t end = (size_t)(nl - r->buf);
			if (!r->past)
				r->past =
				    replay_line(r, r->buf + start, end - start, out_fd, err_fd);
			start = end + 1;
		}
		memmove(r->buf, r->buf + start, r->len - start);
		r->len -= start;
	}
}

void ctrlog_reader_close(struct ctrlog_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	for (unsigned i = 0; i < r->n_next; i++)
		close(r->next[i]);
	free(r->buf);
	free(r->path);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
