/* run: `hull run [OPTIONS] IMAGE [COMMAND [ARG...]]` over the runtime
 * (runtime/runtime.h): the options, the image (pulled and converted,
 * cached), docker's override rules, then create, start, wait. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/attach.h"
#include "cli/imgopt.h"
#include "cli/opts.h"
#include "common/clock.h"
#include "common/fileutil.h"
#include "common/size.h"
#include "images/image.h"
#include "runtime/imageref.h"
#include "runtime/net_opts.h"
#include "runtime/paths.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"
#include "runtime/spec_flags.h"
#include "runtime/stop.h"
#include "runtime/template.h"
#include "runtime/volume.h"
#include "netd/net_slirp.h"

#define DEFAULT_MEM "128M"
#define MAX_CPUS 8

enum {
	O_CPUS = 256,
	O_ENTRYPOINT,
	O_KERNEL,
	O_INITRD,
	O_ROOT,
	O_TIMINGS,
	O_DEBUG,
	O_HOSTNAME,
	O_NO_SNAPSHOT,
	O_PULL,
	O_INSECURE,
	O_MAX_IMAGE_SIZE,
	O_STOP_SIGNAL,
	O_STOP_TIMEOUT,
	O_NAME,
	O_RM,
	O_NETWORK,
	O_DNS,
	O_INIT,
	O_LOG_OPT,
	O_ENV_FILE,
	O_CIDFILE,
	O_READ_ONLY,
	O_TMPFS,
	O_ADD_HOST,
	O_MOUNT,
	O_ULIMIT,
	O_SHM_SIZE,
	O_PLATFORM,
	O_RESTART,
	O_PRIVILEGED,
	O_CAP_ADD,
	O_CAP_DROP,
	O_SECURITY_OPT,
	O_READY_TIMEOUT,
	O_READ_BPS,
	O_WRITE_BPS,
	O_READ_IOPS,
	O_WRITE_IOPS,
	O_NET_RX_BPS,
	O_NET_TX_BPS,
	O_NET_RX_PPS,
	O_NET_TX_PPS,
};

static const struct opt run_opts[] = {
    {O_CPUS, 0, "cpus", "N",
     "vCPUs (default 1, at most 8); docker's --cpus is a CPU\n"
     "quota: a whole N means N vCPUs here (the guest sees N\n"
     "CPUs), a fraction F means ceil(F) vCPUs held to F CPUs\n"
     "of time by the VM's cgroup (as root only)"},
    {'m', 'm', "memory", "SIZE", "guest memory, e.g. 256M, 1G (default " DEFAULT_MEM ")"},
    {'e', 'e', "env", "KEY[=VALUE]", "set an environment variable (KEY alone: take hull's)"},
    {O_ENV_FILE, 0, "env-file", "FILE",
     "read variables from FILE, a KEY=VALUE or KEY a line\n"
     "('#' comments; values verbatim); -e wins over it"},
    {'l', 'l', "label", "KEY[=VALUE]", "set a label on the container (ps, inspect)"},
    {'w', 'w', "workdir", "DIR", "working directory inside the container"},
    {'u', 'u', "user", "USER[:GROUP]", "user (name or uid) and group to run as"},
    {'v', 'v', "volume", "HOSTDIR:DIR[:OPTS]",
     "share a host directory at DIR (repeatable); OPTS:\n"
     "ro, rw. Files the container creates or chowns get\n"
     "HOSTDIR's owner, setuid bits are cleared;\n"
     "passthrough-owners is refused (the jailed monitor has\n"
     "no CAP_CHOWN/CAP_FOWNER to keep owners). HOSTDIR\n"
     "may hold no symlink"},
    {O_MOUNT, 0, "mount", "type=bind|tmpfs,...",
     "docker's --mount: type=bind,source=HOSTDIR,target=DIR\n"
     "[,readonly] is a -v volume; type=tmpfs,target=DIR\n"
     "[,tmpfs-size=N][,tmpfs-mode=OCTAL] is a --tmpfs"},
    {O_TMPFS, 0, "tmpfs", "DIR[:OPTS]",
     "a tmpfs at DIR in the guest; OPTS: size=, mode=, uid=,\n"
     "gid=, nr_inodes=, ro, exec, suid, dev (default rw,\n"
     "noexec, nosuid, nodev, as docker)"},
    {O_READ_ONLY, 0, "read-only", NULL,
     "the container's root filesystem is read-only (volumes\n"
     "and tmpfs mounts keep their own mode)"},
    {O_SHM_SIZE, 0, "shm-size", "SIZE", "size of /dev/shm (default: half the guest memory)"},
    {O_ULIMIT, 0, "ulimit", "NAME=SOFT[:HARD]",
     "a resource limit of the container's processes (nofile,\n"
     "nproc, core, stack, ...; -1: unlimited)"},
    {'i', 'i', "interactive", NULL,
     "forward stdin to the container (else it reads /dev/null);\n"
     "with -d its stdin stays open for hull attach"},
    {'t', 't', "tty", NULL,
     "run the container on a pseudo-terminal (stdout and\n"
     "stderr merge); with -i the host terminal goes raw. No\n"
     "detach keys in the foreground (this process is the VM's\n"
     "supervisor): -d -it, then hull attach, has them"},
    {O_INIT, 0, "init", NULL,
     "accepted for docker's sake: the VM's init (guest-init)\n"
     "already reaps zombies and forwards signals to the container"},
    {O_STOP_SIGNAL, 0, "stop-signal", "SIG",
     "signal that stops the container on SIGTERM to hull\n"
     "(default: the image's StopSignal, else SIGTERM)"},
    {O_STOP_TIMEOUT, 0, "stop-timeout", "N",
     "seconds from the stop signal to SIGKILL (default 10)"},
    {O_ENTRYPOINT, 0, "entrypoint", "CMD", "override the image's entrypoint ('' clears it)"},
    {O_HOSTNAME, 0, "hostname", "NAME", "container hostname (default: a random id)"},
    {O_NETWORK, 0, "network", "MODE",
     "slirp (default: user-mode, rootless; the host's\n"
     "loopback is closed to the container),\n"
     "slirp,host-loopback=on (10.0.2.2:P reaches the\n"
     "host's 127.0.0.1:P), none, or tap:NAME (an\n"
     "existing tap device)"},
    {'p', 'p', "publish", "[IP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]",
     "publish a container port on the host (slirp;\n"
     "IP defaults to 0.0.0.0)"},
    {O_DNS, 0, "dns", "IP", "nameserver for the container's /etc/resolv.conf"},
    {O_ADD_HOST, 0, "add-host", "NAME:IP",
     "add NAME to the guest's /etc/hosts (IP host-gateway:\n"
     "the host, with slirp)"},
    {O_PRIVILEGED, 0, "privileged", NULL,
     "every capability for the container's processes in the\n"
     "guest (the VM stays the boundary: no host device or\n"
     "host privilege comes with it)"},
    {O_CAP_ADD, 0, "cap-add", "CAP",
     "add a capability to the container's processes in the\n"
     "guest (default: docker's set; ALL: every one)"},
    {O_CAP_DROP, 0, "cap-drop", "CAP", "drop a capability (ALL: every one)"},
    {O_SECURITY_OPT, 0, "security-opt", "OPT",
     "no-new-privileges (the container's processes cannot\n"
     "gain privileges by exec); seccomp=unconfined,\n"
     "apparmor=unconfined, label=disable are accepted: the\n"
     "guest loads no seccomp profile and has no LSM"},
    {O_KERNEL, 0, "kernel", "PATH", "guest kernel (default: the bundled vmlinux)"},
    {O_INITRD, 0, "initrd", "PATH", "guest init initramfs (default: the bundled one)"},
    {O_ROOT, 0, "root", "DIR", "hull's state directory (default /var/lib/hull)"},
    {O_NO_SNAPSHOT, 0, "no-snapshot", NULL, "boot cold: neither use nor make a template"},
    {O_MAX_IMAGE_SIZE, 0, "max-image-size", "SIZE", IMGOPT_MAX_SIZE_TEXT},
    {O_PULL, 0, "pull", "POLICY", "missing (default), always or never"},
    {'q', 'q', "quiet", NULL, "no pull progress"},
    {O_PLATFORM, 0, "platform", "linux/amd64",
     "accepted for docker's sake: the only platform hull runs"},
    {O_INSECURE, 0, "insecure-registry", "H", "allow plain HTTP for registry H (host[:port])"},
    {O_TIMINGS, 0, "timings", NULL, "print where the time went, on stderr"},
    {O_READ_BPS, 0, "device-read-bps", "[/dev/vda:]RATE",
     "limit reads from the image disk, bytes per second\n"
     "(e.g. 10M; token bucket, one second of burst)"},
    {O_WRITE_BPS, 0, "device-write-bps", "[/dev/vda:]RATE",
     "limit writes to the image disk, bytes per second"},
    {O_READ_IOPS, 0, "device-read-iops", "[/dev/vda:]N", "limit read requests per second"},
    {O_WRITE_IOPS, 0, "device-write-iops", "[/dev/vda:]N", "limit write requests per second"},
    {O_NET_RX_BPS, 0, "network-rx-bps", "RATE",
     "limit what the container receives, bytes per second\n"
     "(e.g. 1M; token bucket, one second of burst; needs a\n"
     "NIC: not with --network none)"},
    {O_NET_TX_BPS, 0, "network-tx-bps", "RATE", "limit what the container sends, bytes per second"},
    {O_NET_RX_PPS, 0, "network-rx-pps", "N", "limit the frames it receives per second"},
    {O_NET_TX_PPS, 0, "network-tx-pps", "N", "limit the frames it sends per second"},
    {O_READY_TIMEOUT, 0, "ready-timeout", "N",
     "seconds for the guest to come up (guest-init ready)\n"
     "before the run fails with 125 (default 1200)"},
    {O_DEBUG, 0, "debug", NULL,
     "show the guest console, guest-init milestones and VMM\n"
     "events on stderr"},
    {O_NAME, 0, "name", "NAME", "name the container (default: a generated one)"},
    {O_LOG_OPT, 0, "log-opt", "KEY=VALUE",
     "the container log's cap (hull logs): max-size=SIZE\n"
     "per file (default 10m; -1: none), max-file=N files\n"
     "kept (default 3, rotated); repeatable"},
    {'d', 'd', "detach", NULL, "run in the background and print the container id"},
    {O_RM, 0, "rm", NULL, "remove the container when it ends"},
    {O_CIDFILE, 0, "cidfile", "FILE", "write the container id to FILE (which must not exist)"},
    {O_RESTART, 0, "restart", "POLICY",
     "no (default), on-failure[:N], always, unless-stopped:\n"
     "guest-init starts the process again in the same VM\n"
     "(same root filesystem, no new boot), after 0.1 s,\n"
     "doubling to 1.6 s; never after hull stop or kill;\n"
     "unless-stopped is always (hull has no daemon)"},
    {0},
};

const struct cmd_opts run_cmd_opts = {
    .name = "run",
    .synopsis = "[OPTIONS] IMAGE [COMMAND [ARG...]]",
    .about = "Run a command in a new container, in its own microVM.\n"
	     "IMAGE is an OCI image layout directory, an oci-archive file, or a registry\n"
	     "reference ([REGISTRY[:PORT]/]NAME[:TAG][@DIGEST]), pulled when not stored.\n",
    .opts = run_opts,
    .min_args = 1,
    .max_args = -1,
    .stop_at_arg = true,
    .footer = "The VM is the boundary between the container and the host: --privileged,\n"
	      "--cap-add, --cap-drop and --security-opt only shape what the container's\n"
	      "processes may do inside their own guest kernel.\n",
};

/* hull create: run's options, recorded; hull start boots the container */
const struct cmd_opts create_cmd_opts = {
    .name = "create",
    .synopsis = "[OPTIONS] IMAGE [COMMAND [ARG...]]",
    .about = "Create a container without booting it: the image is pulled and converted,\n"
	     "the container registered (status created) and its id printed. 'hull start'\n"
	     "boots it with these options (-d is then start's choice: see start -a).\n",
    .opts = run_opts,
    .min_args = 1,
    .max_args = -1,
    .stop_at_arg = true,
};

