#include "vmproc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileutil.h"
#include "common/helper_path.h"
#include "common/jail_enter.h"
#include "runtime/jail.h"

#define EVQ_MAX 4 /* CREATED, STARTED, STOPPED: never more are pending */

struct vmproc {
	pid_t pid;
	pid_t netd;		/* the network helper, -1 if none */
	struct jail_cgroup *cg; /* both helpers', NULL if none */
	int api, console;
	bool stopped; /* STOPPED queued or delivered: nothing more comes */
	bool reaped;
	int wstatus;
	struct vmproc_event q[EVQ_MAX];
	unsigned nq;
	uint8_t *buf; /* VMMAPI_RECV_BUF */
};

char *vmproc_monitor_path(void)
{
	return helper_path("HULL_VMM", "monitor", "hull-vmm");
}

char *vmproc_netd_path(void)
{
	return helper_path("HULL_SLIRP", "netd", "hull-slirp");
}

static void push(struct vmproc *vp, const struct vmproc_event *ev)
{
	if (vp->stopped)
		return;
	if (vp->nq < EVQ_MAX)
		vp->q[vp->nq++] = *ev;
	if (ev->kind == VMPROC_EV_STOPPED)
		vp->stopped = true;
}

/* Copy the monitor's text bounded, printable ASCII only: it ends up on a
 * user's terminal. */
static void copy_why(char dst[VMPROC_WHY_MAX], const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < VMPROC_WHY_MAX; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/* The jail of either helper (runtime/jail.h), with the cgroup cg. */
static pid_t spawn_jailed(const struct jail_spec *js, struct jail_cgroup *cg, const char *path,
			  char *const argv[], int in, const int *fds, unsigned nfds,
			  struct errmsg *err)
{
	struct jail *j;
	int rc = jail_prepare(&j, js, err);
	if (rc)
		return rc;
	pid_t pid = jail_spawn(j, cg, path, argv, in, fds, nfds, err);
	jail_free(j);
	return pid;
}

/* Wait for pid to exit, SIGKILL after VMPROC_REAP_TIMEOUT_MS. */
static void reap_pid(pid_t pid)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)VMPROC_REAP_TIMEOUT_MS * 1000000;
	int ws;
	while (waitpid(pid, &ws, WNOHANG) == 0) {
		if (clock_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &ws, 0);
			return;
		}
		nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
	}
}

/* Start the user-mode network helper (netd/main.c has its contract) and
 * wait until it has bound cfg's published ports: a port in use fails here,
 * before any VM exists. *pid: the helper; *vmm_end: the socket's end for
 * hull-vmm (CLOEXEC, the caller's). */
