/* scratch: a scratch directory for a cmocka test group, and a file writer.
 *
 * Contract: include after <cmocka.h>. scratch_setup() creates
 * $TMPDIR/hull-<program>-XXXXXX (or under /tmp) into scratch_dir, and
 * scratch_teardown() removes it with everything in it: pass them to
 * cmocka_run_group_tests(). scratch_write() creates or truncates a file
 * (0644) with exactly data, or fails the test. Single-threaded test
 * setup only (scratch_dir is this test binary's one global). */
#ifndef HULL_TESTS_SCRATCH_H
#define HULL_TESTS_SCRATCH_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch_dir[256];

static inline int scratch_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	(void)state;

	snprintf(scratch_dir, sizeof(scratch_dir), "%s/hull-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
		 program_invocation_short_name);
	return mkdtemp(scratch_dir) ? 0 : -1;
}

static inline int scratch_teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline void scratch_write(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

#endif
