/* hull guest init: PID 1 of the microVM. It reports READY to the host, waits
 * for the SPEC of the one container to run, builds its root filesystem, runs
 * it, forwards its I/O and signals, reports its exit code and reboots (the
 * VMM treats the reset as "guest is gone").
 *
 * PID 1 must never exit: the kernel would panic. Every path ends in
 * finish(), which reboots, and nothing here aborts. Every system call costs
 * ~0.3 ms of emulated kernel time on hull's target hosts, so the sequence
 * avoids extra processes and redundant checks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "chan.h"
#include "common/errmsg.h"
#include "confine.h"
#include "container.h"
#include "env.h"
#include "execcfg.h"
#include "fsutil.h"
#include "log.h"
#include "net.h"
#include "oomwatch.h"
#include "proto/hcp.h"
#include "rootfs.h"
#include "supervise.h"
#include "refresh.h"
#include "userspec.h"
#include "volumes.h"

/* Only for a VM without any vsock device: bench/boot's QEMU peer (QEMU can
 * offer vsock only through the host's /dev/vhost-vsock, which hull's hosts
 * lack) carries the channel on its second UART, as hull did before vsock.
 * hull itself always gives the VM a vsock device and no second UART. */
#define FALLBACK_TTY "/dev/ttyS1"
#define CONNECT_TRIES 50
#define CONNECT_RETRY_NS (100 * 1000 * 1000)
/* reconnects after the host side vanished before the SPEC (a restore) */
#define MAX_RECONNECTS 5

static __attribute__((noreturn)) void finish(const struct log *l, struct chan *ch)
{
	/* send() on vsock returns once the bytes are queued for a kernel
	 * worker: the lingering close waits until the host took them, so the
	 * EXIT frame leaves before the machine resets. (On the serial
	 * fallback, close waits until the UART sent it.) */
	if (ch)
		chan_close(ch);
	log_debug(l, "rebooting");
	sync();
	reboot(RB_AUTOBOOT);
	log_msg(l, "reboot: %m");
	for (;;)
		pause();
}

/* Tell the host why nothing (more) runs, then stop. */
static __attribute__((noreturn)) void fail(const struct log *l, struct chan *ch, int code,
					   const struct errmsg *err)
{
	int rc;

	log_msg(l, "%s", err->text);
	supervise_kill_all();
	rc = chan_send(ch, HCP_ERROR, err->text, strlen(err->text));
	if (rc == 0)
		rc = chan_send_u32(ch, HCP_EXIT, (uint32_t)code);
	if (rc < 0)
		log_msg(l, "cannot report to the host: %s", strerror(-rc));
	finish(l, ch);
}

/* The kernel opens /dev/console as fds 0-2 when the initramfs has the node.
 * If it could not, fill them, so no later open() or pipe lands on 0-2. */
