/* common/: readfile() and fdio's whole-buffer writes, in a scratch directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/scratch.h"

#include "common/fdio.h"
#include "common/readfile.h"

static void test_read_file(void **state)
{
	char p[PATH_MAX], *buf;
	static char big[10000];
	size_t len;
	(void)state;

	snprintf(p, sizeof(p), "%s/passwd", scratch_dir);
	scratch_write(p, "root:x:0:0::/root:/bin/sh\n", 26);
	assert_int_equal(readfile(p, 1024, &buf, &len), 0);
	assert_int_equal(len, 26);
	assert_string_equal(buf, "root:x:0:0::/root:/bin/sh\n");
	free(buf);

	/* larger than one read chunk */
	memset(big, 'a', sizeof(big));
	scratch_write(p, big, sizeof(big));
	assert_int_equal(readfile(p, sizeof(big), &buf, &len), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_int_equal(buf[len], '\0');
	free(buf);
	assert_int_equal(readfile(p, sizeof(big) - 1, &buf, &len), -EFBIG);
	assert_null(buf);

	scratch_write(p, "", 0);
	assert_int_equal(readfile(p, 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);

	snprintf(p, sizeof(p), "%s/missing", scratch_dir);
	assert_int_equal(readfile(p, 10, &buf, &len), -ENOENT);
	assert_int_equal(readfile(scratch_dir, 10, &buf, &len), -EISDIR);
}

static void test_read_file_not_regular(void **state)
{
	char *buf = (char *)1;
	size_t len = 1;
	(void)state;

	/* a device node, as a hostile image may put in place of /etc/passwd */
	assert_int_equal(readfile("/dev/null", 10, &buf, &len), -EINVAL);
	assert_null(buf);
	assert_int_equal(len, 0);
}

static void test_write_all(void **state)
{
	char p[PATH_MAX], *buf;
	size_t len;
	(void)state;

	snprintf(p, sizeof(p), "%s/out", scratch_dir);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fdio_write_all(fd, "hello world", 11), 0);
	/* positional: overwrite "world" and write past the end; the fd's own
	 * offset stays at 11 */
	assert_int_equal(fdio_pwrite_all(fd, "WORLD!", 6, 6), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 11);
	assert_int_equal(fdio_pwrite_all(fd, "", 0, 100), 0);
	close(fd);
	assert_int_equal(readfile(p, 64, &buf, &len), 0);
	assert_int_equal(len, 12);
	assert_string_equal(buf, "hello WORLD!");
	free(buf);

	assert_int_equal(fdio_write_all(-1, "x", 1), -EBADF);
	assert_int_equal(fdio_pwrite_all(-1, "x", 1, 0), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_read_file_not_regular),
	    cmocka_unit_test(test_write_all),
	};
	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
