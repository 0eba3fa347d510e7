/* The parsers of hull run's docker flags (runtime/spec_flags.h) and the
 * tmpfs option parser both ends share (hcp_tmpfs_parse). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/spec_flags.h"

static void env_line_is(const char *line, const char *want)
{
	char *out = (char *)"unset";
	struct errmsg err;
	assert_int_equal(spec_env_line(line, &out, &err), 0);
	if (want)
		assert_string_equal(out, want);
	else
		assert_null(out);
	free(out);
}

static void test_env_lines(void **st)
{
	(void)st;
	env_line_is("A=1", "A=1");
	env_line_is("  B=with spaces  ", "B=with spaces  "); /* leading blanks only */
	env_line_is("C", "C");				     /* from hull's environment */
	env_line_is("D=x=y", "D=x=y");
	env_line_is("E=\"quoted\"", "E=\"quoted\""); /* verbatim, as docker */
	env_line_is("", NULL);
	env_line_is("   ", NULL);
	env_line_is("# comment", NULL);
	env_line_is("  # indented comment", NULL);
	char *out;
	struct errmsg err;
	assert_int_equal(spec_env_line("=nokey", &out, &err), -EINVAL);
	assert_int_equal(spec_env_line("BAD KEY=1", &out, &err), -EINVAL);
	assert_non_null(strstr(err.text, "whitespace"));
}

static void test_env_file(void **st)
{
	(void)st;
	char path[] = "/tmp/test-env-file.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "# c\nA=1\n\nB\nC=3"; /* no final newline */
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	char **v = NULL;
	size_t n = 0;
	struct errmsg err;
	assert_int_equal(spec_env_file(path, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "A=1");
	assert_string_equal(v[1], "B");
	assert_string_equal(v[2], "C=3");
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "A=1\nX Y=2\n", 10), 10);
	close(fd);
	v = NULL;
	n = 0;
	assert_int_equal(spec_env_file(path, &v, &n, &err), -EINVAL);
	assert_non_null(strstr(err.text, "line 2"));
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	unlink(path);
	assert_int_equal(spec_env_file(path, &v, &n, &err), -ENOENT);
	assert_non_null(strstr(err.text, path));
}

static void test_ulimit(void **st)
{
	(void)st;
	struct hcp_ulimit u;
	struct errmsg err;
	assert_int_equal(spec_ulimit("nofile=1024:2048", &u, &err), 0);
	assert_int_equal(u.resource, RLIMIT_NOFILE);
	assert_int_equal(u.soft, 1024);
	assert_int_equal(u.hard, 2048);
	assert_int_equal(spec_ulimit("nproc=10", &u, &err), 0);
	assert_int_equal(u.resource, RLIMIT_NPROC);
	assert_int_equal(u.soft, 10);
	assert_int_equal(u.hard, 10);
	assert_int_equal(spec_ulimit("core=-1", &u, &err), 0);
	assert_true(u.soft == UINT64_MAX && u.hard == UINT64_MAX);
	assert_int_equal(spec_ulimit("core=0:-1", &u, &err), 0);
	assert_true(u.soft == 0 && u.hard == UINT64_MAX);
	assert_int_equal(spec_ulimit("nofile=2048:1024", &u, &err), -EINVAL);
	assert_non_null(strstr(err.text, "soft"));
	assert_int_equal(spec_ulimit("bogus=1", &u, &err), -EINVAL);
	assert_int_equal(spec_ulimit("nofile", &u, &err), -EINVAL);
	assert_int_equal(spec_ulimit("nofile=", &u, &err), -EINVAL);
	assert_int_equal(spec_ulimit("nofile=1x", &u, &err), -EINVAL);
	assert_int_equal(spec_ulimit("nofile=1:", &u, &err), -EINVAL);
	assert_int_equal(spec_ulimit("nofile=99999999999999999999", &u, &err), -EINVAL);
	assert_int_equal(spec_ulimit("NOFILE=1", &u, &err), -EINVAL); /* docker's names */
}

/* OCI's process.rlimits entries: the same resources by their C names */
static void test_rlimit(void **st)
{
	(void)st;
	struct hcp_ulimit u;
	struct errmsg err;
	assert_int_equal(spec_rlimit("RLIMIT_NOFILE", 512, 1024, &u, &err), 0);
	assert_int_equal(u.resource, RLIMIT_NOFILE);
	assert_int_equal(u.soft, 512);
	assert_int_equal(u.hard, 1024);
	assert_int_equal(spec_rlimit("RLIMIT_SIGPENDING", 0, UINT64_MAX, &u, &err), 0);
	assert_int_equal(u.resource, RLIMIT_SIGPENDING);
	assert_true(u.hard == UINT64_MAX);
	assert_int_equal(spec_rlimit("RLIMIT_CORE", 2, 1, &u, &err), -EINVAL);
	assert_non_null(strstr(err.text, "RLIMIT_CORE: the soft limit 2 exceeds"));
	const char *bad[] = {"RLIMIT_BOGUS",
			     "RLIMIT_nofile",
			     "NOFILE",
			     "nofile",
			     "RLIMIT_",
			     "RLIMIT_NOFILEX",
			     "RLIMIT_AAAAAAAAAAAAAAAAAAAAAAAA",
			     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(spec_rlimit(bad[i], 1, 1, &u, &err), -EINVAL);
		assert_non_null(strstr(err.text, "not a resource limit"));
	}
}