static int netd_spawn(const struct vmmapi_config *cfg, struct jail_cgroup *cg, pid_t *pid,
		      int *vmm_end, struct errmsg *err)
{
	int nv[2] = {-1, -1}, st[2] = {-1, -1}, in[2] = {-1, -1};
	char ps[VMMAPI_MAX_PORTFWD][48];
	const char *argv[11 + 2 * VMMAPI_MAX_PORTFWD] = {
	    "hull-slirp", "--net-fd", "3", "--status-fd", "4", "--jail", JAIL_ROOT};
	unsigned argc = 7;
	int rc = 0;
	*pid = -1;
	*vmm_end = -1;
	char *path = vmproc_netd_path();
	if (!path)
		return errmsg_set(err, -ENOMEM, "out of memory");
	if (access(path, X_OK)) {
		rc = errmsg_set(err, -errno,
				"the network helper %s: %s (build hull, or set HULL_SLIRP)", path,
				strerror(errno));
		free(path);
		return rc;
	}
	if (cfg->debug)
		argv[argc++] = "--debug";
	if (cfg->net_host_loopback)
		argv[argc++] = "--host-loopback";
	for (uint32_t i = 0; i < cfg->nports && i < VMMAPI_MAX_PORTFWD; i++) {
		const struct vmmapi_portfwd *p = &cfg->ports[i];
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &(struct in_addr){.s_addr = p->host_ip}, ip, sizeof(ip));
		snprintf(ps[i], sizeof(ps[i]), "%s:%s:%u:%u", p->udp ? "udp" : "tcp", ip,
			 p->host_port, p->guest_port);
		argv[argc++] = "-p";
		argv[argc++] = ps[i];
	}
	argv[argc] = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nv) || pipe2(st, O_CLOEXEC) ||
	    pipe2(in, O_CLOEXEC)) {
		rc = errmsg_set(err, -errno, "socketpair/pipe: %s", strerror(errno));
		goto out;
	}
	/* the host's network (it opens host sockets, binds the published
	 * ports before it jails itself), no file but the resolver's config
	 * (libslirp reads it to forward the guest's DNS queries) */
	struct jail_path rc_conf = {.path = "/etc/resolv.conf", .rw = false};
	struct jail_spec js = {.paths = &rc_conf,
			       .npaths = access(rc_conf.path, R_OK) == 0,
			       .host_net = true,
			       .net_bind = true};
	pid_t p =
	    spawn_jailed(&js, cg, path, (char *const *)argv, in[0], (int[2]){nv[0], st[1]}, 2, err);
	if (p < 0) {
		rc = (int)p;
		goto out;
	}
	*pid = p;
	close(st[1]);
	st[1] = -1;
	char text[VMPROC_WHY_MAX];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(st[0], text + len, sizeof(text) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(text) - 1)
			break;
	}
	text[len] = '\0';
	if (strcmp(text, "ok\n") != 0) {
		reap_pid(p);
		*pid = -1;
		char why[VMPROC_WHY_MAX];
		while (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		copy_why(why, text);
		rc = errmsg_set(err, -EADDRINUSE, "%s",
				why[0] ? why : "the network helper hull-slirp failed to start");
		goto out;
	}
	*vmm_end = nv[1];
	nv[1] = -1;
out:
	for (int i = 0; i < 2; i++) {
		if (nv[i] >= 0)
			close(nv[i]);
		if (st[i] >= 0)
			close(st[i]);
		if (in[i] >= 0)
			close(in[i]);
	}
	free(path);
	return rc;
}

/* How long a monitor that hung up may take to exit before its status is
 * reported as unknown (its exit closes the socket: normally microseconds). */
#define GONE_WAIT_MS 500

/* The monitor hung up or broke the protocol: say how it ended. */
static void monitor_gone(struct vmproc *vp, const char *why)
{
	if (vp->stopped)
		return;
	char st[128] = "";
	int ws;
	uint64_t deadline = clock_now_ns() + (uint64_t)GONE_WAIT_MS * 1000000;
	while (!vp->reaped) {
		pid_t r = waitpid(vp->pid, &ws, WNOHANG);
		if (r == vp->pid) {
			vp->reaped = true;
			vp->wstatus = ws;
		} else if (r < 0 || clock_now_ns() > deadline) {
			break;
		} else {
			nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
		}
	}
	/* a filter's trap exits with VMMAPI_EXIT_SECCOMP after saying STOPPED
	 * itself; without its handler the kernel kills with SIGSYS */
	if (vp->reaped &&
	    ((WIFEXITED(vp->wstatus) && WEXITSTATUS(vp->wstatus) == VMMAPI_EXIT_SECCOMP) ||
	     (WIFSIGNALED(vp->wstatus) && WTERMSIG(vp->wstatus) == SIGSYS)))
		why = "hull-vmm killed by its seccomp filter";
	if (vp->reaped && WIFEXITED(vp->wstatus))
		snprintf(st, sizeof(st), " (it exited with status %d)", WEXITSTATUS(vp->wstatus));
	else if (vp->reaped && WIFSIGNALED(vp->wstatus))
		snprintf(st, sizeof(st), " (killed by signal %d, %s)", WTERMSIG(vp->wstatus),
			 strsignal(WTERMSIG(vp->wstatus)));
	struct vmproc_event ev = {.kind = VMPROC_EV_STOPPED, .reason = VMMAPI_STOP_ERROR};
	int n = snprintf(ev.why, sizeof(ev.why), "%s%s",
			 strncmp(why, "hull-vmm", 8) ? "hull-vmm: " : "", why);
	if (n >= 0 && (size_t)n < sizeof(ev.why))
		snprintf(ev.why + n, sizeof(ev.why) - (size_t)n, "%s", st);
	push(vp, &ev);
}

