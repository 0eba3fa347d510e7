/* hcp-peer: hull's side of the hcp control conversation, over a Unix socket.
 *
 *   hcp-peer [OPTIONS] SOCKET_PATH [--] CMD [ARG...]
 *
 * Lets another VMM run hull's guest kernel and guest-init to the same
 * poweroff: the VMM's second UART (the guest's ttyS1, which guest-init uses
 * for its control channel when the VM has no vsock device, as under QEMU
 * without vhost-vsock) connects to SOCKET_PATH, e.g. QEMU with
 *   -chardev socket,path=SOCKET_PATH,server=off,id=c -device isa-serial,chardev=c,...
 * (bench/qemu-microvm.sh with QEMU_SERIAL1=socket,path=SOCKET_PATH).
 *
 * hcp-peer listens on SOCKET_PATH, accepts one connection, removes the socket
 * file, and then behaves like `hull run`: on READY it sends a spec (CMD ARG...,
 * cwd "/", rootfs /dev/vda, a random hostname unless given), prints the
 * container's stdout and stderr on its own, and exits with the container's
 * exit status when EXIT arrives. It exits 125, with the reason on stderr, when
 * the connection ends before EXIT or the conversation goes wrong.
 *
 * The conversation is runtime/control.c (the hull-runtime library), the same code hull runs; only
 * the transport differs. Not installed: a bench/ tool.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/control.h"
#include "runtime/net_opts.h"
#include "runtime/spec.h"
#include "common/clock.h"
#include "common/fdio.h"
#include "proto/hcp.h"

static const char *sock_path; /* removed by the signal handler while listening */
static volatile sig_atomic_t listening;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hcp-peer [OPTIONS] SOCKET_PATH [--] CMD [ARG...]\n"
		"\n"
		"Listen on the Unix socket SOCKET_PATH, accept one connection from a VMM's\n"
		"serial port (guest-init's control channel, ttyS1), run CMD in the guest\n"
		"over hcp like `hull run`, and exit with the container's exit status\n"
		"(125 when the conversation ends without one).\n"
		"\n"
		"Options:\n"
		"  -e, --env KEY=VALUE   set an environment variable in the container\n"
		"  -w, --workdir DIR     working directory inside the container (default /)\n"
		"      --hostname NAME   container hostname (default: a random 12-hex id)\n"
		"      --rootfs DEV      guest block device with the image (default /dev/vda)\n"
		"      --network MODE    configure the guest's network as hull run --network\n"
		"                        MODE does (slirp: 10.0.2.15/24 via 10.0.2.2; tap:NAME);\n"
		"                        the VMM must provide the NIC (default none)\n"
		"      --timings         print, on stderr, when the connection, READY,\n"
		"                        STARTED and EXIT happened (ms since hcp-peer started)\n");
}

