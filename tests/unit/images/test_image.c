/* image_prepare end to end: OCI layouts built here with libarchive are
 * converted into ext4 images, which are read back with libext2fs and checked
 * with e2fsck; plus the cache, locking and verification paths. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/convert.h"
#include "images/digest.h"
#include "images/ext4w.h"
#include "images/image.h"
#include "images/oci_source.h"
#include "ocitest.h"

struct ctx {
	char *dir; /* temp dir for this test */
	char layout[4200];
	char store[4200];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	c->dir = tmpdir_new();
	snprintf(c->layout, sizeof(c->layout), "%s/img.oci", c->dir);
	snprintf(c->store, sizeof(c->store), "%s/store/nested", c->dir);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	rm_rf(c->dir);
	free(c->dir);
	free(c);
	return 0;
}

static char *pattern(size_t len, unsigned seed)
{
	char *p = malloc(len);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)x;
	}
	return p;
}

static struct ext4r_stat st_of(struct ext4r *r, const char *path)
{
	struct ext4r_stat st;
	if (!ext4r_stat(r, path, &st))
		fail_msg("%s is missing from the image", path);
	return st;
}

static void assert_text(struct ext4r *r, const char *path, const char *want)
{
	size_t len;
	char *got = ext4r_read(r, path, &len);
	if (!got)
		fail_msg("%s is missing", path);
	assert_int_equal(len, strlen(want));
	assert_string_equal(got, want);
	free(got);
}

/* Count leftover temp files in the store. */
static int temp_files(const struct ctx *c)
{
	char p[4300];
	snprintf(p, sizeof(p), "%s/rootfs", c->store);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static int cached_images(const struct ctx *c)
{
	char p[4300];
	snprintf(p, sizeof(p), "%s/rootfs", c->store);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		n += l > 5 && strcmp(de->d_name + l - 5, ".ext4") == 0;
	}
	closedir(d);
	return n;
}

#define CAP_VALUE "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