/* Read one message; queue it if it is an event, or return it (RESULT,
 * COUNTERS: answers). 1: an answer in *res; 0: an event was queued or nothing was ready;
 * -EPIPE: the monitor is gone (STOPPED made up). */
static int pump(struct vmproc *vp, struct vmmapi_msg *res)
{
	struct vmmapi_msg m;
	struct errmsg err;
	if (vp->stopped)
		return -EPIPE;
	int rc = vmmapi_recv(vp->api, vp->buf, &m, &err);
	if (rc == -EAGAIN)
		return 0;
	if (rc == -EPIPE || rc == -ECONNRESET) {
		monitor_gone(vp, "the monitor went away without saying why");
		return -EPIPE;
	}
	if (rc) {
		monitor_gone(vp, err.text);
		return -EPIPE;
	}
	struct vmproc_event ev = {0};
	switch (m.type) {
	case VMMAPI_CREATED:
		ev.kind = VMPROC_EV_CREATED;
		ev.boot = m.created.boot;
		ev.t_ns = m.created.t_ns;
		ev.t_exec_ns = m.created.t_exec;
		copy_why(ev.why, m.created.why);
		break;
	case VMMAPI_STARTED:
		ev.kind = VMPROC_EV_STARTED;
		ev.t_ns = m.started.t_ns;
		break;
	case VMMAPI_STOPPED:
		ev.kind = VMPROC_EV_STOPPED;
		ev.reason = m.stopped.reason;
		ev.t_ns = m.stopped.t_ns;
		copy_why(ev.why, m.stopped.why);
		break;
	case VMMAPI_RESULT:
	case VMMAPI_COUNTERS:
		*res = m;
		return 1;
	default:
		monitor_gone(vp, "it sent a request, not an event");
		return -EPIPE;
	}
	push(vp, &ev);
	return 0;
}

/* What hull-vmm's jail holds: every file and directory cfg names, the
 * disk o will attach, the KVM device (and the tun device for a tap NIC);
 * with a tap it stays in the host's network namespace. */
static int monitor_jail(const struct vmmapi_config *cfg, const struct vmproc_opts *o,
			struct jail_path *p, struct jail_spec *js, char **sockdir,
			struct errmsg *err)
{
	unsigned n = 0;
	*sockdir = NULL;
	if (cfg->kernel)
		p[n++] = (struct jail_path){.path = cfg->kernel, .rw = false};
	if (cfg->initrd)
		p[n++] = (struct jail_path){.path = cfg->initrd, .rw = false};
	for (uint32_t i = 0; i < cfg->ndisks && i < VMMAPI_MAX_DISKS; i++)
		if (cfg->disks[i].path)
			p[n++] = (struct jail_path){.path = cfg->disks[i].path,
						    .rw = !cfg->disks[i].read_only};
	if (o && o->attach_path)
		p[n++] = (struct jail_path){.path = o->attach_path,
					    .rw = cfg->ndisks == 0 || !cfg->disks[0].read_only};
	for (uint32_t i = 0; i < cfg->nvolumes && i < VMMAPI_MAX_VOLUMES; i++)
		p[n++] = (struct jail_path){.path = cfg->volumes[i].host_dir,
					    .rw = !cfg->volumes[i].read_only};
	if (cfg->vsock_uds) {
		/* the monitor makes its socket there and connects to the
		 * runtime's */
		if (!(*sockdir = strdup(cfg->vsock_uds)))
			return errmsg_set(err, -ENOMEM, "out of memory");
		p[n++] = (struct jail_path){.path = dirname(*sockdir), .rw = true};
	}
	if (cfg->template_root) {
		int rc = fileutil_mkdirs(cfg->template_root, 0755);
		if (rc)
			return errmsg_set(err, rc, "template directory %s: %s", cfg->template_root,
					  strerror(-rc));
		p[n++] = (struct jail_path){.path = cfg->template_root, .rw = true};
	}
	*js = (struct jail_spec){.paths = p,
				 .npaths = n,
				 .kvm_dev = cfg->kvm_dev ? cfg->kvm_dev : "/dev/kvm",
				 .tun = cfg->net_mode == VMMAPI_NET_TAP,
				 .host_net = cfg->net_mode == VMMAPI_NET_TAP,
				 .proc = true};
	return 0;
}

