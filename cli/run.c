#include "run.h"
#include "common/clock.h"
#include "common/size.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/attach.h"
#include "cli/control.h"
#include "cli/imgopt.h"
#include "cli/imageref.h"
#include "cli/monitor.h"
#include "cli/outq.h"
#include "cli/net_opts.h"
#include "cli/paths.h"
#include "cli/spec.h"
#include "cli/template.h"
#include "cli/volume.h"
#include "cli/vsock_host.h"
#include "images/image.h"
#include "runtime/vmproc.h"

#define EXIT_HULL_FAILED 125
#define DEFAULT_MEM "128M"
#define CONSOLE_TAIL 8192

struct run_opts {
	unsigned cpus;
	uint64_t mem;
	const char *kernel, *initrd, *root, *entrypoint, *workdir, *user, *hostname;
	const char *max_image_size; /* --max-image-size, or NULL */
	char **env;
	size_t n_env;
	struct volume_arg vols[VMM_MAX_VOLUMES];
	size_t n_vols;
	bool timings, debug, no_snapshot;
	bool interactive, tty;	 /* -i, -t */
	const char *stop_signal; /* --stop-signal, validated */
	unsigned stop_timeout;	 /* --stop-timeout, seconds */
	const char *name; /* lifecycle: --name, -d, --rm */
	bool detach, auto_remove;
	const char *image;
	struct imageref_opts pull; /* IMAGE as a registry reference */
	char **args;
	size_t n_args;
	struct net_opts net; /* --network, -p, --dns */
};

/* The last CONSOLE_TAIL bytes of the guest console, shown when the VM ends
 * without an exit status (boot failures). */
struct console_log {
	char buf[CONSOLE_TAIL];
	size_t pos;
	bool wrapped;
	bool echo;
};

struct run_ctx {
	struct console_log con;
	struct control ctl;
	struct vmproc *vp; /* the VM monitor process (hull-vmm) */
	struct vmproc_event stopped; /* its STOPPED event, once it came */
	int ready_fd; /* READY seen: the control thread takes over */
	/* guest-init's control connection: it connects to host port
	 * VSOCK_PORT_CONTROL, i.e. to <uds>_1024 in the container's directory */
	char *uds;
	int listen_fd, ctl_fd;
	struct attach at; /* hull's stdin, terminal and signals */
	struct outq ctl_q; /* frames for ctl_fd (cli/outq.h: why not a blocking send) */
	struct monitor *mon;
	int killed_by; /* the VM was stopped for this signal before an exit status */
};

/* What the control thread does when the guest says READY. */
struct cold_plan {
	bool save_template; /* save a template first */
	const char *rootfs;
	uint64_t t_saved; /* when the template was written */
};

