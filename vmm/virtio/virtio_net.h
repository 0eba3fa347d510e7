/* virtio_net: a virtio network device (virtio 1.x) in front of a frame back end.
 *
 * No library implements the device side of virtio-net, so it is written here
 * (like virtio_blk); the transport and the rings are vmm/virtio/virtio_mmio and
 * vmm/virtio/virtq.
 *
 * Contract
 * - Two queues: 0 = receive (device -> guest), 1 = transmit (guest -> device),
 *   at most VIRTIO_NET_QUEUE_MAX entries each. Features offered:
 *   VIRTIO_NET_F_MAC (the MAC given at init), VIRTIO_NET_F_STATUS (link
 *   always up) and the checksum offloads VIRTIO_NET_F_CSUM (the device
 *   finishes a partial checksum the guest leaves, see Transmit) and
 *   VIRTIO_NET_F_GUEST_CSUM (received frames are marked DATA_VALID: back ends
 *   deliver frames with correct checksums), and VIRTIO_NET_F_HOST_TSO4: the
 *   guest may hand over one IPv4 TCP segment of up to VIRTIO_NET_GSO_MAX
 *   bytes with gso_type TCPV4, which the device cuts into gso_size frames
 *   (virtio_net_tso_segment) for the back end. No receive segmentation
 *   and no mergeable receive buffers: every frame to the guest is at most
 *   VIRTIO_NET_FRAME_MAX bytes and travels whole in one chain, behind the
 *   12-byte struct virtio_net_hdr_v1 (num_buffers = 1 on receive).
 * - Transmit: each chain's device-readable bytes are the header then one
 *   frame. A chain shorter than header + 14 bytes (an Ethernet header) or
 *   with a frame over VIRTIO_NET_FRAME_MAX bytes is dropped (counted in
 *   tx_dropped) and returned with used length 0; so is a frame the back end
 *   refuses, one with a gso_type other than TCPV4 (or TCPV4 that does not
 *   parse as IPv4 TCP with gso_size >= 64), and one with NEEDS_CSUM whose csum_start
 *   and csum_offset do not leave the checksum field inside the frame. A
 *   NEEDS_CSUM frame is copied and its checksum finished before the back end
 *   sees it (as one iovec); other frames go to it in place. Writable segments in a transmit chain
 * are ignored. The back end's tx() gets the frame as iovecs pointing into guest memory, valid only
 *   during the call; it is called with the transport lock held, on the thread
 *   that delivered the notification, and must neither block nor call back into
 *   this device or the transport (copy the frame if it must go elsewhere).
 * - Receive: virtio_net_rx() (any thread that holds no transport lock, i.e.
 *   not from tx()) writes a frame into the next receive chain, or, when the
 *   guest has posted none right now, holds it in a backlog of at most
 *   VIRTIO_NET_BACKLOG_MAX frames, delivered first, in order, as soon as the
 *   guest posts buffers (its notification of the receive queue). Past the
 *   backlog's bound frames are dropped (rx_dropped): TCP recovers, nothing
 *   spins. Until the driver first posts receive buffers after a reset (the
 *   interface is not up yet), frames are dropped, not held. A chain whose writable bytes cannot
 * hold header + frame gets the frame dropped and is returned with used length 0 (the guest counts a
 *   length error); a chain without writable bytes breaks the queue.
 * - Back ends that can wait (a tap fd, a socket poll set) use
 *   virtio_net_rx_backlog() to stop reading while frames are held, and get
 *   rx_ready() (with the transport lock held; it must only wake something)
 *   once the guest has taken the whole backlog.
 * - Rate limits (virtio_net_set_limits, Firecracker's rx_rate_limiter and
 *   tx_rate_limiter): token buckets of vmm/ratelimit.h per direction, bytes
 *   (the Ethernet frame, without the virtio header; a TSO segment counts
 *   whole, as the guest handed it over) and frames per second. A transmit
 *   chain the tx buckets refuse goes back to the ring (virtq_unpop: the guest
 *   sees it unused, nothing is dropped) and the transmit queue is not served,
 *   whatever the guest kicks, until the tx timer fires. A frame for the
 *   guest the rx buckets refuse is held in the backlog (the back ends stop
 *   reading, as when the guest is short of buffers) until the rx timer
 *   fires; frames are charged only when a buffer is there to take them.
 * - A device reset (driver writes Status 0) drops the backlog.
 * - Snapshots: the device keeps no guest-visible state beyond its transport
 *   and config (the MAC); the backlog is not saved (frames in flight may be
 *   lost, as on a wire).
 */