int vmproc_spawn(const struct vmmapi_config *cfg, const struct vmproc_opts *o, struct vmproc **out,
		 struct errmsg *err)
{
	struct jail_path jp[JAIL_MAX_PATHS];
	struct jail_spec js;
	char *sockdir = NULL;
	int sv[2] = {-1, -1}, cp[2] = {-1, -1}, in[2] = {-1, -1}, net = -1, prof = -1;
	char *path = vmproc_monitor_path();
	struct vmproc *vp = calloc(1, sizeof(*vp));
	int rc = 0;
	if (!path || !vp || !(vp->buf = malloc(VMMAPI_RECV_BUF))) {
		rc = errmsg_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	vp->api = vp->console = -1;
	vp->pid = vp->netd = -1;
	if (access(path, X_OK)) {
		rc = errmsg_set(err, -errno, "the VM monitor %s: %s (build hull, or set HULL_VMM)",
				path, strerror(errno));
		goto fail;
	}
	if (cfg->ndisks > VMMAPI_MAX_DISKS || cfg->nvolumes > VMMAPI_MAX_VOLUMES) {
		rc = errmsg_set(err, -EINVAL, "the VM's config exceeds what hull-vmm takes");
		goto fail;
	}
	if ((rc = monitor_jail(cfg, o, jp, &js, &sockdir, err)))
		goto fail;
	/* a developer's switch (bench/guestops -P): the guest's RIPs sampled
	 * into this file, opened here with the caller's rights because the
	 * jailed monitor sees no host path */
	const char *pf = getenv("HULL_VMM_PROFILE");
	if (pf && *pf &&
	    (prof = open(pf, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		rc = errmsg_set(err, -errno, "HULL_VMM_PROFILE %s: %s", pf, strerror(errno));
		goto fail;
	}
	/* one cgroup for the VM's helpers: guest RAM plus what the monitor
	 * and the network helper use besides */
	const char *no_cg;
	struct jail_limits lim = {.mem_bytes = cfg->mem_bytes + VMPROC_MEM_OVERHEAD,
				  .cpu_milli = o ? o->cpu_quota_milli : 0,
				  .pids = VMPROC_PIDS_MAX};
	if ((rc = jail_cgroup_create(&vp->cg, &lim, &no_cg, err)))
		goto fail;
	/* the network helper first: its published ports are bound (or
	 * refused) before the monitor exists */
	if (cfg->net_mode == VMMAPI_NET_SLIRP &&
	    (rc = netd_spawn(cfg, vp->cg, &vp->netd, &net, err)))
		goto fail;
	/* stdin: a pipe without a writer (reads see EOF), not /dev/null,
	 * which the host's /dev may lack */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) || pipe2(cp, O_CLOEXEC) ||
	    pipe2(in, O_CLOEXEC)) {
		rc = errmsg_set(err, -errno, "socketpair/pipe: %s", strerror(errno));
		goto fail;
	}
	close(in[1]);
	in[1] = -1;
	/* fds 3, 4, then the optional ones in this order from 5 */
	const char *argv[12] = {"hull-vmm", "--api-fd", "3",	  "--console-fd",
				"4",	    "--jail",	JAIL_ROOT};
	unsigned na = 7, nfd = 2;
	int fds[4] = {sv[1], cp[1]};
	static const char *const fdnum[] = {"5", "6"};
	if (net >= 0) {
		argv[na++] = "--net-fd";
		argv[na++] = fdnum[nfd - 2];
		fds[nfd++] = net;
	}
	if (prof >= 0) {
		argv[na++] = "--profile-fd";
		argv[na++] = fdnum[nfd - 2];
		fds[nfd++] = prof;
	}
	pid_t pid = spawn_jailed(&js, vp->cg, path, (char *const *)argv, in[0], fds, nfd, err);
	if (pid < 0) {
		rc = (int)pid;
		goto fail;
	}
	free(sockdir);
	sockdir = NULL;
	vp->pid = pid;
	close(sv[1]);
	close(cp[1]);
	close(in[0]);
	/* only the monitor holds it now: its exit is the helper's hangup */
	if (net >= 0)
		close(net);
	if (prof >= 0)
		close(prof);
	vp->api = sv[0];
	vp->console = cp[0];
	fcntl(vp->console, F_SETFL, O_NONBLOCK);
	free(path);
	path = NULL;
	struct vmmapi_msg m = {.type = VMMAPI_CONFIG, .config = *cfg};
	rc = vmmapi_send(vp->api, &m, err);
	fcntl(vp->api, F_SETFL, O_NONBLOCK);
	if (rc) {
		vmproc_free(vp);
		return rc;
	}
	*out = vp;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (cp[i] >= 0)
			close(cp[i]);
		if (in[i] >= 0)
			close(in[i]);
	}
	if (net >= 0)
		close(net);
	if (prof >= 0)
		close(prof);
	if (vp && vp->netd > 0) {
		/* its socket is closed: it exits; a stuck one is killed */
		reap_pid(vp->netd);
	}
	if (vp) {
		jail_cgroup_remove(vp->cg);
		free(vp->buf);
	}
	free(vp);
	free(path);
	free(sockdir);
	return rc;
}

