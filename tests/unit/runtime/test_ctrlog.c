/* ctrlog: records written, read back per stream, --tail, partial lines,
 * damaged lines. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/ctrlog.h"

struct fx {
	char dir[64];
	char path[96];
	int out[2], err[2];
};

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/hull-ctrlog.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/container.log", f->dir);
	assert_int_equal(pipe2(f->out, O_NONBLOCK), 0);
	assert_int_equal(pipe2(f->err, O_NONBLOCK), 0);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	unlink(f->path);
	rmdir(f->dir);
	for (int i = 0; i < 2; i++) {
		close(f->out[i]);
		close(f->err[i]);
	}
	free(f);
	return 0;
}

static size_t drain(int fd, char *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap);
	return n > 0 ? (size_t)n : 0;
}

static void put(struct ctrlog *l, int stream, const char *s, size_t n)
{
	assert_int_equal(ctrlog_write(l, stream, (const uint8_t *)s, n), 0);
}

static int lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_streams(void **st)
{
	struct fx *f = *st;
	struct ctrlog l;
	assert_int_equal(ctrlog_open(f->path, NULL, &l), 0);
	put(&l, 1, "a\nb", 3);
	put(&l, 2, "err\n", 4);
	put(&l, 1, "c\n", 2);
	const char raw[] = "x\0y\x01\"\\\n";
	put(&l, 2, raw, sizeof(raw) - 1);
	ctrlog_close(&l);
	assert_int_equal(lines(f->path), 5); /* a\n, b, err\n, c\n, raw */

	FILE *fp = fopen(f->path, "r");
	char first[256];
	assert_non_null(fgets(first, sizeof(first), fp));
	fclose(fp);
	assert_non_null(strstr(first, "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"20"));
	assert_non_null(strstr(first, "Z\"}"));

	struct ctrlog_reader r;
	assert_int_equal(ctrlog_reader_open(f->path, SIZE_MAX, &r), 0);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	ctrlog_reader_close(&r);
	char buf[256];
	size_t n = drain(f->out[0], buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "a\nbc\n", 5);
	n = drain(f->err[0], buf, sizeof(buf));
	assert_int_equal(n, 4 + sizeof(raw) - 1);
	assert_memory_equal(buf, "err\n", 4);
	assert_memory_equal(buf + 4, raw, sizeof(raw) - 1);

	/* --tail 2: the last two records only */
	assert_int_equal(ctrlog_reader_open(f->path, 2, &r), 0);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	ctrlog_reader_close(&r);
	assert_int_equal(drain(f->out[0], buf, sizeof(buf)), 2);
	assert_int_equal(drain(f->err[0], buf, sizeof(buf)), sizeof(raw) - 1);
	/* --tail 0: nothing; a tail longer than the log: everything */
	assert_int_equal(ctrlog_reader_open(f->path, 0, &r), 0);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	ctrlog_reader_close(&r);
	assert_int_equal(drain(f->out[0], buf, sizeof(buf)), 0);
	assert_int_equal(ctrlog_reader_open(f->path, 100, &r), 0);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	ctrlog_reader_close(&r);
	assert_int_equal(drain(f->out[0], buf, sizeof(buf)), 5);
	drain(f->err[0], buf, sizeof(buf));
}

static void test_follow_partial_damaged(void **st)
{
	struct fx *f = *st;
	struct ctrlog l;
	assert_int_equal(ctrlog_open(f->path, NULL, &l), 0);
	struct ctrlog_reader r;
	assert_int_equal(ctrlog_reader_open(f->path, SIZE_MAX, &r), 0);
	put(&l, 1, "one\n", 4);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	char buf[64];
	assert_int_equal(drain(f->out[0], buf, sizeof(buf)), 4);

	/* half a record: held back until its newline arrives */
	const char rec[] = "{\"log\":\"two\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n";
	assert_int_equal(write(l.fd, rec, 10), 10);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	assert_int_equal(drain(f->out[0], buf, sizeof(buf)), 0);
	assert_int_equal(write(l.fd, rec + 10, sizeof(rec) - 11), (ssize_t)sizeof(rec) - 11);
	/* damaged lines in between are skipped */
	const char junk[] = "garbage\n[1,2]\n{\"log\":5,\"stream\":\"stdout\"}\n";
	assert_int_equal(write(l.fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	put(&l, 2, "three\n", 6);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	assert_int_equal(drain(f->out[0], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "two\n", 4);
	assert_int_equal(drain(f->err[0], buf, sizeof(buf)), 6);
	ctrlog_reader_close(&r);
	ctrlog_close(&l);
}

static off_t fsize(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void rm_rotated(const struct fx *f)
{
	char p[128];
	for (unsigned i = 1; i <= CTRLOG_MAX_FILES; i++) {
		snprintf(p, sizeof(p), "%s.%u", f->path, i);
		unlink(p);
	}
}

/* The cap: every file stays under max-size, at most max-file files, the
 * reader sees the newest records in order, across the files. */
static void test_rotation(void **st)
{
	struct fx *f = *st;
	struct ctrlog_opts o;
	struct errmsg err;
	ctrlog_opts_init(&o);
	assert_int_equal(o.max_size, CTRLOG_DEFAULT_MAX_SIZE);
	assert_int_equal(ctrlog_opts_parse(&o, "max-size=4k", &err), 0);
	assert_int_equal(ctrlog_opts_parse(&o, "max-file=3", &err), 0);
	assert_int_equal(o.max_size, 4096);
	assert_int_equal(o.max_files, 3);
	struct ctrlog l;
	assert_int_equal(ctrlog_open(f->path, &o, &l), 0);
	struct ctrlog_reader fr; /* following from the start */
	assert_int_equal(ctrlog_reader_open(f->path, SIZE_MAX, &fr), 0);
	char line[32], buf[65536];
	size_t got = 0;
	for (int i = 0; i < 2000; i++) {
		int n = snprintf(line, sizeof(line), "line %04d\n", i);
		put(&l, 1, line, (size_t)n);
		if (i % 20 == 19) { /* a follower that keeps up sees everything */
			assert_int_equal(ctrlog_pump(&fr, f->out[1], f->err[1]), 0);
			got += drain(f->out[0], buf + got, sizeof(buf) - got);
		}
	}
	ctrlog_reader_close(&fr);
	assert_int_equal(got, 2000 * 10);
	assert_memory_equal(buf, "line 0000\nline 0001\n", 20);
	assert_memory_equal(buf + got - 10, "line 1999\n", 10);
	char p[128];
	off_t total = 0;
	for (unsigned i = 0; i < 3; i++) {
		if (i)
			snprintf(p, sizeof(p), "%s.%u", f->path, i);
		else
			snprintf(p, sizeof(p), "%s", f->path);
		off_t s = fsize(p);
		assert_true(s > 0 && s <= 4096);
		total += s;
	}
	snprintf(p, sizeof(p), "%s.3", f->path);
	assert_int_equal(fsize(p), -1); /* max-file 3: no fourth */
	/* replay: the newest records, oldest first, ending with the last */
	struct ctrlog_reader r;
	assert_int_equal(ctrlog_reader_open(f->path, SIZE_MAX, &r), 0);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	ctrlog_reader_close(&r);
	size_t n = drain(f->out[0], buf, sizeof(buf));
	assert_true(n > 0 && n % 10 == 0 && n < 2000 * 10);
	assert_memory_equal(buf + n - 10, "line 1999\n", 10);
	int start = atoi(buf + 5);
	for (size_t i = 0; i < n / 10; i++) { /* consecutive, nothing lost inside */
		snprintf(line, sizeof(line), "line %04d\n", start + (int)i);
		assert_memory_equal(buf + i * 10, line, 10);
	}
	/* --tail across files: more lines than the newest file holds */
	size_t newest = (size_t)lines(f->path);
	assert_int_equal(ctrlog_reader_open(f->path, newest + 3, &r), 0);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	ctrlog_reader_close(&r);
	assert_int_equal(drain(f->out[0], buf, sizeof(buf)), (newest + 3) * 10);
	assert_memory_equal(buf + (newest + 2) * 10, "line 1999\n", 10);
	/* a flood of bare newlines (~70 bytes of JSON each) stays capped */
	char nl[1000];
	memset(nl, '\n', sizeof(nl));
	for (int i = 0; i < 100; i++)
		put(&l, 2, nl, sizeof(nl));
	ctrlog_close(&l);
	total = fsize(f->path);
	for (unsigned i = 1; i < 3; i++) {
		snprintf(p, sizeof(p), "%s.%u", f->path, i);
		assert_true(fsize(p) <= 4096);
		total += fsize(p);
	}
	assert_true(fsize(f->path) <= 4096 && total <= 3 * 4096);
	rm_rotated(f);
	/* bad values are named */
	assert_int_equal(ctrlog_opts_parse(&o, "max-size=10", &err), -EINVAL);
	assert_non_null(strstr(err.text, "max-size=10"));
	assert_int_equal(ctrlog_opts_parse(&o, "max-file=0", &err), -EINVAL);
	assert_int_equal(ctrlog_opts_parse(&o, "max-file=21", &err), -EINVAL);
	assert_int_equal(ctrlog_opts_parse(&o, "mode=blocking", &err), -EINVAL);
	assert_non_null(strstr(err.text, "mode=blocking"));
	assert_int_equal(ctrlog_opts_parse(&o, "max-size=-1", &err), 0);
	assert_int_equal(o.max_size, 0);
}

/* max-file=1: the file is truncated in place, never rotated. */
static void test_rotation_one_file(void **st)
{
	struct fx *f = *st;
	struct ctrlog_opts o = {.max_size = 4096, .max_files = 1};
	struct ctrlog l;
	assert_int_equal(ctrlog_open(f->path, &o, &l), 0);
	for (int i = 0; i < 500; i++)
		put(&l, 1, "0123456789\n", 11);
	ctrlog_close(&l);
	assert_true(fsize(f->path) <= 4096);
	char p[128];
	snprintf(p, sizeof(p), "%s.1", f->path);
	assert_int_equal(fsize(p), -1);
}

/* --since/--until/-t: the window is inclusive, records past --until end
 * the replay, a record without a time is shown only without a window. */
static void test_window(void **st)
{
	struct fx *f = *st;
	const char recs[] =
	    "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:19.5Z\"}\n"
	    "{\"log\":\"b\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
	    "{\"log\":\"n\\n\",\"stream\":\"stdout\"}\n"
	    "{\"log\":\"c\\n\",\"stream\":\"stderr\",\"time\":\"2023-11-14T22:13:21Z\"}\n"
	    "{\"log\":\"d\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:22Z\"}\n"
	    "{\"log\":\"e\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n";
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, recs, sizeof(recs) - 1), (ssize_t)sizeof(recs) - 1);
	close(fd);
	char buf[256];
	struct ctrlog_reader r;

	/* no window: everything, in order */
	assert_int_equal(ctrlog_reader_open(f->path, SIZE_MAX, &r), 0);
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	size_t n = drain(f->out[0], buf, sizeof(buf));
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "a\nb\nn\nd\ne\n", 10);
	drain(f->err[0], buf, sizeof(buf));
	ctrlog_reader_close(&r);

	/* [b, c]: a before, n untimed, d past --until (and e after it too) */
	assert_int_equal(ctrlog_reader_open(f->path, SIZE_MAX, &r), 0);
	r.since_ns = 1700000000LL * 1000000000LL;
	r.until_ns = 1700000001LL * 1000000000LL;
	r.timestamps = true;
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	n = drain(f->out[0], buf, sizeof(buf));
	buf[n] = '\0';
	assert_string_equal(buf, "2023-11-14T22:13:20.000000000Z b\n");
	n = drain(f->err[0], buf, sizeof(buf));
	buf[n] = '\0';
	assert_string_equal(buf, "2023-11-14T22:13:21.000000000Z c\n");
	assert_true(r.past);
	ctrlog_reader_close(&r);
}

/* hull logs --since/--until -t read the rotated files too: the window
 * takes b from PATH.1 and c from PATH, in order. */
static void test_window_rotated(void **st)
{
	struct fx *f = *st;
	const char old[] =
	    "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:19.5Z\"}\n"
	    "{\"log\":\"b\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n";
	const char cur[] =
	    "{\"log\":\"c\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:21Z\"}\n"
	    "{\"log\":\"d\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:22Z\"}\n";
	char p[128];
	snprintf(p, sizeof(p), "%s.1", f->path);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, old, sizeof(old) - 1), (ssize_t)sizeof(old) - 1);
	close(fd);
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, cur, sizeof(cur) - 1), (ssize_t)sizeof(cur) - 1);
	close(fd);
	struct ctrlog_reader r;
	char buf[256];
	assert_int_equal(ctrlog_reader_open(f->path, SIZE_MAX, &r), 0);
	r.since_ns = 1700000000LL * 1000000000LL;
	r.until_ns = 1700000001LL * 1000000000LL;
	r.timestamps = true;
	assert_int_equal(ctrlog_pump(&r, f->out[1], f->err[1]), 0);
	size_t n = drain(f->out[0], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	assert_string_equal(buf, "2023-11-14T22:13:20.000000000Z b\n"
				 "2023-11-14T22:13:21.000000000Z c\n");
	assert_true(r.past);
	ctrlog_reader_close(&r);
	rm_rotated(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_streams, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_partial_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_one_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_rotated, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
