/* runtime/vmproc against a fake monitor (fake_vmm.c): events, requests,
 * error paths, and a monitor that lies or dies. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/vmproc.h"

static struct vmproc *spawn(const char *mode)
{
	/* the kernel is a file the jail binds: any one will do */
	struct vmmapi_config c = {.kernel = getenv("HULL_VMM"), .cpus = 1, .mem_bytes = 64 << 20};
	struct vmproc *vp = NULL;
	struct errmsg err;
	setenv("FAKE_VMM", mode, 1);
	assert_int_equal(vmproc_spawn(&c, NULL, &vp, &err), 0);
	assert_true(vmproc_pid(vp) > 0);
	return vp;
}

/* The next event, waiting for it. */
static struct vmproc_event next(struct vmproc *vp)
{
	struct vmproc_event ev;
	struct errmsg err;
	for (;;) {
		int rc = vmproc_next_event(vp, &ev, &err);
		assert_true(rc >= 0);
		if (rc == 1)
			return ev;
		struct pollfd p = {.fd = vmproc_fd(vp), .events = POLLIN};
		assert_true(poll(&p, 1, 10000) == 1);
	}
}

static void test_good(void **state)
{
	(void)state;
	struct vmproc *vp = spawn("good");
	struct errmsg err;
	struct vmproc_event ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_CREATED);
	assert_int_equal(ev.boot, VMMAPI_BOOT_REFUSED);
	assert_int_equal(ev.t_ns, 1);
	assert_int_equal(ev.t_exec_ns, 5);
	/* the monitor's control bytes do not reach the user's terminal */
	assert_string_equal(ev.why, "stale??[31m");
	char con[16] = "";
	struct pollfd p = {.fd = vmproc_console_fd(vp), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(read(vmproc_console_fd(vp), con, sizeof(con)), 6);
	assert_memory_equal(con, "hello\n", 6);
	assert_int_equal(vmproc_save_template(vp, &err), 0);
	/* STARTED arrived while we waited for the answer: it was kept */
	ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_STARTED);
	assert_int_equal(ev.t_ns, 2);
	assert_int_equal(vmproc_attach_disk(vp, 0, "/nope", &err), -ENOENT);
	assert_string_equal(err.text, "disk: No such file or directory");
	assert_int_equal(vmproc_pause(vp, &err), 0);
	assert_int_equal(vmproc_resume(vp, &err), 0);
	struct vmmapi_counters c;
	assert_int_equal(vmproc_counters(vp, &c, &err), 0);
	assert_int_equal(c.net_rx_bytes, 1);
	assert_int_equal(c.net_tx_bytes, 4);
	assert_int_equal(c.blk_read_bytes, 7);
	assert_int_equal(c.blk_writes, 10);
	assert_true(c.kvm_present == (1u | 1u << 8));
	assert_int_equal(c.kvm[0], 11);
	assert_int_equal(c.kvm[8], 12);
	assert_int_equal(vmproc_stop(vp), 0);
	ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_STOPPED);
	assert_int_equal(ev.reason, VMMAPI_STOP_REQUESTED);
	assert_int_equal(ev.t_ns, 4);
	/* after STOPPED: requests fail, no more events */
	assert_int_equal(vmproc_pause(vp, &err), -ESHUTDOWN);
	assert_int_equal(vmproc_counters(vp, &c, &err), -ESHUTDOWN);
	assert_int_equal(vmproc_next_event(vp, &ev, &err), 0);
	int ws;
	assert_int_equal(vmproc_reap(vp, &ws), 0);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	vmproc_free(vp);
}

static void test_only_its_fds(void **state)
{
	(void)state;
	int nul = open("/dev/null", O_RDONLY);
	int leak = fcntl(nul, F_DUPFD, 20); /* no FD_CLOEXEC: a careless parent */
	assert_true(leak >= 20);
	close(nul);
	struct vmproc *vp = spawn("fds");
	struct vmproc_event ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_STOPPED);
	assert_string_equal(ev.why, "0 1 2 3 4 ");
	vmproc_free(vp);
	close(leak);
}

static void expect_error_stop(const char *mode, const char *want)
{
	struct vmproc *vp = spawn(mode);
	struct vmproc_event ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_STOPPED);
	assert_int_equal(ev.reason, VMMAPI_STOP_ERROR);
	if (!strstr(ev.why, want))
		fail_msg("%s: why '%s' lacks '%s'", mode, ev.why, want);
	struct errmsg err;
	assert_int_equal(vmproc_save_template(vp, &err), -ESHUTDOWN);
	/* a monitor that does not exit by itself is killed */
	int ws;
	assert_int_equal(vmproc_reap(vp, &ws), 0);
	assert_true(WIFEXITED(ws) || WIFSIGNALED(ws));
	vmproc_free(vp);
}

