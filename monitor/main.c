/* hull-vmm: the VM monitor. One process per VM: it owns /dev/kvm, runs the
 * guest and its devices (vmm/), and nothing else: no image code, no JSON,
 * no TLS, no state bookkeeping.
 *
 * Usage (by the runtime, runtime/vmproc.c; not a user command):
 *   hull-vmm --api-fd N --console-fd M [--net-fd K] [--profile-fd P] [--jail DIR]
 * - fd N: a SOCK_SEQPACKET socket speaking proto/vmmapi.h. The first
 *   message must be CONFIG (the whole VM: kernel, sizes, disks, volumes,
 *   vsock, NIC, template root); everything else is passed nowhere else (no
 *   environment, no config file).
 * - fd M: the guest console goes there, raw (a pipe; written non-blocking:
 *   bytes the reader leaves unread past the pipe's capacity are dropped
 *   rather than stalling the guest).
 * - fd K: with a slirp network (CONFIG's net_mode), the SOCK_SEQPACKET
 *   socket to the user-mode network helper, netd/hull-slirp, which the
 *   runtime started first (vmm/net/net_stream.h): this process parses no
 *   packet and maps no libslirp.
 * - fd P: a developer's switch (HULL_VMM_PROFILE, runtime/vmproc.c): every
 *   vCPU's guest RIP sampled 1000 times a second, appended there as u64s
 *   (vmm_config.profile_fd; bench/README.md, the guest kernel's profile).
 * - stderr: diagnostics (--debug output of the VMM); stdin is not read.
 * - --jail DIR: the runtime made this process's jail (runtime/jail.h: own
 *   namespaces, unprivileged user, cgroup, DIR holding only what the VM
 *   needs); the first thing done, before CONFIG is read, is to enter it
 *   (common/jail_enter.h): pivot_root into DIR, every capability dropped,
 *   no_new_privs. The runtime always passes it; without it (a test
 *   starting this by hand) the process runs where it was started.
 *
 * Life
 * - At start every fd other than 0, 1, 2, N, M, K and P is closed: whatever the
 *   parent leaked does not reach the process that faces the guest.
 * - Templates: with a template root, the key (vmm_template_key, the one
 *   place it is computed) names a directory; if a template is there the VM
 *   is restored from it, and if it is refused (stale, corrupted) it is
 *   removed and the VM boots cold; CREATED says which, and why. SAVE_TEMPLATE
 *   pauses, saves under that key, resumes.
 * - The VM ends with STOPPED (reason, why), then the process exits 0. If it
 *   cannot be made, STOPPED (VMMAPI_STOP_ERROR, why) and exit 1.
 * - The parent going away ends the VM: the runtime sets PR_SET_PDEATHSIG
 *   (SIGKILL) before exec, and a hangup on fd N stops the VM.
 * - Threads: this main thread serves the API; vmm/ adds the event-loop and
 *   vCPU threads (vmm/vmm.h).
 * - seccomp: every thread runs under its role's filter (seccomp/filter.h,
 *   seccomp/policy.c), loaded by vmm_start() before the first guest
 *   instruction; everything before (opening /dev/kvm, the kernel, the
 *   template, the disks, volumes and sockets) runs unfiltered. A call
 *   outside a filter ends the process: STOPPED (VMMAPI_STOP_ERROR, "hull-vmm
 *   killed by its seccomp filter (syscall N name, thread role R)") on fd N,
 *   the same line on stderr, exit status VMMAPI_EXIT_SECCOMP.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fdio.h"
#include "common/jail_enter.h"
#include "proto/vmmapi.h"
#include "monitor/trap_report.h"
#include "seccomp/filter.h"
#include "vmm/vmm.h"

_Static_assert(VMMAPI_MAX_DISKS == VMM_MAX_DISKS, "disk bounds differ");
_Static_assert(VMMAPI_MAX_VOLUMES == VMM_MAX_VOLUMES, "volume bounds differ");
_Static_assert(VMMAPI_MAX_PORTFWD == VMM_MAX_PORTFWD, "port bounds differ");
_Static_assert(VMMAPI_MAX_CPUS == VMM_MAX_CPUS, "vCPU bounds differ");
_Static_assert((int)VMMAPI_NET_TAP == (int)VMM_NET_TAP &&
		   (int)VMMAPI_NET_SLIRP == (int)VMM_NET_SLIRP,
	       "net modes differ");
_Static_assert((int)VMMAPI_STOP_REQUESTED == (int)VMM_STOP_REQUESTED &&
		   (int)VMMAPI_STOP_ERROR == (int)VMM_STOP_ERROR &&
		   (int)VMMAPI_STOP_RESET == (int)VMM_STOP_RESET &&
		   (int)VMMAPI_STOP_SHUTDOWN == (int)VMM_STOP_SHUTDOWN &&
		   (int)VMMAPI_STOP_TRIPLE_FAULT == (int)VMM_STOP_TRIPLE_FAULT,
	       "stop reasons differ");

struct mon {
	uint64_t t0; /* main() began */
	int api, console, net;
	struct vmm *vm;
	struct vmm_config vc;
	struct vmm_portfwd ports[VMM_MAX_PORTFWD];
	char *tdir; /* this config's template directory, or NULL */
	bool paused;
	bool parent_gone;
	bool host_pvm;	/* vmm_host_is_pvm(), asked before the jail */
	int profile_fd; /* --profile-fd's file (a developer's switch); 0: off */
};

