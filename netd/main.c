/* hull-slirp: the user-mode network helper. One process per VM with
 * --network slirp: it runs libslirp (netd/net_slirp.h) so that the VM
 * monitor (hull-vmm) carries no packet parser, no libslirp and no glib.
 *
 * Usage (by the runtime, runtime/vmproc.c; not a user command):
 *   hull-slirp --net-fd N --status-fd M [--debug] [--host-loopback] [--jail DIR]
 *              [-p PROTO:IP:HOST:GUEST]...
 * - fd N: a SOCK_SEQPACKET socket whose peer is hull-vmm's virtio-net back
 *   end (vmm/net/net_stream.h): one Ethernet frame per message both ways.
 * - fd M: a pipe. Once the published ports are bound, "ok\n" is written
 *   and M closed; if they cannot be, the error (naming the -p value) is
 *   written instead, M closed, and the process exits 1. The runtime starts
 *   the VM only after "ok".
 * - -p: PROTO tcp or udp, IP a dotted IPv4 address (0.0.0.0: every one),
 *   HOST and GUEST ports 1-65535; at most VMM_MAX_PORTFWD.
 * - --host-loopback: 10.0.2.2 reaches the host's loopback too (closed
 *   without it: netd/net_slirp.h).
 * - stderr: diagnostics (--debug); stdin is not read.
 * - --jail DIR: the runtime made this process's jail (runtime/jail.h; the
 *   host's network namespace, everything else its own); once the ports are
 *   bound, and before the first frame is read, it enters it
 *   (common/jail_enter.h): DIR holds only /etc/resolv.conf, every
 *   capability goes (CAP_NET_BIND_SERVICE was kept for the ports).
 *
 * Life: every fd other than 0-2, N and M is closed at start. The process
 * exits 0 when N hangs up (the monitor ended); the runtime sets
 * PR_SET_PDEATHSIG (SIGKILL) before exec, so the runtime's death ends it.
 * Once the ports are bound (before the first frame is read) the process
 * runs under its seccomp filter (seccomp/filter.h, role slirp): a call
 * outside it ends the process with "hull-slirp killed by its seccomp filter
 * (syscall N name, thread role slirp)" on stderr and exit status
 * VMMAPI_EXIT_SECCOMP; the monitor sees the hangup and the VM goes on
 * without a network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/jail_enter.h"
#include "netd/net_slirp.h"
#include "proto/vmmapi.h"
#include "seccomp/filter.h"

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "tcp:0.0.0.0:8080:80" -> p. 0 or -1. */
static int parse_portfwd(const char *arg, struct vmm_portfwd *p)
{
	char buf[64], *f[4], *save = NULL;
	if (strlen(arg) >= sizeof(buf))
		return -1;
	memcpy(buf, arg, strlen(arg) + 1);
	unsigned n = 0;
	for (char *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == 4)
			return -1;
		f[n++] = t;
	}
	struct in_addr a;
	if (n != 4 || (strcmp(f[0], "tcp") && strcmp(f[0], "udp")) ||
	    inet_pton(AF_INET, f[1], &a) != 1 || parse_port(f[2], &p->host_port) ||
	    parse_port(f[3], &p->guest_port))
		return -1;
	p->udp = f[0][0] == 'u';
	p->host_ip = a.s_addr;
	return 0;
}

static void report(int fd, const char *text)
{
	fdio_write_all(fd, text, strlen(text));
	close(fd);
}

int main(int argc, char **argv)
{
	static struct vmm_portfwd ports[VMM_MAX_PORTFWD];
	unsigned nports = 0;
	int net = -1, status = -1;
	bool debug = false, bad = false, loopback = false;
	const char *jail = NULL;
	for (int i = 1; i < argc && !bad; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--debug"))
			debug = true;
		else if (!strcmp(argv[i], "--host-loopback"))
			loopback = true;
		else if (v && !strcmp(argv[i], "--net-fd"))
			net = fdio_parse_fd(v), i++;
		else if (v && !strcmp(argv[i], "--jail"))
			jail = v, i++;
		else if (v && !strcmp(argv[i], "--status-fd"))
			status = fdio_parse_fd(v), i++;
		else if (v && !strcmp(argv[i], "-p") && nports < VMM_MAX_PORTFWD)
			bad = parse_portfwd(v, &ports[nports++]) != 0, i++;
		else
			bad = true;
	}
	if (bad || net < 0 || status < 0 || net == status || fcntl(net, F_GETFD) < 0 ||
	    fcntl(status, F_GETFD) < 0) {
		fprintf(stderr, "usage: hull-slirp --net-fd N --status-fd M [--debug] "
				"[--host-loopback] [--jail DIR] [-p tcp|udp:IP:HOST:GUEST]... "
				"(started by hull, not by hand)\n");
		return 2;
	}
	fdio_close_others((int[2]){net, status}, 2);
	fcntl(net, F_SETFD, FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	struct net_slirp *s = NULL;
	struct errmsg err = {{0}};
	if (net_slirp_create(&s, net, ports, nports, loopback, debug, &err)) {
		report(status, err.text);
		return 1;
	}
	/* the jail first, then the filter (which allows none of the jail's calls) */
	if ((jail && jail_enter(jail, &err)) ||
	    hsc_trap_init("hull-slirp", NULL, NULL, VMMAPI_EXIT_SECCOMP, &err) ||
	    hsc_install(HSC_SLIRP, &err)) {
		report(status, err.text);
		net_slirp_free(s);
		return 1;
	}
	report(status, "ok\n");
	int rc = net_slirp_run(s);
	if (rc)
		fprintf(stderr, "hull-slirp: poll: %s\n", strerror(-rc));
	net_slirp_free(s);
	close(net);
	return rc ? 1 : 0;
}