static void test_hostile_monitor(void **state)
{
	(void)state;
	expect_error_stop("garbage", "vmm API: STOPPED message");
	expect_error_stop("unasked", "answered a request nobody made");
	expect_error_stop("request", "sent a request");
	expect_error_stop("unasked-counters", "answered a request nobody made");
	expect_error_stop("exit3", "hull-vmm");
}

static void test_dies_in_request(void **state)
{
	(void)state;
	struct vmproc *vp = spawn("die-in-request");
	struct errmsg err;
	assert_int_equal(next(vp).kind, VMPROC_EV_CREATED);
	assert_int_equal(vmproc_save_template(vp, &err), -ESHUTDOWN);
	struct vmproc_event ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_STARTED);
	ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_STOPPED);
	assert_int_equal(ev.reason, VMMAPI_STOP_SHUTDOWN);
	vmproc_free(vp);
}

/* COUNTERS is an answer to GET_COUNTERS only: to another request it ends
 * the conversation. */
static void test_counters_for_another_request(void **state)
{
	(void)state;
	struct vmproc *vp = spawn("counters-for-save");
	struct errmsg err;
	assert_int_equal(next(vp).kind, VMPROC_EV_CREATED);
	assert_int_equal(vmproc_save_template(vp, &err), -EPROTO);
	assert_non_null(strstr(err.text, "answered another request"));
	struct vmmapi_counters c;
	assert_int_equal(vmproc_counters(vp, &c, &err), -ESHUTDOWN);
	vmproc_free(vp);
}

static void test_exit_status(void **state)
{
	(void)state;
	struct vmproc *vp = spawn("exit3");
	struct vmproc_event ev = next(vp);
	assert_int_equal(ev.kind, VMPROC_EV_STOPPED);
	int ws;
	vmproc_reap(vp, &ws);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 3);
	vmproc_free(vp);
}

/* A monitor its seccomp filter stopped: hull-vmm's own trap report names
 * the syscall and the thread role; without the report, or without the
 * handler at all, the made-up STOPPED still names the filter. */
static void test_seccomp_death(void **state)
{
	(void)state;
	const char *modes[] = {"seccomp", "seccomp-silent", "sigsys"};
	for (int i = 0; i < 3; i++) {
		struct vmproc *vp = spawn(modes[i]);
		assert_int_equal(next(vp).kind, VMPROC_EV_CREATED);
		assert_int_equal(next(vp).kind, VMPROC_EV_STARTED);
		struct vmproc_event ev = next(vp);
		assert_int_equal(ev.kind, VMPROC_EV_STOPPED);
		assert_int_equal(ev.reason, VMMAPI_STOP_ERROR);
		if (i == 0)
			assert_string_equal(ev.why,
					    "hull-vmm killed by its seccomp filter (syscall 41 "
					    "socket, thread role vcpu)");
		else
			assert_non_null(strstr(ev.why, "hull-vmm killed by its seccomp filter ("));
		int ws;
		vmproc_reap(vp, &ws);
		if (i < 2)
			assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == VMMAPI_EXIT_SECCOMP);
		else
			assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS);
		vmproc_free(vp);
	}
}

static void test_no_monitor(void **state)
{
	(void)state;
	char *saved = strdup(getenv("HULL_VMM"));
	setenv("HULL_VMM", "/nonexistent/hull-vmm", 1);
	struct vmmapi_config c = {.kernel = "K", .cpus = 1};
	struct vmproc *vp = NULL;
	struct errmsg err;
	assert_int_equal(vmproc_spawn(&c, NULL, &vp, &err), -ENOENT);
	assert_non_null(strstr(err.text, "/nonexistent/hull-vmm"));
	assert_null(vp);
	/* a config the protocol cannot carry is refused before anything runs */
	setenv("HULL_VMM", saved, 1);
	c.ndisks = VMMAPI_MAX_DISKS + 1;
	setenv("FAKE_VMM", "good", 1);
	assert_int_equal(vmproc_spawn(&c, NULL, &vp, &err), -EINVAL);
	assert_null(vp);
	free(saved);
}

int main(void)
{
	const char *fake = getenv("FAKE_VMM_PATH");
	if (!fake)
		return 1;
	setenv("HULL_VMM", fake, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_only_its_fds),
	    cmocka_unit_test(test_hostile_monitor),
	    cmocka_unit_test(test_dies_in_request),
	    cmocka_unit_test(test_counters_for_another_request),
	    cmocka_unit_test(test_exit_status),
	    cmocka_unit_test(test_seccomp_death),
	    cmocka_unit_test(test_no_monitor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