static void mount_is(const char *val, const char *vol, const char *tmpfs)
{
	struct spec_mount m;
	struct errmsg err;
	assert_int_equal(spec_mount(val, &m, &err), 0);
	assert_int_equal(m.tmpfs, tmpfs != NULL);
	if (vol)
		assert_string_equal(m.volume, vol);
	if (tmpfs)
		assert_string_equal(m.tmpfs_spec, tmpfs);
	spec_mount_free(&m);
}

static void test_mount(void **st)
{
	(void)st;
	mount_is("type=bind,source=/h,target=/g", "/h:/g", NULL);
	mount_is("type=bind,src=/h,dst=/g,readonly", "/h:/g:ro", NULL);
	mount_is("target=/g,type=bind,ro=true,source=/h", "/h:/g:ro", NULL);
	mount_is("type=bind,source=/h,destination=/g,readonly=false", "/h:/g", NULL);
	mount_is("type=tmpfs,target=/t", NULL, "/t");
	mount_is("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770", NULL,
		 "/t:size=64m,mode=1770");
	mount_is("type=tmpfs,dst=/t,readonly,tmpfs-mode=700", NULL, "/t:ro,mode=700");
	struct spec_mount m;
	struct errmsg err;
	const char *bad[] = {
	    "type=volume,source=v,target=/g", /* no named volumes */
	    "source=/h,target=/g",	      /* no type */
	    "type=bind,target=/g",	      /* no source */
	    "type=bind,source=/h",	      /* no target */
	    "type=bind,source=/h,target=/g:x",
	    "type=tmpfs,source=/h,target=/t",
	    "type=bind,source=/h,target=/g,tmpfs-size=1m",
	    "type=bind,source=/h,target=/g,ro=maybe",
	    "type=bind,source=/h,target=/g,bogus=1",
	    "type=bind,source=,target=/g",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(spec_mount(bad[i], &m, &err), -EINVAL);
		assert_non_null(strstr(err.text, bad[i]));
	}
}

