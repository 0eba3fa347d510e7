/* rootfs.h without mounts (the e2e test mounts real snapshots): the checks
 * before anything is mounted, pruning of the shared image cache, a
 * root.path directory's private image, its content and owners, and the jail
 * mkfs.ext4 runs in (FAKE_MKFS, tests/unit/shim/fake_mkfs.c, stands in for
 * it through PATH). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
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
	/* the rest of what a tree holds, for mkfs.ext4's seccomp filter to
	 * allow (seccomp/policy.c HSC_MKFS): a hard link, a device node, a
	 * FIFO, a long symlink, an xattr, a sparse and a larger file */
	char q[256], big[300000];
	snprintf(q, sizeof(q), "%s/link2", tree);
	snprintf(p, sizeof(p), "%s/secret", tree);
	assert_int_equal(link(p, q), 0);
	assert_int_equal(setxattr(p, "user.hull", "x1", 2, 0), 0);
	snprintf(p, sizeof(p), "%s/null", tree);
	assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
	snprintf(p, sizeof(p), "%s/fifo", tree);
	assert_int_equal(mkfifo(p, 0600), 0);
	memset(q, 'l', 200);
	q[200] = '\0';
	snprintf(p, sizeof(p), "%s/long", tree);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/sparse", tree);
	int sfd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(sfd >= 0);
	assert_int_equal(ftruncate(sfd, 8 << 20), 0);
	close(sfd);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	snprintf(p, sizeof(p), "%s/big", tree);
	assert_int_equal(fileutil_write_sync(p, big, sizeof(big)), 0);
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
	static const char *const want[][2] = {
	    {"stat /secret", "Links: 2"},
	    {"ea_get /secret user.hull", "x1"},
	    {"stat /null", "Type: character special"},
	    {"stat /fifo", "Type: FIFO"},
	    {"stat /long", "Type: symlink"},
	    {"stat /sparse", "Size: 8388608"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		debugfs(r.image, want[i][0], out, sizeof(out));
		if (!strstr(out, want[i][1]))
			fail_msg("%s: no \"%s\" in %s", want[i][0], want[i][1], out);
	}
	static char got[sizeof(big) + 1];
	debugfs(r.image, "cat /big", got, sizeof(got));
	assert_memory_equal(got, big, sizeof(big));
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "e2fsck -fn %s >/dev/null 2>&1", r.image);
	assert_int_equal(system(cmd), 0);
	shim_rootfs_release(&r);
	/* nothing else in work: the temp file was renamed, then removed */
	snprintf(p, sizeof(p), "rmdir %s", work);
	assert_int_equal(system(p), 0);
}

/* The stand-in mkfs.ext4 (FAKE_MKFS) found first on PATH, for one call. */
static char *fake_path(void)
{
	char bin[128], p[256];
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	if (access(bin, F_OK)) {
		assert_int_equal(mkdir(bin, 0755), 0);
		snprintf(p, sizeof(p), "%s/mkfs.ext4", bin);
		assert_int_equal(symlink(FAKE_MKFS, p), 0);
	}
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	assert_int_equal(setenv("PATH", bin, 1), 0);
	return path;
}

static void restore_path(char *path)
{
	assert_int_equal(setenv("PATH", path, 1), 0);
	free(path);
}

/* A private image of dir/tree (made, with a file named act in it unless
 * NULL) through the stand-in; work must be left empty. */
static int fake_build(const char *act, struct errmsg *err)
{
	char tree[128], work[128], p[256];
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	mkdir(tree, 0755);
	mkdir(work, 0755);
	if (act) {
		snprintf(p, sizeof(p), "tree/%s", act);
		put(p, "");
	}
	char *path = fake_path();
	struct shim_rootfs r;
	int rc = shim_rootfs_from_dir("t1", tree, work, &r, err);
	restore_path(path);
	assert_null(r.image);
	snprintf(p, sizeof(p), "rmdir %s", work); /* no temp file left */
	assert_int_equal(system(p), 0);
	if (act) {
		snprintf(p, sizeof(p), "%s/%s", tree, act);
		assert_int_equal(unlink(p), 0);
	}
	return rc;
}

/* What the exec'd program gets, as it sees it (fake_mkfs.c reports and
 * fails): as root the user hull, PID 1 of its own namespace, no core dumps,
 * its file size and address space limits, fds 0-2, a root of /usr, /lib*,
 * /etc (mke2fs.conf) and the two paths; the tree read-only, the image
 * writable, no /etc/shadow. Its output is the error; nothing is left, nor
 * when it is killed half-way. */
