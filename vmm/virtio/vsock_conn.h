/* vsock_conn: the virtio-vsock connection table and packet state machine,
 * without any I/O (virtio_vsock.c moves the bytes; unit tests drive this
 * with crafted packets).
 *
 * Contract
 * - Stream sockets only (VIRTIO_VSOCK_TYPE_STREAM), between the guest (CID
 *   guest_cid) and the host (CID 2). A connection is the pair (host port,
 *   guest port); at most VSOCK_MAX_CONNS exist at once.
 * - vsock_mux_tx() takes one packet the guest sent (header already decoded,
 *   payload as the iovecs that followed it in the chain) and says what the
 *   caller must do (struct vsock_res). Every guest value is checked:
 *     - src_cid != guest_cid or dst_cid != 2: dropped, no answer (the
 *       packet is not ours to answer);
 *     - len > VSOCK_MAX_PKT or len > the payload bytes present, a type other
 *       than STREAM, an unknown op, any op but REQUEST for a connection that
 *       does not exist, RESPONSE on an established connection, RW after the
 *       guest shut its sending side, RW beyond the credit we gave (a credit
 *       lie), a REQUEST for a pair that already exists (the old connection
 *       dies with it): answered with RST, and the connection, if any, is
 *       closed. RST is never answered.
 *   The guest's buf_alloc/fwd_cnt in every packet of a known connection
 *   update its credit; we never send it more than
 *   buf_alloc - (bytes sent - fwd_cnt), computed so that a lying fwd_cnt
 *   can only stop our sending, never overrun anything of ours.
 * - Guest->host bytes wait in a per-connection buffer of VSOCK_BUF_ALLOC
 *   bytes (the buf_alloc we advertise) until the caller wrote them to the
 *   host (vsock_conn_out_peek / vsock_mux_out_consumed); fwd_cnt counts
 *   what left it, and a CREDIT_UPDATE is queued once a quarter of the buffer
 *   was freed since the guest last heard of it (or on CREDIT_REQUEST).
 * - Packets for the guest come from vsock_mux_rx_next(), one per rx buffer:
 *   RSTs for packets of no connection first, then connections round-robin,
 *   each with its control packets (REQUEST, RESPONSE, CREDIT_UPDATE) before
 *   data. Data is read by the caller straight into the guest's buffer
 *   (at most the guest's credit) and reported with vsock_mux_rx_data(),
 *   which turns end of stream into SHUTDOWN(SEND), "nothing after all" into
 *   a CREDIT_UPDATE and a read error into RST.
 * - Shutdown: the guest's SHUTDOWN(SEND) becomes shutdown(SHUT_WR) on the
 *   host side once the buffer is flushed; SHUTDOWN with both flags becomes
 *   RST (as the spec asks) once it is flushed, and the connection closes.
 * - The module never touches conn->fd: it is the caller's handle.
 */
#ifndef HULL_VSOCK_CONN_H
#define HULL_VSOCK_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define VSOCK_HOST_CID 2u
#define VSOCK_HDR_LEN 44u
#define VSOCK_MAX_PKT (64u * 1024u)
#define VSOCK_BUF_ALLOC (256u * 1024u)
#define VSOCK_MAX_CONNS 64u
#define VSOCK_MAX_RST 64u
/* Local ports of host-initiated connections (Firecracker's choice too). */
#define VSOCK_HOST_PORT_BASE (1u << 30)

/* A packet header, host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_LEN], struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_LEN]);

enum vsock_conn_state {
	VSOCK_FREE = 0,
	VSOCK_CONNECTING, /* host-initiated: REQUEST queued or sent, no RESPONSE yet */
	VSOCK_CONNECTED,
};

/* control packets a connection owes the guest */
#define VSOCK_P_REQUEST 0x1u
#define VSOCK_P_RESPONSE 0x2u
#define VSOCK_P_CREDIT 0x4u

struct vsock_conn {
	enum vsock_conn_state state;
	uint32_t gen; /* bumped each time the slot is taken */
	uint32_t host_port, guest_port;
	unsigned pending;	/* VSOCK_P_* */
	bool readable;		/* the host side may have bytes (or EOF) for the guest */
	bool host_eof;		/* ... and they ended: no more reads */
	uint32_t peer_shutdown; /* VIRTIO_VSOCK_SHUTDOWN_* received */
	bool host_wr_shut;	/* the host side was told: no more bytes */
	/* host -> guest: the guest's credit */
	uint32_t peer_buf_alloc, peer_fwd_cnt, rx_cnt;
	/* guest -> host */
	uint32_t fwd_cnt, fwd_cnt_sent;
	uint8_t *buf; /* VSOCK_BUF_ALLOC bytes once data arrived */
	uint32_t buf_head, buf_len;
	int fd; /* the caller's */
};