static void test_restart(void **st)
{
	(void)st;
	enum hcp_restart r;
	uint32_t max;
	struct errmsg err;
	assert_int_equal(spec_restart("no", &r, &max, &err), 0);
	assert_int_equal(r, HCP_RESTART_NO);
	assert_int_equal(spec_restart("always", &r, &max, &err), 0);
	assert_int_equal(r, HCP_RESTART_ALWAYS);
	assert_int_equal(spec_restart("unless-stopped", &r, &max, &err), 0);
	assert_int_equal(r, HCP_RESTART_ALWAYS);
	assert_int_equal(spec_restart("on-failure", &r, &max, &err), 0);
	assert_int_equal(r, HCP_RESTART_ON_FAILURE);
	assert_int_equal(max, 0);
	assert_int_equal(spec_restart("on-failure:5", &r, &max, &err), 0);
	assert_int_equal(r, HCP_RESTART_ON_FAILURE);
	assert_int_equal(max, 5);
	const char *bad[] = {"",
			     "sometimes",
			     "on-failure:",
			     "on-failure:-1",
			     "on-failure:x",
			     "on-failure:99999999999",
			     "always:3",
			     "no:1",
			     "on-failures"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(spec_restart(bad[i], &r, &max, &err), -EINVAL);
}

static void test_add_host(void **st)
{
	(void)st;
	char *line;
	struct errmsg err;
	assert_int_equal(spec_add_host("db:10.0.0.5", NULL, &line, &err), 0);
	assert_string_equal(line, "10.0.0.5 db");
	free(line);
	assert_int_equal(spec_add_host("db.example.com=10.0.0.5", NULL, &line, &err), 0);
	assert_string_equal(line, "10.0.0.5 db.example.com");
	free(line);
	assert_int_equal(spec_add_host("v6:::1", NULL, &line, &err), 0);
	assert_string_equal(line, "::1 v6");
	free(line);
	assert_int_equal(spec_add_host("gw:host-gateway", "10.0.2.2", &line, &err), 0);
	assert_string_equal(line, "10.0.2.2 gw");
	free(line);
	assert_int_equal(spec_add_host("gw:host-gateway", NULL, &line, &err), -EINVAL);
	assert_non_null(strstr(err.text, "slirp"));
	const char *bad[] = {"noip", "db:", ":1.2.3.4", "db:1.2.3", "d b:1.2.3.4", "db:1.2.3.4 x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(spec_add_host(bad[i], NULL, &line, &err), -EINVAL);
}

static void test_caps(void **st)
{
	(void)st;
	uint64_t c;
	struct errmsg err;
	char *add[] = {"NET_ADMIN", "cap_sys_ptrace"}, *drop[] = {"CHOWN", "Cap_Kill"};
	assert_int_equal(spec_caps(false, NULL, 0, NULL, 0, &c, &err), 0);
	assert_int_equal(c, 0xa80425fbull); /* docker's default set */
	assert_int_equal(spec_caps(false, add, 2, drop, 2, &c, &err), 0);
	assert_int_equal(c, (0xa80425fbull | 1ull << 12 | 1ull << 19) & ~(1ull | 1ull << 5));
	assert_int_equal(spec_caps(true, NULL, 0, NULL, 0, &c, &err), 0);
	assert_int_equal(c, (1ull << 41) - 1);
	char *all[] = {"ALL"}, *raw[] = {"NET_RAW"};
	assert_int_equal(spec_caps(false, raw, 1, all, 1, &c, &err), 0);
	assert_int_equal(c, 0);
	assert_int_equal(spec_caps(false, all, 1, raw, 1, &c, &err), 0);
	assert_int_equal(c, ((1ull << 41) - 1) & ~(1ull << 13));
	char *bogus[] = {"NOT_A_CAP"};
	assert_int_equal(spec_caps(false, bogus, 1, NULL, 0, &c, &err), -EINVAL);
	assert_non_null(strstr(err.text, "NOT_A_CAP"));
}

static void test_security_platform_cpus(void **st)
{
	(void)st;
	bool nnp = false;
	struct errmsg err;
	assert_int_equal(spec_security_opt("no-new-privileges", &nnp, &err), 0);
	assert_true(nnp);
	assert_int_equal(spec_security_opt("no-new-privileges:false", &nnp, &err), 0);
	assert_false(nnp);
	assert_int_equal(spec_security_opt("no-new-privileges=true", &nnp, &err), 0);
	assert_true(nnp);
	assert_int_equal(spec_security_opt("seccomp=unconfined", &nnp, &err), 0);
	assert_int_equal(spec_security_opt("apparmor=unconfined", &nnp, &err), 0);
	assert_int_equal(spec_security_opt("seccomp=/p.json", &nnp, &err), -ENOTSUP);
	assert_int_equal(spec_security_opt("no-new-privileges:maybe", &nnp, &err), -EINVAL);
	assert_int_equal(spec_security_opt("bogus", &nnp, &err), -EINVAL);

	assert_int_equal(spec_platform("linux/amd64", &err), 0);
	assert_int_equal(spec_platform("amd64", &err), 0);
	assert_int_equal(spec_platform("linux/arm64", &err), -ENOTSUP);
	assert_non_null(strstr(err.text, "linux/arm64"));

	unsigned n = 0;
	uint32_t q = 7;
	assert_int_equal(spec_cpus("2", 8, &n, &q, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(q, 0);
	assert_int_equal(spec_cpus("3.0", 8, &n, &q, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(q, 0);
	assert_int_equal(spec_cpus("0.5", 8, &n, &q, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(q, 500);
	assert_int_equal(spec_cpus("1.25", 8, &n, &q, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(q, 1250);
	assert_int_equal(spec_cpus("0.0015", 8, &n, &q, &err), -EINVAL);
	assert_int_equal(spec_cpus("7.5000", 8, &n, &q, &err), 0);
	assert_int_equal(n, 8);
	assert_int_equal(q, 7500);
	const char *bad[] = {"0", "0.0", "9", "8.5", "", "x", "1.", ".5", "1e2", "-1", "2 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(spec_cpus(bad[i], 8, &n, &q, &err), -EINVAL);
}

static void test_tmpfs(void **st)
{
	(void)st;
	struct hcp_tmpfs t;
	const char *why;
	assert_int_equal(hcp_tmpfs_parse("/run", &t, &why), 0);
	assert_string_equal(t.path, "/run");
	assert_int_equal(t.flags, MS_NOEXEC | MS_NOSUID | MS_NODEV);
	assert_string_equal(t.data, "");
	assert_int_equal(hcp_tmpfs_parse("/a/b/:size=64m,mode=1777,exec,ro,uid=1", &t, &why), 0);
	assert_string_equal(t.path, "/a/b");
	assert_int_equal(t.flags, MS_NOSUID | MS_NODEV | MS_RDONLY);
	assert_string_equal(t.data, "size=64m,mode=1777,uid=1");
	const char *bad[] = {"rel",	 "",	       "/a/../b",   "/a/./b",	     "/x:",
			     "/x:size=", "/x:size=1t", "/x:mode=8", "/x:mode=17777", "/x:bogus",
			     "/x:exec,", "/x:uid=1k",  "/a,b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hcp_tmpfs_parse(bad[i], &t, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_lines),
	    cmocka_unit_test(test_env_file),
	    cmocka_unit_test(test_ulimit),
	    cmocka_unit_test(test_rlimit),
	    cmocka_unit_test(test_mount),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_add_host),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_security_platform_cpus),
	    cmocka_unit_test(test_tmpfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
