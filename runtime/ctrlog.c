#include "ctrlog.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/timeparse.h"

int ctrlog_open(const char *path, struct ctrlog *l)
{
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	return l->fd < 0 ? -errno : 0;
}

void ctrlog_close(struct ctrlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
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
		rc = put_record(&lb, name, now, buf, k);
		buf += k;
		n -= k;
	}
	/* one write per chunk: whole lines, and few syscalls for bulk output */
	if (!rc && lb.len)
		rc = fdio_write_all(l->fd, lb.b, lb.len);
	free(lb.b);
	return rc;
}

/* Offset of the start of the last `tail` lines of fd. */
static off_t tail_offset(int fd, size_t tail)
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

int ctrlog_reader_open(const char *path, size_t tail, struct ctrlog_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (tail != SIZE_MAX && lseek(r->fd, tail_offset(r->fd, tail), SEEK_SET) < 0) {
		int rc = -errno;
		close(r->fd);
		return rc;
	}
	return 0;
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
		if (n == 0)
			return 0;
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
	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
