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
	assert_int_equal(ctrlog_open(f->path, &l), 0);
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
	assert_int_equal(ctrlog_open(f->path, &l), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_streams, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_partial_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
