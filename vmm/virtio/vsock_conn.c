/* vsock_conn: see vsock_conn.h. No library implements the device side of
 * virtio-vsock's connection protocol (virtio spec v1.2, 5.10.6), hence this. */
#include "vsock_conn.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_vsock.h>

#define SHUT_BOTH (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return le16toh(v);
}

static void st16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void st32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void st64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* offsets in struct virtio_vsock_hdr (packed, 44 bytes) */
enum {
	O_SRC_CID = 0,
	O_DST_CID = 8,
	O_SRC_PORT = 16,
	O_DST_PORT = 20,
	O_LEN = 24,
	O_TYPE = 28,
	O_OP = 30,
	O_FLAGS = 32,
	O_BUF_ALLOC = 36,
	O_FWD_CNT = 40
};
_Static_assert(sizeof(struct virtio_vsock_hdr) == VSOCK_HDR_LEN, "vsock header size");

void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_LEN], struct vsock_hdr *h)
{
	h->src_cid = ld64(raw + O_SRC_CID);
	h->dst_cid = ld64(raw + O_DST_CID);
	h->src_port = ld32(raw + O_SRC_PORT);
	h->dst_port = ld32(raw + O_DST_PORT);
	h->len = ld32(raw + O_LEN);
	h->type = ld16(raw + O_TYPE);
	h->op = ld16(raw + O_OP);
	h->flags = ld32(raw + O_FLAGS);
	h->buf_alloc = ld32(raw + O_BUF_ALLOC);
	h->fwd_cnt = ld32(raw + O_FWD_CNT);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_LEN])
{
	st64(raw + O_SRC_CID, h->src_cid);
	st64(raw + O_DST_CID, h->dst_cid);
	st32(raw + O_SRC_PORT, h->src_port);
	st32(raw + O_DST_PORT, h->dst_port);
	st32(raw + O_LEN, h->len);
	st16(raw + O_TYPE, h->type);
	st16(raw + O_OP, h->op);
	st32(raw + O_FLAGS, h->flags);
	st32(raw + O_BUF_ALLOC, h->buf_alloc);
	st32(raw + O_FWD_CNT, h->fwd_cnt);
}

void vsock_mux_init(struct vsock_mux *m, uint64_t guest_cid)
{
	memset(m, 0, sizeof(*m));
	m->guest_cid = guest_cid;
	m->next_port = VSOCK_HOST_PORT_BASE;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		m->conns[i].fd = -1;
}

void vsock_mux_clear(struct vsock_mux *m)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (m->conns[i].state != VSOCK_FREE)
			vsock_mux_release(m, &m->conns[i]);
	m->rst_head = m->rst_len = 0;
}