struct run_opts {
	unsigned cpus;
	uint32_t cpu_quota_milli; /* --cpus as a fraction: the VM's CPU quota */
	uint64_t mem;
	const char *kernel, *initrd, *root, *entrypoint, *workdir, *user, *hostname;
	const char *max_image_size; /* --max-image-size, or NULL */
	char **env;
	size_t n_env;
	struct volume_arg vols[VMM_MAX_VOLUMES];
	size_t n_vols;
	bool timings, debug, no_snapshot;
	bool interactive, tty; /* -i, -t */
	/* hull start without -a -i: the container keeps its stdin (-i) open
	 * for hull attach, and this process does not feed it */
	bool stdin_unfed;
	const char *stop_signal; /* --stop-signal, validated */
	unsigned stop_timeout;	 /* --stop-timeout, seconds */
	const char *name;	 /* lifecycle: --name, -d, --rm */
	bool detach, auto_remove;
	struct imageref_opts pull; /* IMAGE as a registry reference */
	struct net_opts net;	   /* --network, -p, --dns */
	/* docker's flags (runtime/spec_flags.h) */
	char **env_file; /* --env-file lines, as -e values (malloc'd) */
	size_t n_env_file;
	char *labels[RUNTIME_MAX_LABELS]; /* KEY=VALUE, malloc'd, keys unique */
	size_t n_labels;
	const char *cidfile;
	struct rt_confine conf;
	char *tmpfs[HCP_MAX_TMPFS]; /* malloc'd */
	struct hcp_ulimit ulimits[HCP_MAX_ULIMITS];
	char **hosts; /* --add-host values; lines made after parsing */
	size_t n_hosts;
	char **cap_add, **cap_drop;
	size_t n_cap_add, n_cap_drop;
	bool privileged;
	struct ctrlog_opts log; /* --log-opt */
	unsigned ready_timeout; /* --ready-timeout, seconds; 0: default */
	uint64_t disk_limit[4]; /* --device-{read,write}-{bps,iops}; 0: none */
};