static void test_convert_semantics(void **state)
{
	struct ctx *c = *state;
	uint8_t *t0, *t1, *t2;
	size_t l0, l1, l2;
	size_t big_len = 3 * 1024 * 1024 + 123;
	char *big = pattern(big_len, 7);
	char longtarget[200];
	memset(longtarget, 'x', 150);
	longtarget[0] = '/';
	longtarget[150] = '\0';

	struct tarb *t = tarb_new();
	tarb_dir(t, "./", 0755, 0, 0);
	tarb_dir(t, "./etc/", 0755, 0, 0);
	tarb_file(t, "./etc/passwd", 0644, 0, 0, "root:x:0:0\n", 11);
	tarb_dir(t, "./bin/", 0755, 0, 0);
	tarb_file(t, "./bin/su", 04755, 0, 0, "su", 2);
	tarb_hardlink(t, "./bin/su-link", "./bin/su");
	tarb_file_xattr(t, "./bin/ping", 0755, "ping", 4, "security.capability", CAP_VALUE, 20);
	tarb_dir(t, "./home/", 0755, 0, 0);
	tarb_dir(t, "./home/app/", 0750, 1000, 1000);
	tarb_file(t, "./home/app/.profile", 0600, 1000, 1000, "x=1\n", 4);
	tarb_file(t, "./data/lower1", 0644, 0, 0, "one", 3);
	tarb_file(t, "./data/lower2", 0644, 0, 0, "two", 3);
	tarb_dir(t, "./opq/", 0755, 0, 0);
	tarb_file(t, "./opq/old1", 0644, 0, 0, "old", 3);
	tarb_file(t, "./opq/sub/old2", 0644, 0, 0, "old", 3);
	tarb_file(t, "./link/target", 0640, 33, 44, "original", 8);
	tarb_hardlink(t, "./link/hard", "./link/target");
	tarb_hardlink(t, "./link/hard2", "link/target");
	tarb_node(t, "./dev/null", 'c', 0666, 1, 3);
	tarb_node(t, "./dev/sda", 'b', 0660, 8, 0);
	tarb_node(t, "./dev/big", 'c', 0600, 300, 70000);
	tarb_node(t, "./run/fifo", 'p', 0620, 0, 0);
	tarb_symlink(t, "./sym", "/etc/passwd");
	tarb_symlink(t, "./longsym", longtarget);
	tarb_mtime(t, 1234567890, 123456789);
	tarb_file(t, "./big/blob", 0644, 0, 0, big, big_len);
	tarb_file(t, "./empty", 0644, 0, 0, "", 0);
	tarb_finish(t, &t0, &l0);

	t = tarb_new();
	tarb_dir(t, "./data/", 0755, 0, 0);
	tarb_file(t, "./data/.wh.lower1", 0644, 0, 0, "", 0);
	tarb_dir(t, "./opq/", 0700, 5, 5);
	tarb_file(t, "./opq/.wh..wh..opq", 0644, 0, 0, "", 0);
	tarb_file(t, "./opq/new", 0644, 0, 0, "new", 3);
	tarb_file(t, "./link/target", 0644, 0, 0, "replaced", 8);
	tarb_file(t, "./etc/passwd", 0644, 0, 0, "root:x:0:0\napp:x:1000:1000\n", 27);
	tarb_finish(t, &t1, &l1);

	t = tarb_new();
	tarb_dir(t, "./tmp/", 01777, 0, 0);
	tarb_file(t, "./setgid", 02755, 0, 50, "sg", 2);
	tarb_file(t, "./link/.wh.hard2", 0644, 0, 0, "", 0);
	tarb_finish(t, &t2, &l2);

	struct ocib_layer layers[] = {
	    {t0, l0, OCIB_GZIP, OCIB_INTACT, NULL},
	    {t1, l1, OCIB_ZSTD, OCIB_INTACT, NULL},
	    {t2, l2, OCIB_TAR, OCIB_INTACT, NULL},
	};
	struct ocib_opts o = {
	    .ref = "latest",
	    .config_obj = "{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"User\":\"app\"}",
	};
	const char *digest = ocib_write(c->layout, layers, 3, &o);
	char want_digest[80];
	snprintf(want_digest, sizeof(want_digest), "%s", digest);

	struct image_rootfs r;
	struct errmsg err = {{0}};
	int rc = image_prepare(c->layout, NULL, c->store, &r, &err);
	if (rc)
		fail_msg("image_prepare: %s", err.text);
	assert_string_equal(r.digest, want_digest);
	assert_false(r.cache_hit);
	assert_non_null(strstr(r.path, want_digest + 7));
	assert_true(r.config.has_cmd);
	assert_string_equal(r.config.cmd[0], "sh");
	assert_false(r.config.has_entrypoint);
	assert_string_equal(r.config.user, "app");
	assert_int_equal(fsck_image(r.path), 0);

	struct ext4r *x = ext4r_open(r.path);
	struct ext4r_stat s;
	s = st_of(x, "bin/su");
	assert_int_equal(s.mode, 0104755);
	assert_int_equal(s.uid, 0);
	struct ext4r_stat su = st_of(x, "bin/su"), su_link = st_of(x, "bin/su-link");
	assert_int_equal(su.ino, su_link.ino);
	assert_int_equal(su.nlink, 2);
	assert_text(x, "bin/su-link", "su");
	s = st_of(x, "setgid");
	assert_int_equal(s.mode, 0102755);
	assert_int_equal(s.gid, 50);
	s = st_of(x, "tmp");
	assert_int_equal(s.mode, 041777);
	s = st_of(x, "home/app");
	assert_int_equal(s.mode, 040750);
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.gid, 1000);
	s = st_of(x, "home/app/.profile");
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.mode, 0100600);

	size_t xl;
	char *cap = ext4r_xattr(x, "bin/ping", "security.capability", &xl);
	assert_non_null(cap);
	assert_int_equal(xl, 20);
	assert_memory_equal(cap, CAP_VALUE, 20);
	free(cap);

	/* whiteout and opaque directory */
	assert_false(ext4r_stat(x, "data/lower1", &s));
	assert_text(x, "data/lower2", "two");
	assert_false(ext4r_stat(x, "opq/old1", &s));
	assert_false(ext4r_stat(x, "opq/sub", &s));
	assert_text(x, "opq/new", "new");
	assert_int_equal(ext4r_count(x, "opq"), 1);
	s = st_of(x, "opq");
	assert_int_equal(s.mode, 040700);
	assert_int_equal(s.uid, 5);

	/* hard links: the replaced path got a new inode; the remaining link
	 * shares the old one (link count 1 after hard2 was whited out) */
	struct ext4r_stat tgt = st_of(x, "link/target"), hard = st_of(x, "link/hard");
	assert_int_not_equal(tgt.ino, hard.ino);
	assert_text(x, "link/target", "replaced");
	assert_text(x, "link/hard", "original");
	assert_int_equal(hard.nlink, 1);
	assert_int_equal(hard.uid, 33);
	assert_int_equal(hard.gid, 44);
	assert_int_equal(hard.mode, 0100640);
	assert_false(ext4r_stat(x, "link/hard2", &s));

	/* symlinks, fast and slow */
	s = st_of(x, "sym");
	assert_int_equal(s.mode & 0170000, 0120000);
	assert_text(x, "sym", "/etc/passwd");
	assert_text(x, "longsym", longtarget);

	/* devices and fifos */
	s = st_of(x, "dev/null");
	assert_int_equal(s.mode, 020666);
	assert_int_equal(s.rdev_major, 1);
	assert_int_equal(s.rdev_minor, 3);
	s = st_of(x, "dev/sda");
	assert_int_equal(s.mode, 060660);
	assert_int_equal(s.rdev_major, 8);
	s = st_of(x, "dev/big");
	assert_int_equal(s.rdev_major, 300);
	assert_int_equal(s.rdev_minor, 70000);
	s = st_of(x, "run/fifo");
	assert_int_equal(s.mode, 010620);

	/* data, size and mtime (with nanoseconds) */
	s = st_of(x, "big/blob");
	assert_int_equal(s.size, big_len);
	assert_int_equal(s.mtime, 1234567890);
	assert_int_equal(s.mtime_nsec, 123456789);
	size_t got_len;
	char *got = ext4r_read(x, "big/blob", &got_len);
	assert_int_equal(got_len, big_len);
	assert_memory_equal(got, big, big_len);
	free(got);
	assert_text(x, "empty", "");
	assert_text(x, "etc/passwd", "root:x:0:0\napp:x:1000:1000\n");
	s = st_of(x, "etc/passwd");
	assert_int_equal(s.mtime, 1700000000);
	ext4r_close(x);

	assert_int_equal(temp_files(c), 0);
	image_rootfs_free(&r);
	free(big);
	free(t0);
	free(t1);
	free(t2);
}

