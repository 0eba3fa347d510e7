/* env: the container environment and docker's defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "guest-init/env.h"

static size_t count(char **env)
{
	size_t n = 0;

	while (env[n])
		n++;
	return n;
}

static void test_defaults_added(void **state)
{
	char **env;
	(void)state;

	assert_int_equal(env_build(NULL, 0, "/root", NULL, NULL, &env), 0);
	assert_int_equal(count(env), 2);
	assert_string_equal(env[0], "PATH=" ENV_DEFAULT_PATH);
	assert_string_equal(env[1], "HOME=/root");
	env_free(env);

	assert_int_equal(env_build(NULL, 0, "/home/a", "box", NULL, &env), 0);
	assert_int_equal(count(env), 3);
	assert_string_equal(env[2], "HOSTNAME=box");
	env_free(env);
}

static void test_spec_kept_in_order(void **state)
{
	char *spec[] = {"B=2", "A=1", "B=3", "EMPTY=", NULL};
	char **env;
	(void)state;

	assert_int_equal(env_build(spec, 4, "/", NULL, NULL, &env), 0);
	assert_int_equal(count(env), 6);
	assert_string_equal(env[0], "B=2");
	assert_string_equal(env[1], "A=1");
	assert_string_equal(env[2], "B=3");
	assert_string_equal(env[3], "EMPTY=");
	assert_string_equal(env[4], "PATH=" ENV_DEFAULT_PATH);
	assert_string_equal(env[5], "HOME=/");
	/* copies, not the spec's pointers */
	assert_ptr_not_equal(env[0], spec[0]);
	env_free(env);
}

static void test_spec_wins(void **state)
{
	char *spec[] = {"HOME=/data", "PATH=/opt/bin", "HOSTNAME=mine", NULL};
	char **env;
	(void)state;

	assert_int_equal(env_build(spec, 3, "/root", "box", NULL, &env), 0);
	assert_int_equal(count(env), 3);
	assert_string_equal(env[0], "HOME=/data");
	assert_string_equal(env[1], "PATH=/opt/bin");
	assert_string_equal(env[2], "HOSTNAME=mine");
	env_free(env);

	/* an empty value still counts as set */
	char *empty[] = {"PATH=", NULL};
	assert_int_equal(env_build(empty, 1, "/", NULL, NULL, &env), 0);
	assert_int_equal(count(env), 2);
	assert_string_equal(env[0], "PATH=");
	assert_string_equal(env[1], "HOME=/");
	env_free(env);
}

static void test_lookalike_keys(void **state)
{
	char *spec[] = {"PATHX=1", "PATH", "XHOME=2", "home=3", NULL};
	char **env;
	(void)state;

	assert_int_equal(env_build(spec, 4, "/root", NULL, NULL, &env), 0);
	assert_int_equal(count(env), 6);
	assert_string_equal(env[4], "PATH=" ENV_DEFAULT_PATH);
	assert_string_equal(env[5], "HOME=/root");
	env_free(env);
}

static void test_hostname_empty_or_absent(void **state)
{
	char **env;
	(void)state;

	assert_int_equal(env_build(NULL, 0, "/", "", NULL, &env), 0);
	assert_int_equal(count(env), 2);
	env_free(env);
	/* no home known: "/" */
	assert_int_equal(env_build(NULL, 0, NULL, NULL, NULL, &env), 0);
	assert_string_equal(env[1], "HOME=/");
	env_free(env);
}

static void test_glibc_tunables(void **state)
{
	char *img[] = {"GLIBC_TUNABLES=mine", NULL};
	char **env;
	(void)state;

	/* handed on from init's environment (the PVM workaround) */
	assert_int_equal(env_build(NULL, 0, "/", NULL, "glibc.cpu.hwcaps=-AVX", &env), 0);
	assert_int_equal(count(env), 3);
	assert_string_equal(env[2], "GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX");
	env_free(env);
	/* the image's own value wins */
	assert_int_equal(env_build(img, 1, "/", NULL, "glibc.cpu.hwcaps=-AVX", &env), 0);
	assert_int_equal(count(env), 3);
	assert_string_equal(env[0], "GLIBC_TUNABLES=mine");
	env_free(env);
	/* empty: nothing added */
	assert_int_equal(env_build(NULL, 0, "/", NULL, "", &env), 0);
	assert_int_equal(count(env), 2);
	env_free(env);
}

static void test_env_get(void **state)
{
	char *env[] = {"A=1", "PATH=/x", "PATH=/y", "P=2", "Q", NULL};
	(void)state;

	assert_string_equal(env_get(env, "PATH"), "/x");
	assert_string_equal(env_get(env, "A"), "1");
	assert_string_equal(env_get(env, "P"), "2");
	assert_null(env_get(env, "Q"));
	assert_null(env_get(env, "PAT"));
	assert_null(env_get(NULL, "A"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_added),
	    cmocka_unit_test(test_spec_kept_in_order),
	    cmocka_unit_test(test_spec_wins),
	    cmocka_unit_test(test_lookalike_keys),
	    cmocka_unit_test(test_hostname_empty_or_absent),
	    cmocka_unit_test(test_glibc_tunables),
	    cmocka_unit_test(test_env_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
