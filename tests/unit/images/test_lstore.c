/* lstore: the blob writer (verify, mismatch, overflow, abort), tags, gc, and
 * index.json staying valid under concurrent taggers. Real files in a temp
 * directory; no mocks. */
#include <dirent.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json.h>

#include "images/digest.h"
#include "images/lstore.h"
#include "images/oci_json.h"
#include "ocitest.h"

#define MT_M "application/vnd.oci.image.manifest.v1+json"
#define MT_I "application/vnd.oci.image.index.v1+json"
#define MT_C "application/vnd.oci.image.config.v1+json"
#define MT_L "application/vnd.oci.image.layer.v1.tar+gzip"

struct fx {
	char *root;
	struct lstore s;
	struct errmsg err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->root = tmpdir_new();
	assert_int_equal(lstore_open(f->root, &f->s, &f->err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	lstore_close(&f->s);
	rm_rf(f->root);
	free(f->root);
	free(f);
	return 0;
}

/* Entries of blobs/sha256 whose name starts with prefix ("" = all). */
static int count_files(struct fx *f, const char *prefix)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/blobs/sha256", f->s.dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		     strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* Store buf as a blob; returns its digest in out. */
static void put(struct fx *f, const char *buf, size_t len, char out[DIGEST_STR_LEN])
{
	struct lstore_writer *w;
	assert_int_equal(digest_buf(buf, len, out), 0);
	assert_int_equal(lstore_blob_begin(&f->s, out, (int64_t)len, &w, &f->err), 0);
	assert_int_equal(lstore_blob_write(w, buf, len, &f->err), 0);
	assert_int_equal(lstore_blob_commit(w, &f->err), 0);
}

static void test_open_layout(void **state)
{
	struct fx *f = *state;
	char path[4096];
	size_t len;
	snprintf(path, sizeof(path), "%s/oci-layout", f->s.dir);
	char *b = (char *)read_whole(path, &len);
	assert_non_null(strstr(b, "\"imageLayoutVersion\":\"1.0.0\""));
	free(b);
	snprintf(path, sizeof(path), "%s/oci", f->root);
	assert_string_equal(f->s.dir, path);
	/* reopening keeps what is there */
	assert_int_equal(
	    lstore_tag(&f->s, "a:1",
		       "sha256:"
		       "0000000000000000000000000000000000000000000000000000000000000000",
		       MT_M, 3, &f->err),
	    0);
	struct lstore s2;
	assert_int_equal(lstore_open(f->root, &s2, &f->err), 0);
	struct lstore_entry e;
	assert_int_equal(lstore_resolve(&s2, "a:1", &e, &f->err), 0);
	lstore_entry_free(&e);
	lstore_close(&s2);
	/* a file where the store should be */
	char file[4096];
	snprintf(file, sizeof(file), "%s/plainfile", f->root);
	write_file(file, "x", 1);
	assert_int_equal(lstore_open(file, &s2, &f->err), -ENOTDIR);
	assert_non_null(strstr(f->err.text, "plainfile"));
}

static void test_blob_ok(void **state)
{
	struct fx *f = *state;
	const char data[] = "hello, blob store";
	char d[DIGEST_STR_LEN];
	struct lstore_writer *w;
	assert_int_equal(digest_buf(data, sizeof(data), d), 0);
	assert_false(lstore_has_blob(&f->s, d));
	assert_int_equal(lstore_blob_begin(&f->s, d, sizeof(data), &w, &f->err), 0);
	assert_int_equal(count_files(f, ".tmp."), 1);
	for (size_t i = 0; i < sizeof(data); i += 5)
		assert_int_equal(lstore_blob_write(w, data + i,
						   sizeof(data) - i < 5 ? sizeof(data) - i : 5,
						   &f->err),
				 0);
	assert_int_equal(lstore_blob_commit(w, &f->err), 0);
	assert_true(lstore_has_blob(&f->s, d));
	assert_int_equal(count_files(f, ".tmp."), 0);
	char *p = lstore_blob_path(&f->s, d);
	size_t len;
	uint8_t *got = read_whole(p, &len);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(got, data, len);
	free(got);
	free(p);
	/* unknown size; and storing it again keeps one verified copy */
	assert_int_equal(lstore_blob_begin(&f->s, d, -1, &w, &f->err), 0);
	assert_int_equal(lstore_blob_write(w, data, sizeof(data), &f->err), 0);
	assert_int_equal(lstore_blob_commit(w, &f->err), 0);
	assert_int_equal(count_files(f, ".tmp."), 0);
	assert_null(lstore_blob_path(&f->s, "sha256:xyz"));
	assert_null(lstore_blob_path(&f->s, "sha512:00"));
}

/* A blob written through lstore_blob_fd() by someone else (hull-fetch):
 * the other side's writer (lstore_writer_on_fd) checks as it goes; the
 * store's reads the file back (adopt) and commits only what is in it. */
static void test_blob_adopt(void **state)
{
	struct fx *f = *state;
	const char data[] = "written by another process";
	char d[DIGEST_STR_LEN];
	struct lstore_writer *w, *o;
	assert_int_equal(digest_buf(data, sizeof(data), d), 0);
	assert_int_equal(lstore_blob_begin(&f->s, d, sizeof(data), &w, &f->err), 0);
	assert_int_equal(lstore_writer_on_fd(d, sizeof(data), lstore_blob_fd(w), &o, &f->err), 0);
	assert_int_equal(lstore_blob_write(o, data, sizeof(data), &f->err), 0);
	assert_int_equal(lstore_writer_end(o, &f->err), 0);
	assert_int_equal(lstore_blob_adopt(w, &f->err), 0);
	assert_true(lstore_has_blob(&f->s, d));
	assert_int_equal(count_files(f, ".tmp."), 0);

	/* the other side's writer: a wrong byte, a short blob */
	char d2[DIGEST_STR_LEN];
	assert_int_equal(digest_buf("abcdef", 6, d2), 0);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lstore_writer_on_fd(d2, 6, fd, &o, &f->err), 0);
	assert_int_equal(lstore_blob_write(o, "abcdeX", 6, &f->err), 0);
	assert_int_equal(lstore_writer_end(o, &f->err), -EBADMSG);
	assert_non_null(strstr(f->err.text, "digest mismatch"));
	assert_int_equal(lstore_writer_on_fd(d2, 6, fd, &o, &f->err), 0);
	assert_int_equal(lstore_blob_write(o, "abc", 3, &f->err), 0);
	assert_int_equal(lstore_writer_end(o, &f->err), -EIO);
	assert_int_equal(lstore_writer_on_fd(d2, 6, fd, &o, &f->err), 0);
	assert_int_equal(lstore_blob_write(o, "abcdefg", 7, &f->err), -EFBIG);
	lstore_blob_abort(o); /* its fd is a dup: ours stays open */
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);
	assert_int_equal(lstore_writer_on_fd("sha256:xyz", 6, 0, &o, &f->err), -EINVAL);