static int bad(const char *opt, const char *val, const char *expected)
{
	fprintf(stderr, "hull: %s %s: %s\n", opt, val, expected);
	return -EINVAL;
}

static int set_label(struct run_opts *o, const char *v)
{
	size_t kl = strcspn(v, "=");
	if (!kl)
		return bad("--label", v, "expected KEY[=VALUE] with a non-empty KEY");
	char **l = NULL;
	for (size_t i = 0; i < o->n_labels; i++)
		if (!strncmp(o->labels[i], v, kl) && o->labels[i][kl] == '=')
			l = &o->labels[i]; /* docker: the last one wins */
	if (!l && o->n_labels >= RUNTIME_MAX_LABELS)
		return bad("--label", v, "too many labels");
	if (!l)
		l = &o->labels[o->n_labels++];
	free(*l);
	/* KEY alone is KEY= (docker: an empty value) */
	return asprintf(l, "%.*s=%s", (int)kl, v, v[kl] ? v + kl + 1 : "") < 0
		   ? (*l = NULL, -ENOMEM)
		   : 0;
}

static int add_tmpfs(struct run_opts *o, const char *v, const char *opt)
{
	struct hcp_tmpfs t;
	const char *why;
	if (hcp_tmpfs_parse(v, &t, &why))
		return bad(opt, v, why);
	if (o->conf.n_tmpfs >= HCP_MAX_TMPFS)
		return bad(opt, v, "too many tmpfs mounts (at most 16)");
	if (!(o->tmpfs[o->conf.n_tmpfs] = strdup(v)))
		return -ENOMEM;
	o->conf.n_tmpfs++;
	return 0;
}

