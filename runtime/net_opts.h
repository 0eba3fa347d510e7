/* net_opts: `hull run`'s networking options -> the VMM's NIC and the
 * network part of the process spec guest-init applies.
 *
 *   --network slirp      (default) user-mode networking (netd/hull-slirp):
 *                        guest 10.0.2.15/24, gateway 10.0.2.2 (the host's
 *                        addresses, but NOT its loopback: a connection to
 *                        10.0.2.2 never reaches a server bound to
 *                        127.0.0.1), DNS 10.0.2.3 (the host's resolvers);
 *                        rootless.
 *   --network slirp,host-loopback=on   the same, and 10.0.2.2:P reaches
 *                        127.0.0.1:P on the host (QEMU's default; an
 *                        explicit opt-in here: host services bound to
 *                        loopback trust local callers). host-loopback=off
 *                        is the default spelled out.
 *   --network tap:NAME   an existing host tap device (root or the tap's
 *                        owner). The guest takes the address after the
 *                        tap's host address in its subnet (host .1 -> guest
 *                        .2), the host address as gateway; DNS only by --dns.
 *   --network none       no NIC at all; only lo.
 *   -p [IP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]  publish a container port on
 *                        the host (slirp only), on IP (default 0.0.0.0, every
 *                        host address, as docker does). Repeatable.
 *   --dns IP             nameserver for /etc/resolv.conf instead of the
 *                        default (slirp: 10.0.2.3). Up to 3, repeatable.
 *   --network-rx-bps/--network-tx-bps/--network-rx-pps/--network-tx-pps
 *                        the NIC's rate limits (parsed by the CLI, which
 *                        stores them here); any mode but none.
 *
 * Every error names the option and its value. Parsing is pure logic
 * (unit-tested); net_opts_apply() also reads the tap's host address and
 * draws a random MAC (52:54:00:xx:xx:xx, locally administered) per run.
 */
#ifndef HULL_RUNTIME_NET_OPTS_H
#define HULL_RUNTIME_NET_OPTS_H

#include <netinet/in.h>
#include <stdbool.h>

#include "common/errmsg.h"
#include "proto/hcp.h"
#include "vmm/vmm.h"

#define NET_OPTS_MAX_DNS 3

struct net_opts {
	enum vmm_net_mode mode;
	/* the NIC's checksum and TSO offloads are offered only with
	 * HULL_NET_CSUM=1 in the environment (bench/net measures both ways) */
	bool no_csum;
	const char *tap;    /* the NAME of tap:NAME, in the caller's string */
	bool host_loopback; /* slirp,host-loopback=on */
	struct vmm_portfwd ports[VMM_MAX_PORTFWD];
	unsigned nports;
	const char *dns[NET_OPTS_MAX_DNS];
	unsigned ndns;
	/* the NIC's rate limits (--network-{rx,tx}-{bps,pps}), bytes and
	 * frames per second; 0 = unlimited */
	uint64_t rx_bps, tx_bps, rx_pps, tx_pps;
};

/* slirp, nothing published; reads HULL_NET_CSUM */
void net_opts_init(struct net_opts *o);
int net_opts_network(struct net_opts *o, const char *val, struct errmsg *err);
int net_opts_publish(struct net_opts *o, const char *val, struct errmsg *err);
/* A container port as hull port names it: PORT[/tcp|/udp] (tcp when no
 * protocol). 0, or -EINVAL. */
int net_opts_port_spec(const char *s, uint16_t *port, bool *udp);
int net_opts_dns(struct net_opts *o, const char *val, struct errmsg *err);
/* The options together: -p needs slirp, --dns and rate limits a NIC. */
int net_opts_check(const struct net_opts *o, struct errmsg *err);

/* The guest's address for a tap whose host side is host/prefix: the next
 * address in the subnet (the previous one when the next is the broadcast
 * address). -EINVAL when the subnet has no room (prefix > 30). */
int net_opts_tap_guest(struct in_addr host, unsigned prefix, struct in_addr *guest);

/* Fill the NIC part of vc (mode, tap, MAC, published ports: vc points
 * into o, which must outlive it) and the network fields of spec (malloc'd,
 * freed by hcp_spec_free). 0 or -errno with err saying why. */
int net_opts_apply(const struct net_opts *o, struct vmm_config *vc, struct hcp_spec *spec,
		   struct errmsg *err);

#endif