#ifndef HULL_VIRTIO_NET_H
#define HULL_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/errmsg.h"
#include "vmm/virtio/virtio_mmio.h"

#define VIRTIO_NET_QUEUE_MAX 256u
#define VIRTIO_NET_HDR_LEN 12u
/* Ethernet header + 1500-byte MTU + a VLAN tag, with room to spare. */
#define VIRTIO_NET_FRAME_MAX 1536u
/* The largest frame a guest may hand over for segmentation (HOST_TSO4). */
#define VIRTIO_NET_GSO_MAX (14u + 65535u)
#define VIRTIO_NET_ETH_MIN 14u
#define VIRTIO_NET_BACKLOG_MAX 1024u
#define VIRTIO_NET_RXQ 0u
#define VIRTIO_NET_TXQ 1u

struct virtio_net;

struct virtio_net_backend {
	/* A frame from the guest; 0 when taken, -errno when dropped. */
	int (*tx)(void *be, const struct iovec *iov, unsigned cnt, size_t len);
	/* The backlog emptied (may be NULL). */
	void (*rx_ready)(void *be);
	void *be;
};

/* Counted by the device (atomics: any thread may read them while frames
 * move). Bytes are Ethernet frames without the virtio header: rx what the
 * back end handed over and the guest's chain took, tx what the guest handed
 * over and the device accepted (after the length checks above; a TSO
 * segment counts whole, as one frame). Dropped frames count in *_dropped
 * only. */
struct virtio_net_stats {
	uint64_t tx_frames, tx_dropped, rx_frames, rx_dropped;
	uint64_t tx_bytes, rx_bytes;
};

/* csum: offer the checksum and TCP segmentation offloads (false only to
 * measure them).
 * Returns 0 or -ENOMEM. */
int virtio_net_init(struct virtio_net **out, const uint8_t mac[6], bool csum);
void virtio_net_free(struct virtio_net *n);
const struct virtio_dev_ops *virtio_net_ops(const struct virtio_net *n);
/* Bind the transport the device sits behind and the back end; before any
 * frame moves (the VM does not run yet). */
void virtio_net_connect(struct virtio_net *n, struct virtio_mmio *t,
			const struct virtio_net_backend *be);

/* Rate limits, see the contract; 0 = unlimited, all zero: no-op. Call once,
 * after virtio_net_connect() and before the guest runs, from the thread
 * that owns the loop's registrations: each direction gets a timerfd on
 * `loop`, whose handler serves its queue under the transport lock
 * (virtio_mmio_run_locked). 0 or -errno (-EALREADY: set already). */
struct virtio_net_limits {
	uint64_t rx_bps, tx_bps, rx_pps, tx_pps;
};
struct evloop;
int virtio_net_set_limits(struct virtio_net *n, const struct virtio_net_limits *l,
			  struct evloop *loop, struct errmsg *err);

/* Deliver (or hold) one frame for the guest, see the contract. Returns 0
 * when delivered or held, -EMSGSIZE for a frame outside
 * [VIRTIO_NET_ETH_MIN, VIRTIO_NET_FRAME_MAX], -ENOBUFS when dropped. */
int virtio_net_rx(struct virtio_net *n, const void *frame, size_t len);
/* Cut an Ethernet/IPv4/TCP frame of len bytes into frames carrying at most
 * mss payload bytes each (built in seg, VIRTIO_NET_FRAME_MAX bytes), with
 * IP length, id and checksum and TCP sequence number, FIN/PSH (last frame
 * only) and checksum set; emit() gets each in order. 0, emit()'s error, or
 * -EINVAL for a frame that is not IPv4/TCP, has inconsistent header
 * lengths, or an mss below 64 or too large for one frame. */
int virtio_net_tso_segment(const uint8_t *frame, size_t len, size_t mss, uint8_t *seg,
			   int (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx);
/* Store at frame[start+off] the ones' complement of the 16-bit ones'
 * complement sum of frame[start, len) (0 sent as 0xffff). 0, or -EINVAL when
 * start/off do not leave the 2-byte field inside the frame. */
int virtio_net_csum_finish(uint8_t *frame, size_t len, size_t start, size_t off);
/* Frames held for the guest right now (any thread). */
unsigned virtio_net_rx_backlog(const struct virtio_net *n);
void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *out);

#endif