static int add_volume(struct run_opts *o, const char *v, const char *opt, struct errmsg *err)
{
	if (o->n_vols >= VMM_MAX_VOLUMES) {
		fprintf(stderr, "hull: %s %s: at most %d volumes\n", opt, v, VMM_MAX_VOLUMES);
		return -EINVAL;
	}
	int rc = volume_parse(v, &o->vols[o->n_vols], err);
	if (!rc)
		o->n_vols++;
	return rc;
}

/* the docker flags of runtime/spec_flags.h */
static int set_docker_opt(struct run_opts *o, int id, const char *v)
{
	struct errmsg err;
	int rc = 0;
	switch (id) {
	case O_ENV_FILE:
		rc = spec_env_file(v, &o->env_file, &o->n_env_file, &err);
		break;
	case 'l':
		return set_label(o, v);
	case O_CIDFILE:
		o->cidfile = v;
		return 0;
	case 'q':
		o->pull.quiet = true;
		return 0;
	case O_READ_ONLY:
		o->conf.read_only = true;
		return 0;
	case O_TMPFS:
		return add_tmpfs(o, v, "--tmpfs");
	case O_ADD_HOST:
		o->hosts[o->n_hosts++] = (char *)v;
		return 0;
	case O_MOUNT: {
		struct spec_mount m;
		rc = spec_mount(v, &m, &err);
		if (!rc && m.tmpfs)
			rc = add_tmpfs(o, m.tmpfs_spec, "--mount");
		else if (!rc)
			rc = add_volume(o, m.volume, "--mount", &err);
		else
			break;
		bool tmpfs = m.tmpfs;
		spec_mount_free(&m);
		if (!rc || tmpfs)
			return rc;
		break;
	}
	case O_ULIMIT:
		if (o->conf.n_ulimits >= HCP_MAX_ULIMITS)
			return bad("--ulimit", v, "at most 16");
		rc = spec_ulimit(v, &o->ulimits[o->conf.n_ulimits], &err);
		if (!rc)
			o->conf.n_ulimits++;
		break;
	case O_SHM_SIZE:
		if (parse_size(v, &o->conf.shm_size) || !o->conf.shm_size)
			return bad("--shm-size", v, "expected a size like 64M");
		return 0;
	case O_PLATFORM:
		rc = spec_platform(v, &err);
		break;
	case O_RESTART:
		rc = spec_restart(v, &o->conf.restart, &o->conf.restart_max, &err);
		break;
	case O_PRIVILEGED:
		o->privileged = true;
		return 0;
	case O_CAP_ADD:
		o->cap_add[o->n_cap_add++] = (char *)v;
		return 0;
	case O_CAP_DROP:
		o->cap_drop[o->n_cap_drop++] = (char *)v;
		return 0;
	case O_SECURITY_OPT:
		rc = spec_security_opt(v, &o->conf.no_new_privs, &err);
		break;
	default:
		return -EINVAL;
	}
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	return rc;
}

/* A rate limit's value (rate, in the option's value v): bytes take size
 * units (10M), a count of requests or frames is a plain number; 0 is
 * refused (no limit: leave the option out). */
