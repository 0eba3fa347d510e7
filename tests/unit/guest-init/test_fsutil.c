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

#include "guest-init/fsutil.h"

static char dir[256];

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	(void)state;

	snprintf(dir, sizeof(dir), "%s/hull-fsutil-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void **state)
{
	char p[PATH_MAX];
	(void)state;

	snprintf(p, sizeof(p), "%s/a/b//c/", dir);
	assert_int_equal(fsutil_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_true(is_dir(p));
	/* again: exists */
	assert_int_equal(fsutil_mkdir_p(p, 0755), 0);
	/* only the leaf missing */
	snprintf(p, sizeof(p), "%s/a/b/d", dir);
	assert_int_equal(fsutil_mkdir_p(p, 0755), 0);
	assert_true(is_dir(p));
	assert_int_equal(fsutil_mkdir_p("/", 0755), 0);
	assert_int_equal(fsutil_mkdir_p("", 0755), -ENOENT);
}

static void test_mkdir_p_through_file(void **state)
{
	char f[PATH_MAX], p[PATH_MAX];
	(void)state;

	snprintf(f, sizeof(f), "%s/file", dir);
	write_file(f, "x", 1);
	snprintf(p, sizeof(p), "%s/file/sub/dir", dir);
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
	return cmocka_run_group_tests(tests, setup, teardown);
}