	/* what the other process claims does not matter, the file does: a
	 * wrong byte in it, one byte too many, one too few */
	static const char *const files[] = {"abcdeX", "abcdefg", "abcde"};
	static const int want[] = {-EBADMSG, -EFBIG, -EIO};
	for (int k = 0; k < 3; k++) {
		assert_int_equal(lstore_blob_begin(&f->s, d2, 6, &w, &f->err), 0);
		size_t n = strlen(files[k]);
		assert_int_equal(pwrite(lstore_blob_fd(w), files[k], n, 0), (ssize_t)n);
		assert_int_equal(lstore_blob_adopt(w, &f->err), want[k]);
		assert_false(lstore_has_blob(&f->s, d2));
		assert_int_equal(count_files(f, ".tmp."), 0);
	}
}

static void test_blob_mismatch(void **state)
{
	struct fx *f = *state;
	char d[DIGEST_STR_LEN];
	struct lstore_writer *w;
	assert_int_equal(digest_buf("right", 5, d), 0);
	assert_int_equal(lstore_blob_begin(&f->s, d, 5, &w, &f->err), 0);
	assert_int_equal(lstore_blob_write(w, "wrong", 5, &f->err), 0);
	assert_int_equal(lstore_blob_commit(w, &f->err), -EBADMSG);
	assert_non_null(strstr(f->err.text, "digest mismatch"));
	assert_non_null(strstr(f->err.text, "sha256:"));
	assert_false(lstore_has_blob(&f->s, d));
	assert_int_equal(count_files(f, ".tmp."), 0);

	/* more bytes than announced: refused at once */
	assert_int_equal(lstore_blob_begin(&f->s, d, 4, &w, &f->err), 0);
	assert_int_equal(lstore_blob_write(w, "right", 5, &f->err), -EFBIG);
	lstore_blob_abort(w);
	/* fewer */
	assert_int_equal(lstore_blob_begin(&f->s, d, 6, &w, &f->err), 0);
	assert_int_equal(lstore_blob_write(w, "right", 5, &f->err), 0);
	assert_int_equal(lstore_blob_commit(w, &f->err), -EIO);
	assert_non_null(strstr(f->err.text, "expected 6"));
	/* abort */
	assert_int_equal(lstore_blob_begin(&f->s, d, 5, &w, &f->err), 0);
	assert_int_equal(lstore_blob_write(w, "ri", 2, &f->err), 0);
	lstore_blob_abort(w);
	lstore_blob_abort(NULL);
	assert_false(lstore_has_blob(&f->s, d));
	assert_int_equal(count_files(f, ".tmp."), 0);
	/* malformed digests never make a file */
	assert_int_equal(lstore_blob_begin(&f->s, "sha256:../../etc", 5, &w, &f->err), -EINVAL);
	assert_int_equal(lstore_blob_begin(&f->s, "md5:abc", 5, &w, &f->err), -EINVAL);
}