static int rate_limit(const char *opt, const char *v, const char *rate, bool bytes, uint64_t *out)
{
	char *end;
	unsigned long long n = 0;
	int rc = 0;
	if (bytes) {
		rc = parse_size(rate, out);
	} else {
		errno = 0;
		n = strtoull(rate, &end, 10);
		rc = errno || end == rate || *end || rate[0] == '-' ? -EINVAL : 0;
		*out = n;
	}
	if (rc || *out == 0)
		return bad(opt, v,
			   bytes ? "expected a rate in bytes per second, like 10M or 512k"
				 : "expected a number per second");
	return 0;
}

/* docker's "DEVICE:RATE" for the one disk a container has (the guest's
 * /dev/vda, its image), or RATE alone. */
static int disk_limit(const char *opt, const char *v, bool bytes, uint64_t *out)
{
	const char *rate = v;
	const char *colon = strrchr(v, ':');
	if (colon) {
		if (strncmp(v, "/dev/vda", (size_t)(colon - v)) || colon - v != 8)
			return bad(opt, v, "the container's only disk is /dev/vda");
		rate = colon + 1;
	}
	return rate_limit(opt, v, rate, bytes, out);
}

static int set_opt(void *ctx, int id, const char *v)
{
	struct run_opts *o = ctx;
	struct errmsg err;
	int rc = 0;
	switch (id) {
	case O_CPUS:
		rc = spec_cpus(v, MAX_CPUS, &o->cpus, &o->cpu_quota_milli, &err);
		if (!rc && o->cpu_quota_milli && geteuid() != 0)
			rc = errmsg_set(
			    &err, -ENOTSUP,
			    "--cpus %s: a fraction is a CPU quota on the VM's cgroup, which "
			    "hull makes only when it runs as root (no cgroup is delegated "
			    "to an ordinary user); give a whole number of vCPUs",
			    v);
		break;
	case 'm':
		return parse_size(v, &o->mem)
			   ? bad("--memory", v, "expected a size like 256M or 1G")
			   : 0;
	case 'e':
		o->env[o->n_env++] = (char *)v;
		return 0;
	case 'w':
		o->workdir = v;
		return 0;
	case 'u':
		o->user = v;
		return 0;
	case 'v':
		rc = add_volume(o, v, "-v", &err);
		break;
	case 'i':
		o->interactive = true;
		return 0;
	case 't':
		o->tty = true;
		return 0;
	case O_INIT:
		return 0; /* guest-init is that init already */
	case O_STOP_SIGNAL: {
		int sig;
		if (stop_signal_parse(v, &sig))
			return bad("--stop-signal", v,
				   "not a signal name (SIGTERM, TERM) or number (1-64)");
		o->stop_signal = v;
		return 0;
	}
	case O_STOP_TIMEOUT:
		if (stop_timeout_parse(v, &o->stop_timeout)) {
			fprintf(stderr, "hull: --stop-timeout %s: expected seconds from 0 to %d\n",
				v, STOP_MAX_TIMEOUT_S);
			return -EINVAL;
		}
		return 0;
	case O_ENTRYPOINT:
		o->entrypoint = v;
		return 0;
	case O_HOSTNAME:
		o->hostname = v;
		return 0;
	case O_NETWORK:
		rc = net_opts_network(&o->net, v, &err);
		break;
	case 'p':
		rc = net_opts_publish(&o->net, v, &err);
		break;
	case O_DNS:
		rc = net_opts_dns(&o->net, v, &err);
		break;
	case O_KERNEL:
		o->kernel = v;
		return 0;
	case O_INITRD:
		o->initrd = v;
		return 0;
	case O_ROOT:
		o->root = v;
		return 0;
	case O_NO_SNAPSHOT:
		o->no_snapshot = true;
		return 0;
	case O_MAX_IMAGE_SIZE:
		o->max_image_size = v;
		return 0;
	case O_PULL:
		return imageref_parse_policy(v, &o->pull.policy)
			   ? bad("--pull", v, "expected missing, always or never")
			   : 0;
	case O_INSECURE:
		o->pull.insecure[o->pull.n_insecure++] = v;
		return 0;
	case O_TIMINGS:
		o->timings = true;
		return 0;
	case O_DEBUG:
		o->debug = true;
		return 0;
	case O_NAME:
		o->name = v;
		return 0;
	case O_LOG_OPT:
		rc = ctrlog_opts_parse(&o->log, v, &err);
		break;
	case 'd':
		o->detach = true;
		return 0;
	case O_RM:
		o->auto_remove = true;
		return 0;
	case O_READ_BPS:
		return disk_limit("--device-read-bps", v, true, &o->disk_limit[0]);
	case O_WRITE_BPS:
		return disk_limit("--device-write-bps", v, true, &o->disk_limit[1]);
	case O_READ_IOPS:
		return disk_limit("--device-read-iops", v, false, &o->disk_limit[2]);
	case O_WRITE_IOPS:
		return disk_limit("--device-write-iops", v, false, &o->disk_limit[3]);
	case O_NET_RX_BPS:
		return rate_limit("--network-rx-bps", v, v, true, &o->net.rx_bps);
	case O_NET_TX_BPS:
		return rate_limit("--network-tx-bps", v, v, true, &o->net.tx_bps);
	case O_NET_RX_PPS:
		return rate_limit("--network-rx-pps", v, v, false, &o->net.rx_pps);
	case O_NET_TX_PPS:
		return rate_limit("--network-tx-pps", v, v, false, &o->net.tx_pps);
	case O_READY_TIMEOUT:
		/* the stop timeout's syntax and bound: whole seconds, at most a day */
		if (stop_timeout_parse(v, &o->ready_timeout) || o->ready_timeout == 0)
			return bad("--ready-timeout", v, "expected seconds from 1 to 86400");
		return 0;
	default:
		return set_docker_opt(o, id, v);
	}
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	return rc;
}

