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

/* the container's confinement, with an exec's own rlimits in place of its
 * rlimits (OCI: an exec's process.rlimits, as runc applies them) */
static void test_ulimits(void **state)
{
	static const struct hcp_ulimit cont_ul[] = {{7, 1024, 1024}, {6, 50, 50}};
	const struct confine conf = {.ulimits = cont_ul,
				     .n_ulimits = 2,
				     .has_caps = true,
				     .caps = 0x5,
				     .no_new_privs = true};
	struct execcfg_base b = base;
	b.conf = &conf;
	struct hcp_ulimit own[] = {{7, 4321, 5000}};
	struct hcp_spec x = {.argv = argv, .argc = 1};
	struct execcfg e;
	struct errmsg err;
	(void)state;

	assert_int_equal(execcfg_build(&b, &x, &e, &err), 0);
	assert_ptr_equal(e.cfg.conf, &conf); /* none of its own: the container's */
	execcfg_free(&e);
	x.ulimits = own;
	x.n_ulimits = 1;
	assert_int_equal(execcfg_build(&b, &x, &e, &err), 0);
	assert_int_equal(e.cfg.conf->n_ulimits, 1);
	assert_int_equal(e.cfg.conf->ulimits[0].soft, 4321);
	assert_int_equal(e.cfg.conf->ulimits[0].hard, 5000);
	assert_true(e.cfg.conf->has_caps && e.cfg.conf->caps == 0x5 && e.cfg.conf->no_new_privs);
	assert_int_equal(conf.n_ulimits, 2); /* the container's stay as they were */
	execcfg_free(&e);
	/* a container without confinement */
	assert_int_equal(execcfg_build(&base, &x, &e, &err), 0);
	assert_int_equal(e.cfg.conf->n_ulimits, 1);
	assert_false(e.cfg.conf->has_caps);
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
	    cmocka_unit_test(test_ulimits),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
