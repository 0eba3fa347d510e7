/* net_stream: a virtio-net device's back end on an inherited Unix socket
 * whose peer is a user-mode network (netd/hull-slirp), so that no packet
 * parser runs in the VM monitor.
 *
 * Contract
 * - The socket is a SOCK_SEQPACKET socket (one end of a socketpair the
 *   runtime made; the peer holds the other): one Ethernet frame per
 *   message, no header, both ways. The caller keeps its fd: the stream
 *   works on a duplicate (closed by net_stream_free()), so a VM made twice
 *   (a refused template, then a cold boot) uses the same socket.
 * - Hostile peer: the helper is as untrusted as the guest. A message
 *   shorter than VIRTIO_NET_ETH_MIN or longer than VIRTIO_NET_FRAME_MAX
 *   bytes (seen whole with MSG_TRUNC) is dropped and counted, never
 *   truncated into the guest.
 * - Threads: frames move on the event-loop thread (the fd is watched there);
 *   each readable round moves at most NET_STREAM_BUDGET frames.
 * - Flow control: while the device holds more than NET_STREAM_BACKLOG_PAUSE
 *   frames for a guest that posts no receive buffers, the fd is not watched
 *   (frames wait in the socket, then the peer stops reading host sockets:
 *   see netd/net_slirp.h) until the device reports rx_ready. A guest frame is
 *   sent at once without blocking; when the socket is full (EAGAIN) it is
 *   dropped, like a NIC's full ring (TCP resends).
 * - Peer hangup (EOF, ECONNRESET): the fd is no longer watched and the NIC
 *   has no link from then on (guest frames are dropped, -EPIPE); the VM
 *   keeps running.
 */
#ifndef HULL_NET_STREAM_H
#define HULL_NET_STREAM_H

#include <stdbool.h>

#include "common/errmsg.h"
#include "vmm/evloop.h"
#include "vmm/virtio/virtio_net.h"

#define NET_STREAM_BUDGET 64u
#define NET_STREAM_BACKLOG_PAUSE 64u

struct net_stream;

/* Duplicate fd (a SOCK_SEQPACKET socket), make it non-blocking and watch
 * it on loop. 0 or -errno with err naming the problem. */
int net_stream_open(struct net_stream **out, int fd, struct virtio_net *dev, struct evloop *loop,
		    struct errmsg *err);
struct virtio_net_backend net_stream_backend(struct net_stream *s);
/* Frames from the peer dropped as malformed (too short, too long). */
unsigned long net_stream_dropped(const struct net_stream *s);
/* The peer hung up. */
bool net_stream_hungup(const struct net_stream *s);
/* Stop watching and close the fd (after the event loop stopped). */
void net_stream_free(struct net_stream *s);

#endif