/* What needs every option first: the capability set, the hosts lines
 * (host-gateway depends on --network), the env files before -e. */
static int finish_opts(struct run_opts *o, struct errmsg *err)
{
	int rc = spec_caps(o->privileged, o->cap_add, o->n_cap_add, o->cap_drop, o->n_cap_drop,
			   &o->conf.caps, err);
	if (rc)
		return rc;
	o->conf.has_caps = true;
	o->conf.tmpfs = o->tmpfs;
	o->conf.ulimits = o->ulimits;
	const char *gw = o->net.mode == VMM_NET_SLIRP ? NET_SLIRP_GATEWAY : NULL;
	for (size_t i = 0; i < o->n_hosts; i++) {
		char *line;
		if ((rc = spec_add_host(o->hosts[i], gw, &line, err)))
			return rc;
		o->hosts[i] = line; /* the value was argv's: now ours, freed at the end */
		o->conf.n_hosts = i + 1;
	}
	o->conf.hosts = o->hosts;
	if (o->n_env_file) {
		/* docker: the files' variables, then -e's, which win */
		char **all = calloc(o->n_env_file + o->n_env + 1, sizeof(char *));
		if (!all)
			return errmsg_set(err, -ENOMEM, "out of memory");
		memcpy(all, o->env_file, o->n_env_file * sizeof(char *));
		memcpy(all + o->n_env_file, o->env, o->n_env * sizeof(char *));
		free(o->env);
		o->env = all;
		o->n_env += o->n_env_file;
	}
	return 0;
}

/* 0 and *first (IMAGE's index); 1: --help printed; -EINVAL: reported. */
static int parse_opts(const struct cmd_opts *cmd, int argc, char **argv, struct run_opts *o,
		      int *first)
{
	memset(o, 0, sizeof(*o));
	net_opts_init(&o->net);
	ctrlog_opts_init(&o->log);
	o->cpus = 1;
	o->stop_timeout = STOP_DEFAULT_TIMEOUT_S;
	parse_size(DEFAULT_MEM, &o->mem);
	o->env = calloc((size_t)argc + 1, sizeof(char *));
	o->pull.insecure = calloc((size_t)argc + 1, sizeof(char *));
	o->hosts = calloc((size_t)argc + 1, sizeof(char *));
	o->cap_add = calloc((size_t)argc + 1, sizeof(char *));
	o->cap_drop = calloc((size_t)argc + 1, sizeof(char *));
	if (!o->env || !o->pull.insecure || !o->hosts || !o->cap_add || !o->cap_drop)
		return -ENOMEM;
	int rc = opts_parse(cmd, argc, argv, set_opt, o, first);
	if (rc == OPTS_HELP)
		return 1;
	if (rc)
		return -EINVAL;
	struct errmsg nerr;
	if (net_opts_check(&o->net, &nerr) || finish_opts(o, &nerr)) {
		fprintf(stderr, "hull: %s\n", nerr.text);
		return -EINVAL;
	}
	return 0;
}

static void print_timings(uint64_t t0, uint64_t t_image, bool hit, const struct rt_timings *t)
{
#define MS(v) ((v) ? ((double)((v)-t0)) / 1e6 : -1.0)
	fprintf(stderr,
		"hull: timings (ms since hull started; -1 = did not happen)\n"
		"  image ready        %9.1f (%s)\n"
		"  vmm process up     %9.1f (fork+exec of hull-vmm)\n"
		"  vmm setup done     %9.1f (%s)\n"
		"  vcpus started      %9.1f\n"
		"  guest-init ready   %9.1f\n"
		"  template saved     %9.1f\n"
		"  container started  %9.1f\n"
		"  container exited   %9.1f\n"
		"  vm stopped         %9.1f\n",
		MS(t_image), hit ? "cache hit" : "converted", MS(t->vmm_up), MS(t->vm_setup),
		t->boot, MS(t->vcpus_started), MS(t->ready), MS(t->template_saved), MS(t->started),
		MS(t->exited), MS(t->stopped));
#undef MS
}