/* A one-layer image with a few files, returning the manifest digest. */
static const char *simple_image(const char *layout, enum ocib_comp comp, const char *ref, bool add,
				size_t payload)
{
	struct tarb *t = tarb_new();
	tarb_dir(t, "./", 0755, 0, 0);
	tarb_file(t, "./hello", 0644, 0, 0, ref ? ref : "hello", strlen(ref ? ref : "hello"));
	char *p = payload ? pattern(payload, 3) : NULL;
	if (p)
		tarb_file(t, "./payload", 0644, 0, 0, p, payload);
	free(p);
	uint8_t *tar;
	size_t len;
	tarb_finish(t, &tar, &len);
	struct ocib_layer l = {tar, len, comp, OCIB_INTACT, NULL};
	struct ocib_opts o = {.ref = ref, .config_obj = "{\"Cmd\":[\"/hello\"]}", .add = add};
	const char *d = ocib_write(layout, &l, 1, &o);
	free(tar);
	return d;
}

static void test_cache_hit(void **state)
{
	struct ctx *c = *state;
	char digest[80];
	snprintf(digest, sizeof(digest), "%s", simple_image(c->layout, OCIB_GZIP, NULL, false, 0));
	struct image_rootfs r1, r2;
	struct errmsg err = {{0}};
	if (image_prepare(c->layout, NULL, c->store, &r1, &err))
		fail_msg("%s", err.text);
	assert_false(r1.cache_hit);
	struct stat a, b;
	assert_int_equal(stat(r1.path, &a), 0);

	/* Remove the layer blob: a hit must not need it. */
	assert_int_equal(unlink(ocib_blob_path(c->layout, ocib_last_layer_digest(0))), 0);
	sleep(1); /* a rewrite would show in mtime */
	if (image_prepare(c->layout, NULL, c->store, &r2, &err))
		fail_msg("%s", err.text);
	assert_true(r2.cache_hit);
	assert_string_equal(r1.path, r2.path);
	assert_string_equal(r1.digest, r2.digest);
	assert_string_equal(r2.config.cmd[0], "/hello");
	assert_int_equal(stat(r2.path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	/* sparse: the apparent size is generous, the allocation is not */
	assert_true((uint64_t)a.st_size >= 128ull << 20);
	assert_true((uint64_t)a.st_blocks * 512 < 8ull << 20);
	image_rootfs_free(&r1);
	image_rootfs_free(&r2);
}

static void test_concurrent(void **state)
{
	struct ctx *c = *state;
	simple_image(c->layout, OCIB_GZIP, NULL, false, 8 << 20);
	enum { N = 3 };
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char b;
			close(go[1]);
			if (read(go[0], &b, 1) < 0)
				_exit(2);
			struct image_rootfs r;
			struct errmsg err = {{0}};
			if (image_prepare(c->layout, NULL, c->store, &r, &err)) {
				fprintf(stderr, "child: %s\n", err.text);
				_exit(1);
			}
			int code = 10 + r.cache_hit;
			image_rootfs_free(&r);
			_exit(code);
		}
	}
	close(go[0]);
	close(go[1]); /* everyone starts now */
	int converted = 0, hits = 0;
	for (int i = 0; i < N; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		converted += WEXITSTATUS(st) == 10;
		hits += WEXITSTATUS(st) == 11;
	}
	assert_int_equal(converted, 1);
	assert_int_equal(hits, N - 1);
	assert_int_equal(temp_files(c), 0);
	assert_int_equal(cached_images(c), 1);
}

