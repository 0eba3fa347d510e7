#include "run.h"
#include "common/clock.h"

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
#include <time.h>
#include <unistd.h>

#include "cli/control.h"
#include "cli/net_opts.h"
#include "cli/paths.h"
#include "cli/spec.h"
#include "cli/template.h"
#include "images/image.h"
#include "vmm/vmm.h"

#define EXIT_HULL_FAILED 125
#define DEFAULT_MEM "128M"
#define CONSOLE_TAIL 8192

struct run_opts {
	unsigned cpus;
	uint64_t mem;
	const char *kernel, *initrd, *root, *entrypoint, *workdir, *user, *hostname;
	char **env;
	size_t n_env;
	bool timings, debug, no_snapshot;
	const char *image;
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
	struct vmm *vm;
	int ready_fd; /* READY seen on a cold boot: the control thread takes over */
};

/* What the control thread does when a cold-booted guest says READY. */
struct cold_plan {
	const char *template_dir; /* save a template there first, or NULL */
	const char *template_key;
	const char *rootfs;
	uint64_t t_saved; /* when the template was written */
};

void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: hull run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
		"\n"
		"Run a command in a new container, in its own microVM.\n"
		"IMAGE is an OCI image layout directory or an oci-archive file.\n"
		"\n"
		"Options:\n"
		"      --cpus N              vCPUs (default 1, at most %d)\n"
		"  -m, --memory SIZE         guest memory, e.g. 256M, 1G (default %s)\n"
		"  -e, --env KEY[=VALUE]     set an environment variable (KEY alone: take hull's)\n"
		"  -w, --workdir DIR         working directory inside the container\n"
		"  -u, --user USER[:GROUP]   user (name or uid) and group to run as\n"
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
		"      --timings             print where the time went, on stderr\n"
		"      --debug               show the guest console, guest-init milestones and VMM\n"
		"                            events on stderr\n",
		8, DEFAULT_MEM);
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	enum { O_CPUS = 256, O_ENTRYPOINT, O_KERNEL, O_INITRD, O_ROOT, O_TIMINGS, O_DEBUG,
	       O_HOSTNAME, O_HELP, O_NO_SNAPSHOT, O_NETWORK, O_DNS };
	static const struct option lo[] = {
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "memory", required_argument, NULL, 'm' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "entrypoint", required_argument, NULL, O_ENTRYPOINT },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "root", required_argument, NULL, O_ROOT },
		{ "timings", no_argument, NULL, O_TIMINGS },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "no-snapshot", no_argument, NULL, O_NO_SNAPSHOT },
		{ "help", no_argument, NULL, O_HELP },
		{ "network", required_argument, NULL, O_NETWORK },
		{ "publish", required_argument, NULL, 'p' },
		{ "dns", required_argument, NULL, O_DNS },
		{ 0 },
	};
	memset(o, 0, sizeof(*o));
	net_opts_init(&o->net);
	o->cpus = 1;
	vmm_parse_size(DEFAULT_MEM, &o->mem);
	o->env = calloc((size_t)argc + 1, sizeof(char *));
	if (!o->env)
		return -ENOMEM;
	optind = 1;
	int c;
	/* '+': options end at IMAGE; what follows belongs to the container */
	while ((c = getopt_long(argc, argv, "+m:e:w:u:p:", lo, NULL)) != -1) {
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
			if (vmm_parse_size(optarg, &o->mem)) {
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

static void on_console(void *ctx, const uint8_t *b, size_t n)
{
	console_out(&((struct run_ctx *)ctx)->con, b, n);
}

static void on_chan(void *ctx, const uint8_t *b, size_t n)
{
	control_feed(&((struct run_ctx *)ctx)->ctl, b, n);
}

static void on_ready_hook(void *ctx)
{
	uint64_t one = 1;
	ssize_t r = write(((struct run_ctx *)ctx)->ready_fd, &one, sizeof(one));
	(void)r;
}

/* Cold boot, guest-init is up and waiting: save the template (the VM as it is
 * now, its image disk still empty), attach the image, send the spec. A
 * failed save costs this run nothing but the template. */
static int on_cold_ready(struct run_ctx *rc, struct cold_plan *p)
{
	struct errmsg err;
	if (p->template_dir) {
		if (vmm_pause(rc->vm))
			return -ESHUTDOWN;
		if (vmm_save_template(rc->vm, p->template_dir, p->template_key, &err))
			fprintf(stderr, "hull: warning: could not save a template: %s\n", err.text);
		else
			p->t_saved = clock_now_ns();
		vmm_resume(rc->vm);
	}
	if (vmm_attach_disk(rc->vm, 0, p->rootfs, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		vmm_request_stop(rc->vm);
		return -EIO;
	}
	return control_send_spec(&rc->ctl);
}

static int chan_send(void *ctx, const void *buf, size_t n)
{
	return vmm_chan_write(((struct run_ctx *)ctx)->vm, buf, n);
}

static void random_hostname(char out[13])
{
	uint8_t r[6] = { 0 };
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		memset(r, 0x5a, sizeof(r)); /* not a secret, only a default name */
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

static void print_timings(uint64_t t0, uint64_t t_image, bool hit, uint64_t t_setup,
			  const char *boot, uint64_t t_start, uint64_t t_saved,
			  const struct control *c, uint64_t t_stop)
{
#define MS(t) ((t) ? ((double)((t) - t0)) / 1e6 : -1.0)
	fprintf(stderr,
		"hull: timings (ms since hull started; -1 = did not happen)\n"
		"  image ready        %9.1f (%s)\n"
		"  vmm setup done     %9.1f (%s)\n"
		"  vcpus started      %9.1f\n"
		"  guest-init ready   %9.1f\n"
		"  template saved     %9.1f\n"
		"  container started  %9.1f\n"
		"  container exited   %9.1f\n"
		"  vm stopped         %9.1f\n",
		MS(t_image), hit ? "cache hit" : "converted", MS(t_setup), boot, MS(t_start),
		MS(c->t_ready), MS(t_saved), MS(c->t_started), MS(c->t_exit), MS(t_stop));
#undef MS
}

static const char *reason_text(enum vmm_stop_reason r)
{
	switch (r) {
	case VMM_STOP_RESET: return "the guest rebooted";
	case VMM_STOP_SHUTDOWN: return "the guest shut down";
	case VMM_STOP_ERROR: return "a VMM error";
	case VMM_STOP_REQUESTED: return "hull stopped it";
	default: return "unknown";
	}
}

/* Wait for the VM to stop, forwarding hull's signals to the container. */
static int supervise(struct run_ctx *rc, int sigfd, struct cold_plan *plan, int *killed_by)
{
	struct pollfd p[3] = { { .fd = vmm_stop_fd(rc->vm), .events = POLLIN },
			       { .fd = sigfd, .events = POLLIN },
			       { .fd = rc->ready_fd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents)
			return 0;
		if (p[2].revents) {
			uint64_t v;
			if (read(rc->ready_fd, &v, sizeof(v)) == sizeof(v) && plan)
				on_cold_ready(rc, plan);
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (control_signal(&rc->ctl, (int)si.ssi_signo) == -EAGAIN) {
				/* nothing runs yet: stopping the VM is the answer */
				*killed_by = (int)si.ssi_signo;
				vmm_request_stop(rc->vm);
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
		rc->ready_fd = -1;
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

	if (image_prepare(o.image, NULL, root, &img, &err)) {
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
	};
	if (spec_build(&si, &so, &spec, &err)) {
		fprintf(stderr, "hull: %s: %s\n", o.image, err.text);
		goto out;
	}
	/* the NIC's settings go into vc below */
	struct vmm_config netvc = { 0 };
	if (net_opts_apply(&o.net, &netvc, &spec, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out;
	}
	if (control_init(&rc->ctl, &spec, STDOUT_FILENO, STDERR_FILENO, chan_send, rc)) {
		fprintf(stderr, "hull: the container spec is too large for one message\n");
		goto out;
	}
	ctl_ok = true;
	rc->con.echo = o.debug;

	/* Signals go to the control thread through a signalfd; every thread
	 * created from here on inherits the blocked mask. */
	sigset_t set;
	sigemptyset(&set);
	int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaddset(&set, fwd[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0) {
		fprintf(stderr, "hull: signalfd: %s\n", strerror(errno));
		goto out;
	}

	bool pvm = vmm_host_is_pvm();
	char *tkey = NULL, *troot = NULL, *tdir = NULL;
	const char *boot = "cold boot";
	if (!o.no_snapshot) {
		troot = template_root(root);
		char *k = NULL;
		int krc = template_key(kernel, initrd, o.cpus, o.mem, pvm, &k, &err);
		/* VMs with and without a NIC boot different devices */
		if (!krc && asprintf(&tkey, "%s%s", k, net_opts_template_tag(&o.net)) < 0) {
			tkey = NULL;
			krc = errmsg_set(&err, -ENOMEM, "out of memory");
		}
		free(k);
		if (krc || !troot || !(tdir = template_dir(troot, tkey))) {
			fprintf(stderr, "hull: %s\n", err.text);
			goto out_t;
		}
	}
	struct vmm_config vc = {
		.kernel = kernel,
		.initrd = initrd,
		.cpus = o.cpus,
		.mem_bytes = o.mem,
		/* empty until the image is attached: a template must not have
		 * seen any one image (see on_cold_ready) */
		.disks = { { .path = NULL, .read_only = true } },
		.ndisks = 1,
		.pvm = pvm,
		.debug = o.debug,
		/* guest-init's timestamped milestones on the console */
		.cmdline_extra = o.debug ? "hull_debug=1" : NULL,
		.console_out = on_console,
		.chan_out = on_chan,
		.ctx = rc,
		.net_mode = netvc.net_mode,
		.net_tap = netvc.net_tap,
		.net_ports = netvc.net_ports,
		.net_nports = netvc.net_nports,
		.net_no_csum = netvc.net_no_csum,
	};
	memcpy(vc.net_mac, netvc.net_mac, sizeof(vc.net_mac));
	bool restored = false, stale = false;
	struct errmsg terr;
	if (tdir && vmm_template_exists(tdir)) {
		vc.template_dir = tdir;
		vc.template_key = tkey;
		if (vmm_create(&vc, &rc->vm, &terr) == 0) {
			restored = true;
			boot = "restored from template";
		} else {
			stale = true;
		}
		vc.template_dir = NULL;
		vc.template_key = NULL;
	}
	if (!restored && vmm_create(&vc, &rc->vm, &err)) {
		/* the run's own problem (a published port in use, say), not
		 * the template's: keep the template */
		fprintf(stderr, "hull: %s\n", err.text);
		goto out_t;
	}
	if (stale) {
		/* a template that cannot be used is replaced by this run */
		fprintf(stderr, "hull: template not used, booting cold: %s\n", terr.text);
		vmm_template_remove(tdir);
	}
	uint64_t t_setup = clock_now_ns();
	struct cold_plan plan = { .rootfs = img.path };
	if (restored) {
		if (vmm_attach_disk(rc->vm, 0, img.path, &err)) {
			fprintf(stderr, "hull: %s\n", err.text);
			goto out_t;
		}
	} else {
		rc->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (rc->ready_fd < 0) {
			fprintf(stderr, "hull: eventfd: %s\n", strerror(errno));
			goto out_t;
		}
		if (tdir) {
			plan.template_dir = tdir;
			plan.template_key = tkey;
		}
		control_set_ready_hook(&rc->ctl, on_ready_hook, rc);
	}
	if (vmm_start(rc->vm, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		goto out_t;
	}
	if (restored && control_resume_ready(&rc->ctl)) {
		fprintf(stderr, "hull: cannot send the container spec to the guest\n");
		vmm_request_stop(rc->vm);
	}
	int killed_by = 0;
	supervise(rc, sigfd, restored ? NULL : &plan, &killed_by);
	enum vmm_stop_reason why = vmm_wait(rc->vm);
	uint64_t t_stop = clock_now_ns();

	int code;
	if (control_exit_status(&rc->ctl, &code)) {
		status = code;
	} else if (killed_by) {
		status = 128 + killed_by;
	} else {
		const char *f = control_failed(&rc->ctl);
		fprintf(stderr,
			"hull: the VM stopped (%s%s%s) before the container reported an exit status%s%s\n",
			reason_text(why), vmm_stop_why(rc->vm)[0] ? ": " : "", vmm_stop_why(rc->vm),
			f ? "; control channel: " : "", f ? f : "");
		console_dump(&rc->con);
	}
	if (o.timings)
		print_timings(t0, t_image, img.cache_hit, t_setup, boot, vmm_started_ns(rc->vm),
			      plan.t_saved, &rc->ctl, t_stop);
out_t:
	free(tkey);
	free(troot);
	free(tdir);
out:
	if (rc && rc->vm)
		vmm_destroy(rc->vm);
	if (ctl_ok)
		control_free(&rc->ctl);
	if (sigfd >= 0)
		close(sigfd);
	if (rc && rc->ready_fd >= 0)
		close(rc->ready_fd);
	hcp_spec_free(&spec);
	image_rootfs_free(&img);
	free(kernel);
	free(initrd);
	free(root);
	free(o.env);
	free(rc);
	return status;
}
