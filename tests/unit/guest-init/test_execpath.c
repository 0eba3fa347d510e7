/* execpath: execvp semantics over the container's PATH, with a fake exec. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "guest-init/env.h"
#include "guest-init/execpath.h"
#include "proto/hcp.h"

/* The fake filesystem: path -> result of exec'ing it; anything else ENOENT. */
struct fake {
	const char *paths[8];
	int results[8];
	char tried[16][256];
	size_t ntried;
};

static int fake_exec(const char *path, char *const argv[], char *const envp[], void *ctx)
{
	struct fake *f = ctx;
	(void)argv;
	(void)envp;

	if (f->ntried < 16)
		snprintf(f->tried[f->ntried++], sizeof(f->tried[0]), "%s", path);
	for (size_t i = 0; i < 8 && f->paths[i]; i++)
		if (strcmp(f->paths[i], path) == 0)
			return f->results[i];
	return -ENOENT;
}

static char *argv_ls[] = {"ls", NULL};
static char *envp_empty[] = {NULL};

static void test_slash_used_as_is(void **state)
{
	struct fake f = {.paths = {"/bin/ls"}, .results = {0}};
	(void)state;

	assert_int_equal(execpath_exec("/bin/ls", "/nowhere", argv_ls, envp_empty, fake_exec, &f),
			 0);
	assert_int_equal(f.ntried, 1);
	assert_string_equal(f.tried[0], "/bin/ls");

	struct fake g = {0};
	assert_int_equal(execpath_exec("./ls", "/bin", argv_ls, envp_empty, fake_exec, &g),
			 -ENOENT);
	assert_int_equal(g.ntried, 1);
	assert_string_equal(g.tried[0], "./ls");
}

static void test_search_order(void **state)
{
	struct fake f = {.paths = {"/b/ls", "/c/ls"}, .results = {0, 0}};
	(void)state;

	assert_int_equal(execpath_exec("ls", "/a:/b:/c", argv_ls, envp_empty, fake_exec, &f), 0);
	assert_int_equal(f.ntried, 2);
	assert_string_equal(f.tried[0], "/a/ls");
	assert_string_equal(f.tried[1], "/b/ls");
}

static void test_not_found(void **state)
{
	struct fake f = {0};
	(void)state;

	assert_int_equal(execpath_exec("nope", "/a:/b", argv_ls, envp_empty, fake_exec, &f),
			 -ENOENT);
	assert_int_equal(f.ntried, 2);
	assert_int_equal(execpath_exit_code(-ENOENT), HCP_EXIT_NOT_FOUND);
}

static void test_eacces_remembered(void **state)
{
	struct fake f = {.paths = {"/a/x"}, .results = {-EACCES}};
	(void)state;

	/* keeps looking after EACCES, reports it when nothing else worked */
	assert_int_equal(execpath_exec("x", "/a:/b", argv_ls, envp_empty, fake_exec, &f), -EACCES);
	assert_int_equal(f.ntried, 2);
	assert_int_equal(execpath_exit_code(-EACCES), HCP_EXIT_CANNOT_EXEC);

	struct fake g = {.paths = {"/a/x", "/b/x"}, .results = {-EACCES, 0}};
	assert_int_equal(execpath_exec("x", "/a:/b", argv_ls, envp_empty, fake_exec, &g), 0);
}

static void test_hard_error_stops(void **state)
{
	struct fake f = {.paths = {"/a/x", "/b/x"}, .results = {-ENOEXEC, 0}};
	(void)state;

	assert_int_equal(execpath_exec("x", "/a:/b", argv_ls, envp_empty, fake_exec, &f), -ENOEXEC);
	assert_int_equal(f.ntried, 1);
	assert_int_equal(execpath_exit_code(-ENOEXEC), HCP_EXIT_CANNOT_EXEC);

	struct fake g = {.paths = {"/a/x", "/b/x"}, .results = {-ENOTDIR, 0}};
	assert_int_equal(execpath_exec("x", "/a:/b", argv_ls, envp_empty, fake_exec, &g), 0);
	assert_int_equal(execpath_exit_code(-ENOTDIR), HCP_EXIT_NOT_FOUND);
}

static void test_empty_elements_mean_cwd(void **state)
{
	struct fake f = {0};
	(void)state;

	assert_int_equal(execpath_exec("x", ":/a::/b:", argv_ls, envp_empty, fake_exec, &f),
			 -ENOENT);
	assert_int_equal(f.ntried, 5);
	assert_string_equal(f.tried[0], "x");
	assert_string_equal(f.tried[1], "/a/x");
	assert_string_equal(f.tried[2], "x");
	assert_string_equal(f.tried[3], "/b/x");
	assert_string_equal(f.tried[4], "x");

	struct fake g = {0};
	assert_int_equal(execpath_exec("x", "", argv_ls, envp_empty, fake_exec, &g), -ENOENT);
	assert_int_equal(g.ntried, 1);
	assert_string_equal(g.tried[0], "x");
}

static void test_no_path_uses_default(void **state)
{
	struct fake f = {0};
	(void)state;

	assert_int_equal(execpath_exec("x", NULL, argv_ls, envp_empty, fake_exec, &f), -ENOENT);
	assert_int_equal(f.ntried, 6);
	assert_string_equal(f.tried[0], "/usr/local/sbin/x");
	assert_string_equal(f.tried[5], "/bin/x");
}

static void test_empty_name_and_long_dirs(void **state)
{
	static char longdir[5000];
	char path[6000];
	struct fake f = {.paths = {"/ok/x"}, .results = {0}};
	(void)state;

	assert_int_equal(execpath_exec("", "/a", argv_ls, envp_empty, fake_exec, &f), -ENOENT);
	assert_int_equal(f.ntried, 0);

	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	snprintf(path, sizeof(path), "%s:/ok", longdir);
	assert_int_equal(execpath_exec("x", path, argv_ls, envp_empty, fake_exec, &f), 0);
	assert_int_equal(f.ntried, 1); /* the long one was skipped */
	assert_string_equal(f.tried[0], "/ok/x");
}

static void test_real_execve_errors(void **state)
{
	(void)state;
	/* The real callback on things that cannot be executed returns -errno. */
	assert_int_equal(execpath_exec("hull-no-such-command", "/nonexistent-dir", argv_ls,
				       envp_empty, execpath_execve, NULL),
			 -ENOENT);
	assert_int_equal(execpath_exec("/", NULL, argv_ls, envp_empty, execpath_execve, NULL),
			 -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slash_used_as_is),
	    cmocka_unit_test(test_search_order),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_eacces_remembered),
	    cmocka_unit_test(test_hard_error_stops),
	    cmocka_unit_test(test_empty_elements_mean_cwd),
	    cmocka_unit_test(test_no_path_uses_default),
	    cmocka_unit_test(test_empty_name_and_long_dirs),
	    cmocka_unit_test(test_real_execve_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