static void on_signal(int sig)
{
	if (listening)
		unlink(sock_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int sock_send(void *ctx, const void *buf, size_t n)
{
	int fd = *(int *)ctx;
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void random_hostname(char out[13])
{
	uint8_t r[6] = {0};
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		memset(r, 0x5a, sizeof(r));
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

/* Listen on path and return the one accepted connection, or -1. */
static int accept_one(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hcp-peer: %s: socket path too long (limit %zu bytes)\n", path,
			sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0) {
		fprintf(stderr, "hcp-peer: socket: %s\n", strerror(errno));
		return -1;
	}
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hcp-peer: %s: bind: %s\n", path, strerror(errno));
		close(ls);
		return -1;
	}
	listening = 1;
	int fd = -1;
	if (listen(ls, 1) < 0) {
		fprintf(stderr, "hcp-peer: %s: listen: %s\n", path, strerror(errno));
	} else {
		do
			fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		while (fd < 0 && errno == EINTR);
		if (fd < 0)
			fprintf(stderr, "hcp-peer: %s: accept: %s\n", path, strerror(errno));
	}
	/* one connection only: nobody else may find the socket */
	unlink(path);
	listening = 0;
	close(ls);
	return fd;
}

int main(int argc, char **argv)
{
	uint64_t t0 = clock_now_ns();
	enum { O_HOSTNAME = 256, O_ROOTFS, O_TIMINGS, O_HELP, O_NETWORK };
	static const struct option lo[] = {
	    {"env", required_argument, NULL, 'e'},
	    {"workdir", required_argument, NULL, 'w'},
	    {"hostname", required_argument, NULL, O_HOSTNAME},
	    {"rootfs", required_argument, NULL, O_ROOTFS},
	    {"timings", no_argument, NULL, O_TIMINGS},
	    {"network", required_argument, NULL, O_NETWORK},
	    {"help", no_argument, NULL, O_HELP},
	    {0},
	};
	char **env = calloc((size_t)argc + 1, sizeof(char *));
	size_t n_env = 0;
	const char *workdir = NULL, *hostname = NULL, *rootfs = "/dev/vda";
	bool timings = false;
	/* the guest's network settings, as `hull run --network` gives them;
	 * default none: the other VMM brings its own NIC, or none */
	struct net_opts net;
	net_opts_init(&net);
	net.mode = VMM_NET_NONE;
	if (!env)
		return HCP_EXIT_HULL_FAILED;
	int c;
	/* '+': options end at SOCKET_PATH; what follows CMD belongs to it */
	while ((c = getopt_long(argc, argv, "+e:w:", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (!strchr(optarg, '=')) {
				fprintf(stderr, "hcp-peer: -e %s: expected KEY=VALUE\n", optarg);
				return HCP_EXIT_HULL_FAILED;
			}
			env[n_env++] = optarg;
			break;
		case 'w':
			workdir = optarg;
			break;
		case O_HOSTNAME:
			hostname = optarg;
			break;
		case O_ROOTFS:
			rootfs = optarg;
			break;
		case O_TIMINGS:
			timings = true;
			break;
		case O_NETWORK: {
			struct errmsg e;
			if (net_opts_network(&net, optarg, &e)) {
				fprintf(stderr, "hcp-peer: %s\n", e.text);
				return HCP_EXIT_HULL_FAILED;
			}
			break;
		}
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return HCP_EXIT_HULL_FAILED;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return HCP_EXIT_HULL_FAILED;
	}
	sock_path = argv[optind++];
	if (strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc) {
		fprintf(stderr, "hcp-peer: missing CMD\n");
		usage(stderr);
		return HCP_EXIT_HULL_FAILED;
	}

	char host[13];
	random_hostname(host);
	struct spec_image si = {0};
	struct spec_overrides so = {
	    .args = argv + optind,
	    .n_args = (size_t)(argc - optind),
	    .env = env,
	    .n_env = n_env,
	    .workdir = workdir,
	    .hostname = hostname ? hostname : host,
	    .rootfs = rootfs,
	};
	struct hcp_spec spec;
	struct errmsg err = {{0}};
	struct vmm_config netvc = {0};
	if (spec_build(&si, &so, &spec, &err) || net_opts_apply(&net, &netvc, &spec, &err)) {
		fprintf(stderr, "hcp-peer: %s\n", err.text);
		return HCP_EXIT_HULL_FAILED;
	}

	signal(SIGPIPE, SIG_IGN);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);

	int status = HCP_EXIT_HULL_FAILED;
	uint64_t t_conn = 0, t_closed = 0;
	struct control ctl;
	int fd = -1;
	if (control_init(&ctl, &spec, false, sock_send, &fd)) {
		fprintf(stderr, "hcp-peer: the container spec is too large for one message\n");
		hcp_spec_free(&spec);
		free(env);
		return HCP_EXIT_HULL_FAILED;
	}
	fd = accept_one(sock_path);
	if (fd >= 0) {
		t_conn = clock_now_ns();
		uint8_t buf[4096];
		for (;;) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "hcp-peer: read: %s\n", strerror(errno));
				break;
			}
			if (n == 0) {
				t_closed = clock_now_ns();
				const char *f = control_failed(&ctl);
				fprintf(stderr,
					"hcp-peer: the connection ended before the container "
					"reported an "
					"exit status%s%s\n",
					f ? "; control channel: " : "", f ? f : "");
				break;
			}
			size_t off = 0;
			struct control_event ev;
			bool done = false;
			while (!done && control_next(&ctl, buf, (size_t)n, &off, &ev)) {
				switch (ev.type) {
				case CONTROL_READY:
					control_send_spec(&ctl);
					break;
				case CONTROL_OUTPUT:
					fdio_write_all(ev.stream == 1 ? STDOUT_FILENO
								      : STDERR_FILENO,
						       ev.data, ev.len);
					break;
				case CONTROL_ERROR:
					fprintf(stderr, "hull: %s\n", ev.text);
					break;
				case CONTROL_EXIT:
					status = ev.status;
					done = true;
					break;
				case CONTROL_FAILED:
					fprintf(stderr, "hcp-peer: control channel: %s\n", ev.text);
					done = true;
					break;
				case CONTROL_STARTED:
					break;
				}
			}
			if (done)
				break;
		}
		close(fd);
	}
	if (timings) {
#define MS(t) ((t) ? ((double)((t)-t0)) / 1e6 : -1.0)
		fprintf(stderr,
			"hcp-peer: timings (ms since hcp-peer started; -1 = did not happen)\n"
			"  peer connected     %9.1f\n"
			"  guest-init ready   %9.1f\n"
			"  container started  %9.1f\n"
			"  container exited   %9.1f\n",
			MS(t_conn), MS(ctl.t_ready), MS(ctl.t_started), MS(ctl.t_exit));
		if (t_closed)
			fprintf(stderr, "  connection closed  %9.1f\n", MS(t_closed));
#undef MS
	}
	control_free(&ctl);
	hcp_spec_free(&spec);
	free(env);
	return status;
}
