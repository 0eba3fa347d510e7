/* net_tap: a virtio-net device's back end on an existing host tap device.
 *
 * Contract
 * - The tap device must exist (`ip tuntap add NAME mode tap`, by root, or
 *   owned by the caller); hull never creates one, so nothing is left behind.
 *   It is attached with IFF_TAP | IFF_NO_PI (no offloads, so no vnet header)
 *   and non-blocking; /dev/net/tun must exist (CONFIG_TUN).
 * - Frames move on the event-loop thread: the tap fd is watched there and
 *   each readable round moves at most NET_TAP_BUDGET frames. While the
 *   device holds frames for a guest that posts no receive buffers, the fd is
 *   not watched (the kernel queues, then drops, as a NIC's ring would), and
 *   is watched again at the device's rx_ready. A guest frame is written at
 *   once; when the tap's queue is full (EAGAIN) it is dropped.
 */
#ifndef HULL_NET_TAP_H
#define HULL_NET_TAP_H

#include "common/errmsg.h"
#include "vmm/evloop.h"
#include "vmm/virtio/virtio_net.h"

#define NET_TAP_BUDGET 64u

struct net_tap;

/* Open and attach tap device `name`, watched on loop. Returns 0 or -errno
 * with err naming the device and what to do. */
int net_tap_open(struct net_tap **out, const char *name, struct virtio_net *dev,
		 struct evloop *loop, struct errmsg *err);
struct virtio_net_backend net_tap_backend(struct net_tap *t);
/* Stop watching and close the fd (after the event loop stopped). */
void net_tap_free(struct net_tap *t);

#endif
