/* common/: readfile(), fdio's whole-buffer writes (in a scratch directory),
 * peercred's SO_PEERCRED check and termesc's escaping. */
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
#include <sys/wait.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/scratch.h"

#include "common/fdio.h"
#include "common/peercred.h"
#include "common/readfile.h"
#include "common/size.h"
#include "common/termesc.h"

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
	/* pseudo files: to EOF, whatever stat says */
	assert_int_equal(readfile_pseudo(p, sizeof(big), &buf, &len), 0);
	assert_int_equal(len, sizeof(big));
	free(buf);
	assert_int_equal(readfile_pseudo(p, sizeof(big) - 1, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(readfile_pseudo("/proc/self/stat", 4096, &buf, &len), 0);
	assert_true(len > 0 && buf[len] == '\0'); /* stat says size 0 */
	free(buf);
	assert_int_equal(readfile_pseudo("/proc/self/stat", 3, &buf, &len), -EFBIG);
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

/* SO_PEERCRED: our own uid passes, another user's only as the named pid. */
static void test_peercred(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct ucred c;
	assert_int_equal(peercred_check(sv[0], 0, &c), 0);
	assert_int_equal(c.uid, geteuid());
	assert_int_equal(c.pid, getpid());
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(peercred_check(0x7fff, 0, NULL), -EBADF);
	if (geteuid() != 0)
		return; /* another user's socket needs root to make */
	/* a connection from a process running as nobody */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/hull-peercred-%d", (int)getpid());
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(listen(l, 1), 0);
	pid_t cl = fork();
	assert_true(cl >= 0);
	if (cl == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(1);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)))
			_exit(1);
		char x;
		(void)!read(s, &x, 1); /* until the parent closes */
		_exit(0);
	}
	int fd = accept(l, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(peercred_check(fd, 0, &c), -EPERM);
	assert_int_equal(c.uid, 65534);
	assert_int_equal(peercred_check(fd, cl, NULL), 0); /* as the expected pid */
	close(fd);
	close(l);
	unlink(path);
	int ws;
	assert_int_equal(waitpid(cl, &ws, 0), cl);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

/* Guest console bytes on the user's terminal: nothing but text arrives. */
/* The sizes hull prints: one formatter per style (common/size.h). */
static void test_size_human(void **state)
{
	(void)state;
	char b[32];
	size_human(512, b, sizeof(b));
	assert_string_equal(b, "512 B");
	size_human(1500, b, sizeof(b));
	assert_string_equal(b, "1.5 kB");
	size_human(123456789, b, sizeof(b));
	assert_string_equal(b, "123 MB");
	size_human_iec(128ull << 20, b, sizeof(b));
	assert_string_equal(b, "128.0 MiB");
	size_human_iec(1, b, sizeof(b));
	assert_string_equal(b, "1 B");
	size_human_tight(1234, b, sizeof(b));
	assert_string_equal(b, "1.23kB");
	size_human_binary(12800 << 10, b, sizeof(b));
	assert_string_equal(b, "12.5MiB");
}

static void test_term_escape(void **state)
{
	(void)state;
	static const char in[] = "ok 1\r\n\tcol\x1b]0;pwned\x07\x1b[2J\rx\x9b\xc3\xa9\\ \x7f\r";
	char out[TERM_ESCAPE_MAX(sizeof(in))];
	size_t n = term_escape(in, sizeof(in) - 1, out);
	static const char want[] = "ok 1\n\tcol\\x1b]0;pwned\\x07\\x1b[2J\\x0dx\\x9b\\xc3\\xa9"
				   "\\\\ \\x7f\\x0d";
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);
	for (size_t i = 0; i < n; i++) /* no control byte but \n and \t */
		assert_true(out[i] == '\n' || out[i] == '\t' || (out[i] >= 0x20 && out[i] < 0x7f));
	/* the worst case fits the bound */
	char all[256], big[TERM_ESCAPE_MAX(256)];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	assert_true(term_escape(all, sizeof(all), big) <= sizeof(big));
	assert_int_equal(term_escape("", 0, big), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_term_escape),
	    cmocka_unit_test(test_size_human),
	    cmocka_unit_test(test_peercred),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_read_file_not_regular),
	    cmocka_unit_test(test_write_all),
	};
	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