static void test_stale_temp_removed(void **state)
{
	struct ctx *c = *state;
	const char *d = simple_image(c->layout, OCIB_TAR, NULL, false, 0);
	/* debris of a crashed conversion of the same image */
	char p[4400];
	snprintf(p, sizeof(p), "%s/rootfs", c->store);
	char *root = strdup(c->store);
	*strrchr(root, '/') = '\0';
	mkdir(root, 0700);
	mkdir(c->store, 0700);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/rootfs/%s.ext4.tmp.999999", c->store, d + 7);
	write_file(p, "junk", 4);
	free(root);
	struct image_rootfs r;
	struct errmsg err = {{0}};
	if (image_prepare(c->layout, NULL, c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_int_equal(temp_files(c), 0);
	assert_int_equal(fsck_image(r.path), 0);
	image_rootfs_free(&r);
}

static void expect_failure(struct ctx *c, const char *ref, const char *needle)
{
	struct image_rootfs r;
	struct errmsg err = {{0}};
	int rc = image_prepare(c->layout, ref, c->store, &r, &err);
	if (rc == 0)
		fail_msg("image_prepare succeeded; expected an error with '%s'", needle);
	if (!strstr(err.text, needle))
		fail_msg("error '%s' lacks '%s'", err.text, needle);
	assert_true(strncmp(err.text, "image ", 6) == 0);
	assert_null(r.path);
	assert_int_equal(temp_files(c), 0);
	assert_int_equal(cached_images(c), 0);
}

static void flip_byte(const char *path, long off)
{
	size_t len;
	uint8_t *b = read_whole(path, &len);
	assert_non_null(b);
	if (off < 0)
		off += (long)len;
	b[off] ^= 0x55;
	write_file(path, b, len);
	free(b);
}

static void test_verification(void **state)
{
	struct ctx *c = *state;
	/* a flipped byte in file data of an uncompressed layer: the tar still
	 * parses, the digest catches it */
	simple_image(c->layout, OCIB_TAR, NULL, false, 100000);
	flip_byte(ocib_blob_path(c->layout, ocib_last_layer_digest(0)), 5000);
	expect_failure(c, NULL, "does not match its digest");
	expect_failure(c, NULL, "layer 1 (sha256:");

	/* the same in a gzip layer: the decompressor trips first, the digest
	 * is what gets reported */
	simple_image(c->layout, OCIB_GZIP, NULL, false, 100000);
	flip_byte(ocib_blob_path(c->layout, ocib_last_layer_digest(0)), 3000);
	expect_failure(c, NULL, "does not match its digest");

	/* a truncated blob */
	simple_image(c->layout, OCIB_GZIP, NULL, false, 0);
	assert_int_equal(truncate(ocib_blob_path(c->layout, ocib_last_layer_digest(0)), 20), 0);
	expect_failure(c, NULL, "its descriptor says");

	/* a tampered config */
	simple_image(c->layout, OCIB_GZIP, NULL, false, 0);
	flip_byte(ocib_blob_path(c->layout, ocib_last_config_digest()), -3);
	expect_failure(c, NULL, "config");

	/* the config's diff_id does not match the layer */
	uint8_t *tar;
	size_t len;
	struct tarb *t = tarb_new();
	tarb_file(t, "f", 0644, 0, 0, "x", 1);
	tarb_finish(t, &tar, &len);
	struct ocib_layer l = {tar, len, OCIB_GZIP, OCIB_INTACT, NULL};
	struct ocib_opts o = {.bad_diff_id = true};
	ocib_write(c->layout, &l, 1, &o);
	expect_failure(c, NULL, "diff_id");
	free(tar);
}

static void test_hostile_paths(void **state)
{
	struct ctx *c = *state;
	uint8_t *t0, *t1;
	size_t l0, l1;
	struct tarb *t = tarb_new();
	tarb_symlink(t, "etc", "/");
	tarb_finish(t, &t0, &l0);
	t = tarb_new();
	tarb_file(t, "etc/passwd", 0644, 0, 0, "evil", 4);
	tarb_finish(t, &t1, &l1);
	struct ocib_layer layers[] = {{t0, l0, OCIB_TAR, OCIB_INTACT, NULL},
				      {t1, l1, OCIB_GZIP, OCIB_INTACT, NULL}};
	struct ocib_opts o = {0};
	ocib_write(c->layout, layers, 2, &o);
	expect_failure(c, NULL, "layer 2 (sha256:");
	expect_failure(c, NULL, "'etc/passwd'");
	free(t0);
	free(t1);

	t = tarb_new();
	tarb_file(t, "a/../../escape", 0644, 0, 0, "x", 1);
	tarb_finish(t, &t0, &l0);
	struct ocib_layer one = {t0, l0, OCIB_TAR, OCIB_INTACT, NULL};
	ocib_write(c->layout, &one, 1, &o);
	expect_failure(c, NULL, "leaves the image root");
	free(t0);
}

static void test_archive_and_refs(void **state)
{
	struct ctx *c = *state;
	char d1[80], d2[80];
	snprintf(d1, sizeof(d1), "%s", simple_image(c->layout, OCIB_ZSTD, "v1", false, 0));
	snprintf(d2, sizeof(d2), "%s", simple_image(c->layout, OCIB_GZIP, "latest", true, 0));
	char archive[4300];
	snprintf(archive, sizeof(archive), "%s/img.tar", c->dir);
	ocib_archive(c->layout, archive);

	struct image_rootfs r;
	struct errmsg err = {{0}};
	if (image_prepare(archive, NULL, c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_string_equal(r.digest, d2);
	assert_false(r.cache_hit);
	struct ext4r *x = ext4r_open(r.path);
	assert_text(x, "hello", "latest");
	ext4r_close(x);
	image_rootfs_free(&r);

	if (image_prepare(archive, "v1", c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_string_equal(r.digest, d1);
	x = ext4r_open(r.path);
	assert_text(x, "hello", "v1");
	ext4r_close(x);
	assert_int_equal(fsck_image(r.path), 0);
	image_rootfs_free(&r);

	/* the directory form of the same image is a cache hit */
	if (image_prepare(c->layout, "v1", c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_true(r.cache_hit);
	image_rootfs_free(&r);

	assert_int_not_equal(image_prepare(archive, "v2", c->store, &r, &err), 0);
	assert_non_null(strstr(err.text, "no image named 'v2'"));
	assert_non_null(strstr(err.text, "'v1'"));
}

/* JSON files and blobs bigger than the archive reader's blocks arrive in
 * pieces. */
static void test_archive_big_config(void **state)
{
	struct ctx *c = *state;
	enum { N = 60000 };
	size_t cap = 64 + (size_t)N * 64;
	char *cfg = malloc(cap);
	size_t off = (size_t)snprintf(cfg, cap, "{\"Env\":[");
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(cfg + off, cap - off,
					"%s\"VARIABLE_%05d=some value that takes room....\"",
					i ? "," : "", i);
	snprintf(cfg + off, cap - off, "]}");
	assert_true(strlen(cfg) > (2u << 20));
	uint8_t *tar;
	size_t len;
	struct tarb *t = tarb_new();
	tarb_file(t, "f", 0644, 0, 0, "x", 1);
	tarb_finish(t, &tar, &len);
	struct ocib_layer l = {tar, len, OCIB_GZIP, OCIB_INTACT, NULL};
	struct ocib_opts o = {.config_obj = cfg};
	ocib_write(c->layout, &l, 1, &o);
	/* and a 2 MiB index.json (an annotation of padding) */
	char path[4300];
	snprintf(path, sizeof(path), "%s/index.json", c->layout);
	size_t ilen;
	char *index = (char *)read_whole(path, &ilen);
	size_t pad = 2u << 20;
	char *big = malloc(ilen + pad + 64);
	int n = snprintf(big, ilen + pad + 64, "{\"annotations\":{\"pad\":\"");
	memset(big + n, 'p', pad);
	snprintf(big + n + pad, ilen + 64, "\"},%s", index + 1);
	write_file(path, big, strlen(big));
	free(big);
	free(index);
	char archive[4300];
	snprintf(archive, sizeof(archive), "%s/img.tar", c->dir);
	ocib_archive(c->layout, archive);
	struct image_rootfs r;
	struct errmsg err = {{0}};
	if (image_prepare(archive, NULL, c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_int_equal(r.config.n_env, N);
	assert_string_equal(r.config.env[N - 1], "VARIABLE_59999=some value that takes room....");
	image_rootfs_free(&r);
	/* and the cache hit reads it back */
	if (image_prepare(archive, NULL, c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_true(r.cache_hit);
	assert_int_equal(r.config.n_env, N);
	image_rootfs_free(&r);
	free(cfg);
	free(tar);
}

static void test_docker_media_types(void **state)
{
	struct ctx *c = *state;
	uint8_t *tar;
	size_t len;
	struct tarb *t = tarb_new();
	tarb_file(t, "bin/x", 0755, 0, 0, "x", 1);
	tarb_finish(t, &tar, &len);
	struct ocib_layer l = {tar, len, OCIB_GZIP, OCIB_INTACT, NULL};
	struct ocib_opts o = {.docker = true, .config_obj = "{\"Entrypoint\":[\"/bin/x\"]}"};
	ocib_write(c->layout, &l, 1, &o);
	struct image_rootfs r;
	struct errmsg err = {{0}};
	if (image_prepare(c->layout, NULL, c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_true(r.config.has_entrypoint);
	assert_false(r.config.has_cmd);
	image_rootfs_free(&r);
	free(tar);
}

/* index.json -> image index (multi-platform) -> the linux/amd64 manifest. */
static void test_nested_index(void **state)
{
	struct ctx *c = *state;
	char mdigest[80];
	snprintf(mdigest, sizeof(mdigest), "%s",
		 simple_image(c->layout, OCIB_GZIP, "amd64", false, 0));
	struct stat st;
	assert_int_equal(stat(ocib_blob_path(c->layout, mdigest), &st), 0);
	char *nested;
	assert_true(asprintf(&nested,
			     "{\"schemaVersion\":2,\"mediaType\":"
			     "\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
			     "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			     "\"digest\":\"sha256:%064d\",\"size\":10,"
			     "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
			     "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			     "\"digest\":\"%s\",\"size\":%lld,"
			     "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
			     0, mdigest, (long long)st.st_size) > 0);
	char ndigest[DIGEST_STR_LEN];
	assert_int_equal(digest_buf(nested, strlen(nested), ndigest), 0);
	write_file(ocib_blob_path(c->layout, ndigest), nested, strlen(nested));
	char *index;
	assert_true(asprintf(&index,
			     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
			     "\"application/vnd.oci.image.index.v1+json\",\"digest\":\"%s\","
			     "\"size\":%zu,\"annotations\":{"
			     "\"org.opencontainers.image.ref.name\":\"multi\"}}]}",
			     ndigest, strlen(nested)) > 0);
	char path[4300];
	snprintf(path, sizeof(path), "%s/index.json", c->layout);
	write_file(path, index, strlen(index));
	free(index);
	free(nested);

	struct image_rootfs r;
	struct errmsg err = {{0}};
	if (image_prepare(c->layout, "multi", c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_string_equal(r.digest, mdigest);
	struct ext4r *x = ext4r_open(r.path);
	assert_text(x, "hello", "amd64");
	ext4r_close(x);
	image_rootfs_free(&r);
}

static void test_not_an_image(void **state)
{
	struct ctx *c = *state;
	struct image_rootfs r;
	struct errmsg err = {{0}};
	mkdir(c->layout, 0755);
	assert_int_equal(image_prepare(c->layout, NULL, c->store, &r, &err), -ENOENT);
	assert_non_null(strstr(err.text, "no index.json"));
	char f[4300];
	snprintf(f, sizeof(f), "%s/random.bin", c->dir);
	write_file(f, "definitely not a tar archive, just some text\n", 45);
	assert_int_not_equal(image_prepare(f, NULL, c->store, &r, &err), 0);
	assert_non_null(strstr(err.text, f));
	snprintf(f, sizeof(f), "%s/missing", c->dir);
	assert_int_equal(image_prepare(f, NULL, c->store, &r, &err), -ENOENT);
}

/* Files freed by a later layer leave holes; a big file written after them
 * is fragmented into many extents (an extent tree deeper than the inode). */
static void test_fragmented(void **state)
{
	struct ctx *c = *state;
	enum { SMALL = 400 };
	char p[64], block[4096];
	memset(block, 's', sizeof(block));
	struct tarb *t = tarb_new();
	for (int i = 0; i < SMALL; i++) {
		snprintf(p, sizeof(p), "small/%03d", i);
		tarb_file(t, p, 0644, 0, 0, block, sizeof(block));
	}
	uint8_t *t0, *t1;
	size_t l0, l1;
	tarb_finish(t, &t0, &l0);
	t = tarb_new();
	for (int i = 0; i < SMALL; i += 2) {
		snprintf(p, sizeof(p), "small/.wh.%03d", i);
		tarb_file(t, p, 0644, 0, 0, "", 0);
	}
	size_t big_len = 2 * 1024 * 1024 + 77;
	char *big = pattern(big_len, 11);
	tarb_file(t, "big", 0644, 0, 0, big, big_len);
	tarb_finish(t, &t1, &l1);
	struct ocib_layer layers[] = {{t0, l0, OCIB_GZIP, OCIB_INTACT, NULL},
				      {t1, l1, OCIB_GZIP, OCIB_INTACT, NULL}};
	struct ocib_opts o = {0};
	ocib_write(c->layout, layers, 2, &o);
	struct image_rootfs r;
	struct errmsg err = {{0}};
	if (image_prepare(c->layout, NULL, c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_int_equal(fsck_image(r.path), 0);
	struct ext4r *x = ext4r_open(r.path);
	size_t got_len;
	char *got = ext4r_read(x, "big", &got_len);
	assert_int_equal(got_len, big_len);
	assert_memory_equal(got, big, big_len);
	assert_true(ext4r_extents(x, "big") > 4);
	assert_int_equal(ext4r_count(x, "small"), SMALL / 2);
	ext4r_close(x);
	free(got);
	free(big);
	free(t0);
	free(t1);
	image_rootfs_free(&r);
}

/* Convert the layout's image (manifest digest) into <dir>/rootfs.ext4
 * (path in out) with convert_image() itself, to see its attempts. */
static struct convert_stats convert_direct(const struct ctx *c, const char *digest, char *out,
					   size_t out_len)
{
	struct oci_source *src;
	struct errmsg err = {{0}};
	struct stat st;
	assert_int_equal(oci_source_open(c->layout, &src, &err), 0);
	struct oci_descriptor md = {0};
	memcpy(md.digest, digest, sizeof(md.digest));
	assert_int_equal(stat(ocib_blob_path(c->layout, digest), &st), 0);
	md.size = (uint64_t)st.st_size;
	snprintf(out, out_len, "%s/rootfs.ext4", c->dir);
	char *config;
	size_t config_len;
	struct convert_stats cs;
	if (convert_image(src, &md, out, NULL, &config, &config_len, &cs, &err))
		fail_msg("%s", err.text);
	oci_source_close(src);
	free(config);
	return cs;
}

/* More files than the first size guess has inodes for: the conversion
 * starts over, bigger. */
static void test_grows_when_full(void **state)
{
	struct ctx *c = *state;
	enum { FILES = 36000 };
	struct tarb *t = tarb_new();
	char p[64];
	for (int i = 0; i < FILES; i++) {
		snprintf(p, sizeof(p), "many/f%05d", i);
		tarb_file(t, p, 0644, 0, 0, "", 0);
	}
	uint8_t *tar;
	size_t len;
	tarb_finish(t, &tar, &len);
	struct ocib_layer l = {tar, len, OCIB_GZIP, OCIB_INTACT, NULL};
	struct ocib_opts o = {0};
	char digest[80];
	snprintf(digest, sizeof(digest), "%s", ocib_write(c->layout, &l, 1, &o));

	/* the first guess really is too small */
	struct stat st;
	assert_int_equal(stat(ocib_blob_path(c->layout, ocib_last_layer_digest(0)), &st), 0);
	struct oci_descriptor ld = {.size = (uint64_t)st.st_size};
	enum oci_kind k = OCI_KIND_LAYER_GZIP;
	struct oci_manifest m = {.layers = &ld, .layer_kinds = &k, .n_layers = 1};
	uint64_t bytes;
	uint32_t inodes;
	convert_size(&m, &bytes, &inodes);
	assert_true(inodes < FILES);

	char out[4300];
	struct convert_stats cs = convert_direct(c, digest, out, sizeof(out));
	assert_int_equal(cs.attempts, 2);
	assert_true(cs.fs_bytes > bytes);
	assert_true(cs.inodes >= FILES);
	assert_int_equal(cs.entries, FILES);
	struct ext4r *x = ext4r_open(out);
	assert_int_equal(ext4r_count(x, "many"), FILES);
	ext4r_close(x);
	assert_int_equal(fsck_image(out), 0);
	free(tar);
}

/* Sparse tar entries keep their holes: only the blocks their data touches
 * are allocated, the rest reads back as zeros, and a file far bigger than
 * the layer (and the first size guess) converts in one attempt. */
static void test_sparse_holes(void **state)
{
	struct ctx *c = *state;
	/* data at the start, then sharing its block, mid-block, block-aligned
	 * over two blocks, and at the very end */
	const uint64_t size = (5u << 20) + 123;
	const uint64_t segs[] = {0,  100,      4000, 300,	(1u << 20) + 5,
				 10, 3u << 20, 8192, size - 23, 23};
	enum { NSEG = sizeof(segs) / sizeof(segs[0]) / 2 };
	uint8_t *content = calloc(1, size);
	for (int i = 0; i < NSEG; i++) {
		char *p = pattern(segs[2 * i + 1], 100 + i);
		memcpy(content + segs[2 * i], p, segs[2 * i + 1]);
		free(p);
	}
	const uint64_t tail[] = {4096, 4096}; /* ends with a 2 MiB hole */
	uint8_t *tail_content = calloc(1, 2u << 20);
	memset(tail_content + 4096, 't', 4096);
	const uint64_t big = 512ull << 20;

	struct tarb *t = tarb_new();
	tarb_sparse_map(t, "sp/multi", content, size, segs, NSEG);
	tarb_sparse_map(t, "sp/tail", tail_content, 2u << 20, tail, 1);
	tarb_sparse(t, "sp/big", big, "end", 3);
	uint8_t *tar;
	size_t len;
	tarb_finish(t, &tar, &len);
	assert_true(len < 64 * 1024);
	struct ocib_layer l = {tar, len, OCIB_GZIP, OCIB_INTACT, NULL};
	struct ocib_opts o = {0};
	char digest[80], out[4300];
	snprintf(digest, sizeof(digest), "%s", ocib_write(c->layout, &l, 1, &o));
	struct convert_stats cs = convert_direct(c, digest, out, sizeof(out));
	/* filled in, the 512 MiB file would not fit the first guess */
	assert_int_equal(cs.attempts, 1);
	assert_true(cs.used_bytes < 32ull << 20);
	assert_int_equal(fsck_image(out), 0);

	struct ext4r *x = ext4r_open(out);
	size_t got_len;
	char *got = ext4r_read(x, "sp/multi", &got_len);
	assert_int_equal(got_len, size);
	assert_memory_equal(got, content, size);
	free(got);
	struct ext4r_stat st = st_of(x, "sp/multi");
	assert_int_equal(st.size, size);
	/* blocks 0-1, 256, 768-769 and the last one: four runs, six blocks */
	assert_int_equal(ext4r_extents(x, "sp/multi"), 4);
	assert_int_equal(st.blocks, 6 * 8);
	got = ext4r_read(x, "sp/tail", &got_len);
	assert_int_equal(got_len, 2u << 20);
	assert_memory_equal(got, tail_content, 2u << 20);
	free(got);
	assert_int_equal(st_of(x, "sp/tail").blocks, 8);
	st = st_of(x, "sp/big");
	assert_int_equal(st.size, big);
	assert_int_equal(st.blocks, 8);
	ext4r_close(x);
	free(content);
	free(tail_content);
	free(tar);
}

/* The writer holds a sparse map to what it says: a map out of order or
 * past the file's end, and data outside the map, are refused by name. */
static void test_sparse_map_checked(void **state)
{
	struct ctx *c = *state;
	char path[4300];
	snprintf(path, sizeof(path), "%s/w.ext4", c->dir);
	struct ext4w_params p = {.size = 16u << 20, .inodes = 1024};
	struct ext4w *w;
	struct errmsg err = {{0}};
	assert_int_equal(ext4w_create(path, &p, &w, &err), 0);
	struct fstree_inode ino = {.type = FSTREE_REG, .perm = 0644, .size = 1u << 20};
	const struct ext4w_seg unordered[] = {{8192, 10}, {4096, 10}};
	const struct ext4w_seg beyond[] = {{0, 10}, {(1u << 20) - 5, 10}};
	assert_int_equal(ext4w_add_inode(w, &ino, unordered, 2, "f", &err), -EINVAL);
	assert_non_null(strstr(err.text, "f: sparse map out of order"));
	assert_int_equal(ext4w_add_inode(w, &ino, beyond, 2, "f", &err), -EINVAL);
	assert_non_null(strstr(err.text, "beyond the file's size of 1048576 bytes"));

	const struct ext4w_seg ok[] = {{0, 10}, {65536, 10}};
	assert_int_equal(ext4w_add_inode(w, &ino, ok, 2, "f", &err), 0);
	assert_int_equal(ext4w_data(w, &ino, 0, "0123456789", 10, &err), 0);
	/* in the hole between the two blocks */
	assert_int_equal(ext4w_data(w, &ino, 8192, "x", 1, &err), -EINVAL);
	assert_non_null(strstr(err.text, "f: data at bytes 8192..8193, outside its sparse map"));
	ext4w_free(w);
}

/* The example image, when the build made it (HULL_TEST_BUSYBOX_OCI). */
static void test_busybox_example(void **state)
{
	struct ctx *c = *state;
	const char *oci = getenv("HULL_TEST_BUSYBOX_OCI");
	if (!oci || !*oci)
		skip();
	struct image_rootfs r;
	struct errmsg err = {{0}};
	if (image_prepare(oci, NULL, c->store, &r, &err))
		fail_msg("%s", err.text);
	assert_int_equal(fsck_image(r.path), 0);
	struct ext4r *x = ext4r_open(r.path);
	struct ext4r_stat s = st_of(x, "bin/busybox");
	assert_int_equal(s.mode, 0100755);
	assert_true(s.size > 500000);
	assert_text(x, "bin/sh", "/bin/busybox");
	s = st_of(x, "home/app");
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.gid, 1000);
	s = st_of(x, "tmp");
	assert_int_equal(s.mode, 041777);
	s = st_of(x, "root");
	assert_int_equal(s.mode, 040700);
	size_t len;
	char *pw = ext4r_read(x, "etc/passwd", &len);
	assert_non_null(strstr(pw, "app:x:1000:1000:"));
	free(pw);
	char *gr = ext4r_read(x, "etc/group", &len);
	assert_non_null(strstr(gr, "extra:x:2000:app"));
	assert_non_null(strstr(gr, "audio:x:29:app"));
	free(gr);
	ext4r_close(x);
	assert_string_equal(r.config.cmd[0], "sh");
	assert_non_null(strstr(r.config.env[0], "PATH="));
	image_rootfs_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_convert_semantics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_hit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_temp_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verification, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_archive_and_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_archive_big_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_docker_media_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nested_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_an_image, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fragmented, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grows_when_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sparse_holes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sparse_map_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busybox_example, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
