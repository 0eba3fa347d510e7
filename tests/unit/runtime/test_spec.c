/* docker's override rules for entrypoint, cmd, env, workdir and user. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/spec.h"

static char *ep[] = {"/entry", "--flag"};
static char *cmd[] = {"default", "args"};
static char *env[] = {"PATH=/bin", "FOO=image", "KEEP=1"};

static const struct spec_image img = {
    .entrypoint = ep,
    .n_entrypoint = 2,
    .cmd = cmd,
    .n_cmd = 2,
    .env = env,
    .n_env = 3,
    .working_dir = "/app",
    .user = "app",
};

static const char *fake_getenv(const char *n)
{
	return strcmp(n, "FROMHOST") == 0 ? "hostval" : NULL;
}

static void argv_is(const struct hcp_spec *s, const char **want, size_t n)
{
	assert_int_equal(s->argc, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s->argv[i], want[i]);
	assert_null(s->argv[n]);
}

static void test_image_defaults(void **st)
{
	(void)st;
	struct spec_overrides o = {.hostname = "h"};
	struct hcp_spec s;
	struct errmsg err;
	assert_int_equal(spec_build(&img, &o, &s, &err), 0);
	argv_is(&s, (const char *[]){"/entry", "--flag", "default", "args"}, 4);
	assert_string_equal(s.cwd, "/app");
	assert_string_equal(s.user, "app");
	assert_string_equal(s.rootfs, "/dev/vda");
	assert_string_equal(s.hostname, "h");
	assert_int_equal(s.envc, 3);
	hcp_spec_free(&s);
}

static void test_args_replace_cmd(void **st)
{
	(void)st;
	char *args[] = {"x", "y"};
	struct spec_overrides o = {.args = args, .n_args = 2};
	struct hcp_spec s;
	assert_int_equal(spec_build(&img, &o, &s, NULL), 0);
	argv_is(&s, (const char *[]){"/entry", "--flag", "x", "y"}, 4);
	hcp_spec_free(&s);
}

static void test_entrypoint_clears_cmd(void **st)
{
	(void)st;
	struct spec_overrides o = {.entrypoint = "/bin/sh"};
	struct hcp_spec s;
	assert_int_equal(spec_build(&img, &o, &s, NULL), 0);
	argv_is(&s, (const char *[]){"/bin/sh"}, 1);
	hcp_spec_free(&s);

	char *args[] = {"-c", "true"};
	o.args = args;
	o.n_args = 2;
	assert_int_equal(spec_build(&img, &o, &s, NULL), 0);
	argv_is(&s, (const char *[]){"/bin/sh", "-c", "true"}, 3);
	hcp_spec_free(&s);

	/* --entrypoint '' removes the entrypoint: the args are the command */
	o.entrypoint = "";
	assert_int_equal(spec_build(&img, &o, &s, NULL), 0);
	argv_is(&s, (const char *[]){"-c", "true"}, 2);
	hcp_spec_free(&s);
}

static void test_no_command(void **st)
{
	(void)st;
	struct spec_image bare = {0};
	struct spec_overrides o = {0};
	struct hcp_spec s;
	struct errmsg err;
	assert_int_equal(spec_build(&bare, &o, &s, &err), -EINVAL);
	assert_non_null(strstr(err.text, "no command"));
	o.entrypoint = "";
	assert_int_equal(spec_build(&img, &o, &s, &err), -EINVAL);
	/* image Cmd only */
	struct spec_image cmd_only = {.cmd = cmd, .n_cmd = 2};
	o.entrypoint = NULL;
	assert_int_equal(spec_build(&cmd_only, &o, &s, &err), 0);
	argv_is(&s, (const char *[]){"default", "args"}, 2);
	assert_string_equal(s.cwd, "/");
	assert_null(s.user);
	assert_int_equal(s.envc, 0);
	assert_non_null(s.envp);
	assert_null(s.envp[0]);
	hcp_spec_free(&s);
}

static void test_env_overrides(void **st)
{
	(void)st;
	char *e[] = {"FOO=cli", "NEW=1", "FROMHOST", "KEEP", "EMPTY="};
	struct spec_overrides o = {.env = e, .n_env = 5, .host_getenv = fake_getenv};
	struct hcp_spec s;
	assert_int_equal(spec_build(&img, &o, &s, NULL), 0);
	/* FOO replaced in place, KEEP dropped (not set on the host), the rest added */
	const char *want[] = {"PATH=/bin", "FOO=cli", "NEW=1", "FROMHOST=hostval", "EMPTY="};
	assert_int_equal(s.envc, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(s.envp[i], want[i]);
	assert_null(s.envp[5]);
	hcp_spec_free(&s);

	char *bad[] = {"=x"};
	o.env = bad;
	o.n_env = 1;
	struct errmsg err;
	assert_int_equal(spec_build(&img, &o, &s, &err), -EINVAL);
}

static void test_workdir_user(void **st)
{
	(void)st;
	struct spec_overrides o = {.workdir = "/tmp", .user = "1000:2000"};
	struct hcp_spec s;
	assert_int_equal(spec_build(&img, &o, &s, NULL), 0);
	assert_string_equal(s.cwd, "/tmp");
	assert_string_equal(s.user, "1000:2000");
	hcp_spec_free(&s);
	o.user = ""; /* -u '' means root, as docker */
	assert_int_equal(spec_build(&img, &o, &s, NULL), 0);
	assert_null(s.user);
	hcp_spec_free(&s);
	o.workdir = "relative";
	struct errmsg err;
	assert_int_equal(spec_build(&img, &o, &s, &err), -EINVAL);
	assert_non_null(strstr(err.text, "absolute"));
}

static void test_tty_term(void **st)
{
	(void)st;
	struct spec_overrides o = {.tty = true};
	struct hcp_spec s;
	struct errmsg err;
	assert_int_equal(spec_build(&img, &o, &s, &err), 0);
	assert_true(s.tty);
	assert_int_equal(s.envc, 4);
	assert_string_equal(s.envp[3], "TERM=xterm");
	hcp_spec_free(&s);
	/* a TERM of the user's (or the image's) stays */
	char *e[] = {"TERM=vt100"};
	o.env = e;
	o.n_env = 1;
	assert_int_equal(spec_build(&img, &o, &s, &err), 0);
	assert_int_equal(s.envc, 4);
	assert_string_equal(s.envp[3], "TERM=vt100");
	hcp_spec_free(&s);
	/* no -t: no pty, no TERM */
	struct spec_overrides plain = {0};
	assert_int_equal(spec_build(&img, &plain, &s, &err), 0);
	assert_false(s.tty);
	assert_int_equal(s.envc, 3);
	hcp_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_defaults),
	    cmocka_unit_test(test_args_replace_cmd),
	    cmocka_unit_test(test_entrypoint_clears_cmd),
	    cmocka_unit_test(test_no_command),
	    cmocka_unit_test(test_env_overrides),
	    cmocka_unit_test(test_workdir_user),
	    cmocka_unit_test(test_tty_term),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