/* On a terminal, a cold boot says why it takes a while (tens of seconds
 * where guest kernel mode is emulated); a restore says nothing. */
static void announce_boot(void *ctx, bool cold)
{
	(void)ctx;
	if (cold)
		fputs("hull: booting the guest kernel (no template fits yet); this run saves a "
		      "template, later runs with the same vCPUs, memory, NIC and volumes start "
		      "from it in seconds\n",
		      stderr);
}

/* What the VM needs and where templates live; every string malloc'd. */
struct run_paths {
	char *kernel, *initrd, *root, *troot;
};

/* A path given on the command line, absolute (the monitor's jail binds it
 * at its own path); as given when it does not resolve (the error names it). */
static char *given_path(const char *path)
{
	char *r = realpath(path, NULL);
	return r ? r : strdup(path);
}

static int find_paths(const struct run_opts *o, struct run_paths *p)
{
	p->kernel = o->kernel ? given_path(o->kernel) : paths_data_file("vmlinux");
	p->initrd = o->initrd ? given_path(o->initrd) : paths_data_file("initramfs.cpio");
	p->root = paths_store_root(o->root);
	if (!p->kernel || !p->initrd || !p->root)
		return -ENOMEM;
	if (access(p->kernel, R_OK) || access(p->initrd, R_OK)) {
		const char *miss = access(p->kernel, R_OK) ? p->kernel : p->initrd;
		fprintf(stderr,
			"hull: %s: %s (build hull with the README's setup command, or pass "
			"--kernel/--initrd)\n",
			miss, strerror(errno));
		return -ENOENT;
	}
	if (!o->no_snapshot && !(p->troot = template_root(p->root)))
		return -ENOMEM;
	return 0;
}

/* --cidfile: docker refuses an existing file, before anything runs. */
static int cidfile_check(const char *path)
{
	if (path && access(path, F_OK) == 0) {
		fprintf(stderr,
			"hull: --cidfile %s: the file exists (another container's id?); remove it "
			"or name another file\n",
			path);
		return -EEXIST;
	}
	return 0;
}

/* The id, published whole: written to a temp file, then linked to path
 * (link(2), unlike rename, never replaces a file that appeared meanwhile). */
