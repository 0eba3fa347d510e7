/* virtio_vsock: a virtio-vsock device (virtio spec v1.2, 5.10) whose host
 * side is Unix sockets, as Firecracker does it (no vhost-vsock needed).
 *
 * Contract
 * - Queues: rx (0), tx (1), event (2). Config: the guest CID (read-only).
 *   No feature bits (stream sockets only, no SEQPACKET). The connection
 *   protocol and every check on guest packets live in vsock_conn.h; here
 *   are the rings and the sockets.
 * - The VM has one Unix socket path U (the device listens on it):
 *   - host-initiated: a host process connects to U and writes
 *     "CONNECT <port>\n"; the device asks the guest for that port and, on
 *     RESPONSE, writes "OK <hostport>\n" back and relays bytes both ways.
 *     A malformed line (at most 32 bytes), a full table, or the guest's RST
 *     close the host socket, and so does a peer (SO_PEERCRED) that runs as
 *     neither the monitor's uid nor root (common/peercred.h).
 *   - guest-initiated to host port P: the device connects to "U_P" (a
 *     listener some host process made); nothing there: RST to the guest.
 * - Sockets are non-blocking and served on the event-loop thread through a
 *   private epoll set (one evloop entry, however many connections); all
 *   device state is guarded by the transport lock (queue_notify runs under
 *   it, socket events go through virtio_mmio_run_locked). A guest without
 *   free rx buffers or credit is not read for: nothing is dropped, the host
 *   side waits in its socket buffer.
 * - Guest bytes reach the host socket in order; on the guest's SHUTDOWN
 *   with both flags (its close) they are flushed before the RST, so a
 *   guest that lingers on close knows its last bytes left.
 * - Snapshots: host connections cannot survive a restore, and nothing else
 *   of the device's outlives them (the CID comes from the config, the rings
 *   are the transport's), so there is no device section.
 *   virtio_vsock_transport_reset() (call it once the restored VM runs)
 *   drops every connection and posts VIRTIO_VSOCK_EVENT_TRANSPORT_RESET on
 *   the event queue: the guest resets its sockets and re-reads the CID.
 */
#ifndef HULL_VIRTIO_VSOCK_H
#define HULL_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/evloop.h"
#include "vmm/virtio/virtio_mmio.h"

#define VIRTIO_VSOCK_QUEUE_MAX 256u
#define VIRTIO_VSOCK_DEFAULT_CID 3u
/* sun_path must hold U plus "_" and a 10-digit port */
#define VIRTIO_VSOCK_UDS_MAX (108u - 12u)

struct virtio_vsock;

/* Listens on uds (must not exist; removed again by virtio_vsock_free) and
 * registers with loop. cid: 3 .. 0xfffffffe. 0 or -errno with err. */
int virtio_vsock_init(struct virtio_vsock **out, uint64_t cid, const char *uds, struct evloop *loop,
		      bool debug, struct errmsg *err);
/* The transport serving this device (after virtio_mmio_init). */
void virtio_vsock_set_transport(struct virtio_vsock *v, struct virtio_mmio *t);
void virtio_vsock_free(struct virtio_vsock *v);
const struct virtio_dev_ops *virtio_vsock_ops(const struct virtio_vsock *v);
void virtio_vsock_transport_reset(struct virtio_vsock *v);

#endif
