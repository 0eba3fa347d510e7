/* net_slirp: rootless user-mode networking for a virtio-net device, with
 * libslirp (the TCP/IP stack QEMU's `-netdev user` uses).
 *
 * Contract
 * - The guest network is QEMU's: 10.0.2.0/24, the gateway 10.0.2.2 is the
 *   host (its loopback too: 10.0.2.2:P reaches 127.0.0.1:P on the host), the
 *   DNS proxy is 10.0.2.3 (forwarding to the host's resolvers), the guest is
 *   10.0.2.15. No IPv6. Guests get their address from hull's spec, not DHCP,
 *   but slirp's DHCP server answers as QEMU's does.
 * - Published ports: each vmm_portfwd makes slirp listen on the host
 *   (host_ip:host_port, TCP or UDP) and forward to 10.0.2.15:guest_port.
 *   net_slirp_create() fails naming the port when the host port cannot be
 *   bound (in use, privileged).
 * - Threads by role: slirp has its own device thread (net_slirp_start),
 *   because libslirp is a poll() loop whose socket set and timeout change on
 *   every round, which the epoll event loop does not model. All slirp calls
 *   happen on that thread. Guest frames reach it through a bounded queue
 *   (the back end's tx() copies each into its own allocation and wakes the
 *   thread; frames past NET_SLIRP_TXQ_MAX wait nowhere: they are dropped,
 *   TCP resends); frames
 *   for the guest go through virtio_net_rx(). While the device holds more
 *   than NET_SLIRP_BACKLOG_PAUSE frames for a guest that posts no buffers,
 *   the thread stops reading host sockets (the data waits in the host
 *   kernel) until the device reports rx_ready: flow control, not drops.
 * - net_slirp_stop() joins the thread; net_slirp_free() closes every socket
 *   (published ports included). A VM restored from a template gets a fresh
 *   instance: slirp state is never saved.
 */
#ifndef HULL_NET_SLIRP_H
#define HULL_NET_SLIRP_H

#include "common/errmsg.h"
#include "vmm/virtio/virtio_net.h"
#include "vmm/vmm.h"

#define NET_SLIRP_NETWORK "10.0.2.0"
#define NET_SLIRP_PREFIX 24
#define NET_SLIRP_GATEWAY "10.0.2.2"
#define NET_SLIRP_DNS "10.0.2.3"
#define NET_SLIRP_GUEST "10.0.2.15"
/* frames, not bytes: a guest's ring of 256 TSO segments of 64 KiB makes
 * 256 * 45 frames at worst; past this, frames are dropped */
#define NET_SLIRP_TXQ_MAX 16384u
#define NET_SLIRP_BACKLOG_PAUSE 64u

struct net_slirp;

/* Returns 0 or -errno with err naming the problem (a port that cannot be
 * published, say). dev must outlive s. */
int net_slirp_create(struct net_slirp **out, struct virtio_net *dev,
		     const struct vmm_portfwd *ports, unsigned nports, bool debug,
		     struct errmsg *err);
/* The back end to connect the device to. */
struct virtio_net_backend net_slirp_backend(struct net_slirp *s);
int net_slirp_start(struct net_slirp *s, struct errmsg *err);
void net_slirp_stop(struct net_slirp *s);
void net_slirp_free(struct net_slirp *s);

#endif
