/* runtime: the API of runtime.h over the session loop (session.c), the
 * supervisor (supervisor.c) and the state (state.c). */
#include "runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/clock.h"
#include "runtime/session.h"
#include "runtime/supervisor.h"
#include "runtime/vsock_host.h"

#define EXEC_CONNECT_TIMEOUT_MS 10000

struct rt_container {
	struct rt_session s;
	struct hcp_spec spec;
	struct vmm_config vc; /* the VM: disks, volumes, NIC */
	char *rootfs, *kernel, *initrd, *template_root, *uds;
	uint32_t cpu_quota_milli;
	struct supervisor *sup;
	bool stdin_open, tty, debug;
	bool waited;
	int status;
	char error[1024]; /* why the container has no exit status, or "" */
};

struct rt_exec {
	struct rt_session s;
	struct hcp_spec spec;
};

static void random_hostname(char out[13])
{
	uint8_t r[6] = {0};
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		memset(r, 0x5a, sizeof(r)); /* not a secret, only a default name */
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

static char **strv_dup(char *const *v, size_t n)
{
	char **out = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(v[i]))) {
			while (i--)
				free(out[i]);
			free(out);
			return NULL;
		}
	return out;
}

/* The process part of an hcp spec (proto/hcp.h), copied. */
static int process_spec(const struct rt_process *p, bool exec, struct hcp_spec *out,
			struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	if (!p->argc)
		return errmsg_set(err, -EINVAL, "no command to run");
	out->argv = strv_dup(p->argv, p->argc);
	out->argc = p->argc;
	out->envp = strv_dup(p->env, p->n_env);
	out->envc = p->n_env;
	out->tty = p->tty;
	int rc = !out->argv || !out->envp ? -ENOMEM : 0;
	const char *cwd = p->cwd ? p->cwd : exec ? NULL : "/";
	if (!rc && cwd && !(out->cwd = strdup(cwd)))
		rc = -ENOMEM;
	if (!rc && p->user && !(out->user = strdup(p->user)))
		rc = -ENOMEM;
	if (rc)
		return errmsg_set(err, rc, "out of memory");
	if (p->n_ulimits && !exec)
		return errmsg_set(
		    err, -EINVAL,
		    "a container's rlimits are its confinement's (rt_confine.ulimits)");
	if (p->n_ulimits > HCP_MAX_ULIMITS)
		return errmsg_set(err, -EINVAL, "%zu rlimits; at most %d", p->n_ulimits,
				  HCP_MAX_ULIMITS);
	if (p->n_ulimits && !(out->ulimits = malloc(p->n_ulimits * sizeof(*out->ulimits))))
		return errmsg_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n_ulimits; i++) {
		const struct hcp_ulimit *u = &p->ulimits[i];
		if (u->resource >= HCP_RLIMIT_COUNT || u->soft > u->hard)
			return errmsg_set(err, -EINVAL,
					  "rlimit %u: not a resource, or soft %llu above hard %llu",
					  (unsigned)u->resource, (unsigned long long)u->soft,
					  (unsigned long long)u->hard);
		out->ulimits[out->n_ulimits++] = *u;
	}
	return 0;
}

static int sup_signal(void *ctx, int signo)
{
	struct rt_container *c = ctx;
	return control_signal(&c->s.ctl, signo);
}

static void sup_halt(void *ctx, int signo)
{
	session_halt(&((struct rt_container *)ctx)->s, signo);
}

static void sup_resize(void *ctx, uint16_t rows, uint16_t cols)
{
	/* a lost RESIZE only costs a redraw */
	control_resize(&((struct rt_container *)ctx)->s.ctl, rows, cols);
}

/* hull stats, through the supervisor's socket: the cgroup's figures when
 * there is one, the monitor's device counters, its pid. */