void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: hull run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
		"\n"
		"Run a command in a new container, in its own microVM.\n"
		"IMAGE is an OCI image layout directory, an oci-archive file, or a registry\n"
		"reference ([REGISTRY[:PORT]/]NAME[:TAG][@DIGEST]), pulled when not stored.\n"
		"\n"
		"Options:\n"
		"      --cpus N              vCPUs (default 1, at most %d)\n"
		"  -m, --memory SIZE         guest memory, e.g. 256M, 1G (default %s)\n"
		"  -e, --env KEY[=VALUE]     set an environment variable (KEY alone: take hull's)\n"
		"  -w, --workdir DIR         working directory inside the container\n"
		"  -u, --user USER[:GROUP]   user (name or uid) and group to run as\n"
		"  -v, --volume HOSTDIR:DIR[:ro|:rw]  share a host directory at DIR (repeatable)\n"
		"  -i, --interactive         forward stdin to the container (else it reads /dev/null)\n"
		"  -t, --tty                 run the container on a pseudo-terminal (stdout and\n"
		"                            stderr merge); with -i the host terminal goes raw\n"
		"      --stop-signal SIG     signal that stops the container on SIGTERM to hull\n"
		"                            (default: the image's StopSignal, else SIGTERM)\n"
		"      --stop-timeout N      seconds from the stop signal to SIGKILL (default %d)\n"
		"      --entrypoint CMD      override the image's entrypoint ('' clears it)\n"
		"      --hostname NAME       container hostname (default: a random id)\n"
		"      --network MODE        slirp (default: user-mode, rootless), none, or\n"
		"                            tap:NAME (an existing tap device)\n"
		"  -p, --publish [IP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]\n"
		"                            publish a container port on the host (slirp;\n"
		"                            IP defaults to 0.0.0.0)\n"
		"      --dns IP              nameserver for the container's /etc/resolv.conf\n"
		"      --kernel PATH         guest kernel (default: the bundled vmlinux)\n"
		"      --initrd PATH         guest init initramfs (default: the bundled one)\n"
		"      --root DIR            hull's state directory (default /var/lib/hull)\n"
		"      --no-snapshot         boot cold: neither use nor make a template\n"
		IMGOPT_MAX_SIZE_HELP
		"      --pull POLICY         missing (default), always or never\n"
		"      --insecure-registry H allow plain HTTP for registry H (host[:port])\n"
		"      --timings             print where the time went, on stderr\n"
		"      --debug               show the guest console, guest-init milestones and VMM\n"
		"                            events on stderr\n"
		"      --name NAME           name the container (default: a generated one)\n"
		"  -d, --detach              run in the background and print the container id\n"
		"      --rm                  remove the container when it ends\n",
		8, DEFAULT_MEM, STOP_DEFAULT_TIMEOUT_S);
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	enum { O_CPUS = 256, O_ENTRYPOINT, O_KERNEL, O_INITRD, O_ROOT, O_TIMINGS, O_DEBUG,
	       O_HOSTNAME, O_HELP, O_NO_SNAPSHOT, O_PULL, O_INSECURE, O_MAX_IMAGE_SIZE,
	       O_STOP_SIGNAL, O_STOP_TIMEOUT, O_NAME, O_RM, O_NETWORK, O_DNS };
	static const struct option lo[] = {
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "memory", required_argument, NULL, 'm' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "volume", required_argument, NULL, 'v' },
		{ "entrypoint", required_argument, NULL, O_ENTRYPOINT },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "root", required_argument, NULL, O_ROOT },
		{ "timings", no_argument, NULL, O_TIMINGS },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "no-snapshot", no_argument, NULL, O_NO_SNAPSHOT },
		{ "max-image-size", required_argument, NULL, O_MAX_IMAGE_SIZE },
		{ "pull", required_argument, NULL, O_PULL },
		{ "insecure-registry", required_argument, NULL, O_INSECURE },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "stop-signal", required_argument, NULL, O_STOP_SIGNAL },
		{ "stop-timeout", required_argument, NULL, O_STOP_TIMEOUT },
		{ "help", no_argument, NULL, O_HELP },
		{ "name", required_argument, NULL, O_NAME },
		{ "detach", no_argument, NULL, 'd' },
		{ "rm", no_argument, NULL, O_RM },
		{ "network", required_argument, NULL, O_NETWORK },
		{ "publish", required_argument, NULL, 'p' },
		{ "dns", required_argument, NULL, O_DNS },
		{ 0 },
	};
	memset(o, 0, sizeof(*o));
	net_opts_init(&o->net);
	o->cpus = 1;
	o->stop_timeout = STOP_DEFAULT_TIMEOUT_S;
	parse_size(DEFAULT_MEM, &o->mem);
	o->env = calloc((size_t)argc + 1, sizeof(char *));
	o->pull.insecure = calloc((size_t)argc + 1, sizeof(char *));
	if (!o->env || !o->pull.insecure)
		return -ENOMEM;
	optind = 1;
	int c;
	/* '+': options end at IMAGE; what follows belongs to the container */
	while ((c = getopt_long(argc, argv, "+m:e:w:u:v:p:itd", lo, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_CPUS: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 8) {
				fprintf(stderr, "hull: --cpus %s: expected a number from 1 to 8\n",
					optarg);
				return -EINVAL;
			}
			o->cpus = (unsigned)v;
			break;
		}
		case 'm':
			if (parse_size(optarg, &o->mem)) {
				fprintf(stderr, "hull: --memory %s: expected a size like 256M or 1G\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'e':
			o->env[o->n_env++] = optarg;
			break;
		case 'w':
			o->workdir = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'v': {
			struct errmsg err;
			if (o->n_vols >= VMM_MAX_VOLUMES) {
				fprintf(stderr, "hull: -v %s: at most %d volumes\n", optarg,
					VMM_MAX_VOLUMES);
				return -EINVAL;
			}
			if (volume_parse(optarg, &o->vols[o->n_vols], &err)) {
				fprintf(stderr, "hull: %s\n", err.text);
				return -EINVAL;
			}
			o->n_vols++;
			break;
		}
		case O_ENTRYPOINT:
			o->entrypoint = optarg;
			break;
		case O_HOSTNAME:
			o->hostname = optarg;
			break;
		case O_KERNEL:
			o->kernel = optarg;
			break;
		case O_INITRD:
			o->initrd = optarg;
			break;
		case O_ROOT:
			o->root = optarg;
			break;
		case O_TIMINGS:
			o->timings = true;
			break;
		case O_DEBUG:
			o->debug = true;
			break;
		case O_NO_SNAPSHOT:
			o->no_snapshot = true;
			break;
		case O_MAX_IMAGE_SIZE:
			o->max_image_size = optarg;
			break;
		case O_PULL:
			if (imageref_parse_policy(optarg, &o->pull.policy)) {
				fprintf(stderr, "hull: --pull %s: expected missing, always or never\n",
					optarg);
				return -EINVAL;
			}
			break;
		case O_INSECURE:
			o->pull.insecure[o->pull.n_insecure++] = optarg;
			break;
		case 'i':
			o->interactive = true;
			break;
		case 't':
			o->tty = true;
			break;
		case O_STOP_SIGNAL: {
			int sig;
			if (stop_signal_parse(optarg, &sig)) {
				fprintf(stderr, "hull: --stop-signal %s: not a signal name (SIGTERM, "
						"TERM) or number (1-64)\n",
					optarg);
				return -EINVAL;
			}
			o->stop_signal = optarg;
			break;
		}
		case O_STOP_TIMEOUT:
			if (stop_timeout_parse(optarg, &o->stop_timeout)) {
				fprintf(stderr, "hull: --stop-timeout %s: expected seconds from 0 to %d\n",
					optarg, STOP_MAX_TIMEOUT_S);
				return -EINVAL;
			}
			break;
		case O_NAME:
			o->name = optarg;
			break;
		case 'd':
			o->detach = true;
			break;
		case O_RM:
			o->auto_remove = true;
			break;
		case O_NETWORK:
		case 'p':
		case O_DNS: {
			struct errmsg err;
			int rc = c == O_NETWORK ? net_opts_network(&o->net, optarg, &err)
				 : c == 'p'	? net_opts_publish(&o->net, optarg, &err)
						: net_opts_dns(&o->net, optarg, &err);
			if (rc) {
				fprintf(stderr, "hull: %s\n", err.text);
				return rc;
			}
			break;
		}
		case O_HELP:
			run_usage(stdout);
			exit(0);
		default:
			run_usage(stderr);
			return -EINVAL;
		}
	}
	struct errmsg nerr;
	if (net_opts_check(&o->net, &nerr)) {
		fprintf(stderr, "hull: %s\n", nerr.text);
		return -EINVAL;
	}
	if (optind >= argc) {
		fprintf(stderr, "hull: run: missing IMAGE\n");
		run_usage(stderr);
		return -EINVAL;
	}
	o->image = argv[optind];
	o->args = argv + optind + 1;
	o->n_args = (size_t)(argc - optind - 1);
	return 0;
}