static struct vsock_conn *find(struct vsock_mux *m, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &m->conns[i];
		if (c->state != VSOCK_FREE && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static struct vsock_conn *alloc_conn(struct vsock_mux *m, uint32_t host_port, uint32_t guest_port,
				     enum vsock_conn_state st, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &m->conns[i];
		if (c->state != VSOCK_FREE)
			continue;
		uint32_t gen = c->gen + 1;
		memset(c, 0, sizeof(*c));
		c->gen = gen;
		c->state = st;
		c->host_port = host_port;
		c->guest_port = guest_port;
		c->fd = fd;
		return c;
	}
	return NULL;
}

void vsock_mux_release(struct vsock_mux *m, struct vsock_conn *c)
{
	(void)m;
	free(c->buf);
	c->buf = NULL;
	c->state = VSOCK_FREE;
	c->fd = -1;
}

/* RST for a pair that has no connection (any more). A full queue drops it:
 * only a guest flooding us with bad packets fills it. */
static void queue_rst(struct vsock_mux *m, uint32_t host_port, uint32_t guest_port)
{
	if (m->rst_len == VSOCK_MAX_RST) {
		m->dropped++;
		return;
	}
	unsigned i = (m->rst_head + m->rst_len) % VSOCK_MAX_RST;
	m->rst[i].host_port = host_port;
	m->rst[i].guest_port = guest_port;
	m->rst_len++;
}

enum vsock_act vsock_mux_reset(struct vsock_mux *m, struct vsock_conn *c)
{
	queue_rst(m, c->host_port, c->guest_port);
	return VSOCK_ACT_CLOSE;
}

static struct vsock_res res(enum vsock_act a, struct vsock_conn *c)
{
	return (struct vsock_res){.act = a, .c = c};
}

/* Answer a bad packet: RST, and the connection (if any) dies. */
static struct vsock_res refuse(struct vsock_mux *m, const struct vsock_hdr *h, struct vsock_conn *c)
{
	if (c)
		return res(vsock_mux_reset(m, c), c);
	if (h->op != VIRTIO_VSOCK_OP_RST)
		queue_rst(m, h->dst_port, h->src_port);
	return res(VSOCK_ACT_NONE, NULL);
}

static size_t iov_total(const struct iovec *iov, unsigned n)
{
	size_t t = 0;
	for (unsigned i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Append len bytes of the payload to c's buffer (room already checked). */
static int buf_put(struct vsock_conn *c, const struct iovec *iov, unsigned n, uint32_t len)
{
	if (!c->buf && !(c->buf = malloc(VSOCK_BUF_ALLOC)))
		return -ENOMEM;
	for (unsigned i = 0; i < n && len; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;
		len -= (uint32_t)l;
		while (l) {
			uint32_t tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
			uint32_t chunk = VSOCK_BUF_ALLOC - tail;
			if (chunk > l)
				chunk = (uint32_t)l;
			memcpy(c->buf + tail, p, chunk);
			c->buf_len += chunk;
			p += chunk;
			l -= chunk;
		}
	}
	return 0;
}

static struct vsock_res on_request(struct vsock_mux *m, const struct vsock_hdr *h,
				   struct vsock_conn *c)
{
	if (c) /* the guest thinks the old connection is gone: so be it */
		return refuse(m, h, c);
	c = alloc_conn(m, h->dst_port, h->src_port, VSOCK_CONNECTED, -1);
	if (!c)
		return refuse(m, h, NULL);
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pending = VSOCK_P_RESPONSE;
	return res(VSOCK_ACT_CONNECT, c);
}

static struct vsock_res on_rw(struct vsock_mux *m, const struct vsock_hdr *h, struct vsock_conn *c,
			      const struct iovec *payload, unsigned niov)
{
	if (c->state != VSOCK_CONNECTED || (c->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND))
		return refuse(m, h, c);
	if (h->len == 0)
		return res(VSOCK_ACT_NONE, c);
	/* More than the credit we gave: the guest lies about what it saw. */
	if (h->len > VSOCK_BUF_ALLOC - c->buf_len)
		return refuse(m, h, c);
	if (buf_put(c, payload, niov, h->len))
		return refuse(m, h, c);
	return res(VSOCK_ACT_FLUSH, c);
}

struct vsock_res vsock_mux_tx(struct vsock_mux *m, const struct vsock_hdr *h,
			      const struct iovec *payload, unsigned niov)
{
	if (h->src_cid != m->guest_cid || h->dst_cid != VSOCK_HOST_CID) {
		m->dropped++;
		return res(VSOCK_ACT_NONE, NULL);
	}
	struct vsock_conn *c = find(m, h->dst_port, h->src_port);
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM || h->len > VSOCK_MAX_PKT ||
	    h->len > iov_total(payload, niov))
		return refuse(m, h, c);
	if (h->op == VIRTIO_VSOCK_OP_REQUEST)
		return on_request(m, h, c);
	if (!c)
		return refuse(m, h, NULL);
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return res(VSOCK_ACT_CLOSE, c);
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_CONNECTING)
			return refuse(m, h, c);
		c->state = VSOCK_CONNECTED;
		return res(VSOCK_ACT_ACCEPTED, c);
	case VIRTIO_VSOCK_OP_RW:
		return on_rw(m, h, c, payload, niov);
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state != VSOCK_CONNECTED)
			return refuse(m, h, c);
		c->peer_shutdown |= h->flags & SHUT_BOTH;
		return res(VSOCK_ACT_FLUSH, c);
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		return res(VSOCK_ACT_NONE, c);
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= VSOCK_P_CREDIT;
		return res(VSOCK_ACT_NONE, c);
	default:
		return refuse(m, h, c);
	}
}