static int sup_stats(void *ctx, struct ctrstats *out)
{
	struct rt_container *c = ctx;
	*out = (struct ctrstats){0};
	out->vmm = rt_container_vmm_pid(c);
	if (!out->vmm)
		return -ESRCH;
	struct cgstats_dirs d;
	struct cgstats cg;
	if (!rt_container_cgroup_dirs(c, &d) && !cgstats_read(&d, &cg, NULL)) {
		out->has_cgroup = true;
		out->mem_usage = cg.mem_usage;
		out->mem_limit = cg.mem_limit;
		out->mem_cache = cg.mem_inactive_file;
		out->cpu_ns = cg.cpu_ns;
		out->pids = cg.pids;
	}
	out->has_counters = c->s.vm->counters && !c->s.vm->counters(c->s.vmh, &out->io, NULL);
	return 0;
}

static void container_free(struct rt_container *c)
{
	session_free(&c->s);
	control_free(&c->s.ctl);
	hcp_spec_free(&c->spec);
	if (c->s.listen_fd >= 0)
		close(c->s.listen_fd);
	free(c->rootfs);
	free(c->kernel);
	free(c->initrd);
	free(c->template_root);
	free(c->uds);
	free(c);
}

/* What the state keeps of cfg for inspect and ps (state_config.h). */
static int state_config(const struct rt_config *cfg, const struct hcp_spec *spec,
			struct runtime_config *out)
{
	memset(out, 0, sizeof(*out));
	struct runtime_config b = {
	    .env = spec->envp,
	    .n_env = spec->envc,
	    .workdir = spec->cwd,
	    .hostname = spec->hostname,
	    .cpus = cfg->cpus,
	    .mem_bytes = cfg->mem_bytes,
	    .labels = (char **)cfg->labels,
	    .n_labels = cfg->n_labels,
	    .open_stdin = cfg->process.stdin_open,
	    .tty = cfg->process.tty,
	};
	char *ip = NULL, net[64] = "none";
	struct runtime_port ports[VMM_MAX_PORTFWD];
	if (spec->net_addr && (ip = strdup(spec->net_addr)))
		ip[strcspn(ip, "/")] = '\0'; /* "10.0.2.15/24" */
	b.ip_address = ip;
	if (cfg->net && cfg->net->mode == VMM_NET_SLIRP)
		snprintf(net, sizeof(net), "slirp");
	else if (cfg->net && cfg->net->mode == VMM_NET_TAP)
		snprintf(net, sizeof(net), "tap:%s", cfg->net->tap ? cfg->net->tap : "");
	b.network = net;
	for (unsigned i = 0; cfg->net && i < cfg->net->nports && i < VMM_MAX_PORTFWD; i++) {
		const struct vmm_portfwd *p = &cfg->net->ports[i];
		ports[b.n_ports++] = (struct runtime_port){
		    .udp = p->udp,
		    .host_ip = ntohl(p->host_ip),
		    .host_port = p->host_port,
		    .guest_port = p->guest_port,
		};
	}
	b.ports = ports;
	char **binds = cfg->n_volumes ? calloc(cfg->n_volumes, sizeof(char *)) : NULL;
	int rc = cfg->n_volumes && !binds ? -ENOMEM : 0;
	for (size_t i = 0; !rc && i < cfg->n_volumes; i++, b.n_binds++) {
		const struct volume_arg *v = &cfg->volumes[i];
		if (asprintf(&binds[i], "%s:%s%s", v->host, v->guest, v->read_only ? ":ro" : "") <
		    0) {
			binds[i] = NULL;
			rc = -ENOMEM;
		}
	}
	b.binds = binds;
	if (!rc)
		rc = runtime_config_copy(out, &b);
	for (size_t i = 0; i < b.n_binds; i++)
		free(binds[i]);
	free(binds);
	free(ip);
	return rc;
}

static int copy_strs(char ***dst, size_t *nd, char *const *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char **nv = realloc(*dst, (*nd + 2) * sizeof(char *));
		if (!nv)
			return -ENOMEM;
		*dst = nv;
		if (!(nv[*nd] = strdup(src[i])))
			return -ENOMEM;
		nv[++*nd] = NULL;
	}
	return 0;
}

