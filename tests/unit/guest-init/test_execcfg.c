/* execcfg: an exec spec laid over the container's defaults. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest-init/execcfg.h"

static char *base_env[] = {"PATH=/bin", "A=1", "B=2", NULL};
static gid_t base_groups[] = {7, 8};
static const struct user_ids base_ids = {.uid = 5, .gid = 7, .groups = base_groups, .ngroups = 2};
static const struct execcfg_base base = {.envp = base_env, .cwd = "/", .ids = &base_ids};
static char *argv[] = {"ps", NULL};

static void test_defaults_are_the_containers(void **state)
{
	struct hcp_spec x = {.argv = argv, .argc = 1};
	struct execcfg e;
	struct errmsg err;
	(void)state;

	assert_int_equal(execcfg_build(&base, &x, &e, &err), 0);
	assert_string_equal(e.cfg.argv[0], "ps");
	assert_string_equal(e.cfg.cwd, "/");
	assert_int_equal(e.cfg.uid, 5);
	assert_int_equal(e.cfg.gid, 7);
	assert_int_equal(e.cfg.ngroups, 2);
	assert_false(e.cfg.tty);
	assert_string_equal(e.env[0], "PATH=/bin");
	assert_string_equal(e.env[2], "B=2");
	assert_null(e.env[3]);
	execcfg_free(&e);
}

static void test_overrides(void **state)
{
	char *env[] = {"B=3", "C=4", "NOVALUE", "A=", NULL};
	struct hcp_spec x = {.argv = argv,
			     .argc = 1,
			     .envp = env,
			     .envc = 4,
			     .cwd = "/tmp",
			     .user = "1234:99",
			     .tty = true,
			     .rows = 3,
			     .cols = 4};
	struct execcfg e;
	struct errmsg err;
	(void)state;

	assert_int_equal(execcfg_build(&base, &x, &e, &err), 0);
	/* replaced in place, added at the end, bare keys ignored */
	assert_string_equal(e.env[0], "PATH=/bin");
	assert_string_equal(e.env[1], "A=");
	assert_string_equal(e.env[2], "B=3");
	assert_string_equal(e.env[3], "C=4");
	assert_null(e.env[4]);
	assert_string_equal(e.cfg.cwd, "/tmp");
	/* a numeric user needs no passwd entry (docker) */
	assert_int_equal(e.cfg.uid, 1234);
	assert_int_equal(e.cfg.gid, 99);
	assert_true(e.cfg.tty && e.cfg.rows == 3 && e.cfg.cols == 4);
	execcfg_free(&e);
}

static void test_errors(void **state)
{
	struct hcp_spec x = {.argv = argv, .argc = 1, .cwd = "/no/such/dir"};
	struct execcfg e;
	struct errmsg err;
	(void)state;

	assert_int_equal(execcfg_build(&base, &x, &e, &err), -ENOENT);
	assert_non_null(strstr(err.text, "/no/such/dir"));
	x.cwd = "/etc/passwd";
	assert_int_equal(execcfg_build(&base, &x, &e, &err), -ENOTDIR);
	x.cwd = NULL;
	x.user = "no-such-user-here";
	assert_int_equal(execcfg_build(&base, &x, &e, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_are_the_containers),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