static int cidfile_write(const char *path, const char *id)
{
	char *tmp, line[RUNTIME_ID_LEN + 2];
	snprintf(line, sizeof(line), "%s", id);
	if (asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	int rc = fileutil_write_sync(tmp, line, strlen(line));
	if (!rc && link(tmp, path) < 0)
		rc = -errno;
	unlink(tmp);
	free(tmp);
	if (rc)
		fprintf(stderr, "hull: --cidfile %s: %s\n", path, strerror(-rc));
	return rc;
}

/* Create, start and wait for the container; returns the exit status. */
static int run_container(const struct run_opts *o, const struct rt_config *cfg, uint64_t t0,
			 uint64_t t_image, bool cache_hit)
{
	struct errmsg err;
	struct rt_container *c;
	int status = RT_EXIT_FAILED;
	if (rt_create(cfg, &c, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		return status;
	}
	if (o->cidfile && cidfile_write(o->cidfile, rt_container_id(c))) {
		rt_close(c);
		return status;
	}
	/* asked before -d forks: the supervisor's stderr is a pipe to this
	 * process, which relays what it writes until the container started
	 * (a -q/--quiet, once run has one, should silence it too) */
	bool announce = isatty(STDERR_FILENO) && cfg->template_root; /* not --no-snapshot */
	if (o->detach && rt_detach(&c, &status))
		return status;
	struct attach at;
	/* the detached supervisor has no stdin: a -i container's stays open
	 * for hull attach (in_fd -1) */
	attach_init(&at, o->interactive && !o->detach && !o->stdin_unfed, o->tty);
	if (announce)
		at.io.booting = announce_boot;
	if (attach_start(&at, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		rt_close(c);
		return status;
	}
	if (rt_start(c, &at.io, &err))
		fprintf(stderr, "hull: %s\n", err.text);
	status = rt_wait(c);
	attach_end(&at);
	if (o->timings)
		print_timings(t0, t_image, cache_hit, rt_container_timings(c));
	rt_close(c);
	return status;
}

int run_main(int argc, char **argv)
{
	struct run_mode m = {.cmd = &run_cmd_opts};
	return run_with(argc, argv, &m);
}

/* hull create: register, print the id. */
static int create_only(const struct rt_config *cfg)
{
	char id[RUNTIME_ID_LEN + 1];
	struct errmsg err;
	if (rt_register(cfg, id, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		return RT_EXIT_FAILED;
	}
	printf("%s\n", id);
	return 0;
}

int run_with(int argc, char **argv, const struct run_mode *m)
{
	uint64_t t0 = clock_now_ns();
	struct run_opts o;
	struct run_paths paths = {0};
	struct image_rootfs img = {0};
	struct hcp_spec spec = {0};
	struct errmsg err = {{0}};
	int status = RT_EXIT_FAILED, first = 0;
	int prc = parse_opts(m->cmd, argc, argv, &o, &first);
	if (prc) {
		status = prc == 1 ? 0 : RT_EXIT_FAILED;
		goto out;
	}
	if (m->claim) {
		/* hull start: docker start never pulls; attached or not is
		 * start's choice; a -i container's stdin stays open (docker's
		 * OpenStdin), fed by start only with -a -i, else by hull attach */
		o.pull.policy = IMAGEREF_PULL_NEVER;
		o.detach = !m->attach;
		o.stdin_unfed = !(m->interactive && m->attach);
	}
	const char *image = argv[first];
	if (cidfile_check(o.cidfile) || find_paths(&o, &paths))
		goto out;
	struct image_limits lim;
	if (imgopt_limits(o.max_image_size, &lim))
		goto out;
	o.pull.limits = &lim;
	if (imageref_prepare(image, paths.root, &o.pull, &img, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out;
	}
	uint64_t t_image = clock_now_ns();

	/* docker's rules: the image's config, overridden by the options */
	struct spec_image si = {
	    .entrypoint = img.config.entrypoint,
	    .n_entrypoint = img.config.n_entrypoint,
	    .cmd = img.config.cmd,
	    .n_cmd = img.config.n_cmd,
	    .env = img.config.env,
	    .n_env = img.config.n_env,
	    .working_dir = img.config.working_dir,
	    .user = img.config.user,
	};
	struct spec_overrides so = {
	    .entrypoint = o.entrypoint,
	    .args = argv + first + 1,
	    .n_args = (size_t)(argc - first - 1),
	    .env = o.env,
	    .n_env = o.n_env,
	    .workdir = o.workdir,
	    .user = o.user,
	    .rootfs = "/dev/vda",
	    .tty = o.tty,
	};
	if (spec_build(&si, &so, &spec, &err)) {
		fprintf(stderr, "hull: %s: %s\n", image, err.text);
		goto out;
	}
	int sig = SIGTERM;
	stop_signal_pick(o.stop_signal, img.config.stop_signal, &sig);
	struct rt_config cfg = {
	    .name = o.name,
	    .image = image,
	    .digest = img.digest,
	    .rootfs = img.path,
	    .process = {.argv = spec.argv,
			.argc = spec.argc,
			.env = spec.envp,
			.n_env = spec.envc,
			.cwd = spec.cwd,
			.user = spec.user,
			.tty = o.tty,
			.stdin_open = o.interactive},
	    .hostname = o.hostname,
	    .cpus = o.cpus,
	    .cpu_quota_milli = o.cpu_quota_milli,
	    .mem_bytes = o.mem,
	    .kernel = paths.kernel,
	    .initrd = paths.initrd,
	    .template_root = paths.troot,
	    .volumes = o.vols,
	    .n_volumes = o.n_vols,
	    .net = &o.net,
	    .stop_signal = sig,
	    .stop_timeout = o.stop_timeout,
	    .auto_remove = o.auto_remove,
	    .log = &o.log,
	    .confine = &o.conf,
	    .labels = o.labels,
	    .n_labels = o.n_labels,
	    .debug = o.debug,
	    .vm = &rt_vm_proc,
	    .ready_timeout = o.ready_timeout,
	    .disk_read_bps = o.disk_limit[0],
	    .disk_write_bps = o.disk_limit[1],
	    .disk_read_iops = o.disk_limit[2],
	    .disk_write_iops = o.disk_limit[3],
	    .args = argv + 1, /* what hull start replays */
	    .n_args = (size_t)(argc - 1),
	    .claim = m->claim,
	};
	if (m->create)
		status = create_only(&cfg);
	else
		status = run_container(&o, &cfg, t0, t_image, img.cache_hit);
out:
	hcp_spec_free(&spec);
	image_rootfs_free(&img);
	free(paths.kernel);
	free(paths.initrd);
	free(paths.root);
	free(paths.troot);
	free(o.env);
	free(o.pull.insecure);
	for (size_t i = 0; i < o.n_env_file; i++)
		free(o.env_file[i]);
	free(o.env_file);
	for (size_t i = 0; i < o.n_labels; i++)
		free(o.labels[i]);
	for (size_t i = 0; i < o.conf.n_tmpfs; i++)
		free(o.tmpfs[i]);
	for (size_t i = 0; i < o.conf.n_hosts; i++)
		free(o.hosts[i]);
	free(o.hosts);
	free(o.cap_add);
	free(o.cap_drop);
	for (size_t i = 0; i < o.n_vols; i++)
		volume_arg_free(&o.vols[i]);
	return status;
}
