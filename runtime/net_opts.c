#include "net_opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netd/net_slirp.h"

void net_opts_init(struct net_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = VMM_NET_SLIRP;
	/* off unless asked for: bench/net measured no gain from them on a
	 * host that emulates guest kernel mode (see README, Networking) */
	const char *c = getenv("HULL_NET_CSUM");
	o->no_csum = !(c && strcmp(c, "1") == 0);
}

int net_opts_network(struct net_opts *o, const char *val, struct errmsg *err)
{
	if (strcmp(val, "slirp") == 0) {
		o->mode = VMM_NET_SLIRP;
	} else if (strncmp(val, "slirp,", 6) == 0) {
		const char *opt = val + 6;
		if (strcmp(opt, "host-loopback=on") == 0)
			o->host_loopback = true;
		else if (strcmp(opt, "host-loopback=off") == 0)
			o->host_loopback = false;
		else
			return errmsg_set(err, -EINVAL,
					  "--network %s: \"%s\": expected host-loopback=on or "
					  "host-loopback=off",
					  val, opt);
		o->mode = VMM_NET_SLIRP;
	} else if (strcmp(val, "none") == 0) {
		o->mode = VMM_NET_NONE;
	} else if (strncmp(val, "tap:", 4) == 0) {
		const char *name = val + 4;
		if (!name[0] || strlen(name) >= IFNAMSIZ || strpbrk(name, "/ :\t\n"))
			return errmsg_set(err, -EINVAL,
					  "--network %s: \"%s\" is not a network device name", val,
					  name);
		o->mode = VMM_NET_TAP;
		o->tap = name;
	} else {
		return errmsg_set(
		    err, -EINVAL,
		    "--network %s: expected slirp[,host-loopback=on], none or tap:NAME", val);
	}
	return 0;
}

/* A port number 1..65535, the whole string. */
static int parse_port(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5)
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int net_opts_publish(struct net_opts *o, const char *val, struct errmsg *err)
{
	struct vmm_portfwd p = {0};
	char buf[128];
	if (strlen(val) >= sizeof(buf))
		return errmsg_set(err, -EINVAL, "-p %s: too long", val);
	strcpy(buf, val);
	char *proto = strchr(buf, '/');
	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "udp") == 0)
			p.udp = true;
		else if (strcmp(proto, "tcp") != 0)
			return errmsg_set(err, -EINVAL,
					  "-p %s: protocol \"%s\": expected tcp or udp", val,
					  proto);
	}
	/* [IP:]HOSTPORT:CONTAINERPORT */
	char *last = strrchr(buf, ':');
	if (!last)
		return errmsg_set(err, -EINVAL,
				  "-p %s: expected [IP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]", val);
	*last = '\0';
	char *hport = strrchr(buf, ':');
	const char *ip = NULL;
	if (hport) {
		*hport++ = '\0';
		ip = buf;
	} else {
		hport = buf;
	}
	if (parse_port(last + 1, strlen(last + 1), &p.guest_port))
		return errmsg_set(err, -EINVAL, "-p %s: container port \"%s\": expected 1-65535",
				  val, last + 1);
	if (parse_port(hport, strlen(hport), &p.host_port))
		return errmsg_set(err, -EINVAL, "-p %s: host port \"%s\": expected 1-65535", val,
				  hport);
	if (ip) {
		struct in_addr a;
		if (inet_pton(AF_INET, ip, &a) != 1)
			return errmsg_set(err, -EINVAL, "-p %s: \"%s\" is not an IPv4 address", val,
					  ip);
		p.host_ip = a.s_addr;
	}
	for (unsigned i = 0; i < o->nports; i++) {
		const struct vmm_portfwd *q = &o->ports[i];
		if (q->udp == p.udp && q->host_port == p.host_port &&
		    (q->host_ip == p.host_ip || !q->host_ip || !p.host_ip))
			return errmsg_set(err, -EINVAL,
					  "-p %s: host port %u/%s is already published", val,
					  p.host_port, p.udp ? "udp" : "tcp");
	}
	if (o->nports == VMM_MAX_PORTFWD)
		return errmsg_set(err, -EINVAL, "-p %s: at most %d published ports", val,
				  VMM_MAX_PORTFWD);
	o->ports[o->nports++] = p;
	return 0;
}

int net_opts_port_spec(const char *s, uint16_t *port, bool *udp)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (parse_port(s, n, port))
		return -EINVAL;
	if (!slash || !strcmp(slash, "/tcp"))
		*udp = false;
	else if (!strcmp(slash, "/udp"))
		*udp = true;
	else
		return -EINVAL;
	return 0;
}

int net_opts_dns(struct net_opts *o, const char *val, struct errmsg *err)
{
	struct in_addr a;
	if (inet_pton(AF_INET, val, &a) != 1)
		return errmsg_set(err, -EINVAL, "--dns %s: not an IPv4 address", val);
	if (o->ndns == NET_OPTS_MAX_DNS)
		return errmsg_set(err, -EINVAL, "--dns %s: at most %d nameservers", val,
				  NET_OPTS_MAX_DNS);
	o->dns[o->ndns++] = val;
	return 0;
}

