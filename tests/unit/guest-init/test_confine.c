/* confine: what the container's processes get (guest-init/confine.h), checked
 * on this kernel in forked children: rlimits, the capability sets (root and
 * non-root), no_new_privs, and a tmpfs mounted in a private mount namespace.
 * Needs root (as the unit suite runs), like the guest's init. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest-init/confine.h"

#define DOCKER_CAPS 0xa80425fbull

/* CapXxx of /proc/self/status */
static uint64_t status_caps(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long v = ~0ull;
	size_t kl = strlen(key);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

/* run fn in a child; its exit status (0: all checks held) */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static const struct hcp_ulimit ul[] = {{RLIMIT_NOFILE, 100, 200}, {RLIMIT_CORE, 0, UINT64_MAX}};

static int root_child(void)
{
	struct confine c = {.ulimits = ul,
			    .n_ulimits = 2,
			    .has_caps = true,
			    .caps = DOCKER_CAPS & ~1ull,
			    .no_new_privs = true};
	uint64_t bset;
	if (confine_child_pre(&c, &bset) || bset != (DOCKER_CAPS & ~1ull))
		return 1;
	if (confine_child_post(&c, bset, 0))
		return 2;
	struct rlimit r;
	getrlimit(RLIMIT_NOFILE, &r);
	if (r.rlim_cur != 100 || r.rlim_max != 200)
		return 3;
	getrlimit(RLIMIT_CORE, &r);
	if (r.rlim_cur != 0 || r.rlim_max != RLIM_INFINITY)
		return 4;
	if (status_caps("CapEff") != bset || status_caps("CapPrm") != bset ||
	    status_caps("CapInh") != bset || status_caps("CapBnd") != bset)
		return 5;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 6;
	return 0;
}

static int user_child(void)
{
	struct confine c = {.has_caps = true, .caps = DOCKER_CAPS};
	uint64_t bset;
	if (confine_child_pre(&c, &bset))
		return 1;
	if (setgid(65534) || setuid(65534))
		return 2;
	if (confine_child_post(&c, bset, 65534))
		return 3;
	/* a non-root user has no effective capability, as with docker */
	if (status_caps("CapEff") != 0 || status_caps("CapBnd") != DOCKER_CAPS)
		return 4;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 5;
	return 0;
}

static int none_child(void)
{
	/* no confinement: init's capabilities stay */
	struct confine c = {0};
	uint64_t before = status_caps("CapEff"), bset;
	if (confine_child_pre(&c, &bset) || confine_child_post(&c, bset, 0))
		return 1;
	return status_caps("CapEff") == before ? 0 : 2;
}

static void test_caps_and_limits(void **st)
{
	(void)st;
	if (geteuid() != 0 || status_caps("CapEff") != status_caps("CapBnd")) {
		fail_msg("needs root with every capability (the unit suite runs as root)");
	}
	assert_int_equal(in_child(root_child), 0);
	assert_int_equal(in_child(user_child), 0);
	assert_int_equal(in_child(none_child), 0);
}

static char tdir[] = "/tmp/test-confine.XXXXXX";

static int tmpfs_child(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 1;
	char spec[128], *tmpfs[] = {spec, NULL};
	snprintf(spec, sizeof(spec), "%s/a/t:size=1m,mode=1770", tdir);
	struct hcp_spec s = {.tmpfs = tmpfs, .n_tmpfs = 1};
	struct log l = {.fd = -1};
	struct errmsg err;
	if (confine_mounts(&s, &l, &err))
		return 2;
	char path[128];
	snprintf(path, sizeof(path), "%s/a/t", tdir);
	struct statvfs v;
	struct stat sb;
	if (statvfs(path, &v) || stat(path, &sb))
		return 3;
	if ((uint64_t)v.f_blocks * v.f_frsize != 1 << 20)
		return 4;
	if ((sb.st_mode & 07777) != 01770)
		return 5;
	if (!(v.f_flag & ST_NOEXEC) || !(v.f_flag & ST_NOSUID) || !(v.f_flag & ST_NODEV))
		return 6; /* docker's defaults */
	/* a bad spec is refused with the option named */
	snprintf(spec, sizeof(spec), "%s/b:bogus", tdir);
	if (confine_mounts(&s, &l, &err) != -EINVAL || !strstr(err.text, "--tmpfs"))
		return 7;
	return 0;
}

static void test_tmpfs_mount(void **st)
{
	(void)st;
	assert_non_null(mkdtemp(tdir));
	assert_int_equal(in_child(tmpfs_child), 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/a/t", tdir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a", tdir);
	rmdir(p);
	assert_int_equal(rmdir(tdir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caps_and_limits),
	    cmocka_unit_test(test_tmpfs_mount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
