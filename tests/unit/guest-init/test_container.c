/* container: the child's setup and the exec-failure report. Identity changes
 * need root; without it the test checks that setgroups fails cleanly. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/scratch.h"

#include "guest-init/container.h"
#include "proto/hcp.h"

static const gid_t root_groups[] = {0};

static struct container_cfg cfg_for(char **argv, char **envp, const char *cwd)
{
	return (struct container_cfg){
	    .argv = argv,
	    .envp = envp,
	    .cwd = cwd,
	    .uid = 0,
	    .gid = 0,
	    .groups = root_groups,
	    .ngroups = 1,
	};
}

/* Read a non-blocking pipe to EOF. */
static size_t slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_true(poll(&p, 1, 5000) == 1);
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r == 0)
			break;
		assert_true(r > 0);
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

static int finish(struct container_proc *p)
{
	int st;

	close(p->stdin_fd);
	close(p->stdout_fd);
	close(p->stderr_fd);
	assert_int_equal(waitpid(p->pid, &st, 0), p->pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_runs_with_pipes(void **state)
{
	char *argv[] = {"sh", "-c",
			"read x; echo \"out:$x:$FOO\"; echo err >&2; pwd; umask; exit 5", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", "FOO=bar", NULL};
	struct container_cfg cfg = cfg_for(argv, envp, scratch_dir);
	struct container_proc p;
	struct errmsg err;
	char out[512], errbuf[64], want[PATH_MAX + 64];
	int code;
	(void)state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(container_start(&cfg, &p, &code, &err), 0);
	assert_true(p.pid > 0);
	assert_true(fcntl(p.stdout_fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(p.stdin_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(p.stdin_fd, "in\n", 3), 3);
	close(p.stdin_fd);
	p.stdin_fd = open("/dev/null", O_RDONLY);
	slurp(p.stdout_fd, out, sizeof(out));
	slurp(p.stderr_fd, errbuf, sizeof(errbuf));
	snprintf(want, sizeof(want), "out:in:bar\n%s\n0022\n", scratch_dir);
	assert_string_equal(out, want);
	assert_string_equal(errbuf, "err\n");
	assert_int_equal(finish(&p), 5);
}

/* A pty: the child's stdio is one terminal, its controlling one, sized as
 * asked; what it writes comes back on the master (with the line
 * discipline's \r\n), what the master writes is its input. */
static void test_runs_on_a_pty(void **state)
{
	char *argv[] = {"sh", "-c",
			"tty; stty size; [ -t 0 ] && [ -t 2 ] && echo both-ttys; "
			"echo err >&2; read x; echo got:$x; exit 3",
			NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct container_cfg cfg = cfg_for(argv, envp, scratch_dir);
	struct container_proc p;
	struct errmsg err;
	char out[1024];
	size_t n = 0;
	int code, st;
	(void)state;

	if (geteuid() != 0)
		skip();
	cfg.tty = true;
	cfg.rows = 33;
	cfg.cols = 101;
	assert_int_equal(container_start(&cfg, &p, &code, &err), 0);
	assert_int_equal(p.stderr_fd, -1);
	assert_true(p.tty_fd >= 0 && p.stdin_fd >= 0 && p.stdout_fd >= 0);
	assert_true(fcntl(p.stdout_fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(p.tty_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(p.stdin_fd, "hey\n", 4), 4);
	/* EIO on the master: every slave descriptor is closed */
	for (;;) {
		struct pollfd pf = {.fd = p.stdout_fd, .events = POLLIN};
		assert_true(poll(&pf, 1, 5000) == 1);
		ssize_t r = read(p.stdout_fd, out + n, sizeof(out) - 1 - n);
		if (r < 0 && errno == EIO)
			break;
		assert_true(r > 0);
		n += (size_t)r;
	}
	out[n] = '\0';
	assert_non_null(strstr(out, "/dev/pts/"));
	assert_non_null(strstr(out, "33 101\r\n"));
	assert_non_null(strstr(out, "both-ttys\r\n"));
	assert_non_null(strstr(out, "err\r\n"));
	assert_non_null(strstr(out, "got:hey\r\n"));
	close(p.stdin_fd);
	close(p.stdout_fd);
	close(p.tty_fd);
	assert_int_equal(waitpid(p.pid, &st, 0), p.pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
}

static void test_path_is_the_containers(void **state)
{
	char script[PATH_MAX], path[PATH_MAX + 8];
	char *argv[] = {"hull-test-tool", NULL};
	char *envp[] = {path, NULL};
	struct container_cfg cfg = cfg_for(argv, envp, "/");
	struct container_proc p;
	struct errmsg err;
	char out[64];
	int code, fd;
	(void)state;

	if (geteuid() != 0)
		skip();
	snprintf(script, sizeof(script), "%s/hull-test-tool", scratch_dir);
	fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho found\n", 21), 21);
	close(fd);
	snprintf(path, sizeof(path), "PATH=/nonexistent:%s", scratch_dir);
	assert_int_equal(container_start(&cfg, &p, &code, &err), 0);
	slurp(p.stdout_fd, out, sizeof(out));
	assert_string_equal(out, "found\n");
	assert_int_equal(finish(&p), 0);
}

static void test_not_found(void **state)
{
	char *argv[] = {"hull-no-such-command", NULL};
	char *envp[] = {"PATH=/nonexistent:/also-not", NULL};
	struct container_cfg cfg = cfg_for(argv, envp, "/");
	struct container_proc p;
	struct errmsg err;
	int code;
	(void)state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(container_start(&cfg, &p, &code, &err), -ENOENT);
	assert_int_equal(code, HCP_EXIT_NOT_FOUND);
	assert_string_equal(err.text, "exec \"hull-no-such-command\": no such file or directory");
	assert_int_equal(p.pid, -1);
	assert_int_equal(p.stdout_fd, -1);
	/* the child was reaped */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

static void test_not_executable(void **state)
{
	char file[PATH_MAX];
	char *argv[] = {file, NULL};
	char *envp[] = {NULL};
	struct container_cfg cfg = cfg_for(argv, envp, "/");
	struct container_proc p;
	struct errmsg err;
	int code, fd;
	(void)state;

	if (geteuid() != 0)
		skip();
	snprintf(file, sizeof(file), "%s/data", scratch_dir);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(container_start(&cfg, &p, &code, &err), -EACCES);
	assert_int_equal(code, HCP_EXIT_CANNOT_EXEC);
	assert_non_null(strstr(err.text, "permission denied"));

	/* executable bit but no valid format */
	chmod(file, 0755);
	fd = open(file, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd,
			       "\x7f"
			       "ELF garbage",
			       12),
			 12);
	close(fd);
	assert_int_equal(container_start(&cfg, &p, &code, &err), -ENOEXEC);
	assert_int_equal(code, HCP_EXIT_CANNOT_EXEC);
	assert_non_null(strstr(err.text, "exec format error"));
}

static void test_missing_cwd(void **state)
{
	char *argv[] = {"true", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct container_cfg cfg = cfg_for(argv, envp, "/nonexistent/hull/cwd");
	struct container_proc p;
	struct errmsg err;
	int code;
	(void)state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(container_start(&cfg, &p, &code, &err), -ENOENT);
	assert_int_equal(code, HCP_EXIT_INIT_FAILED);
	assert_string_equal(err.text,
			    "chdir to cwd \"/nonexistent/hull/cwd\": no such file or directory");
}

static void test_drops_privileges(void **state)
{
	char *argv[] = {"sh", "-c", "id -u; id -g; id -G", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	const gid_t groups[] = {1234, 29, 4321};
	struct container_cfg cfg = cfg_for(argv, envp, "/");
	struct container_proc p;
	struct errmsg err;
	char out[128];
	int code;
	(void)state;

	if (geteuid() != 0)
		skip();
	cfg.uid = 4242;
	cfg.gid = 1234;
	cfg.groups = groups;
	cfg.ngroups = 3;
	assert_int_equal(container_start(&cfg, &p, &code, &err), 0);
	slurp(p.stdout_fd, out, sizeof(out));
	assert_string_equal(out, "4242\n1234\n1234 29 4321\n");
	assert_int_equal(finish(&p), 0);
}

static void test_unprivileged_setgroups_fails(void **state)
{
	char *argv[] = {"true", NULL};
	char *envp[] = {NULL};
	struct container_cfg cfg = cfg_for(argv, envp, "/");
	struct container_proc p;
	struct errmsg err;
	int code;
	(void)state;

	if (geteuid() == 0)
		skip();
	assert_int_equal(container_start(&cfg, &p, &code, &err), -EPERM);
	assert_int_equal(code, HCP_EXIT_INIT_FAILED);
	assert_string_equal(err.text, "setgroups: operation not permitted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs_with_pipes),
	    cmocka_unit_test(test_runs_on_a_pty),
	    cmocka_unit_test(test_path_is_the_containers),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_not_executable),
	    cmocka_unit_test(test_missing_cwd),
	    cmocka_unit_test(test_drops_privileges),
	    cmocka_unit_test(test_unprivileged_setgroups_fails),
	};
	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
