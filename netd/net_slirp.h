/* net_slirp: rootless user-mode networking with libslirp (the TCP/IP stack
 * QEMU's `-netdev user` uses), run by the helper process netd/hull-slirp,
 * whose peer is the VM monitor's virtio-net device (vmm/net/net_stream.h).
 * No packet parser runs in the monitor: this process parses the guest's
 * frames and talks to the host's sockets.
 *
 * Contract
 * - The guest network is QEMU's: 10.0.2.0/24, the gateway 10.0.2.2 is the
 *   host; its loopback only with host_loopback (10.0.2.2:P then reaches
 *   127.0.0.1:P on the host; without it a connection to 10.0.2.2 goes to
 *   the host's own address instead, never to a 127.0.0.1 listener), the
 *   DNS proxy is 10.0.2.3 (forwarding to the host's resolvers), the guest is
 *   10.0.2.15. No IPv6. Guests get their address from hull's spec, not DHCP,
 *   but slirp's DHCP server answers as QEMU's does.
 * - Without host_loopback, a guest frame carrying an IPv4 packet to
 *   127.0.0.0/8 or 0.0.0.0/8 is dropped before slirp sees it
 *   (net_slirp_to_host_loopback): slirp's own switch covers only the
 *   gateway address, and it would connect() to such a destination as
 *   given, which on the host is the loopback.
 * - Published ports: each vmm_portfwd makes slirp listen on the host
 *   (host_ip:host_port, TCP or UDP) and forward to 10.0.2.15:guest_port.
 *   net_slirp_create() fails naming the port (as -p IP:HOST:GUEST/PROTO)
 *   when the host port cannot be bound (in use, privileged).
 * - The wire: fd is a SOCK_SEQPACKET socket, one Ethernet frame per message
 *   both ways (vmm/net/net_stream.h). The peer is hostile: a message
 *   shorter than VIRTIO_NET_ETH_MIN or longer than VIRTIO_NET_FRAME_MAX
 *   bytes is dropped, never passed to slirp.
 * - One thread: net_slirp_run() is a poll() loop over fd, slirp's sockets
 *   and its timers. Flow control: a frame for the guest waits (poll for
 *   POLLOUT) until the socket has room, never dropped; while the socket has
 *   no room, host sockets are not read (the data waits in the host kernel).
 *   Memory is bounded by the socket buffers.
 * - net_slirp_run() returns 0 when the peer hangs up, -errno on a poll
 *   failure. net_slirp_free() closes every socket (published ports
 *   included) but not fd.
 */
#ifndef HULL_NET_SLIRP_H
#define HULL_NET_SLIRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/vmm.h" /* struct vmm_portfwd (the header only) */

#define NET_SLIRP_NETWORK "10.0.2.0"
#define NET_SLIRP_PREFIX 24
#define NET_SLIRP_GATEWAY "10.0.2.2"
#define NET_SLIRP_DNS "10.0.2.3"
#define NET_SLIRP_GUEST "10.0.2.15"
/* frames read from the monitor per poll round */
#define NET_SLIRP_RX_BUDGET 64u

struct net_slirp;

/* Returns 0 or -errno with err naming the problem (a port that cannot be
 * published, say). fd must outlive s. */
int net_slirp_create(struct net_slirp **out, int fd, const struct vmm_portfwd *ports,
		     unsigned nports, bool host_loopback, bool debug, struct errmsg *err);
int net_slirp_run(struct net_slirp *s);
/* Whether the Ethernet frame f[0, n) is an IPv4 packet to the host's
 * loopback as slirp would connect() to it (127.0.0.0/8, 0.0.0.0/8). Pure;
 * any n (a short frame is not). */
bool net_slirp_to_host_loopback(const uint8_t *f, size_t n);
void net_slirp_free(struct net_slirp *s);

#endif