/* The confinement into the spec (hcp_spec_free frees it). */
static int confine_apply(const struct rt_confine *f, struct hcp_spec *s, struct errmsg *err)
{
	s->read_only = f->read_only;
	s->shm_size = f->shm_size;
	s->has_caps = f->has_caps;
	s->caps = f->caps;
	s->no_new_privs = f->no_new_privs;
	s->restart = f->restart;
	s->restart_max = f->restart_max;
	if (f->n_tmpfs > HCP_MAX_TMPFS || f->n_ulimits > HCP_MAX_ULIMITS)
		return errmsg_set(err, -EINVAL, "at most %d --tmpfs and %d --ulimit", HCP_MAX_TMPFS,
				  HCP_MAX_ULIMITS);
	if (f->n_ulimits && !(s->ulimits = malloc(f->n_ulimits * sizeof(*s->ulimits))))
		return errmsg_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < f->n_ulimits; i++)
		s->ulimits[s->n_ulimits++] = f->ulimits[i];
	if (copy_strs(&s->tmpfs, &s->n_tmpfs, f->tmpfs, f->n_tmpfs) ||
	    copy_strs(&s->net_hosts, &s->n_hosts, f->hosts, f->n_hosts))
		return errmsg_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* What the supervisor records of cfg, with config (state_config()). */
static struct supervisor_info sup_info(const struct rt_config *cfg,
				       const struct runtime_config *config)
{
	return (struct supervisor_info){
	    .name = cfg->name,
	    .image = cfg->image,
	    .digest = cfg->digest,
	    .cmd = cfg->process.argv,
	    .n_cmd = cfg->process.argc,
	    .stop_signal = cfg->stop_signal ? cfg->stop_signal : SIGTERM,
	    .stop_timeout = (int)cfg->stop_timeout,
	    .auto_remove = cfg->auto_remove,
	    .log = cfg->log,
	    .config = config,
	    .args = cfg->args,
	    .n_args = cfg->n_args,
	    .claim = cfg->claim,
	};
}

int rt_register(const struct rt_config *cfg, char id[RUNTIME_ID_LEN + 1], struct errmsg *err)
{
	struct hcp_spec spec = {0};
	struct runtime_config rc_cfg;
	int rc = process_spec(&cfg->process, false, &spec, err);
	if (rc) {
		hcp_spec_free(&spec);
		return rc;
	}
	if ((rc = state_config(cfg, &spec, &rc_cfg))) {
		hcp_spec_free(&spec);
		return errmsg_set(err, rc, "out of memory");
	}
	struct supervisor_info si = sup_info(cfg, &rc_cfg);
	si.claim = NULL;
	struct runtime_state s;
	rc = supervisor_register(&si, &s, err);
	runtime_config_free(&rc_cfg);
	hcp_spec_free(&spec);
	if (!rc) {
		memcpy(id, s.id, RUNTIME_ID_LEN + 1);
		runtime_state_free(&s);
	}
	return rc;
}

#define DUP(field, v) ((v) && !(c->field = strdup(v)) ? -ENOMEM : 0)

