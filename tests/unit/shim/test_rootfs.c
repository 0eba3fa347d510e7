/* rootfs.h without mounts (the e2e test mounts real snapshots): the checks
 * before anything is mounted, pruning of the shared image cache, a
 * root.path directory's private image, its content and owners, and the jail
 * mkfs.ext4 runs in (FAKE_MKFS, tests/unit/shim/fake_mkfs.c, stands in for
 * it through PATH). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <stdbool.h>
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

/* debugfs's answer for one request on image (stdout only), in out */
static void debugfs(const char *image, const char *req, char *out, size_t size)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "debugfs -R '%s' %s 2>/dev/null", req, image);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	assert_int_equal(pclose(f), 0);
}

static void put_owned(const char *name, const char *text, mode_t mode, uid_t uid)
{
	char p[256];
	put(name, text);
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(chmod(p, mode), 0);
	assert_int_equal(chown(p, uid, uid), 0);
}

/* The image holds what only root could read (a 0600 file of root's, a
 * 0700 directory of another owner), with owners and modes as they were;
 * a symlink to the host's /etc/shadow arrives as that symlink; the image
 * is the caller's, 0600, and checks clean. */
static void test_content_and_owners(void **st)
{
	(void)st;
	char tree[128], work[128], p[256], out[4096];
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	assert_int_equal(mkdir(tree, 0755), 0);
	assert_int_equal(mkdir(work, 0755), 0);
	put_owned("tree/secret", "s3cret\n", 0600, 0);
	snprintf(p, sizeof(p), "%s/private", tree);
	assert_int_equal(mkdir(p, 0700), 0);
	put_owned("tree/private/key", "k3y\n", 0600, 1234);
	assert_int_equal(chown(p, 1234, 1234), 0);
	snprintf(p, sizeof(p), "%s/shadow", tree);
	assert_int_equal(symlink("/etc/shadow", p), 0);
	snprintf(p, sizeof(p), "%s/up", tree);
	assert_int_equal(symlink("../../../../../../etc/shadow", p), 0);
	struct shim_rootfs r;
	struct errmsg err;
	if (shim_rootfs_from_dir("t1", tree, work, &r, &err))
		fail_msg("%s", err.text);
	struct stat sb;
	assert_int_equal(stat(r.image, &sb), 0);
	assert_int_equal(sb.st_uid, geteuid());
	assert_int_equal(sb.st_mode & 07777, 0600);
	debugfs(r.image, "cat /secret", out, sizeof(out));
	assert_string_equal(out, "s3cret\n");
	debugfs(r.image, "stat /secret", out, sizeof(out));
	assert_non_null(strstr(out, "Type: regular    Mode:  0600"));
	assert_non_null(strstr(out, "User:     0   Group:     0"));
	if (geteuid() == 0) {
		debugfs(r.image, "cat /private/key", out, sizeof(out));
		assert_string_equal(out, "k3y\n");
		debugfs(r.image, "stat /private/key", out, sizeof(out));
		assert_non_null(strstr(out, "Mode:  0600"));
		assert_non_null(strstr(out, "User:  1234   Group:  1234"));
		debugfs(r.image, "stat /private", out, sizeof(out));
		assert_non_null(strstr(out, "Type: directory    Mode:  0700"));
	}
	debugfs(r.image, "stat /shadow", out, sizeof(out));
	assert_non_null(strstr(out, "Type: symlink"));
	assert_non_null(strstr(out, "Fast link dest: \"/etc/shadow\""));
	debugfs(r.image, "stat /up", out, sizeof(out));
	assert_non_null(strstr(out, "Type: symlink"));
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "e2fsck -fn %s >/dev/null 2>&1", r.image);
	assert_int_equal(system(cmd), 0);
	shim_rootfs_release(&r);
	/* nothing else in work: the temp file was renamed, then removed */
	snprintf(p, sizeof(p), "rmdir %s", work);
	assert_int_equal(system(p), 0);
}

/* What the exec'd program gets, as it sees it (fake_mkfs.c reports and
 * fails): as root the user hull, CAP_DAC_READ_SEARCH alone (effective,
 * permitted, inheritable, ambient, bounding), no_new_privs, no core dumps,
 * PID 1 of its own namespace, only lo, fds 0-2, a root of /usr, /lib*,
 * /etc (mke2fs.conf) and the two paths; the tree read-only, the image
 * writable, no /etc/shadow. Its output is the error; nothing is left, nor
 * when it is killed half-way. */
static void test_jail_seen_by_mkfs(void **st)
{
	(void)st;
	char tree[128], work[128], bin[128], p[256], want[512];
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	assert_int_equal(mkdir(tree, 0755), 0);
	assert_int_equal(mkdir(work, 0755), 0);
	assert_int_equal(mkdir(bin, 0755), 0);
	snprintf(p, sizeof(p), "%s/mkfs.ext4", bin);
	assert_int_equal(symlink(FAKE_MKFS, p), 0);
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	assert_int_equal(setenv("PATH", bin, 1), 0);
	struct shim_rootfs r;
	struct errmsg err;
	int rc = shim_rootfs_from_dir("t1", tree, work, &r, &err);
	assert_int_equal(rc, -EIO);
	assert_null(r.image);
	assert_non_null(strstr(err.text, "failed (status 1): jail: "));
	/* killed half-way (the stand-in crashes, for a file "die" in the
	 * tree): said, and nothing left */
	put("tree/die", "");
	struct errmsg err2;
	rc = shim_rootfs_from_dir("t1", tree, work, &r, &err2);
	assert_int_equal(setenv("PATH", path, 1), 0);
	free(path);
	assert_int_equal(rc, -EIO);
	assert_null(r.image);
	assert_non_null(strstr(err2.text, "failed (status 139)"));
	snprintf(p, sizeof(p), "rmdir %s", work); /* no temp file left */
	assert_int_equal(system(p), 0);
	if (geteuid() != 0) {
		snprintf(want, sizeof(want), "uid=%u/%u/%u ", getuid(), getuid(), getuid());
		assert_non_null(strstr(err.text, want));
		assert_non_null(strstr(err.text, "nnp=1 core=0 "));
		assert_non_null(strstr(err.text, " fds=0,1,2 "));
		assert_non_null(strstr(err.text, " image=writable "));
		return;
	}
	struct passwd *pw = getpwnam("hull");
	assert_non_null(pw);
	bool etc = access("/etc/mke2fs.conf", R_OK) == 0, lib = access("/lib", F_OK) == 0,
	     lib64 = access("/lib64", F_OK) == 0;
	snprintf(want, sizeof(want),
		 "jail: uid=%u/%u/%u gid=%u/%u/%u pid=1 eff=4 prm=4 inh=4 amb=4 bnd=4 nnp=1 "
		 "core=0 root=%s%s%stmp,usr net=lo fds=0,1,2 tree=EROFS image=writable "
		 "shadow=absent end",
		 pw->pw_uid, pw->pw_uid, pw->pw_uid, pw->pw_gid, pw->pw_gid, pw->pw_gid,
		 etc ? "etc," : "", lib ? "lib," : "", lib64 ? "lib64," : "");
	if (!strstr(err.text, want))
		fail_msg("want %s\n got %s", want, err.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused_before_mounting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_from_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_content_and_owners, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jail_seen_by_mkfs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
