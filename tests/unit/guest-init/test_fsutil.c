/* fsutil: mkdir -p, in a scratch directory (whole-file reads are
 * common/readfile, tested in tests/unit/common). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/scratch.h"

#include "guest-init/fsutil.h"

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void **state)
{
	char p[PATH_MAX];
	(void)state;

	snprintf(p, sizeof(p), "%s/a/b//c/", scratch_dir);
	assert_int_equal(fsutil_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/b/c", scratch_dir);
	assert_true(is_dir(p));
	/* again: exists */
	assert_int_equal(fsutil_mkdir_p(p, 0755), 0);
	/* only the leaf missing */
	snprintf(p, sizeof(p), "%s/a/b/d", scratch_dir);
	assert_int_equal(fsutil_mkdir_p(p, 0755), 0);
	assert_true(is_dir(p));
	assert_int_equal(fsutil_mkdir_p("/", 0755), 0);
	assert_int_equal(fsutil_mkdir_p("", 0755), -ENOENT);
}

static void test_mkdir_p_through_file(void **state)
{
	char f[PATH_MAX], p[PATH_MAX];
	(void)state;

	snprintf(f, sizeof(f), "%s/file", scratch_dir);
	scratch_write(f, "x", 1);
	snprintf(p, sizeof(p), "%s/file/sub/dir", scratch_dir);
	assert_int_equal(fsutil_mkdir_p(p, 0755), -ENOTDIR);
	/* an existing non-directory leaf is left to the later chdir() */
	assert_int_equal(fsutil_mkdir_p(f, 0755), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mkdir_p),
	    cmocka_unit_test(test_mkdir_p_through_file),
	};
	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