static void test_jail_seen_by_mkfs(void **st)
{
	(void)st;
	char want[512];
	struct errmsg err, err2;
	assert_int_equal(fake_build(NULL, &err), -EIO);
	assert_non_null(strstr(err.text, "failed (status 1): jail: "));
	/* killed half-way (the stand-in crashes): said, and nothing left */
	assert_int_equal(fake_build("die", &err2), -EIO);
	assert_non_null(strstr(err2.text, "failed (status 139)"));
	/* the limits: soft and hard alike, a file size of the image's and
	 * 1 MiB (32 MiB and a little for this tree), 512 MiB and a little of
	 * address space */
	unsigned long long fs1, fs2, as1, as2;
	const char *l = strstr(err.text, " fsize=");
	assert_non_null(l);
	assert_int_equal(sscanf(l, " fsize=%llu/%llu as=%llu/%llu", &fs1, &fs2, &as1, &as2), 4);
	assert_true(fs1 == fs2 && as1 == as2);
	assert_true(fs1 > (33ull << 20) && fs1 < (34ull << 20));
	assert_true(as1 > (512ull << 20) && as1 < (513ull << 20));
	if (geteuid() != 0) {
		snprintf(want, sizeof(want), "uid=%u/%u ", getuid(), getuid());
		assert_non_null(strstr(err.text, want));
		assert_non_null(strstr(err.text, " core=0/0 "));
		assert_non_null(strstr(err.text, " fds=0,1,2 "));
		assert_non_null(strstr(err.text, " image=writable "));
		return;
	}
	struct passwd *pw = getpwnam("hull");
	assert_non_null(pw);
	bool etc = access("/etc/mke2fs.conf", R_OK) == 0, lib = access("/lib", F_OK) == 0,
	     lib64 = access("/lib64", F_OK) == 0;
	snprintf(want, sizeof(want), "jail: uid=%u/%u gid=%u/%u pid=1 core=0/0 ", pw->pw_uid,
		 pw->pw_uid, pw->pw_gid, pw->pw_gid);
	if (!strstr(err.text, want))
		fail_msg("want %s\n got %s", want, err.text);
	snprintf(want, sizeof(want),
		 " root=%s%s%stmp,usr fds=0,1,2 tree=EROFS image=writable shadow=absent end",
		 etc ? "etc," : "", lib ? "lib," : "", lib64 ? "lib64," : "");
	if (!strstr(err.text, want))
		fail_msg("want %s\n got %s", want, err.text);
}

/* ---- the jailed program seen from outside, while it hangs ---- */

struct watch {
	pid_t parent;
	bool found;
	char status[4096], limits[4096], netdev[2048];
};

static void slurp(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(out, 1, size - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
}

/* Find the stand-in (our child, exec'd: /proc/PID/exe is fake_mkfs) and
 * read what the kernel says of it. */
static void *watch_mkfs(void *arg)
{
	struct watch *w = arg;
	char want[64];
	snprintf(want, sizeof(want), "\nPPid:\t%d\n", (int)w->parent);
	for (int t = 0; t < 2000 && !w->found; t++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && !w->found && (e = readdir(d))) {
			char p[300], exe[PATH_MAX];
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			snprintf(p, sizeof(p), "/proc/%s/status", e->d_name);
			slurp(p, w->status, sizeof(w->status));
			if (!strstr(w->status, want))
				continue;
			snprintf(p, sizeof(p), "/proc/%s/exe", e->d_name);
			ssize_t n = readlink(p, exe, sizeof(exe) - 1);
			exe[n > 0 ? n : 0] = '\0';
			if (!strstr(exe, "fake_mkfs"))
				continue;
			snprintf(p, sizeof(p), "/proc/%s/limits", e->d_name);
			slurp(p, w->limits, sizeof(w->limits));
			snprintf(p, sizeof(p), "/proc/%s/net/dev", e->d_name);
			slurp(p, w->netdev, sizeof(w->netdev));
			snprintf(p, sizeof(p), "/proc/%s/status", e->d_name);
			slurp(p, w->status, sizeof(w->status));
			w->found = true;
		}
		if (d)
			closedir(d);
		nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
	}
	return NULL;
}

/* A build that never ends is killed at the time limit (3 s here, through
 * the environment) and says so; meanwhile, from outside: as root the user
 * hull, CAP_DAC_READ_SEARCH alone in every set, no_new_privs, one seccomp
 * filter, only lo, the limits. */
