/* rootfs.h without mounts (the e2e test mounts real snapshots): the checks
 * before anything is mounted, pruning of the shared image cache, and a
 * root.path directory's private image. */
#include <errno.h>
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

#include "common/fileutil.h"
#include "shim/rootfs.h"

static char dir[64];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/hull-rootfs.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void put(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(fileutil_write_sync(p, text, strlen(text)), 0);
}

static bool exists(const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static int prepare(const char *type, char *const *opts, size_t n_opts, size_t n_mounts,
		   struct errmsg *err)
{
	struct shim_mount m = {type, "overlay", NULL, opts, n_opts};
	struct shim_rootfs r;
	int rc = shim_rootfs_prepare("t1", &m, n_mounts, dir, dir, dir, &r, err);
	assert_null(r.image); /* nothing kept on failure */
	return rc;
}

static void test_refused_before_mounting(void **st)
{
	(void)st;
	struct errmsg err;
	char *opts[] = {"index=off", "lowerdir=/nonexistent/a:/nonexistent/b"};
	assert_int_equal(prepare("overlay", opts, 2, 2, &err), -EINVAL);
	assert_non_null(strstr(err.text, "2 rootfs mounts"));
	/* a layer directory that is not there: named, nothing mounted */
	assert_int_equal(prepare("overlay", opts, 2, 1, &err), -ENOENT);
	assert_non_null(strstr(err.text, "lowerdir=/nonexistent/a:/nonexistent/b"));
	assert_non_null(strstr(err.text, "missing"));
	char *rel[] = {"lowerdir=layer:/x"};
	assert_int_equal(prepare("overlay", rel, 1, 1, &err), -EINVAL);
	assert_non_null(strstr(err.text, "malformed"));
	char *empty[] = {"lowerdir="};
	assert_int_equal(prepare("overlay", empty, 1, 1, &err), -EINVAL);
	struct shim_rootfs z = {0};
	shim_rootfs_release(&z); /* zeroed: harmless */
}

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"

static void test_prune(void **st)
{
	(void)st;
	char layer[128], lower[300];
	snprintf(layer, sizeof(layer), "%s/layer", dir);
	assert_int_equal(mkdir(layer, 0700), 0);
	/* its layers are gone: removed with its list */
	put(K1 ".ext4", "image");
	put(K1 ".lower", "/nonexistent/layer");
	/* its layer exists but the key is not that layer's (the directory was
	 * replaced by another of the same name): removed too */
	snprintf(lower, sizeof(lower), "%s", layer);
	put(K2 ".ext4", "image");
	put(K2 ".lower", lower);
	/* its layer is there, the key is its own: kept */
	char key[2 * SHA256_LEN + 1], name[100];
	assert_int_equal(shim_rootfs_key(lower, key), 0);
	assert_int_equal(strlen(key), 64);
	snprintf(name, sizeof(name), "%s.ext4", key);
	put(name, "image");
	snprintf(name, sizeof(name), "%s.lower", key);
	put(name, lower);
	/* not the cache's: left alone */
	put("other.lower", "/nonexistent");
	put(".x.tmp", "half written");
	shim_rootfs_prune(dir);
	assert_false(exists(K1 ".ext4"));
	assert_false(exists(K1 ".lower"));
	assert_false(exists(K2 ".ext4"));
	assert_false(exists(K2 ".lower"));
	assert_true(exists(name));
	snprintf(name, sizeof(name), "%s.ext4", key);
	assert_true(exists(name));
	assert_true(exists("other.lower"));
	assert_true(exists(".x.tmp"));
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	shim_rootfs_prune(missing); /* no cache yet: nothing to do */
	/* the key is of the directories themselves: another one, another key */
	char layer2[128], key2[2 * SHA256_LEN + 1], both[300];
	snprintf(layer2, sizeof(layer2), "%s/layer2", dir);
	assert_int_equal(mkdir(layer2, 0700), 0);
	assert_int_equal(shim_rootfs_key(layer2, key2), 0);
	assert_string_not_equal(key, key2);
	snprintf(both, sizeof(both), "%s:%s", layer, layer2);
	assert_int_equal(shim_rootfs_key(both, key2), 0);
	assert_string_not_equal(key, key2);
	assert_int_equal(shim_rootfs_key("/nonexistent", key2), -ENOENT);
}

/* no snapshot: the spec's root.path directory, copied into a private image */
static void test_from_dir(void **st)
{
	(void)st;
	char tree[128], work[128];
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	assert_int_equal(mkdir(tree, 0755), 0);
	assert_int_equal(mkdir(work, 0755), 0);
	put("tree/hello", "hi\n");
	struct shim_rootfs r;
	struct errmsg err;
	if (shim_rootfs_from_dir("t1", tree, work, &r, &err))
		fail_msg("%s", err.text);
	assert_false(r.shared);
	assert_true(exists("work/hull-rootfs.ext4"));
	/* an ext4 image: its superblock's magic at 1024 + 56 */
	FILE *f = fopen(r.image, "rb");
	unsigned char magic[2] = {0};
	assert_non_null(f);
	assert_int_equal(fseek(f, 1024 + 56, SEEK_SET), 0);
	assert_int_equal(fread(magic, 1, 2, f), 2);
	fclose(f);
	assert_true(magic[0] == 0x53 && magic[1] == 0xef);
	shim_rootfs_release(&r);
	assert_false(exists("work/hull-rootfs.ext4")); /* private: removed */
	assert_null(r.image);

	assert_int_equal(shim_rootfs_from_dir("t1", "tree", work, &r, &err), -EINVAL);
	assert_non_null(strstr(err.text, "root.path tree: not absolute"));
	assert_null(r.image);
	snprintf(tree, sizeof(tree), "%s/none", dir);
	assert_int_equal(shim_rootfs_from_dir("t1", tree, work, &r, &err), -ENOENT);
	assert_non_null(strstr(err.text, "/none: No such file"));
	snprintf(tree, sizeof(tree), "%s/tree/hello", dir);
	assert_int_equal(shim_rootfs_from_dir("t1", tree, work, &r, &err), -ENOTDIR);
	assert_null(r.image);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused_before_mounting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_from_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
