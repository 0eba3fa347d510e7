/* A stand-in for hull-vmm in runtime/vmproc's tests: speaks the API on the
 * fds vmproc gives it, misbehaving as $FAKE_VMM says:
 *   good      CREATED (refused, with control bytes in why), STARTED; answers
 *             SAVE_TEMPLATE 0, ATTACH_DISK -ENOENT, PAUSE/RESUME 0,
 *             GET_COUNTERS with COUNTERS {1, 2, ... 10; KVM exits 11,
 *             insn_emulation 12}; STOP ->
 *             STOPPED; console "hello\n" before CREATED
 *   fds       STOPPED whose why lists this process's open fds
 *   garbage   a malformed packet after CONFIG
 *   unasked   a RESULT nobody asked for
 *   unasked-counters  COUNTERS nobody asked for
 *   counters-for-save  COUNTERS as the answer to SAVE_TEMPLATE
 *   exit3     exit(3) at once
 *   die-in-request  STOPPED instead of the SAVE_TEMPLATE answer, then exit
 *   request   sends a request (STOP) to the runtime
 *   seccomp   CREATED, STARTED, then under the real vCPU filter with
 *             hull-vmm's trap (seccomp/filter.h, monitor/trap_report.h)
 *             calls socket(): STOPPED naming it, exit VMMAPI_EXIT_SECCOMP
 *   seccomp-silent  the same trap without the STOPPED report
 *   sigsys    the same without the trap's handler: the kernel kills with SIGSYS */
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include "monitor/trap_report.h"
#include "proto/vmmapi.h"
#include "seccomp/filter.h"

static int api = 3;

static void say(struct vmmapi_msg m)
{
	if (vmmapi_send(api, &m, NULL))
		exit(9);
}

/* Wait for STOP (vmproc_reap sends it) or the hangup, then exit. */
static int until_stop(void)
{
	static uint8_t rb[VMMAPI_RECV_BUF];
	struct vmmapi_msg m;
	while (vmmapi_recv(api, rb, &m, NULL) == 0 && m.type != VMMAPI_STOP)
		;
	return 0;
}

int main(void)
{
	const char *mode = getenv("FAKE_VMM");
	static uint8_t buf[VMMAPI_RECV_BUF];
	struct vmmapi_msg m;
	if (!mode || vmmapi_recv(api, buf, &m, NULL) || m.type != VMMAPI_CONFIG)
		return 8;
	/* the test's kernel is this program's path (a file the jail binds) */
	if (!m.config.kernel || !getenv("HULL_VMM") ||
	    strcmp(m.config.kernel, getenv("HULL_VMM")) || m.config.cpus != 1)
		return 7;
	if (!strcmp(mode, "exit3"))
		return 3;
	if (!strcmp(mode, "garbage")) {
		uint8_t junk[] = {0x84, 0, 0, 0, 1};
		if (write(api, junk, sizeof(junk)) < 0)
			return 9;
		return until_stop();
	}
	if (!strcmp(mode, "unasked")) {
		say((struct vmmapi_msg){.type = VMMAPI_RESULT});
		return until_stop();
	}
	if (!strcmp(mode, "unasked-counters")) {
		say((struct vmmapi_msg){.type = VMMAPI_COUNTERS});
		return until_stop();
	}
	if (!strcmp(mode, "request")) {
		say((struct vmmapi_msg){.type = VMMAPI_STOP});
		return until_stop();
	}
	if (!strcmp(mode, "fds")) {
		char why[512] = "";
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
				snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s ",
					 e->d_name);
		struct vmmapi_msg s = {.type = VMMAPI_STOPPED};
		s.stopped.reason = VMMAPI_STOP_RESET;
		s.stopped.why = why;
		say(s);
		return 0;
	}
	if (write(4, "hello\n", 6) != 6)
		return 9;
	struct vmmapi_msg c = {.type = VMMAPI_CREATED};
	c.created.boot = VMMAPI_BOOT_REFUSED;
	c.created.t_ns = 1;
	c.created.t_exec = 5;
	c.created.why = "stale\x01\x1b[31m";
	say(c);
	struct vmmapi_msg st = {.type = VMMAPI_STARTED};
	st.started.t_ns = 2;
	say(st);
	if (!strncmp(mode, "seccomp", 7) || !strcmp(mode, "sigsys")) {
		bool report = !strcmp(mode, "seccomp");
		if (strcmp(mode, "sigsys") &&
		    hsc_trap_init("hull-vmm", report ? monitor_trap_report : NULL, &api,
				  VMMAPI_EXIT_SECCOMP, NULL))
			return 9;
		if (hsc_install(HSC_VCPU, NULL))
			return 9;
		socket(AF_INET, SOCK_STREAM, 0);
		return 10; /* not stopped */
	}
	for (;;) {
		static uint8_t rb[VMMAPI_RECV_BUF];
		if (vmmapi_recv(api, rb, &m, NULL))
			return 0;
		struct vmmapi_msg r = {.type = VMMAPI_RESULT};
		r.result.op = m.type;
		switch (m.type) {
		case VMMAPI_SAVE_TEMPLATE:
			if (!strcmp(mode, "die-in-request")) {
				struct vmmapi_msg s = {.type = VMMAPI_STOPPED};
				s.stopped.reason = VMMAPI_STOP_SHUTDOWN;
				s.stopped.t_ns = 3;
				say(s);
				return 0;
			}
			if (!strcmp(mode, "counters-for-save"))
				r = (struct vmmapi_msg){.type = VMMAPI_COUNTERS};
			break;
		case VMMAPI_GET_COUNTERS:
			r = (struct vmmapi_msg){.type = VMMAPI_COUNTERS};
			r.counters =
			    (struct vmmapi_counters){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, {0}};
			/* KVM's exits and insn_emulation */
			r.counters.kvm_present = 1u | 1u << 8;
			r.counters.kvm[0] = 11;
			r.counters.kvm[8] = 12;
			break;
		case VMMAPI_ATTACH_DISK:
			r.result.err = -2;
			r.result.text = "disk: No such file or directory";
			break;
		case VMMAPI_STOP: {
			struct vmmapi_msg s = {.type = VMMAPI_STOPPED};
			s.stopped.reason = VMMAPI_STOP_REQUESTED;
			s.stopped.t_ns = 4;
			say(s);
			return 0;
		}
		}
		say(r);
	}
}