static void on_console(void *ctx, const uint8_t *b, size_t n)
{
	struct mon *m = ctx;
	while (n > 0) {
		ssize_t w = write(m->console, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* full (dropped) or the reader is gone */
		b += w;
		n -= (size_t)w;
	}
}

static int send_msg(struct mon *m, const struct vmmapi_msg *msg)
{
	struct errmsg err;
	int rc = vmmapi_send(m->api, msg, &err);
	if (rc && rc != -EPIPE && rc != -ECONNRESET)
		fprintf(stderr, "hull-vmm: %s\n", err.text);
	return rc;
}

static void send_stopped(struct mon *m, uint32_t reason, const char *why)
{
	struct vmmapi_msg s = {.type = VMMAPI_STOPPED};
	s.stopped.reason = reason;
	s.stopped.t_ns = clock_now_ns();
	s.stopped.why = why && why[0] ? why : NULL;
	send_msg(m, &s);
}

static int on_thread(void *ctx, enum vmm_thread_role role, struct errmsg *err)
{
	(void)ctx;
	static const enum hsc_role roles[] = {
	    [VMM_THREAD_VCPU] = HSC_VCPU,
	    [VMM_THREAD_DEVICES] = HSC_DEVICES,
	    [VMM_THREAD_CONTROL] = HSC_CONTROL,
	};
	return hsc_install(roles[role], err);
}

/* CONFIG -> m->vc (pointing into the message buffer, which lives as long as
 * the process). The monitor trusts its runtime, but a config that vmm would
 * misread is still refused here. */
static int take_config(struct mon *m, const struct vmmapi_config *c, struct errmsg *err)
{
	if (!c->kernel)
		return errmsg_set(err, -EINVAL, "CONFIG: no kernel");
	if (c->cpus < 1 || c->cpus > VMM_MAX_CPUS)
		return errmsg_set(err, -EINVAL, "CONFIG: %u vCPUs (1 to %d)", c->cpus,
				  VMM_MAX_CPUS);
	if (c->net_mode == VMMAPI_NET_TAP && !c->net_tap)
		return errmsg_set(err, -EINVAL, "CONFIG: a tap network without a device name");
	if (c->net_mode == VMMAPI_NET_SLIRP && m->net < 0)
		return errmsg_set(err, -EINVAL, "CONFIG: a slirp network without --net-fd");
	struct vmm_config *v = &m->vc;
	int32_t pvm = c->pvm;
	if (pvm < 0) /* detected before the jail hid /sys */
		pvm = m->host_pvm;
	*v = (struct vmm_config){
	    .kvm_dev = c->kvm_dev,
	    .kernel = c->kernel,
	    .initrd = c->initrd,
	    .cmdline_extra = c->cmdline_extra,
	    .cpus = c->cpus,
	    .mem_bytes = c->mem_bytes,
	    .ndisks = c->ndisks,
	    .pvm = pvm,
	    .debug = c->debug,
	    .profile_fd = m->profile_fd,
	    .console_out = on_console,
	    .thread_setup = on_thread,
	    .ctx = m,
	    .nvolumes = c->nvolumes,
	    .vsock_uds = c->vsock_uds,
	    .vsock_cid = c->vsock_cid,
	    .net_mode = (enum vmm_net_mode)c->net_mode,
	    .net_tap = c->net_tap,
	    .net_ports = m->ports,
	    .net_nports = c->nports,
	    .net_no_csum = c->net_no_csum,
	    .net_fd = m->net,
	    .disk_read_bps = c->disk_read_bps,
	    .disk_write_bps = c->disk_write_bps,
	    .disk_read_iops = c->disk_read_iops,
	    .disk_write_iops = c->disk_write_iops,
	    .net_rx_bps = c->net_rx_bps,
	    .net_tx_bps = c->net_tx_bps,
	    .net_rx_pps = c->net_rx_pps,
	    .net_tx_pps = c->net_tx_pps,
	};
	for (uint32_t i = 0; i < c->ndisks; i++)
		v->disks[i] = (struct vmm_disk){c->disks[i].path, c->disks[i].read_only};
	for (uint32_t i = 0; i < c->nvolumes; i++)
		v->volumes[i] =
		    (struct vmm_volume){c->volumes[i].host_dir, c->volumes[i].read_only};
	for (uint32_t i = 0; i < c->nports; i++)
		m->ports[i] = (struct vmm_portfwd){.udp = c->ports[i].udp,
						   .host_ip = c->ports[i].host_ip,
						   .host_port = c->ports[i].host_port,
						   .guest_port = c->ports[i].guest_port};
	memcpy(v->net_mac, c->net_mac, sizeof(v->net_mac));
	if (c->template_root) {
		char *key = NULL;
		int rc = vmm_template_key(v, &key, err);
		if (rc)
			return rc;
		m->tdir = vmm_template_dir(c->template_root, key);
		free(key);
		if (!m->tdir)
			return errmsg_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Restore from the fitting template if there is one, else boot cold. */
static int create_vm(struct mon *m, struct vmmapi_msg *created, char *why, size_t whylen,
		     struct errmsg *err)
{
	created->type = VMMAPI_CREATED;
	created->created.t_exec = m->t0;
	created->created.boot = m->tdir ? VMMAPI_BOOT_COLD : VMMAPI_BOOT_NO_TEMPLATE;
	bool stale = false;
	struct errmsg terr = {{0}};
	if (m->tdir && vmm_template_exists(m->tdir)) {
		m->vc.template_dir = m->tdir;
		if (vmm_create(&m->vc, &m->vm, &terr) == 0) {
			created->created.boot = VMMAPI_BOOT_RESTORED;
			m->vc.template_dir = NULL;
			return 0;
		}
		m->vc.template_dir = NULL;
		stale = true;
	}
	/* a failure here is the run's own problem (a published port in use,
	 * say), not the template's: the template stays */
	int rc = vmm_create(&m->vc, &m->vm, err);
	if (rc)
		return rc;
	if (stale) {
		/* a template that cannot be used is replaced by this run */
		snprintf(why, whylen, "%s", terr.text);
		created->created.boot = VMMAPI_BOOT_REFUSED;
		created->created.why = why;
		vmm_template_remove(m->tdir, NULL);
	}
	return 0;
}

static void serve(struct mon *m, const struct vmmapi_msg *req)
{
	struct vmmapi_msg r = {.type = VMMAPI_RESULT};
	struct errmsg err = {{0}};
	int rc = 0;
	r.result.op = req->type;
	switch (req->type) {
	case VMMAPI_SAVE_TEMPLATE:
		if (!m->tdir) {
			rc = errmsg_set(&err, -EINVAL, "templates are off for this VM");
			break;
		}
		if (!m->paused && vmm_pause(m->vm)) {
			rc = errmsg_set(&err, -ESHUTDOWN, "the VM stopped");
			break;
		}
		rc = vmm_save_template(m->vm, m->tdir, &err);
		if (!m->paused)
			vmm_resume(m->vm);
		break;
	case VMMAPI_ATTACH_DISK:
		rc = vmm_attach_disk(m->vm, req->attach.index, req->attach.path, &err);
		break;
	case VMMAPI_PAUSE:
		if (!m->paused && vmm_pause(m->vm))
			rc = errmsg_set(&err, -ESHUTDOWN, "the VM stopped");
		else
			m->paused = true;
		break;
	case VMMAPI_RESUME:
		if (m->paused)
			vmm_resume(m->vm);
		m->paused = false;
		break;
	case VMMAPI_STOP:
		vmm_request_stop(m->vm);
		return; /* STOPPED answers */
	case VMMAPI_GET_COUNTERS: {
		/* atomics the devices keep and KVM's stats: nothing here
		 * waits on the guest */
		struct vmm_counters c;
		vmm_get_counters(m->vm, &c);
		struct vmmapi_msg a = {.type = VMMAPI_COUNTERS};
		a.counters = (struct vmmapi_counters){.net_rx_bytes = c.net_rx_bytes,
						      .net_rx_frames = c.net_rx_frames,
						      .net_rx_dropped = c.net_rx_dropped,
						      .net_tx_bytes = c.net_tx_bytes,
						      .net_tx_frames = c.net_tx_frames,
						      .net_tx_dropped = c.net_tx_dropped,
						      .blk_read_bytes = c.blk_read_bytes,
						      .blk_reads = c.blk_reads,
						      .blk_write_bytes = c.blk_write_bytes,
						      .blk_writes = c.blk_writes};
		/* KVM's own counts: pread on the stats fds opened with the
		 * vCPUs (this thread's seccomp role allows pread64) */
		for (unsigned i = 0; i < VMMAPI_KSTATS; i++)
			if (!vmm_kvm_stat(m->vm, vmmapi_kstat_name(i), &a.counters.kvm[i]))
				a.counters.kvm_present |= 1ull << i;
		send_msg(m, &a);
		return;
	}
	default:
		rc = errmsg_set(&err, -EPROTO, "%s is not a request here",
				vmmapi_type_name(req->type));
	}
	r.result.err = rc;
	r.result.text = rc ? err.text : NULL;
	send_msg(m, &r);
}

static int run(struct mon *m, uint8_t *buf)
{
	struct vmmapi_msg msg, created = {0};
	struct errmsg err = {{0}};
	char why[sizeof(err.text)];
	int rc = vmmapi_recv(m->api, buf, &msg, &err);
	if (!rc && msg.type != VMMAPI_CONFIG)
		rc = errmsg_set(&err, -EPROTO, "the first message was %s, not CONFIG",
				vmmapi_type_name(msg.type));
	if (!rc)
		rc = take_config(m, &msg.config, &err);
	/* the config's strings point into buf: the requests get their own */
	uint8_t *rbuf = rc ? NULL : malloc(VMMAPI_RECV_BUF);
	if (!rc && !rbuf)
		rc = errmsg_set(&err, -ENOMEM, "out of memory");
	if (!rc)
		rc = create_vm(m, &created, why, sizeof(why), &err);
	if (rc) {
		send_stopped(m, VMMAPI_STOP_ERROR, err.text);
		free(rbuf);
		return 1;
	}
	created.created.t_ns = clock_now_ns();
	send_msg(m, &created);
	if (vmm_start(m->vm, &err)) {
		send_stopped(m, VMMAPI_STOP_ERROR, err.text);
		free(rbuf);
		return 1;
	}
	struct vmmapi_msg started = {.type = VMMAPI_STARTED};
	started.started.t_ns = vmm_started_ns(m->vm);
	send_msg(m, &started);

	struct pollfd p[2] = {{.fd = vmm_stop_fd(m->vm), .events = POLLIN},
			      {.fd = m->api, .events = POLLIN}};
	while (!(p[0].revents & POLLIN)) {
		if (poll(p, m->parent_gone ? 1 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			vmm_request_stop(m->vm);
			break;
		}
		if (!m->parent_gone && p[1].revents) {
			rc = vmmapi_recv(m->api, rbuf, &msg, &err);
			if (rc == -EAGAIN)
				continue;
			if (rc == -EPIPE || rc == -ECONNRESET || (p[1].revents & POLLHUP)) {
				/* the runtime is gone: nobody wants this VM */
				m->parent_gone = true;
				vmm_request_stop(m->vm);
			} else if (rc) {
				fprintf(stderr, "hull-vmm: %s\n", err.text);
				struct vmmapi_msg r = {.type = VMMAPI_RESULT};
				r.result.err = rc;
				r.result.text = err.text;
				send_msg(m, &r);
			} else {
				serve(m, &msg);
			}
		}
	}
	if (m->paused)
		vmm_resume(m->vm); /* parked vCPUs leave only when let go */
	enum vmm_stop_reason why_stop = vmm_wait(m->vm);
	if (!m->parent_gone)
		send_stopped(m, (uint32_t)why_stop, vmm_stop_why(m->vm));
	free(rbuf);
	return 0;
}

int main(int argc, char **argv)
{
	struct mon m = {.t0 = clock_now_ns(), .api = -1, .console = -1, .net = -1};
	bool bad = false, net_given = false, prof_given = false;
	const char *jail = NULL;
	for (int i = 1; i < argc && !bad; i += 2) {
		if (i + 1 >= argc)
			bad = true;
		else if (!strcmp(argv[i], "--jail"))
			jail = argv[i + 1];
		else if (!strcmp(argv[i], "--api-fd"))
			m.api = fdio_parse_fd(argv[i + 1]);
		else if (!strcmp(argv[i], "--console-fd"))
			m.console = fdio_parse_fd(argv[i + 1]);
		else if (!strcmp(argv[i], "--net-fd"))
			m.net = fdio_parse_fd(argv[i + 1]), net_given = true;
		else if (!strcmp(argv[i], "--profile-fd"))
			m.profile_fd = fdio_parse_fd(argv[i + 1]), prof_given = true;
		else
			bad = true;
	}
	if (bad || m.api < 0 || m.console < 0 || m.api == m.console || fcntl(m.api, F_GETFD) < 0 ||
	    fcntl(m.console, F_GETFD) < 0 ||
	    (net_given &&
	     (m.net < 0 || m.net == m.api || m.net == m.console || fcntl(m.net, F_GETFD) < 0)) ||
	    (prof_given &&
	     (m.profile_fd <= 0 || m.profile_fd == m.api || m.profile_fd == m.console ||
	      m.profile_fd == m.net || fcntl(m.profile_fd, F_GETFD) < 0))) {
		fprintf(stderr,
			"usage: hull-vmm --api-fd N --console-fd M [--net-fd K] [--profile-fd P] "
			"[--jail DIR] (started by hull, not by hand)\n");
		return 2;
	}
	fdio_close_others((int[4]){m.api, m.console, m.net, prof_given ? m.profile_fd : -1}, 4);
	if (prof_given)
		fcntl(m.profile_fd, F_SETFD, FD_CLOEXEC);
	fcntl(m.api, F_SETFD, FD_CLOEXEC);
	fcntl(m.console, F_SETFD, FD_CLOEXEC);
	if (m.net >= 0)
		fcntl(m.net, F_SETFD, FD_CLOEXEC);
	fcntl(m.console, F_SETFL, fcntl(m.console, F_GETFL) | O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	struct errmsg err;
	if (hsc_trap_init("hull-vmm", monitor_trap_report, &m.api, VMMAPI_EXIT_SECCOMP, &err)) {
		fprintf(stderr, "hull-vmm: %s\n", err.text);
		return 1;
	}

	/* before any byte from the runtime, a template or the guest; what the
	 * jail hides (/sys) is asked first */
	m.host_pvm = vmm_host_is_pvm();
	struct errmsg jerr;
	if (jail && jail_enter(jail, &jerr)) {
		fprintf(stderr, "hull-vmm: %s\n", jerr.text);
		send_stopped(&m, VMMAPI_STOP_ERROR, jerr.text);
		return 1;
	}
	/* (the seccomp filters go here, after the jail) */

	uint8_t *buf = malloc(VMMAPI_RECV_BUF);
	if (!buf)
		return 1;
	int status = run(&m, buf);
	if (m.vm)
		vmm_destroy(m.vm);
	free(m.tdir);
	free(buf);
	return status;
}