static void test_time_limit_and_jail_from_outside(void **st)
{
	(void)st;
	struct watch w = {.parent = getpid()};
	pthread_t t;
	assert_int_equal(setenv(SHIM_MKFS_TIMEOUT_ENV, "3", 1), 0);
	assert_int_equal(pthread_create(&t, NULL, watch_mkfs, &w), 0);
	struct errmsg err;
	uint64_t t0 = clock_now_ns();
	int rc = fake_build("hang", &err);
	uint64_t took = clock_now_ns() - t0;
	assert_int_equal(unsetenv(SHIM_MKFS_TIMEOUT_ENV), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	if (rc != -ETIMEDOUT)
		fail_msg("%d %s", rc, err.text);
	assert_non_null(strstr(err.text, "killed at its time limit of 3 s"));
	assert_true(took >= 3000000000ull && took < 30000000000ull);
	assert_true(w.found);
	assert_non_null(strstr(w.status, "\nNoNewPrivs:\t1\n"));
	assert_non_null(strstr(w.limits, "Max core file size        0                    0 "));
	assert_null(strstr(w.limits, "Max file size             unlimited"));
	assert_null(strstr(w.limits, "Max address space         unlimited"));
	if (geteuid() != 0)
		return;
	assert_non_null(strstr(w.status, "\nSeccomp:\t2\n"));
	assert_non_null(strstr(w.status, "\nSeccomp_filters:\t1\n"));
	static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
	for (size_t i = 0; i < 5; i++) {
		char want[64];
		snprintf(want, sizeof(want), "\n%s:\t0000000000000004\n", caps[i]);
		if (!strstr(w.status, want))
			fail_msg("no %s in\n%s", want, w.status);
	}
	struct passwd *pw = getpwnam("hull");
	assert_non_null(pw);
	char want[128];
	snprintf(want, sizeof(want), "\nUid:\t%u\t%u\t%u\t%u\n", pw->pw_uid, pw->pw_uid, pw->pw_uid,
		 pw->pw_uid);
	assert_non_null(strstr(w.status, want));
	/* two header lines, then lo alone */
	const char *dev = strchr(w.netdev, '\n');
	dev = dev ? strchr(dev + 1, '\n') : NULL;
	assert_non_null(dev);
	int devs = 0;
	for (const char *q = dev; (q = strchr(q, ':')) != NULL; q++)
		devs++;
	assert_int_equal(devs, 1);
	assert_non_null(strstr(dev, "lo:"));
}

/* The filter is live (as root; rootfs.h): a call outside it ends the build at once,
 * named as the monitor's violations are, and so does any exec after the
 * one that started the program. Nothing is left. */
static void test_filter_stops_mkfs(void **st)
{
	(void)st;
	if (geteuid() != 0) {
		/* an ordinary user's mkfs.ext4 runs unfiltered (rootfs.h) */
		struct errmsg err;
		assert_int_equal(fake_build("socket", &err), -EIO);
		assert_non_null(strstr(err.text, "failed (status 3): socket: "));
		return;
	}
	static const struct {
		const char *act, *want;
	} cases[] = {
	    {"socket", "mkfs.ext4 killed by its seccomp filter (syscall 41 socket, thread role "
		       "mkfs)"},
	    {"exec", "mkfs.ext4 killed by its seccomp filter (syscall 59 execve, thread role "
		     "mkfs)"},
	    {"execat", "mkfs.ext4 killed by its seccomp filter (syscall 322 execveat, thread "
		       "role mkfs)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errmsg err;
		int rc = fake_build(cases[i].act, &err);
		if (rc != -EPERM || !strstr(err.text, cases[i].want))
			fail_msg("%s: %d %s", cases[i].act, rc, err.text);
		/* stopped before the call returned: the stand-in said nothing */
		assert_null(strstr(err.text, "socket: "));
		assert_null(strstr(err.text, "exec: "));
		assert_null(strstr(err.text, "execat: "));
	}
}

/* Writing past the image's size plus 1 MiB fails (EFBIG, or SIGXFSZ where
 * the program is not its namespace's init) and the build says so. */
static void test_file_size_limit(void **st)
{
	(void)st;
	struct errmsg err;
	int rc = fake_build("big", &err);
	if (rc != -EFBIG)
		fail_msg("%d %s", rc, err.text);
	assert_non_null(strstr(err.text, "stopped at its file size limit of "));
	/* stopped by the limit, a MiB past the image's size (its PID
	 * namespace's init ignores SIGXFSZ: the write fails) */
	if (geteuid() == 0)
		assert_non_null(strstr(err.text, ": big: write at 3"));
	assert_null(strstr(err.text, "wrote past the size"));
}

/* A build's temp file is flock()ed while it lives: prune removes the ones
 * whose shim died (a SIGKILLed child's), keeps a live one, and nothing
 * else. */
static void test_stale_temps(void **st)
{
	(void)st;
	char p[256];
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		snprintf(p, sizeof(p), "%s/." K1 ".ext4.AbCdEf", dir);
		int fd = open(p, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0 || flock(fd, LOCK_EX))
			_exit(1);
		raise(SIGKILL);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	assert_true(exists("." K1 ".ext4.AbCdEf"));
	snprintf(p, sizeof(p), "%s/." K2 ".ext4.XyZ123", dir);
	int live = open(p, O_CREAT | O_EXCL | O_RDWR, 0600);
	assert_true(live >= 0);
	assert_int_equal(flock(live, LOCK_EX), 0);
	put(".hull-rootfs.ext4.q1w2e3", "unlocked: a dead build's");
	put(".other.q1w2e3", "not a build's");
	put("x.ext4.q1w2e3", "not a temp name");
	shim_rootfs_prune(dir);
	assert_false(exists("." K1 ".ext4.AbCdEf"));
	assert_false(exists(".hull-rootfs.ext4.q1w2e3"));
	assert_true(exists("." K2 ".ext4.XyZ123"));
	assert_true(exists(".other.q1w2e3"));
	assert_true(exists("x.ext4.q1w2e3"));
	close(live); /* its shim gone now: the next prune takes it */
	shim_rootfs_prune(dir);
	assert_false(exists("." K2 ".ext4.XyZ123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused_before_mounting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_from_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_content_and_owners, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jail_seen_by_mkfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_limit_and_jail_from_outside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_stops_mkfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_temps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