struct vsock_mux {
	uint64_t guest_cid;
	uint32_t next_port;
	unsigned rr; /* where the next round-robin scan starts */
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	struct {
		uint32_t host_port, guest_port;
	} rst[VSOCK_MAX_RST];
	unsigned rst_head, rst_len;
	unsigned long dropped; /* packets dropped unanswered (tests, debugging) */
};

enum vsock_act {
	VSOCK_ACT_NONE,
	VSOCK_ACT_CONNECT,  /* guest wants host port c->host_port: connect, or vsock_mux_reset() */
	VSOCK_ACT_ACCEPTED, /* host-initiated c is established: tell the host side */
	VSOCK_ACT_FLUSH,    /* c has bytes for the host (or a shutdown to pass on) */
	VSOCK_ACT_SHUT_WR,  /* shut the host side's writing direction */
	VSOCK_ACT_CLOSE,    /* c is over: close c->fd, then vsock_mux_release() */
};

struct vsock_res {
	enum vsock_act act;
	struct vsock_conn *c;
};

enum vsock_rx {
	VSOCK_RX_NONE = 0,
	VSOCK_RX_CTRL, /* *h is complete, no payload */
	VSOCK_RX_DATA, /* read up to *max bytes from c, then vsock_mux_rx_data() */
};

void vsock_mux_init(struct vsock_mux *m, uint64_t guest_cid);
/* Forget every connection (device reset, restore). The caller closes their
 * fds first. Frees buffers. */
void vsock_mux_clear(struct vsock_mux *m);

struct vsock_res vsock_mux_tx(struct vsock_mux *m, const struct vsock_hdr *h,
			      const struct iovec *payload, unsigned niov);

/* A host process asks for guest port `port`: a new connection in state
 * CONNECTING with a REQUEST queued, or NULL when the table is full. */
struct vsock_conn *vsock_mux_host_connect(struct vsock_mux *m, uint32_t port, int fd);

/* Abort c: queue RST for the guest. Returns VSOCK_ACT_CLOSE. */
enum vsock_act vsock_mux_reset(struct vsock_mux *m, struct vsock_conn *c);
/* Free c's slot (after the caller closed its fd). */
void vsock_mux_release(struct vsock_mux *m, struct vsock_conn *c);

/* The host side of c became readable (or hung up), or has nothing after
 * all (then c waits for readability again). */
void vsock_mux_host_readable(struct vsock_mux *m, struct vsock_conn *c);
void vsock_mux_host_drained(struct vsock_mux *m, struct vsock_conn *c);

/* Guest bytes waiting for the host: a contiguous piece (n = 0: none). */
const uint8_t *vsock_conn_out_peek(const struct vsock_conn *c, size_t *n);
/* n bytes of the peeked piece were written to the host. */
void vsock_mux_out_consumed(struct vsock_mux *m, struct vsock_conn *c, size_t n);
/* After a flush: whether a guest shutdown is now due on the host side
 * (VSOCK_ACT_SHUT_WR, once) or the connection is done (VSOCK_ACT_CLOSE,
 * RST queued). */
enum vsock_act vsock_mux_out_check(struct vsock_mux *m, struct vsock_conn *c);

/* What the host side of c wants to be woken for. */
bool vsock_conn_want_in(const struct vsock_conn *c);
bool vsock_conn_want_out(const struct vsock_conn *c);

/* True if vsock_mux_rx_next() has something for an rx buffer. */
bool vsock_mux_rx_pending(const struct vsock_mux *m);
/* The next packet for the guest, for a buffer with `room` payload bytes. */
enum vsock_rx vsock_mux_rx_next(struct vsock_mux *m, uint32_t room, struct vsock_hdr *h,
				struct vsock_conn **c, uint32_t *max);
/* The result of reading for VSOCK_RX_DATA: n > 0 bytes, 0 end of stream,
 * -EAGAIN nothing, other -errno an error. Completes *h; returns
 * VSOCK_ACT_CLOSE when c was reset, else VSOCK_ACT_NONE. */
enum vsock_act vsock_mux_rx_data(struct vsock_mux *m, struct vsock_conn *c, struct vsock_hdr *h,
				 ssize_t n);

/* "CONNECT <port>" (the line without its newline) -> port. 0 or -EINVAL. */
int vsock_parse_connect(const char *line, size_t n, uint32_t *port);

#endif
