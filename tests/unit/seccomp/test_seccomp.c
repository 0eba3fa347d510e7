/* seccomp/filter: the real filters, loaded in a child process that then
 * makes one call: an allowed call returns, a forbidden one (or an allowed
 * one with forbidden arguments) stops the process through the trap, whose
 * report names the syscall and the thread role. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileutil.h"
#include "common/peercred.h"
#include "seccomp/filter.h"

#define STOPPED 159

static int report_fd = -1;

static void report(void *ctx, const char *text)
{
	(void)ctx;
	ssize_t w = write(report_fd, text, strlen(text));
	(void)w;
}

/* The end of a filtered child: exit_group itself (the sanitizers' _exit
 * makes calls of its own, sigaltstack, that no role allows). */
static void done(int status)
{
	syscall(SYS_exit_group, status);
}

enum call {
	C_SOCKET_INET,
	C_SOCKET_UNIX,
	C_IOCTL_KVM_RUN,
	C_IOCTL_CREATE_VM,
	C_MMAP_EXEC,
	C_MMAP_RW,
	C_TGKILL_SELF,
	C_TGKILL_OTHER,
	C_OPEN_RDONLY,
	C_OPEN_CREATE,
	C_EXECVE,
	C_CLONE,
	C_MALLOC,
	C_PEERCRED,
	C_SO_RCVBUF,
	C_OPENAT2,
	C_SOCKET_RAW,
	C_SOCKETPAIR_UNIX,
	C_THREAD,
	C_CLONE3,
};

static void *idle(void *arg)
{
	return arg;
}

/* In a child: load role's filter, make the call; exit 0 if it returned.
 * The parent gets the exit status and the trap's report. */
