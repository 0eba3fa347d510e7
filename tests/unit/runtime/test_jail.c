/* runtime/jail: the cgroup API (limits written, the helper joined, removal)
 * and the jail of a spawned child, with a real kernel (the unit suite runs
 * as root; as anyone else the cgroup half checks that none is made). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/jail.h"

/* "/sys/fs/cgroup/<ctl><path>" of pid's cgroup for a v1 controller, or "" */
static void cg_dir(pid_t pid, const char *ctl, char *out, size_t size)
{
	char p[64], line[512];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(p, "re");
	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (!strcmp(c1 + 1, ctl))
			snprintf(out, size, "/sys/fs/cgroup/%s%s", ctl, c2 + 1);
	}
	fclose(f);
}

static void expect_file(const char *dir, const char *file, const char *want)
{
	char p[600], got[64] = "";
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	FILE *f = fopen(p, "re");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	got[strcspn(got, "\n")] = '\0';
	assert_string_equal(got, want);
}

static void test_cgroup(void **state)
{
	(void)state;
	struct jail_limits l = {.mem_bytes = 96 << 20, .cpu_milli = 500, .pids = 10};
	struct jail_cgroup *cg = NULL;
	const char *why = NULL;
	struct errmsg err;
	assert_int_equal(jail_cgroup_create(&cg, &l, &why, &err), 0);
	if (geteuid() != 0) {
		assert_null(cg);
		assert_non_null(why);
		return;
	}
	assert_non_null(cg);
	/* a child in a jail with nothing in it, joined to cg */
	struct jail *j = NULL;
	struct jail_spec spec = {.npaths = 0};
	assert_int_equal(jail_prepare(&j, &spec, &err), 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	char *const argv[] = {"sleep", "60", NULL};
	pid_t pid = jail_spawn(j, cg, "/bin/sleep", argv, p[0], NULL, 0, &err);
	assert_true(pid > 0);
	char mem[512], pids[512], cpu[512];
	cg_dir(pid, "memory", mem, sizeof(mem));
	cg_dir(pid, "pids", pids, sizeof(pids));
	cg_dir(pid, "cpu", cpu, sizeof(cpu));
	assert_non_null(strstr(mem, "/hull-"));
	expect_file(mem, "memory.limit_in_bytes", "100663296");
	expect_file(pids, "pids.max", "10");
	/* --cpus 0.5: 50 ms per 100 ms */
	expect_file(cpu, "cpu.cfs_period_us", "100000");
	expect_file(cpu, "cpu.cfs_quota_us", "50000");
	/* the child's namespaces are its own */
	char a[64], b[64], pa[64];
	snprintf(pa, sizeof(pa), "/proc/%d/ns/pid", (int)pid);
	ssize_t na = readlink(pa, a, sizeof(a) - 1),
		nb = readlink("/proc/self/ns/pid", b, sizeof(b) - 1);
	assert_true(na > 0 && nb > 0);
	a[na] = b[nb] = '\0';
	assert_string_not_equal(a, b);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	jail_cgroup_remove(cg);
	struct stat st;
	assert_int_equal(stat(mem, &st), -1);
	assert_int_equal(stat(cpu, &st), -1);
	assert_int_equal(stat(pids, &st), -1);
	jail_free(j);
	close(p[0]);
	close(p[1]);
}

static void test_bad_paths(void **state)
{
	(void)state;
	struct jail *j = NULL;
	struct errmsg err;
	struct jail_path rel = {.path = "relative/file", .rw = false};
	struct jail_spec spec = {.paths = &rel, .npaths = 1};
	assert_int_equal(jail_prepare(&j, &spec, &err), -EINVAL);
	assert_non_null(strstr(err.text, "relative/file"));
	struct jail_path missing = {.path = "/nonexistent/x/../y", .rw = false};
	spec.paths = &missing;
	assert_int_equal(jail_prepare(&j, &spec, &err), -ENOENT);
	assert_non_null(strstr(err.text, "/nonexistent/x/../y"));
	assert_null(j);
}

/* a child that cannot exec: the parent hears why, naming the step */
static void test_exec_fails(void **state)
{
	(void)state;
	struct jail *j = NULL;
	struct errmsg err;
	struct jail_spec spec = {.npaths = 0};
	assert_int_equal(jail_prepare(&j, &spec, &err), 0);
	char *const argv[] = {"x", NULL};
	assert_true(jail_spawn(j, NULL, "/nonexistent/helper", argv, 0, NULL, 0, &err) < 0);
	assert_non_null(strstr(err.text, "/nonexistent/helper"));
	jail_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroup),
	    cmocka_unit_test(test_bad_paths),
	    cmocka_unit_test(test_exec_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