int rt_create(const struct rt_config *cfg, struct rt_container **out, struct errmsg *err)
{
	*out = NULL;
	struct rt_container *c = calloc(1, sizeof(*c));
	if (!c)
		return errmsg_set(err, -ENOMEM, "out of memory");
	session_init(&c->s, NULL);
	c->status = RT_EXIT_FAILED;
	int rc = process_spec(&cfg->process, false, &c->spec, err);
	char host[13];
	random_hostname(host);
	if (!rc && (DUP(rootfs, cfg->rootfs) || DUP(kernel, cfg->kernel) ||
		    DUP(initrd, cfg->initrd) || DUP(template_root, cfg->template_root) ||
		    !(c->spec.hostname = strdup(cfg->hostname ? cfg->hostname : host)) ||
		    !(c->spec.rootfs = strdup("/dev/vda"))))
		rc = errmsg_set(err, -ENOMEM, "out of memory");
	if (!rc && !cfg->vm)
		rc = errmsg_set(err, -EINVAL, "no way to run VMs configured");
	/* the VM: one disk, empty until the image is attached (a template must
	 * not have seen any one image), the volumes, the NIC */
	c->vc.kernel = c->kernel;
	c->vc.initrd = c->initrd;
	c->vc.cpus = cfg->cpus;
	c->vc.mem_bytes = cfg->mem_bytes;
	c->cpu_quota_milli = cfg->cpu_quota_milli;
	c->vc.disks[0] = (struct vmm_disk){.path = NULL, .read_only = true};
	c->vc.ndisks = 1;
	c->vc.disk_read_bps = cfg->disk_read_bps;
	c->vc.disk_write_bps = cfg->disk_write_bps;
	c->vc.disk_read_iops = cfg->disk_read_iops;
	c->vc.disk_write_iops = cfg->disk_write_iops;
	c->vc.debug = cfg->debug;
	/* guest-init's timestamped milestones on the console */
	c->vc.cmdline_extra = cfg->debug ? "hull_debug=1" : NULL;
	c->vc.nvolumes = (unsigned)cfg->n_volumes;
	if (!rc)
		rc = volume_apply(cfg->volumes, cfg->n_volumes, c->vc.volumes, &c->spec, err);
	if (!rc && cfg->net)
		rc = net_opts_apply(cfg->net, &c->vc, &c->spec, err);
	if (!rc && cfg->confine)
		rc = confine_apply(cfg->confine, &c->spec, err);
	if (!rc && control_init(&c->s.ctl, &c->spec, false, outq_send, &c->s.q))
		rc = errmsg_set(err, -EINVAL, "the container spec is too large for one message");
	if (rc) {
		hcp_spec_free(&c->spec);
		free(c->rootfs);
		free(c->kernel);
		free(c->initrd);
		free(c->template_root);
		free(c);
		return rc;
	}
	c->s.vm = cfg->vm;
	c->s.rootfs = c->rootfs;
	c->s.stop_signo = cfg->stop_signal ? cfg->stop_signal : SIGTERM;
	c->s.stop_timeout = cfg->stop_timeout;
	if (cfg->ready_timeout)
		c->s.ready_timeout = cfg->ready_timeout;
	c->s.echo_console = cfg->debug;
	c->stdin_open = cfg->process.stdin_open;
	c->tty = cfg->process.tty;
	c->debug = cfg->debug;
	struct runtime_config rc_cfg;
	if ((rc = state_config(cfg, &c->spec, &rc_cfg))) {
		container_free(c);
		return errmsg_set(err, rc, "out of memory");
	}
	struct supervisor_info si = sup_info(cfg, &rc_cfg);
	si.cmd = c->spec.argv; /* the process as the image's config completed it */
	si.n_cmd = c->spec.argc;
	si.stop_signal = c->s.stop_signo;
	rc = supervisor_create(&si, &c->sup, err);
	runtime_config_free(&rc_cfg);
	if (rc) {
		container_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

bool rt_detach(struct rt_container **cp, int *status)
{
	struct rt_container *c = *cp;
	if (!supervisor_detach(&c->sup, status))
		return false;
	container_free(c);
	*cp = NULL;
	return true;
}

const char *rt_container_id(const struct rt_container *c)
{
	return supervisor_state(c->sup)->id;
}

int rt_container_vmm_pid(const struct rt_container *c)
{
	if (!c->s.vm || !c->s.vmh || !c->s.vm->pid || c->s.vm_stopped)
		return 0;
	return c->s.vm->pid(c->s.vmh);
}

int rt_container_cgroup_dirs(const struct rt_container *c, struct cgstats_dirs *out)
{
	out->n = 0;
	if (!rt_container_vmm_pid(c) || !c->s.vm->cgroup_dirs)
		return -ENOENT;
	return c->s.vm->cgroup_dirs(c->s.vmh, out);
}

/* attachable: a container's stdin with no in_fd of the front end's, which
 * hull attach may feed through the supervisor (supervisor.h) */
static void start_io(struct rt_session *s, const struct rt_io *io, bool stdin_open, bool tty,
		     bool attachable)
{
	s->io = io;
	s->in_open = stdin_open && (attachable || (io && io->in_fd >= 0));
	control_set_stdin_open(&s->ctl, stdin_open);
	uint16_t rows, cols;
	if (tty && io && io->winsize && io->winsize(io->ctx, &rows, &cols) == 0)
		control_resize(&s->ctl, rows, cols); /* rides in the spec */
}

static int start(struct rt_container *c, const struct rt_io *io, struct errmsg *err)
{
	static const struct supervisor_ops ops = {
	    .signal = sup_signal, .halt = sup_halt, .stats = sup_stats, .resize = sup_resize};
	bool attachable = c->stdin_open && (!io || io->in_fd < 0);
	start_io(&c->s, io, c->stdin_open, c->tty, attachable);
	if (attachable)
		supervisor_stdin_attachable(c->sup);
	int rc = supervisor_listen(c->sup, &ops, c, err);
	if (rc)
		return rc;
	c->s.sup = c->sup;
	/* the VM's vsock sockets live in the container's directory; guest-init
	 * connects to host port HCP_VSOCK_PORT_CONTROL, i.e. to <uds>_1024 */
	if (!(c->uds = runtime_sock_path(supervisor_state(c->sup), RUNTIME_VSOCK_SOCK)))
		return errmsg_set(err, -ENOMEM, "out of memory");
	if ((c->s.listen_fd = vsock_host_listen(c->uds, HCP_VSOCK_PORT_CONTROL, err)) < 0) {
		rc = c->s.listen_fd;
		c->s.listen_fd = -1;
		return rc;
	}
	c->vc.vsock_uds = c->uds;
	struct vmhost_spawn sp = {.template_root = c->template_root,
				  .attach_path = c->rootfs,
				  .cpu_quota_milli = c->cpu_quota_milli};
	if ((rc = c->s.vm->spawn(&c->vc, &sp, &c->s.vmh, err)))
		return rc;
	return session_run(&c->s, true);
}

int rt_start(struct rt_container *c, const struct rt_io *io, struct errmsg *err)
{
	int rc = start(c, io, err);
	if (rc && err) /* the state records why */
		snprintf(c->error, sizeof(c->error), "%s", err->text);
	return rc;
}

int rt_wait(struct rt_container *c)
{
	if (c->waited)
		return c->status;
	c->waited = true;
	if (!c->s.vmh)
		return c->status; /* never started */
	session_run(&c->s, false);
	int code;
	if (control_exit_status(&c->s.ctl, &code)) {
		c->status = code;
		/* guest-init's word on how the running container ended (its
		 * process killed by the guest's OOM killer): the state keeps
		 * it (inspect's Error) */
		if (c->s.ctl.started && c->s.ctl.text[0])
			snprintf(c->error, sizeof(c->error), "%s", c->s.ctl.text);
	} else if (c->s.killed_by) {
		c->status = 128 + c->s.killed_by;
	} else if (c->s.ready_expired) {
		snprintf(c->error, sizeof(c->error),
			 "guest-init did not report ready within %u s (the guest never came up); "
			 "the VM was stopped",
			 c->s.ready_timeout);
		session_diag(&c->s, "hull: %s (--ready-timeout)\n", c->error);
		session_console_dump(&c->s);
	} else {
		const struct vmhost_event *ev = &c->s.stopped;
		const char *reason = ev->reason ? ev->reason : "unknown", *why = ev->why;
		/* panic=-1: a guest kernel panic resets the machine at once;
		 * the console's panic line says why (init killed, no root...)
		 * better than the reset does */
		char panic[200], preason[sizeof(panic) + 40];
		if (ev->guest_reset && session_console_panic(&c->s, panic, sizeof(panic))) {
			snprintf(preason, sizeof(preason), "the guest kernel panicked: %s", panic);
			reason = preason;
			why = "";
		}
		/* the why goes to the state too: `hull ps` and inspect show it */
		snprintf(c->error, sizeof(c->error),
			 "the VM stopped (%s%s%.400s) before the container reported an exit status",
			 reason, why[0] ? ": " : "", why);
		/* and to the container's log: `hull logs` of a container that
		 * ended this way (a seccomp violation, a crash) says why */
		if (c->sup) {
			char line[sizeof(c->error) + 8];
			int n = snprintf(line, sizeof(line), "hull: %s\n", c->error);
			if (n > 0)
				supervisor_output(c->sup, 2, (const uint8_t *)line,
						  (size_t)n < sizeof(line) ? (size_t)n
									   : sizeof(line) - 1);
		}
		const char *f = control_failed(&c->s.ctl);
		session_diag(&c->s,
			     "hull: the VM stopped (%s%s%s) before the container reported an exit "
			     "status%s%s\n",
			     reason, why[0] ? ": " : "", why, f ? "; control channel: " : "",
			     f ? f : "");
		session_console_dump(&c->s);
	}
	return c->status;
}

const struct rt_timings *rt_container_timings(const struct rt_container *c)
{
	struct rt_timings *t = (struct rt_timings *)&c->s.t;
	t->ready = c->s.ctl.t_ready;
	t->started = c->s.ctl.t_started;
	t->exited = c->s.ctl.t_exit;
	if (!t->boot)
		t->boot = "cold boot";
	return t;
}

void rt_close(struct rt_container *c)
{
	if (!c)
		return;
	if (c->s.vm && c->s.vmh)
		c->s.vm->release(c->s.vmh);
	c->s.vmh = NULL;
	/* the state records the end, or auto_remove removes it */
	if (c->sup)
		supervisor_finish(c->sup, c->s.ctl.started, c->status,
				  c->error[0] ? c->error : NULL);
	container_free(c);
}

/* ---- exec ---- */

int rt_exec_start(const char *ref, const struct rt_process *p, const struct rt_io *io,
		  struct rt_exec **out, struct errmsg *err)
{
	*out = NULL;
	struct rt_exec *x = calloc(1, sizeof(*x));
	if (!x)
		return errmsg_set(err, -ENOMEM, "out of memory");
	session_init(&x->s, NULL);
	char *sock = NULL;
	/* a container's name or id (runtime/state.h); a path: the VM's socket */
	int rc = strchr(ref, '/') ? 0 : runtime_running_sock(ref, &sock, err);
	if (!rc)
		rc = process_spec(p, true, &x->spec, err);
	if (!rc) {
		int fd = vsock_host_connect(sock ? sock : ref, HCP_VSOCK_PORT_EXEC,
					    EXEC_CONNECT_TIMEOUT_MS, err);
		if (fd < 0)
			rc = fd;
		else
			outq_reset(&x->s.q, fd);
	}
	free(sock);
	if (!rc && control_init(&x->s.ctl, &x->spec, true, outq_send, &x->s.q))
		rc = errmsg_set(err, -EINVAL, "the command is too large for one message");
	if (rc) {
		session_free(&x->s);
		hcp_spec_free(&x->spec);
		free(x);
		return rc;
	}
	start_io(&x->s, io, p->stdin_open, p->tty, false);
	if (control_assume_ready(&x->s.ctl)) {
		rt_exec_free(x);
		return errmsg_set(err, -EIO, "cannot send the command to the guest");
	}
	*out = x;
	return 0;
}

int rt_exec_wait(struct rt_exec *x)
{
	session_run(&x->s, false);
	int code;
	const char *f = control_failed(&x->s.ctl);
	if (control_exit_status(&x->s.ctl, &code))
		return code;
	if (f)
		session_diag(&x->s, "hull: exec: %s\n", f);
	else
		session_diag(&x->s, "hull: exec: the session ended without an exit status%s%s\n",
			     x->s.q.error ? ": " : " (did the container stop?)",
			     x->s.q.error ? strerror(-x->s.q.error) : "");
	return RT_EXIT_FAILED;
}

void rt_exec_free(struct rt_exec *x)
{
	if (!x)
		return;
	session_free(&x->s);
	control_free(&x->s.ctl);
	hcp_spec_free(&x->spec);
	free(x);
}

/* ---- other processes' containers ---- */

static int lookup(const char *ref, struct runtime_state *s, struct errmsg *err)
{
	char *root;
	int rc = runtime_root(&root, err);
	if (rc)
		return rc;
	rc = runtime_lookup(root, ref, s, err);
	free(root);
	return rc;
}

static bool supervised(const struct runtime_state *s)
{
	enum runtime_status st = runtime_status_eff(s, NULL);
	/* hull create's containers have no supervisor until hull start */
	return s->monitor_pid && (st == RUNTIME_CREATED || st == RUNTIME_RUNNING);
}

static int request(const struct runtime_state *s, const char *verb, int arg, struct errmsg *err)
{
	char req[32];
	snprintf(req, sizeof(req), "%s %d", verb, arg);
	return supervisor_call(s, req, err);
}

int rt_stats(const struct runtime_state *s, struct ctrstats *out, struct errmsg *err)
{
	if (runtime_status_eff(s, NULL) != RUNTIME_RUNNING || !s->monitor_pid)
		return errmsg_set(err, -ESRCH, "container %s: not running", s->name);
	return supervisor_stats(s, out, err);
}

int rt_kill(const char *ref, int signo, struct errmsg *err)
{
	struct runtime_state s;
	int rc = lookup(ref, &s, err);
	if (rc)
		return rc;
	if (!supervised(&s))
		rc = errmsg_set(err, -EINVAL, "cannot kill container %s: it is not running", ref);
	else
		rc = request(&s, "kill", signo, err);
	runtime_state_free(&s);
	return rc;
}

int rt_stop(const char *ref, int timeout_s, struct errmsg *err)
{
	struct runtime_state s;
	int rc = lookup(ref, &s, err);
	if (rc)
		return rc;
	if (supervised(&s) && !(rc = request(&s, "stop", timeout_s, err)))
		supervisor_wait(&s, -1);
	runtime_state_free(&s);
	return rc;
}

int rt_delete(const char *ref, bool force, struct errmsg *err)
{
	struct runtime_state s;
	int rc = lookup(ref, &s, err);
	if (rc)
		return rc;
	if (supervised(&s)) {
		if (!force)
			rc = errmsg_set(err, -EBUSY,
					"cannot remove container %s: it is running (stop it first, "
					"or use rm -f)",
					ref);
		else if (!(rc = request(&s, "kill", SIGKILL, err)))
			supervisor_wait(&s, -1);
	}
	if (!rc && (rc = runtime_remove(&s)))
		errmsg_set(err, rc, "cannot remove %s: %s", s.dir, strerror(-rc));
	runtime_state_free(&s);
	return rc;
}

int rt_inspect(const char *ref, struct runtime_state *s, struct errmsg *err)
{
	return lookup(ref, s, err);
}

int rt_list(int (*fn)(void *ctx, struct runtime_state *s), void *ctx, struct errmsg *err)
{
	char *root;
	int rc = runtime_root(&root, err);
	if (rc)
		return rc;
	rc = runtime_list(root, fn, ctx);
	free(root);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		errmsg_set(err, rc, "%s", strerror(-rc));
	return rc;
}