int net_opts_check(const struct net_opts *o, struct errmsg *err)
{
	if (o->nports && o->mode != VMM_NET_SLIRP)
		return errmsg_set(err, -EINVAL,
				  "-p needs --network slirp (on a tap, reach the container at its "
				  "own address)");
	if (o->host_loopback && o->mode != VMM_NET_SLIRP)
		return errmsg_set(err, -EINVAL,
				  "host-loopback=on needs --network slirp (the last --network "
				  "wins)");
	if (o->ndns && o->mode == VMM_NET_NONE)
		return errmsg_set(err, -EINVAL, "--dns with --network none: there is no network");
	const char *rate = o->rx_bps   ? "--network-rx-bps"
			   : o->tx_bps ? "--network-tx-bps"
			   : o->rx_pps ? "--network-rx-pps"
			   : o->tx_pps ? "--network-tx-pps"
				       : NULL;
	if (rate && o->mode == VMM_NET_NONE)
		return errmsg_set(err, -EINVAL, "%s with --network none: there is no NIC to limit",
				  rate);
	return 0;
}

int net_opts_tap_guest(struct in_addr host, unsigned prefix, struct in_addr *guest)
{
	if (prefix < 1 || prefix > 30)
		return -EINVAL;
	uint32_t mask = ~0u << (32 - prefix);
	uint32_t h = ntohl(host.s_addr), net = h & mask, bcast = net | ~mask;
	uint32_t g = h + 1;
	if (g >= bcast)
		g = h - 1;
	if (g <= net)
		return -EINVAL;
	guest->s_addr = htonl(g);
	return 0;
}

/* The host's IPv4 address and prefix on device name. */
static int tap_host_addr(const char *name, struct in_addr *addr, unsigned *prefix,
			 struct errmsg *err)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errmsg_set(err, -errno, "socket: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	int rc = 0;
	if (ioctl(s, SIOCGIFADDR, &ifr) < 0) {
		int e = errno;
		rc = errmsg_set(err, -e, "--network tap:%s: %s", name,
				e == EADDRNOTAVAIL ? "the device has no IPv4 address on the host "
						     "(ip addr add ADDR/PREFIX dev NAME)"
				: e == ENODEV	   ? "no such device (ip tuntap add NAME mode tap)"
						   : strerror(e));
	} else {
		*addr = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
		if (ioctl(s, SIOCGIFNETMASK, &ifr) < 0) {
			rc = errmsg_set(err, -errno, "--network tap:%s: netmask: %s", name,
					strerror(errno));
		} else {
			uint32_t m =
			    ntohl(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
			*prefix = (unsigned)__builtin_popcount(m);
		}
	}
	close(s);
	return rc;
}

static int push(char ***v, size_t *n, const char *s)
{
	char *c = strdup(s);
	char **nv = c ? realloc(*v, (*n + 2) * sizeof(char *)) : NULL;
	if (!nv) {
		free(c);
		return -ENOMEM;
	}
	nv[(*n)++] = c;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int net_opts_apply(const struct net_opts *o, struct vmm_config *vc, struct hcp_spec *spec,
		   struct errmsg *err)
{
	int rc = net_opts_check(o, err);
	if (rc)
		return rc;
	vc->net_mode = o->mode;
	vc->net_no_csum = o->no_csum;
	vc->net_host_loopback = o->mode == VMM_NET_SLIRP && o->host_loopback;
	vc->net_rx_bps = o->rx_bps;
	vc->net_tx_bps = o->tx_bps;
	vc->net_rx_pps = o->rx_pps;
	vc->net_tx_pps = o->tx_pps;
	if (o->mode == VMM_NET_NONE)
		return 0;
	uint8_t r[3] = {0};
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return errmsg_set(err, -EIO, "getrandom: %s", strerror(errno));
	uint8_t mac[6] = {0x52, 0x54, 0x00, r[0], r[1], r[2]};
	memcpy(vc->net_mac, mac, sizeof(mac));
	vc->net_tap = o->tap;
	vc->net_ports = o->ports;
	vc->net_nports = o->nports;

	char addr[32], gw[INET_ADDRSTRLEN], macs[18];
	snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	const char *host_line = NULL;
	if (o->mode == VMM_NET_TAP) {
		struct in_addr host, guest;
		unsigned prefix = 0;
		rc = tap_host_addr(o->tap, &host, &prefix, err);
		if (rc)
			return rc;
		if (net_opts_tap_guest(host, prefix, &guest))
			return errmsg_set(err, -EINVAL,
					  "--network tap:%s: the host's subnet /%u has no room for "
					  "the guest",
					  o->tap, prefix);
		inet_ntop(AF_INET, &host, gw, sizeof(gw));
		char g[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &guest, g, sizeof(g));
		snprintf(addr, sizeof(addr), "%s/%u", g, prefix);
	} else {
		snprintf(addr, sizeof(addr), "%s/%u", NET_SLIRP_GUEST, NET_SLIRP_PREFIX);
		snprintf(gw, sizeof(gw), "%s", NET_SLIRP_GATEWAY);
		/* the host, by name, as docker's host.docker.internal */
		host_line = NET_SLIRP_GATEWAY " host.hull.internal";
	}
	spec->net_mac = strdup(macs);
	spec->net_addr = strdup(addr);
	spec->net_gw = strdup(gw);
	if (!spec->net_mac || !spec->net_addr || !spec->net_gw)
		rc = -ENOMEM;
	for (unsigned i = 0; !rc && i < o->ndns; i++)
		rc = push(&spec->net_dns, &spec->n_dns, o->dns[i]);
	if (!rc && o->ndns == 0 && o->mode == VMM_NET_SLIRP)
		rc = push(&spec->net_dns, &spec->n_dns, NET_SLIRP_DNS);
	if (!rc && host_line)
		rc = push(&spec->net_hosts, &spec->n_hosts, host_line);
	if (rc)
		return errmsg_set(err, rc, "out of memory");
	return 0;
}