static void test_tags(void **state)
{
	struct fx *f = *state;
	char d1[DIGEST_STR_LEN], d2[DIGEST_STR_LEN];
	put(f, "m1", 2, d1);
	put(f, "m2", 2, d2);
	struct lstore_entry e;
	assert_int_equal(lstore_resolve(&f->s, "docker.io/library/a:1", &e, &f->err), -ENOENT);
	assert_non_null(strstr(f->err.text, "docker.io/library/a:1"));
	assert_int_equal(lstore_tag(&f->s, "docker.io/library/a:1", d1, MT_M, 2, &f->err), 0);
	assert_int_equal(lstore_tag(&f->s, "docker.io/library/b:latest", d2, MT_I, 2, &f->err), 0);
	assert_int_equal(lstore_resolve(&f->s, "docker.io/library/a:1", &e, &f->err), 0);
	assert_string_equal(e.ref, "docker.io/library/a:1");
	assert_string_equal(e.digest, d1);
	assert_string_equal(e.media_type, MT_M);
	assert_int_equal(e.size, 2);
	assert_non_null(e.created);
	assert_int_equal(strlen(e.created), 20); /* 2026-01-01T00:00:00Z */
	lstore_entry_free(&e);
	/* retag moves the reference; no duplicate entry */
	assert_int_equal(lstore_tag(&f->s, "docker.io/library/a:1", d2, MT_I, 2, &f->err), 0);
	struct lstore_entry *es;
	size_t n;
	assert_int_equal(lstore_list(&f->s, &es, &n, &f->err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(es[0].ref, "docker.io/library/b:latest");
	assert_string_equal(es[1].ref, "docker.io/library/a:1");
	assert_string_equal(es[1].digest, d2);
	lstore_entries_free(es, n);
	/* untag */
	assert_int_equal(lstore_untag(&f->s, "docker.io/library/a:1", &f->err), 0);
	assert_int_equal(lstore_untag(&f->s, "docker.io/library/a:1", &f->err), -ENOENT);
	assert_non_null(strstr(f->err.text, "a:1"));
	assert_int_equal(lstore_list(&f->s, &es, &n, &f->err), 0);
	assert_int_equal(n, 1);
	lstore_entries_free(es, n);
	/* bad input */
	assert_int_equal(lstore_tag(&f->s, "", d1, MT_M, 2, &f->err), -EINVAL);
	assert_int_equal(lstore_tag(&f->s, "a b", d1, MT_M, 2, &f->err), -EINVAL);
	assert_int_equal(lstore_tag(&f->s, "x:1", "sha256:12", MT_M, 2, &f->err), -EINVAL);
	/* index.json is an OCI index image_prepare can read: the annotation */
	char path[4096];
	size_t len;
	snprintf(path, sizeof(path), "%s/index.json", f->s.dir);
	char *idx = (char *)read_whole(path, &len);
	struct oci_descriptor sel;
	assert_int_equal(oci_index_select(idx, len, "index.json", true,
					  "docker.io/library/b:latest", &sel, &f->err),
			 0);
	assert_string_equal(sel.digest, d2);
	oci_descriptor_free(&sel);
	free(idx);
}

static void test_corrupt_index(void **state)
{
	struct fx *f = *state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/index.json", f->s.dir);
	const char *bad = "{\"manifests\":7}";
	write_file(path, bad, strlen(bad));
	struct lstore_entry e;
	assert_int_equal(lstore_resolve(&f->s, "x", &e, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.text, "index.json"));
	bad = "{\"manifests\":[{\"digest\":\"sha256:1\",\"size\":1,"
	      "\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}}]}";
	write_file(path, bad, strlen(bad));
	assert_int_equal(lstore_resolve(&f->s, "x", &e, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.text, "malformed"));
}

static char *json_fmt(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) > 0);
	va_end(ap);
	return s;
}