static void stdio_ensure(void)
{
	int fd;

	if (fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	while (fd >= 0 && fd < 2)
		fd = dup(fd);
}

/* Connect to hull and say READY. hull listens before the VM starts, so a
 * refusal is unexpected; retried briefly all the same. */
static int connect_ready(struct chan *ch, const struct log *l)
{
	const struct timespec pause_ts = {0, CONNECT_RETRY_NS};
	int rc = -ECONNREFUSED;

	for (int i = 0; i < CONNECT_TRIES; i++) {
		rc = chan_open_vsock(ch, VMADDR_CID_HOST, HCP_VSOCK_PORT_CONTROL);
		if (chan_vsock_absent(rc) && chan_open_tty(ch, FALLBACK_TTY) == 0) {
			log_debug(l, "no vsock (%s): control channel on " FALLBACK_TTY,
				  strerror(-rc));
			rc = chan_send(ch, HCP_READY, NULL, 0);
			if (rc < 0)
				chan_close(ch);
			return rc;
		}
		if (rc == 0) {
			rc = chan_send(ch, HCP_READY, NULL, 0);
			if (rc == 0)
				return 0;
			chan_close(ch);
		}
		log_debug(l, "control connection: %s", strerror(-rc));
		nanosleep(&pause_ts, NULL);
	}
	return rc;
}

/* The host side of the connection went away: a VM restored from a template
 * (made while init waited here) finds its connection reset. */
static bool connection_lost(int rc)
{
	return rc == -EPIPE || rc == -ECONNRESET || rc == -ENOTCONN || rc == -ESHUTDOWN;
}

/* `hull exec` sessions arrive on a vsock port once the container runs.
 * Without a vsock device there is no exec, and nothing else changes. */
static void exec_listen(struct supervisor *sup, const struct execcfg_base *base,
			const struct log *l)
{
	struct sockaddr_vm addr = {
	    .svm_family = AF_VSOCK,
	    .svm_cid = VMADDR_CID_ANY,
	    .svm_port = HCP_VSOCK_PORT_EXEC,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0) {
		log_debug(l, "no exec sessions: vsock port %d: %m", HCP_VSOCK_PORT_EXEC);
		if (fd >= 0)
			close(fd);
		return;
	}
	supervise_listen_exec(sup, fd, base);
}

/* docker's --restart rules (proto/hcp.h, enum hcp_restart): never after
 * the host signalled the container (hull stop, kill, a forwarded signal). */
static bool restart_due(const struct hcp_spec *spec, int code, unsigned done, bool signalled)
{
	if (signalled || spec->restart == HCP_RESTART_NO)
		return false;
	if (spec->restart == HCP_RESTART_ALWAYS)
		return true;
	return code != 0 && (!spec->restart_max || done < spec->restart_max);
}

/* docker's back-off: 100 ms, doubling; capped at 1.6 s here, since a VM
 * runs one container and nothing else waits for the CPU it would save */
static void restart_pause(unsigned done)
{
	unsigned shift = done < 4 ? done : 4;
	long ms = 100L << shift;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The guest's OOM killer ended the container's process (or others of its
 * processes): say so before EXIT (whose 137 alone reads like a kill -9).
 * An ERROR after STARTED is a message for the user, not a start failure. */
static void report_oom(const struct log *l, struct chan *ch, struct oomwatch *w, pid_t main)
{
	struct oomwatch_result r;
	char text[200];

	oomwatch_check(w, main, &r);
	if (!r.kills)
		return;
	/* a cgroup's limit (one the container set up in the guest, with a
	 * --kernel that has the memory controller: hull's own has none) is
	 * not the VM's size: --memory would not help then */
	const char *why = r.all_memcg ? "a memory cgroup in the guest reached its limit"
				      : "the VM ran out of memory (give it more with --memory)";
	if (r.main_killed)
		snprintf(text, sizeof(text),
			 "the container's process was killed by the guest's OOM killer: %s", why);
	else
		snprintf(text, sizeof(text),
			 "the guest's OOM killer killed %u process%s of the container: %s", r.kills,
			 r.kills == 1 ? "" : "es", why);
	log_debug(l, "%s", text);
	int rc = chan_send(ch, HCP_ERROR, text, strlen(text));
	if (rc < 0)
		log_msg(l, "send ERROR: %s", strerror(-rc));
}

int main(int argc, char **argv, char **envp)
{
	struct log log = {.fd = 2, .debug = false};
	const char *dbg = env_get(envp, "hull_debug");
	struct errmsg err = {""};
	struct chan ch = {.fd = -1};
	struct supervisor sup;
	struct hcp_spec spec;
	struct user_ids ids;
	struct container_proc proc;
	char **cenv = NULL;
	sigset_t all;
	int sigfd, rc, code;

	(void)argc;
	(void)argv;
	log.debug = dbg && strcmp(dbg, "0") != 0;

	/* The kernel drops every signal PID 1 has no handler for; blocking them
	 * all and reading a signalfd catches them instead, and keeps SIGPIPE
	 * from ever killing init. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	sigfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sigfd < 0) {
		log_msg(&log, "signalfd: %m");
		finish(&log, NULL);
	}

	if (rootfs_mount_dev(&err) < 0) {
		log_msg(&log, "%s", err.text);
		finish(&log, NULL);
	}
	stdio_ensure();
	rc = connect_ready(&ch, &log);
	if (rc < 0) {
		log_msg(&log, "control connection to the host (vsock port %d): %s",
			HCP_VSOCK_PORT_CONTROL, strerror(-rc));
		finish(&log, NULL);
	}
	log_debug(&log, "READY sent");

	/* The host answers READY with the SPEC; prepare what does not depend
	 * on it while the bytes travel. */
	if (rootfs_prepare_upper(&err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);

	supervise_init(&sup, &ch, sigfd, &log);
	rc = supervise_wait_spec(&sup, &spec, &err);
	for (int i = 0; rc < 0 && connection_lost(rc) && i < MAX_RECONNECTS; i++) {
		log_debug(&log, "%s: reconnecting", err.text);
		supervise_free(&sup);
		chan_close(&ch);
		rc = connect_ready(&ch, &log);
		if (rc < 0) {
			log_msg(&log, "control connection to the host: %s", strerror(-rc));
			finish(&log, NULL);
		}
		log_debug(&log, "READY sent again");
		supervise_init(&sup, &ch, sigfd, &log);
		rc = supervise_wait_spec(&sup, &spec, &err);
	}
	if (rc < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	log_debug(&log, "SPEC received: %s, rootfs %s", spec.argv[0], spec.rootfs);
	if (spec.realtime_ns && refresh_clock(spec.realtime_ns, &err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	if (spec.has_seed && refresh_rng(spec.seed, &err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	/* after a restore: this run's MAC and address, not the template's */
	if (net_configure(&spec, &err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	log_debug(&log, "network configured");

	if (rootfs_assemble(spec.rootfs, &log, &err) < 0 || rootfs_switch(&err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	if (spec.hostname && sethostname(spec.hostname, strlen(spec.hostname)) < 0) {
		log_syserr(&err, errno, "sethostname \"%s\"", spec.hostname);
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	}
	if (net_write_etc(&spec, "", &err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	log_debug(&log, "root filesystem ready");
	/* before the user lookup: a volume may hold /etc, as with docker */
	if (volumes_mount(spec.volumes, spec.nvolumes, &log, &err) < 0 ||
	    confine_mounts(&spec, &log, &err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);

	if (execcfg_resolve_user(spec.user, &ids, &err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	log_debug(&log, "user resolved: uid %u gid %u, %zu groups", (unsigned)ids.uid,
		  (unsigned)ids.gid, ids.ngroups);
	if (env_build(spec.envp, spec.envc, ids.home, spec.hostname,
		      env_get(envp, "GLIBC_TUNABLES"), &cenv) < 0) {
		errmsg_set(&err, -ENOMEM, "out of memory building the environment");
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	}
	/* docker creates a missing working directory, owned by root. */
	rc = fsutil_mkdir_p(spec.cwd, 0755);
	if (rc < 0) {
		log_syserr(&err, rc, "mkdir %s", spec.cwd);
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	}
	if (spec.read_only && confine_read_only(&log, &err) < 0)
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	struct confine conf;
	confine_from_spec(&spec, &conf);

	/* Listen for exec sessions before STARTED goes out: the host reports
	 * the container running on STARTED (`hull run -d` returns), and an
	 * exec that comes right after must find the port open, not be refused.
	 * Connections wait in the backlog until supervise_run() accepts them. */
	struct execcfg_base exec_base = {.envp = cenv, .cwd = spec.cwd, .ids = &ids, .conf = &conf};
	exec_listen(&sup, &exec_base, &log);

	log_debug(&log, "starting the container");
	struct oomwatch oom;
	oomwatch_start(&oom); /* before the process exists: no kill unseen */
	struct container_cfg cfg = {
	    .argv = spec.argv,
	    .envp = cenv,
	    .cwd = spec.cwd,
	    .uid = ids.uid,
	    .gid = ids.gid,
	    .groups = ids.groups,
	    .ngroups = ids.ngroups,
	    .tty = spec.tty,
	    .rows = spec.rows,
	    .cols = spec.cols,
	    .conf = &conf,
	};
	rc = container_start(&cfg, &proc, &code, &err);
	if (rc < 0)
		fail(&log, &ch, code, &err);
	rc = chan_send_u32(&ch, HCP_STARTED, (uint32_t)proc.pid);
	if (rc < 0) {
		log_syserr(&err, rc, "send STARTED");
		fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
	}
	log_debug(&log, "container started, pid %d", (int)proc.pid);
	supervise_attach(&sup, &proc);

	for (unsigned restarts = 0;; restarts++) {
		code = supervise_run(&sup, &err);
		if (code < 0)
			fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
		supervise_kill_all();
		if (supervise_drain(&sup, &err) < 0)
			fail(&log, &ch, HCP_EXIT_INIT_FAILED, &err);
		report_oom(&log, &ch, &oom, proc.pid);
		if (!restart_due(&spec, code, restarts, sup.host_signalled))
			break;
		restart_pause(restarts);
		log_debug(&log, "container exited: %d; restart %u", code, restarts + 1);
		rc = container_start(&cfg, &proc, &code, &err);
		if (rc < 0)
			fail(&log, &ch, code, &err);
		supervise_restart(&sup, &proc);
	}
	oomwatch_stop(&oom);
	log_debug(&log, "container exited: %d", code);
	rc = chan_send_u32(&ch, HCP_EXIT, (uint32_t)code);
	if (rc < 0)
		log_msg(&log, "send EXIT: %s", strerror(-rc));
	finish(&log, &ch);
}