struct vsock_conn *vsock_mux_host_connect(struct vsock_mux *m, uint32_t port, int fd)
{
	/* a local port no live connection to this guest port uses */
	for (unsigned tries = 0; tries <= VSOCK_MAX_CONNS; tries++) {
		uint32_t lp = m->next_port++;
		if (m->next_port < VSOCK_HOST_PORT_BASE)
			m->next_port = VSOCK_HOST_PORT_BASE;
		if (find(m, lp, port))
			continue;
		struct vsock_conn *c = alloc_conn(m, lp, port, VSOCK_CONNECTING, fd);
		if (c)
			c->pending = VSOCK_P_REQUEST;
		return c;
	}
	return NULL;
}

void vsock_mux_host_readable(struct vsock_mux *m, struct vsock_conn *c)
{
	(void)m;
	c->readable = true;
}

void vsock_mux_host_drained(struct vsock_mux *m, struct vsock_conn *c)
{
	(void)m;
	c->readable = false;
}

const uint8_t *vsock_conn_out_peek(const struct vsock_conn *c, size_t *n)
{
	uint32_t contig = VSOCK_BUF_ALLOC - c->buf_head;
	*n = c->buf_len < contig ? c->buf_len : contig;
	return *n ? c->buf + c->buf_head : NULL;
}

void vsock_mux_out_consumed(struct vsock_mux *m, struct vsock_conn *c, size_t n)
{
	(void)m;
	if (n > c->buf_len)
		n = c->buf_len;
	c->buf_head = (uint32_t)((c->buf_head + n) % VSOCK_BUF_ALLOC);
	c->buf_len -= (uint32_t)n;
	c->fwd_cnt += (uint32_t)n;
	if (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_BUF_ALLOC / 4)
		c->pending |= VSOCK_P_CREDIT;
}

enum vsock_act vsock_mux_out_check(struct vsock_mux *m, struct vsock_conn *c)
{
	if (c->buf_len || !(c->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND))
		return VSOCK_ACT_NONE;
	if ((c->peer_shutdown & SHUT_BOTH) == SHUT_BOTH)
		return vsock_mux_reset(m, c);
	if (c->host_wr_shut)
		return VSOCK_ACT_NONE;
	c->host_wr_shut = true;
	return VSOCK_ACT_SHUT_WR;
}

bool vsock_conn_want_in(const struct vsock_conn *c)
{
	return c->state == VSOCK_CONNECTED && !c->readable && !c->host_eof;
}

bool vsock_conn_want_out(const struct vsock_conn *c)
{
	return c->state == VSOCK_CONNECTED && c->buf_len > 0;
}

/* Bytes the guest can take now; a fwd_cnt ahead of what we sent (a lie)
 * makes the difference wrap past buf_alloc: no credit. */
static uint32_t peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->rx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static bool wants_data(const struct vsock_conn *c)
{
	return c->state == VSOCK_CONNECTED && c->readable && !c->host_eof &&
	       !(c->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) && peer_credit(c) > 0;
}

static bool has_work(const struct vsock_conn *c)
{
	return c->state != VSOCK_FREE && (c->pending || wants_data(c));
}

bool vsock_mux_rx_pending(const struct vsock_mux *m)
{
	if (m->rst_len)
		return true;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (has_work(&m->conns[i]))
			return true;
	return false;
}