static void console_out(struct console_log *l, const uint8_t *b, size_t n)
{
	if (l->echo) {
		ssize_t w = write(STDERR_FILENO, b, n);
		(void)w;
	}
	for (size_t i = 0; i < n; i++) {
		l->buf[l->pos++] = (char)b[i];
		if (l->pos == sizeof(l->buf)) {
			l->pos = 0;
			l->wrapped = true;
		}
	}
}

static void console_dump(const struct console_log *l)
{
	if (l->echo)
		return; /* already shown */
	fprintf(stderr, "hull: last guest console output:\n");
	if (l->wrapped)
		fwrite(l->buf + l->pos, 1, sizeof(l->buf) - l->pos, stderr);
	fwrite(l->buf, 1, l->pos, stderr);
	fputc('\n', stderr);
}

/* Move what the monitor wrote to the console pipe into the console log. */
static void console_read(struct run_ctx *rc)
{
	uint8_t buf[4096];
	ssize_t n;
	while ((n = read(vmproc_console_fd(rc->vp), buf, sizeof(buf))) > 0)
		console_out(&rc->con, buf, (size_t)n);
}

static void on_ready_hook(void *ctx)
{
	uint64_t one = 1;
	ssize_t r = write(((struct run_ctx *)ctx)->ready_fd, &one, sizeof(one));
	(void)r;
}