static void age(struct fx *f, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->s.dir, name);
	write_file(path, "debris", 6);
	struct timespec ts[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_gc(void **state)
{
	struct fx *f = *state;
	char cfg[DIGEST_STR_LEN], l1[DIGEST_STR_LEN], l2[DIGEST_STR_LEN], man[DIGEST_STR_LEN],
	    idx[DIGEST_STR_LEN], orphan[DIGEST_STR_LEN], man2[DIGEST_STR_LEN];
	put(f, "{}", 2, cfg);
	put(f, "layer-one", 9, l1);
	put(f, "layer-two", 9, l2);
	put(f, "orphan!", 7, orphan);
	char *m = json_fmt("{\"schemaVersion\":2,\"mediaType\":\"" MT_M "\",\"config\":{"
			   "\"mediaType\":\"" MT_C "\",\"digest\":\"%s\",\"size\":2},\"layers\":["
			   "{\"mediaType\":\"" MT_L "\",\"digest\":\"%s\",\"size\":9}]}",
			   cfg, l1);
	put(f, m, strlen(m), man);
	char *m2 = json_fmt("{\"schemaVersion\":2,\"mediaType\":\"" MT_M "\",\"config\":{"
			    "\"mediaType\":\"" MT_C "\",\"digest\":\"%s\",\"size\":2},\"layers\":["
			    "{\"mediaType\":\"" MT_L "\",\"digest\":\"%s\",\"size\":9}]}",
			    cfg, l2);
	put(f, m2, strlen(m2), man2);
	/* an index naming our manifest and an arm64 one the store never got */
	char *ix =
	    json_fmt("{\"schemaVersion\":2,\"manifests\":["
		     "{\"mediaType\":\"" MT_M "\",\"digest\":\"%s\",\"size\":%zu,"
		     "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		     "{\"mediaType\":\"" MT_M "\",\"digest\":\"sha256:"
		     "9999999999999999999999999999999999999999999999999999999999999999\","
		     "\"size\":5,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}",
		     man, strlen(m));
	put(f, ix, strlen(ix), idx);
	assert_int_equal(lstore_tag(&f->s, "r/idx:1", idx, MT_I, (int64_t)strlen(ix), &f->err), 0);
	assert_int_equal(lstore_tag(&f->s, "r/m2:1", man2, MT_M, (int64_t)strlen(m2), &f->err), 0);
	age(f, ".tmp.aaaa.old");
	char fresh[4096];
	snprintf(fresh, sizeof(fresh), "%s/blobs/sha256/.tmp.bbbb.new", f->s.dir);
	write_file(fresh, "inflight", 8);

	uint64_t freed = 1234;
	assert_int_equal(lstore_gc(&f->s, &freed, &f->err), 0);
	assert_int_equal(freed, 7); /* the orphan only */
	assert_false(lstore_has_blob(&f->s, orphan));
	const char *kept[] = {cfg, l1, l2, man, man2, idx};
	for (size_t i = 0; i < 6; i++)
		assert_true(lstore_has_blob(&f->s, kept[i]));
	assert_int_equal(count_files(f, ".tmp.aaaa"), 0);
	assert_int_equal(count_files(f, ".tmp.bbbb"), 1);

	/* untag the index: its manifest and l1 go, the shared config stays */
	assert_int_equal(lstore_untag(&f->s, "r/idx:1", &f->err), 0);
	assert_int_equal(lstore_gc(&f->s, &freed, &f->err), 0);
	assert_int_equal(freed, strlen(ix) + strlen(m) + 9);
	assert_false(lstore_has_blob(&f->s, idx));
	assert_false(lstore_has_blob(&f->s, man));
	assert_false(lstore_has_blob(&f->s, l1));
	assert_true(lstore_has_blob(&f->s, cfg));
	assert_true(lstore_has_blob(&f->s, l2));
	assert_int_equal(lstore_untag(&f->s, "r/m2:1", &f->err), 0);
	assert_int_equal(lstore_gc(&f->s, NULL, &f->err), 0);
	assert_int_equal(count_files(f, ""), 1); /* only the fresh temp */
	free(m);
	free(m2);
	free(ix);
}

/* A writer holding the store keeps gc away until it has tagged. */
static void test_hold_blocks_gc(void **state)
{
	struct fx *f = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	char d[DIGEST_STR_LEN];
	assert_int_equal(digest_buf("held", 4, d), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lstore s;
		struct errmsg e;
		struct lstore_writer *w;
		close(p[0]);
		if (lstore_open(f->root, &s, &e) || lstore_hold(&s, &e) ||
		    lstore_blob_begin(&s, d, 4, &w, &e) || lstore_blob_write(w, "held", 4, &e) ||
		    lstore_blob_commit(w, &e))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		usleep(300 * 1000); /* gc would find the blob unreferenced now */
		if (lstore_tag(&s, "held:1", d, MT_M, 4, &e))
			_exit(1);
		lstore_close(&s);
		_exit(0);
	}
	close(p[1]);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(lstore_gc(&f->s, NULL, &f->err), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(lstore_has_blob(&f->s, d));
}

#define TAGGERS 2
#define TAGS_EACH 40

static void test_concurrent_tag(void **state)
{
	struct fx *f = *state;
	char d[DIGEST_STR_LEN];
	put(f, "shared", 6, d);
	pid_t pids[TAGGERS];
	for (int t = 0; t < TAGGERS; t++) {
		pids[t] = fork();
		assert_true(pids[t] >= 0);
		if (pids[t] == 0) {
			struct lstore s;
			struct errmsg e;
			if (lstore_open(f->root, &s, &e))
				_exit(1);
			for (int i = 0; i < TAGS_EACH; i++) {
				char ref[64];
				snprintf(ref, sizeof(ref), "proc%d/img:%d", t, i);
				if (lstore_tag(&s, ref, d, MT_M, 6, &e))
					_exit(2);
				/* everyone retags a shared name too */
				if (lstore_tag(&s, "shared:latest", d, MT_M, 6, &e))
					_exit(3);
			}
			lstore_close(&s);
			_exit(0);
		}
	}
	/* a reader meanwhile always sees a valid index */
	for (int i = 0; i < 50; i++) {
		struct lstore_entry *es;
		size_t n;
		assert_int_equal(lstore_list(&f->s, &es, &n, &f->err), 0);
		lstore_entries_free(es, n);
	}
	for (int t = 0; t < TAGGERS; t++) {
		int status;
		assert_int_equal(waitpid(pids[t], &status, 0), pids[t]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	struct lstore_entry *es;
	size_t n;
	assert_int_equal(lstore_list(&f->s, &es, &n, &f->err), 0);
	assert_int_equal(n, TAGGERS * TAGS_EACH + 1);
	lstore_entries_free(es, n);
	char path[4096];
	size_t len;
	snprintf(path, sizeof(path), "%s/index.json", f->s.dir);
	char *idx = (char *)read_whole(path, &len);
	json_object *o = json_tokener_parse(idx);
	assert_non_null(o);
	json_object_put(o);
	free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_adopt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hold_blocks_gc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_tag, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