static void fill_hdr(const struct vsock_mux *m, struct vsock_hdr *h, uint32_t host_port,
		     uint32_t guest_port, uint16_t op)
{
	*h = (struct vsock_hdr){
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = m->guest_cid,
	    .src_port = host_port,
	    .dst_port = guest_port,
	    .type = VIRTIO_VSOCK_TYPE_STREAM,
	    .op = op,
	    .buf_alloc = VSOCK_BUF_ALLOC,
	};
}

/* A packet of c's: it carries our credit, so no separate update is owed. */
static void conn_hdr(const struct vsock_mux *m, struct vsock_conn *c, struct vsock_hdr *h,
		     uint16_t op)
{
	fill_hdr(m, h, c->host_port, c->guest_port, op);
	h->fwd_cnt = c->fwd_cnt;
	c->fwd_cnt_sent = c->fwd_cnt;
	c->pending &= ~VSOCK_P_CREDIT;
}

enum vsock_rx vsock_mux_rx_next(struct vsock_mux *m, uint32_t room, struct vsock_hdr *h,
				struct vsock_conn **cp, uint32_t *max)
{
	*cp = NULL;
	*max = 0;
	if (m->rst_len) {
		fill_hdr(m, h, m->rst[m->rst_head].host_port, m->rst[m->rst_head].guest_port,
			 VIRTIO_VSOCK_OP_RST);
		m->rst_head = (m->rst_head + 1) % VSOCK_MAX_RST;
		m->rst_len--;
		return VSOCK_RX_CTRL;
	}
	for (unsigned k = 0; k < VSOCK_MAX_CONNS; k++) {
		unsigned i = (m->rr + k) % VSOCK_MAX_CONNS;
		struct vsock_conn *c = &m->conns[i];
		if (!has_work(c))
			continue;
		m->rr = i + 1;
		*cp = c;
		if (c->pending & VSOCK_P_REQUEST) {
			c->pending &= ~VSOCK_P_REQUEST;
			conn_hdr(m, c, h, VIRTIO_VSOCK_OP_REQUEST);
			return VSOCK_RX_CTRL;
		}
		if (c->pending & VSOCK_P_RESPONSE) {
			c->pending &= ~VSOCK_P_RESPONSE;
			conn_hdr(m, c, h, VIRTIO_VSOCK_OP_RESPONSE);
			return VSOCK_RX_CTRL;
		}
		if (!wants_data(c) || room == 0) {
			conn_hdr(m, c, h, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
			return VSOCK_RX_CTRL;
		}
		uint32_t credit = peer_credit(c);
		*max = room < credit ? room : credit;
		if (*max > VSOCK_MAX_PKT)
			*max = VSOCK_MAX_PKT;
		conn_hdr(m, c, h, VIRTIO_VSOCK_OP_RW);
		return VSOCK_RX_DATA;
	}
	return VSOCK_RX_NONE;
}

enum vsock_act vsock_mux_rx_data(struct vsock_mux *m, struct vsock_conn *c, struct vsock_hdr *h,
				 ssize_t n)
{
	(void)m;
	if (n > 0) {
		h->len = (uint32_t)n;
		c->rx_cnt += (uint32_t)n;
		return VSOCK_ACT_NONE;
	}
	h->len = 0;
	if (n == 0) {
		c->host_eof = true;
		h->op = VIRTIO_VSOCK_OP_SHUTDOWN;
		h->flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
		return VSOCK_ACT_NONE;
	}
	if (n == -EAGAIN) {
		c->readable = false;
		h->op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
		return VSOCK_ACT_NONE;
	}
	h->op = VIRTIO_VSOCK_OP_RST;
	return VSOCK_ACT_CLOSE;
}

int vsock_parse_connect(const char *line, size_t n, uint32_t *port)
{
	static const char kw[] = "CONNECT ";
	size_t k = sizeof(kw) - 1;
	if (n <= k || memcmp(line, kw, k) != 0 || n - k > 10)
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = k; i < n; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(line[i] - '0');
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*port = (uint32_t)v;
	return 0;
}