static int run(enum hsc_role role, enum call c, char *text, size_t cap)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t ppid = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		/* the trap's own line on fd 2: the report on the pipe is checked */
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 2) < 0)
			_exit(2);
		/* a socket to ask about, made before the filter */
		int sv[2] = {-1, -1};
		if ((c == C_PEERCRED || c == C_SO_RCVBUF) &&
		    socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			_exit(2);
		/* glibc's set-up of a first thread (rt_sigaction), before the
		 * filter, as hull-fetch's warm-up does */
		pthread_t t;
		if (c == C_THREAD &&
		    (pthread_create(&t, NULL, idle, NULL) || pthread_join(t, NULL)))
			_exit(2);
		struct errmsg err;
		if (hsc_trap_init("test", report, NULL, STOPPED, &err) || hsc_install(role, &err))
			_exit(2);
		long r = 0;
		switch (c) {
		case C_SOCKET_INET:
			r = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
			break;
		case C_SOCKET_UNIX:
			r = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
			if (role == HSC_FETCH && (r != -1 || errno != EACCES))
				done(3);
			break;
		case C_IOCTL_KVM_RUN:
			r = syscall(SYS_ioctl, -1, KVM_RUN, 0); /* EBADF: it ran */
			break;
		case C_IOCTL_CREATE_VM:
			r = syscall(SYS_ioctl, -1, KVM_CREATE_VM, 0);
			break;
		case C_MMAP_EXEC:
			r = (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case C_MMAP_RW:
			r = (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case C_TGKILL_SELF:
			r = syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0);
			break;
		case C_TGKILL_OTHER:
			r = syscall(SYS_tgkill, ppid, ppid, 0);
			break;
		case C_OPEN_RDONLY:
			r = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
			break;
		case C_OPEN_CREATE:
			r = syscall(SYS_openat, AT_FDCWD, "/nonexistent/x", O_WRONLY | O_CREAT,
				    0600);
			break;
		case C_EXECVE:
			r = syscall(SYS_execve, "/bin/true", (char *[]){"true", NULL}, environ);
			break;
		case C_CLONE:
			r = syscall(SYS_fork);
			break;
		case C_PEERCRED: /* what virtio-vsock's accept runs */
			r = peercred_check(sv[0], 0, NULL);
			break;
		case C_SO_RCVBUF: {
			char v[64];
			socklen_t l = sizeof(v);
			r = syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_RCVBUF, v, &l);
			break;
		}
		case C_OPENAT2: /* what the 9p server's lookups run */
			r = fileutil_openat2(AT_FDCWD, "dev/null", O_PATH, 0,
					     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
			break;
		case C_SOCKET_RAW:
			r = syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP);
			break;
		case C_SOCKETPAIR_UNIX:
			r = syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
			break;
		case C_THREAD: /* clone3 refused with ENOSYS, then clone */
			r = pthread_create(&t, NULL, idle, NULL) || pthread_join(t, NULL);
			if (r)
				done(3);
			break;
		case C_CLONE3: { /* ENOSYS without running: no trap */
			char args[88] = {0};
			r = syscall(SYS_clone3, args, sizeof(args));
			if (r != -1 || errno != ENOSYS)
				done(3);
			break;
		}
		case C_MALLOC: {
			/* glibc's malloc and free of a large block: mmap, munmap */
			void *b = malloc(8 << 20);
			memset(b, 1, 8 << 20);
			free(b);
			break;
		}
		}
		(void)r;
		done(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(p[0], text + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	text[n] = '\0';
	close(p[0]);
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	return WEXITSTATUS(ws);
}

static void expect_allowed(enum hsc_role role, enum call c)
{
	char text[256];
	int st = run(role, c, text, sizeof(text));
	if (st != 0)
		fail_msg("role %s, call %d: exit %d, report \"%s\"", hsc_role_name(role), c, st,
			 text);
}

static void expect_stopped(enum hsc_role role, enum call c, const char *syscall_text)
{
	char text[256], want[128];
	int st = run(role, c, text, sizeof(text));
	if (st != STOPPED)
		fail_msg("role %s, call %d: exit %d, not stopped", hsc_role_name(role), c, st);
	snprintf(want, sizeof(want),
		 "test killed by its seccomp filter (syscall %s, thread role %s)", syscall_text,
		 hsc_role_name(role));
	assert_string_equal(text, want);
}

/* Every role's filter builds and loads, and leaves what all need. */
static void test_every_role_loads(void **state)
{
	(void)state;
	for (int r = 0; r < HSC_NROLES; r++) {
		expect_allowed(r, C_MMAP_RW);
		expect_allowed(r, C_MALLOC);
		expect_allowed(r, C_TGKILL_SELF);
	}
	struct errmsg err;
	assert_int_equal(hsc_install(HSC_NROLES, &err), -EINVAL);
	/* the foreign program's role is exported, not installed (its
	 * violations are notifications: shim-rootfs runs it), and only it */
	assert_int_equal(hsc_install(HSC_MKFS, &err), -EINVAL);
	struct sock_fprog prog;
	assert_int_equal(hsc_export(HSC_VCPU, 1, &prog, &err), -EINVAL);
	assert_null(prog.filter);
	assert_int_equal(hsc_export(HSC_MKFS, 1, &prog, &err), 0);
	assert_non_null(prog.filter);
	assert_true(prog.len > 20 && prog.len <= BPF_MAXINSNS);
	hsc_prog_free(&prog);
	assert_null(prog.filter);
}

static void test_forbidden_calls(void **state)
{
	(void)state;
	for (int r = 0; r < HSC_NROLES; r++) {
		expect_stopped(r, C_EXECVE, "59 execve");
		expect_stopped(r, C_CLONE, "57 fork");
	}
	expect_stopped(HSC_VCPU, C_SOCKET_UNIX, "41 socket");
	expect_stopped(HSC_CONTROL, C_SOCKET_INET, "41 socket");
	expect_stopped(HSC_VCPU, C_OPEN_RDONLY, "257 openat");
	/* the image converter works on the fds it was given: it opens
	 * nothing and has no socket of any family */
	expect_stopped(HSC_CONVERT, C_OPEN_RDONLY, "257 openat");
	expect_stopped(HSC_CONVERT, C_SOCKET_UNIX, "41 socket");
	expect_stopped(HSC_CONVERT, C_SOCKET_INET, "41 socket");
	/* so does the archive reader */
	expect_stopped(HSC_IMPORT, C_OPEN_RDONLY, "257 openat");
	expect_stopped(HSC_IMPORT, C_SOCKET_UNIX, "41 socket");
	expect_stopped(HSC_IMPORT, C_SOCKET_INET, "41 socket");
}

static void test_arguments(void **state)
{
	(void)state;
	/* ioctl by request: the vCPU runs, it does not make VMs */
	expect_allowed(HSC_VCPU, C_IOCTL_KVM_RUN);
	expect_stopped(HSC_VCPU, C_IOCTL_CREATE_VM, "16 ioctl");
	expect_stopped(HSC_CONTROL, C_IOCTL_KVM_RUN, "16 ioctl");
	expect_stopped(HSC_DEVICES, C_IOCTL_KVM_RUN, "16 ioctl");
	/* no executable memory, in any role */
	for (int r = 0; r < HSC_NROLES; r++)
		expect_stopped(r, C_MMAP_EXEC, "9 mmap");
	/* signals to this process only */
	expect_stopped(HSC_CONTROL, C_TGKILL_OTHER, "234 tgkill");
	/* sockets: vsock's host side is AF_UNIX; IP is the slirp helper's */
	expect_allowed(HSC_DEVICES, C_SOCKET_UNIX);
	expect_stopped(HSC_DEVICES, C_SOCKET_INET, "41 socket");
	expect_allowed(HSC_SLIRP, C_SOCKET_INET);
	expect_stopped(HSC_SLIRP, C_SOCKET_UNIX, "41 socket");
	/* the helper reads its resolver configuration, writes no file */
	expect_allowed(HSC_SLIRP, C_OPEN_RDONLY);
	expect_stopped(HSC_SLIRP, C_OPEN_CREATE, "257 openat");
	/* the devices role: who connected to vsock (peercred_check:
	 * SO_PEERCRED, geteuid), no other socket option; the 9p server's
	 * openat2, in that role only */
	expect_allowed(HSC_DEVICES, C_PEERCRED);
	expect_stopped(HSC_DEVICES, C_SO_RCVBUF, "55 getsockopt");
	expect_allowed(HSC_DEVICES, C_OPENAT2);
	expect_stopped(HSC_VCPU, C_OPENAT2, "437 openat2");
	expect_stopped(HSC_CONTROL, C_PEERCRED, "55 getsockopt");
	/* hull-fetch: IP sockets of stream or datagram type only (a Unix
	 * socket fails with EACCES without a trap: glibc's nscd probe);
	 * socketpairs (libcurl's wake-ups); read-only opens (CA bundle,
	 * resolver files); threads (libcurl's resolver), not processes */
	expect_allowed(HSC_FETCH, C_SOCKET_INET);
	expect_allowed(HSC_FETCH, C_SOCKET_UNIX);
	expect_stopped(HSC_FETCH, C_SOCKET_RAW, "41 socket");
	expect_allowed(HSC_FETCH, C_SOCKETPAIR_UNIX);
	expect_allowed(HSC_FETCH, C_OPEN_RDONLY);
	expect_stopped(HSC_FETCH, C_OPEN_CREATE, "257 openat");
	expect_allowed(HSC_FETCH, C_THREAD);
	expect_allowed(HSC_FETCH, C_CLONE3);
	expect_stopped(HSC_FETCH, C_TGKILL_OTHER, "234 tgkill");
	expect_stopped(HSC_FETCH, C_IOCTL_KVM_RUN, "16 ioctl");
}

/* A filter is the calling thread's: a thread made before it is untouched
 * (it makes its call only after the filter is in: a byte on a pipe). */
struct other {
	int go;
	int fd;
};

static void *other_thread(void *arg)
{
	struct other *o = arg;
	char c;
	if (read(o->go, &c, 1) == 1)
		o->fd = socket(AF_INET, SOCK_STREAM, 0);
	return NULL;
}

static void test_per_thread(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int p[2];
		struct other o = {.fd = -1};
		pthread_t t;
		if (pipe(p) || hsc_trap_init("test", NULL, NULL, STOPPED, NULL))
			_exit(2);
		o.go = p[0];
		if (pthread_create(&t, NULL, other_thread, &o))
			_exit(3);
		if (hsc_install(HSC_VCPU, NULL))
			_exit(4);
		if (write(p[1], "g", 1) != 1)
			_exit(5);
		pthread_join(t, NULL);
		done(o.fd >= 0 ? 0 : 6);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_role_loads),
	    cmocka_unit_test(test_forbidden_calls),
	    cmocka_unit_test(test_arguments),
	    cmocka_unit_test(test_per_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