/* guest-init is up and waiting: on a cold boot save the template (the VM as
 * it is now, its image disk still empty), then attach the image and send the
 * spec. A failed save costs this run nothing but the template. A restored
 * guest says READY again on a new connection (its old one died with the
 * template's VMM), which lands here too. */
static int on_cold_ready(struct run_ctx *rc, struct cold_plan *p)
{
	struct errmsg err;
	if (p->save_template) {
		int src = vmproc_save_template(rc->vp, &err);
		if (src == -ESHUTDOWN)
			return src;
		if (src)
			fprintf(stderr, "hull: warning: could not save a template: %s\n", err.text);
		else
			p->t_saved = clock_now_ns();
	}
	if (vmproc_attach_disk(rc->vp, 0, p->rootfs, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		vmproc_stop(rc->vp);
		return -EIO;
	}
	return control_send_spec(&rc->ctl);
}

/* Feed what guest-init sent; at end of stream forget the connection. With
 * `drain`, read until nothing is left (the VM stopped: its last bytes are in
 * the socket buffer already). */
static void ctl_read(struct run_ctx *rc, bool drain)
{
	uint8_t buf[64 * 1024];
	while (rc->ctl_fd >= 0) {
		ssize_t n = recv(rc->ctl_fd, buf, sizeof(buf), drain ? MSG_DONTWAIT : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(rc->ctl_fd);
			rc->ctl_fd = -1;
			outq_reset(&rc->ctl_q, -1);
			return;
		}
		control_feed(&rc->ctl, buf, (size_t)n);
		if (!drain)
			return;
	}
}

/* One control connection per run: later ones are refused (closed). */
static void ctl_accept(struct run_ctx *rc)
{
	int fd = accept4(rc->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (rc->ctl_fd >= 0) {
		close(fd);
	} else {
		rc->ctl_fd = fd;
		outq_reset(&rc->ctl_q, fd);
	}
}

static void random_hostname(char out[13])
{
	uint8_t r[6] = { 0 };
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		memset(r, 0x5a, sizeof(r)); /* not a secret, only a default name */
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

static void print_timings(uint64_t t0, uint64_t t_image, bool hit, uint64_t t_spawn,
			  uint64_t t_exec, uint64_t t_setup, const char *boot, uint64_t t_start,
			  uint64_t t_saved, const struct control *c, uint64_t t_stop)
{
#define MS(t) ((t) ? ((double)((t) - t0)) / 1e6 : -1.0)
	fprintf(stderr,
		"hull: timings (ms since hull started; -1 = did not happen)\n"
		"  image ready        %9.1f (%s)\n"
		"  vmm process up     %9.1f (fork+exec of hull-vmm: %.1f ms)\n"
		"  vmm setup done     %9.1f (%s)\n"
		"  vcpus started      %9.1f\n"
		"  guest-init ready   %9.1f\n"
		"  template saved     %9.1f\n"
		"  container started  %9.1f\n"
		"  container exited   %9.1f\n"
		"  vm stopped         %9.1f\n",
		MS(t_image), hit ? "cache hit" : "converted", MS(t_exec),
		t_exec > t_spawn ? (double)(t_exec - t_spawn) / 1e6 : -1.0, MS(t_setup), boot,
		MS(t_start), MS(c->t_ready), MS(t_saved), MS(c->t_started), MS(c->t_exit),
		MS(t_stop));
#undef MS
}

static int mon_signal(void *ctx, int signo)
{
	return control_signal(&((struct run_ctx *)ctx)->ctl, signo);
}

static void mon_halt(void *ctx, int signo)
{
	struct run_ctx *rc = ctx;
	rc->killed_by = signo;
	vmproc_stop(rc->vp);
}

static void mon_output(void *ctx, int stream, const uint8_t *b, size_t n)
{
	monitor_output(((struct run_ctx *)ctx)->mon, stream, b, n);
}

static void mon_started(void *ctx)
{
	monitor_started(((struct run_ctx *)ctx)->mon);
}

/* Register the container (cli/monitor.h) and, with -d, continue in a forked
 * monitor. Returns true when this process is done: an error (status stays
 * 125) or the parent of -d (*status set). */
static bool lifecycle_begin(struct run_ctx *rc, const struct run_opts *o,
			    const struct image_rootfs *img, const struct hcp_spec *spec,
			    int *status)
{
	static const struct monitor_ops ops = { .signal = mon_signal, .halt = mon_halt };
	struct errmsg err;
	int sig = SIGTERM;
	stop_signal_pick(o->stop_signal, img->config.stop_signal, &sig);
	struct monitor_info mi = {
		.name = o->name, .image = o->image, .digest = img->digest,
		.cmd = spec->argv, .n_cmd = spec->argc,
		.stop_signal = sig, .stop_timeout = (int)o->stop_timeout,
		.auto_remove = o->auto_remove,
	};
	if (monitor_create(&mi, &rc->mon, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		return true;
	}
	if (o->detach && monitor_detach(&rc->mon, status))
		return true;
	if (monitor_listen(rc->mon, &ops, rc, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		return true;
	}
	control_set_hooks(&rc->ctl, mon_output, mon_started, rc);
	return false;
}

/* Wait for the VM to stop, serving the control connection, forwarding
 * hull's stdin and signals to the container (cli/attach.h) and serving the
 * monitor's requests (hull stop/kill). */
static int supervise(struct run_ctx *rc, int sigfd, struct cold_plan *plan)
{
	struct pollfd p[8] = { { .fd = vmproc_fd(rc->vp), .events = POLLIN },
			       { .fd = sigfd, .events = POLLIN },
			       { .fd = rc->ready_fd, .events = POLLIN },
			       { .fd = rc->listen_fd, .events = POLLIN },
			       { .fd = -1 },
			       { .fd = -1 },
			       { .fd = rc->mon ? monitor_fd(rc->mon) : -1, .events = POLLIN },
			       { .fd = vmproc_console_fd(rc->vp), .events = POLLIN } };
	for (;;) {
		p[4] = (struct pollfd){ .fd = rc->ctl_fd,
					.events = POLLIN | (outq_pending(&rc->ctl_q) ? POLLOUT : 0) };
		p[5] = (struct pollfd){ .fd = attach_stdin_fd(&rc->at), .events = POLLIN };
		if (poll(p, 8, attach_timeout_ms(&rc->at, clock_now_ns())) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[7].revents & POLLIN)
			console_read(rc);
		if (p[7].revents & ~POLLIN)
			p[7].fd = -1; /* the monitor closed it: it is exiting */
		struct vmproc_event ev;
		while (p[0].revents && vmproc_next_event(rc->vp, &ev, NULL) > 0)
			if (ev.kind == VMPROC_EV_STOPPED) {
				rc->stopped = ev;
				return 0;
			}
		if (p[3].revents)
			ctl_accept(rc);
		if (p[4].revents & (POLLIN | POLLHUP | POLLERR))
			ctl_read(rc, false);
		if (p[6].revents)
			monitor_dispatch(rc->mon);
		if (p[2].revents) {
			uint64_t v;
			if (read(rc->ready_fd, &v, sizeof(v)) == sizeof(v))
				on_cold_ready(rc, plan);
		}
		if (p[4].revents & POLLOUT)
			outq_flush(&rc->ctl_q);
		if (p[5].revents)
			attach_on_stdin(&rc->at);
		attach_tick(&rc->at, clock_now_ns());
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (attach_on_signal(&rc->at, (int)si.ssi_signo, clock_now_ns()) == -EAGAIN) {
				/* nothing runs yet: stopping the VM is the answer */
				mon_halt(rc, (int)si.ssi_signo);
			}
		}
	}
}

int run_main(int argc, char **argv)
{
	uint64_t t0 = clock_now_ns();
	struct run_opts o;
	int status = EXIT_HULL_FAILED;
	char *kernel = NULL, *initrd = NULL, *root = NULL;
	struct image_rootfs img = { 0 };
	struct hcp_spec spec = { 0 };
	struct run_ctx *rc = calloc(1, sizeof(*rc));
	if (rc)
		rc->ready_fd = rc->listen_fd = rc->ctl_fd = rc->ctl_q.fd = -1;
	struct errmsg err = { { 0 } };
	bool ctl_ok = false;
	int sigfd = -1;
	if (!rc || parse_opts(argc, argv, &o))
		goto out;

	kernel = o.kernel ? strdup(o.kernel) : paths_data_file("vmlinux");
	initrd = o.initrd ? strdup(o.initrd) : paths_data_file("initramfs.cpio");
	root = paths_store_root(o.root);
	if (!kernel || !initrd || !root)
		goto out;
	if (access(kernel, R_OK) || access(initrd, R_OK)) {
		const char *miss = access(kernel, R_OK) ? kernel : initrd;
		fprintf(stderr, "hull: %s: %s (build hull with the README's setup command, or pass "
				"--kernel/--initrd)\n",
			miss, strerror(errno));
		goto out;
	}

	struct image_limits lim;
	if (imgopt_limits(o.max_image_size, &lim))
		goto out;
	o.pull.limits = &lim;
	if (imageref_prepare(o.image, root, &o.pull, &img, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out;
	}
	uint64_t t_image = clock_now_ns();

	char host[13];
	random_hostname(host);
	struct spec_image si = {
		.entrypoint = img.config.entrypoint, .n_entrypoint = img.config.n_entrypoint,
		.cmd = img.config.cmd, .n_cmd = img.config.n_cmd,
		.env = img.config.env, .n_env = img.config.n_env,
		.working_dir = img.config.working_dir, .user = img.config.user,
	};
	struct spec_overrides so = {
		.entrypoint = o.entrypoint, .args = o.args, .n_args = o.n_args,
		.env = o.env, .n_env = o.n_env, .workdir = o.workdir, .user = o.user,
		.hostname = o.hostname ? o.hostname : host, .rootfs = "/dev/vda",
		.tty = o.tty,
	};
	if (spec_build(&si, &so, &spec, &err)) {
		fprintf(stderr, "hull: %s: %s\n", o.image, err.text);
		goto out;
	}
	struct vmm_volume vols[VMM_MAX_VOLUMES];
	if (volume_apply(o.vols, o.n_vols, vols, &spec, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out;
	}
	/* the NIC's settings go into vc below */
	struct vmm_config netvc = { 0 };
	if (net_opts_apply(&o.net, &netvc, &spec, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out;
	}
	if (control_init(&rc->ctl, &spec, STDOUT_FILENO, STDERR_FILENO, outq_send, &rc->ctl_q)) {
		fprintf(stderr, "hull: the container spec is too large for one message\n");
		goto out;
	}
	ctl_ok = true;
	rc->con.echo = o.debug;
	if (lifecycle_begin(rc, &o, &img, &spec, &status))
		goto out;
	struct attach_opts ao = { .interactive = o.interactive, .tty = o.tty,
				  .stop_timeout_s = o.stop_timeout };
	stop_signal_pick(o.stop_signal, img.config.stop_signal, &ao.stop_signo);
	attach_init(&rc->at, &rc->ctl, &ao);
	int trc = attach_start(&rc->at);
	if (trc) {
		fprintf(stderr, "hull: cannot put the terminal in raw mode: %s\n", strerror(-trc));
		goto out;
	}

	/* Signals go to the control thread through a signalfd; every thread
	 * created from here on inherits the blocked mask. */
	sigset_t set;
	attach_sigset(&rc->at, &set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0) {
		fprintf(stderr, "hull: signalfd: %s\n", strerror(errno));
		goto out;
	}

	/* the VM's vsock sockets live in the container's directory */
	if (!(rc->uds = runtime_sock_path(monitor_state(rc->mon), RUNTIME_VSOCK_SOCK)))
		errmsg_set(&err, -ENOMEM, "out of memory");
	if (!rc->uds || (rc->listen_fd = vsock_host_listen(rc->uds, VSOCK_PORT_CONTROL, &err)) < 0) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out;
	}

	char *troot = NULL;
	if (!o.no_snapshot && !(troot = template_root(root)))
		goto out;
	/* the VM, as the monitor (hull-vmm) is to run it; it names, restores
	 * and saves the template that fits this config */
	struct vmmapi_config vc = {
		.kernel = kernel,
		.initrd = initrd,
		.cpus = o.cpus,
		.mem_bytes = o.mem,
		/* empty until the image is attached: a template must not have
		 * seen any one image (see on_cold_ready) */
		.disks = { { .path = NULL, .read_only = true } },
		.ndisks = 1,
		.pvm = -1,
		.debug = o.debug,
		/* guest-init's timestamped milestones on the console */
		.cmdline_extra = o.debug ? "hull_debug=1" : NULL,
		.nvolumes = (unsigned)o.n_vols,
		.vsock_uds = rc->uds,
		.net_mode = netvc.net_mode,
		.net_tap = netvc.net_tap,
		.nports = netvc.net_nports,
		.net_no_csum = netvc.net_no_csum,
		.template_root = troot,
	};
	for (size_t i = 0; i < o.n_vols; i++)
		vc.volumes[i] = (struct vmmapi_volume){ vols[i].host_dir, vols[i].read_only };
	for (unsigned i = 0; i < netvc.net_nports; i++)
		vc.ports[i] = (struct vmmapi_portfwd){ .udp = netvc.net_ports[i].udp,
						       .host_ip = netvc.net_ports[i].host_ip,
						       .host_port = netvc.net_ports[i].host_port,
						       .guest_port = netvc.net_ports[i].guest_port };
	memcpy(vc.net_mac, netvc.net_mac, sizeof(vc.net_mac));
	uint64_t t_spawn = clock_now_ns();
	if (vmproc_spawn(&vc, &rc->vp, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out_t;
	}
	/* CREATED and STARTED come at once (or STOPPED: the VM could not be
	 * made); signals wait in sigfd meanwhile */
	struct vmproc_event ev = { 0 }, created = { 0 };
	uint64_t t_setup = 0, t_start = 0;
	while (!t_start) {
		struct pollfd pf = { .fd = vmproc_fd(rc->vp), .events = POLLIN };
		int n = vmproc_next_event(rc->vp, &ev, &err);
		if (n == 0 && (poll(&pf, 1, -1) >= 0 || errno == EINTR))
			continue;
		if (n < 0 || ev.kind == VMPROC_EV_STOPPED) {
			fprintf(stderr, "hull: %s\n", n < 0 ? err.text : ev.why);
			goto out_t;
		}
		if (ev.kind == VMPROC_EV_CREATED) {
			created = ev;
			t_setup = ev.t_ns;
		} else {
			t_start = ev.t_ns;
		}
	}
	const char *boot = created.boot == VMMAPI_BOOT_RESTORED ? "restored from template"
							       : "cold boot";
	if (created.boot == VMMAPI_BOOT_REFUSED)
		/* the monitor replaced it: this run saves a new one */
		fprintf(stderr, "hull: template not used, booting cold: %s\n", created.why);
	struct cold_plan plan = { .rootfs = img.path,
				  .save_template = created.boot == VMMAPI_BOOT_COLD ||
						   created.boot == VMMAPI_BOOT_REFUSED };
	rc->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rc->ready_fd < 0) {
		fprintf(stderr, "hull: eventfd: %s\n", strerror(errno));
		goto out_t;
	}
	control_set_ready_hook(&rc->ctl, on_ready_hook, rc);
	supervise(rc, sigfd, &plan);
	attach_end(&rc->at); /* hull's own messages below need a sane terminal */
	/* the monitor exits after STOPPED: the console pipe then ends */
	int ws;
	vmproc_reap(rc->vp, &ws);
	console_read(rc);
	ctl_read(rc, true);
	uint64_t t_stop = clock_now_ns();

	int code;
	err.text[0] = '\0'; /* from here on: why the container has no exit status */
	const char *why = rc->stopped.why;
	if (control_exit_status(&rc->ctl, &code)) {
		status = code;
	} else if (rc->killed_by) {
		status = 128 + rc->killed_by;
	} else {
		snprintf(err.text, sizeof(err.text), "the VM stopped (%s) before the container "
			 "reported an exit status", vmmapi_stop_text(rc->stopped.reason));
		const char *f = control_failed(&rc->ctl);
		fprintf(stderr,
			"hull: the VM stopped (%s%s%s) before the container reported an exit status%s%s\n",
			vmmapi_stop_text(rc->stopped.reason), why[0] ? ": " : "", why,
			f ? "; control channel: " : "", f ? f : "");
		console_dump(&rc->con);
	}
	if (o.timings)
		print_timings(t0, t_image, img.cache_hit, t_spawn, created.t_exec_ns, t_setup, boot,
			      t_start, plan.t_saved, &rc->ctl, t_stop);
out_t:
	free(troot);
out:
	if (ctl_ok)
		attach_end(&rc->at);
	if (rc)
		vmproc_free(rc->vp);
	if (rc && rc->mon) /* the state records the end, or --rm removes it */
		monitor_finish(rc->mon, rc->ctl.started, status, err.text[0] ? err.text : NULL);
	if (ctl_ok)
		control_free(&rc->ctl);
	if (sigfd >= 0)
		close(sigfd);
	if (rc && rc->ready_fd >= 0)
		close(rc->ready_fd);
	if (rc && rc->ctl_fd >= 0)
		close(rc->ctl_fd);
	if (rc)
		outq_free(&rc->ctl_q);
	if (rc && rc->listen_fd >= 0)
		close(rc->listen_fd);
	if (rc)
		free(rc->uds);
	hcp_spec_free(&spec);
	image_rootfs_free(&img);
	free(kernel);
	free(initrd);
	free(root);
	free(o.env);
	free(o.pull.insecure);
	for (size_t i = 0; i < o.n_vols; i++)
		volume_arg_free(&o.vols[i]);
	free(rc);
	return status;
}