int vmproc_fd(const struct vmproc *vp)
{
	return vp->api;
}

int vmproc_console_fd(const struct vmproc *vp)
{
	return vp->console;
}

pid_t vmproc_pid(const struct vmproc *vp)
{
	return vp->pid;
}

int vmproc_cgroup_dirs(const struct vmproc *vp, struct cgstats_dirs *out)
{
	return jail_cgroup_dirs(vp->cg, out);
}

static int take_event(struct vmproc *vp, struct vmproc_event *ev)
{
	*ev = vp->q[0];
	memmove(vp->q, vp->q + 1, (vp->nq - 1) * sizeof(vp->q[0]));
	vp->nq--;
	return 1;
}

int vmproc_next_event(struct vmproc *vp, struct vmproc_event *ev, struct errmsg *err)
{
	(void)err;
	if (vp->nq)
		return take_event(vp, ev);
	struct vmmapi_msg res;
	for (;;) {
		int rc = pump(vp, &res);
		if (vp->nq)
			return take_event(vp, ev);
		if (rc == 0 || rc == -EPIPE)
			return 0;
		/* rc == 1: a RESULT nobody waits for: a broken monitor */
		monitor_gone(vp, "it answered a request nobody made");
	}
}

/* Send one request and wait for its answer, queueing events meanwhile:
 * RESULT, or for GET_COUNTERS the COUNTERS into *ans (a RESULT then is a
 * failure). */
static int request(struct vmproc *vp, const struct vmmapi_msg *req, struct vmmapi_msg *ans,
		   struct errmsg *err)
{
	if (vp->stopped)
		return errmsg_set(err, -ESHUTDOWN, "the VM has stopped");
	int rc = vmmapi_send(vp->api, req, err);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		monitor_gone(vp, "the monitor went away without saying why");
		return errmsg_set(err, -ESHUTDOWN, "the VM has stopped");
	}
	if (rc)
		return rc;
	for (;;) {
		struct vmmapi_msg res;
		rc = pump(vp, &res);
		if (rc == 1) {
			if (res.type == VMMAPI_COUNTERS && req->type == VMMAPI_GET_COUNTERS) {
				*ans = res;
				return 0;
			}
			if (res.type != VMMAPI_RESULT || res.result.op != req->type) {
				monitor_gone(vp, "it answered another request");
				return errmsg_set(err, -EPROTO,
						  "hull-vmm answered another request");
			}
			if (res.result.err) {
				char why[VMPROC_WHY_MAX];
				copy_why(why, res.result.text);
				return errmsg_set(err, res.result.err, "%s",
						  why[0] ? why : strerror(-res.result.err));
			}
			return 0;
		}
		if (rc < 0 || vp->stopped)
			return errmsg_set(err, -ESHUTDOWN, "the VM has stopped");
		struct pollfd p = {.fd = vp->api, .events = POLLIN};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return errmsg_set(err, -errno, "poll: %s", strerror(errno));
	}
}

int vmproc_save_template(struct vmproc *vp, struct errmsg *err)
{
	struct vmmapi_msg m = {.type = VMMAPI_SAVE_TEMPLATE};
	return request(vp, &m, NULL, err);
}

int vmproc_attach_disk(struct vmproc *vp, unsigned index, const char *path, struct errmsg *err)
{
	struct vmmapi_msg m = {.type = VMMAPI_ATTACH_DISK};
	m.attach.index = index;
	m.attach.path = path;
	return request(vp, &m, NULL, err);
}

int vmproc_pause(struct vmproc *vp, struct errmsg *err)
{
	struct vmmapi_msg m = {.type = VMMAPI_PAUSE};
	return request(vp, &m, NULL, err);
}

int vmproc_resume(struct vmproc *vp, struct errmsg *err)
{
	struct vmmapi_msg m = {.type = VMMAPI_RESUME};
	return request(vp, &m, NULL, err);
}

int vmproc_counters(struct vmproc *vp, struct vmmapi_counters *out, struct errmsg *err)
{
	struct vmmapi_msg m = {.type = VMMAPI_GET_COUNTERS}, ans;
	int rc = request(vp, &m, &ans, err);
	if (!rc)
		*out = ans.counters;
	return rc;
}

int vmproc_stop(struct vmproc *vp)
{
	if (vp->stopped)
		return 0;
	struct vmmapi_msg m = {.type = VMMAPI_STOP};
	int rc = vmmapi_send(vp->api, &m, NULL);
	return rc == -EAGAIN ? 0 : rc; /* a full socket: the monitor is busy, not gone */
}

int vmproc_reap(struct vmproc *vp, int *wstatus)
{
	if (!vp->reaped && vp->pid > 0) {
		/* STOP, then the hangup: a monitor that stopped talking (or
		 * lied) still sees that nobody wants its VM any more */
		struct vmmapi_msg m = {.type = VMMAPI_STOP};
		vmmapi_send(vp->api, &m, NULL);
		shutdown(vp->api, SHUT_WR);
		uint64_t deadline = clock_now_ns() + (uint64_t)VMPROC_REAP_TIMEOUT_MS * 1000000;
		int ws;
		pid_t r;
		while ((r = waitpid(vp->pid, &ws, WNOHANG)) == 0) {
			if (clock_now_ns() > deadline) {
				kill(vp->pid, SIGKILL);
				r = waitpid(vp->pid, &ws, 0);
				break;
			}
			/* the monitor exits within ms of STOPPED; until then
			 * read what it sends, so it never blocks on us */
			struct vmmapi_msg res;
			if (!vp->stopped)
				pump(vp, &res);
			nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
		}
		vp->reaped = true;
		vp->wstatus = r == vp->pid ? ws : -1;
	}
	if (vp->netd > 0) {
		/* the monitor's exit hung up the helper's socket: it exits */
		reap_pid(vp->netd);
		vp->netd = -1;
	}
	if (vp->reaped) {
		/* both are gone: so goes their cgroup */
		jail_cgroup_remove(vp->cg);
		vp->cg = NULL;
	}
	if (wstatus)
		*wstatus = vp->reaped ? vp->wstatus : -1;
	return 0;
}

void vmproc_free(struct vmproc *vp)
{
	if (!vp)
		return;
	vmproc_reap(vp, NULL);
	if (vp->api >= 0)
		close(vp->api);
	if (vp->console >= 0)
		close(vp->console);
	free(vp->buf);
	free(vp);
}
