/* vsock_conn: the connection state machine driven with crafted packets,
 * well-formed and hostile. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/virtio_vsock.h>

#include "vmm/virtio/vsock_conn.h"

#define GCID 3u
#define HPORT 1024u
#define GPORT 50000u

static struct vsock_hdr pkt(uint16_t op, uint32_t len)
{
	return (struct vsock_hdr){
	    .src_cid = GCID,
	    .dst_cid = VSOCK_HOST_CID,
	    .src_port = GPORT,
	    .dst_port = HPORT,
	    .len = len,
	    .type = VIRTIO_VSOCK_TYPE_STREAM,
	    .op = op,
	    .buf_alloc = 4096,
	    .fwd_cnt = 0,
	};
}

static struct vsock_res tx(struct vsock_mux *m, struct vsock_hdr h, const void *data, size_t n)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = n};
	return vsock_mux_tx(m, &h, &iov, n ? 1 : 0);
}

/* The next packet for the guest must be a control packet with op. */
static struct vsock_hdr expect_ctrl(struct vsock_mux *m, uint16_t op)
{
	struct vsock_hdr h;
	struct vsock_conn *c;
	uint32_t max;
	assert_true(vsock_mux_rx_pending(m));
	assert_int_equal(vsock_mux_rx_next(m, 4096, &h, &c, &max), VSOCK_RX_CTRL);
	assert_int_equal(h.op, op);
	assert_int_equal(h.src_cid, VSOCK_HOST_CID);
	assert_int_equal(h.dst_cid, GCID);
	assert_int_equal(h.type, VIRTIO_VSOCK_TYPE_STREAM);
	assert_int_equal(h.len, 0);
	return h;
}

static void expect_idle(struct vsock_mux *m)
{
	struct vsock_hdr h;
	struct vsock_conn *c;
	uint32_t max;
	assert_false(vsock_mux_rx_pending(m));
	assert_int_equal(vsock_mux_rx_next(m, 4096, &h, &c, &max), VSOCK_RX_NONE);
}

static void expect_rst_to_guest(struct vsock_mux *m)
{
	struct vsock_hdr h = expect_ctrl(m, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(h.src_port, HPORT);
	assert_int_equal(h.dst_port, GPORT);
}

/* A guest-initiated connection, established (host side connected). */
static struct vsock_conn *connect_guest(struct vsock_mux *m)
{
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_REQUEST, 0), NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_CONNECT);
	assert_non_null(r.c);
	assert_int_equal(r.c->host_port, HPORT);
	assert_int_equal(r.c->guest_port, GPORT);
	r.c->fd = 42;
	struct vsock_hdr h = expect_ctrl(m, VIRTIO_VSOCK_OP_RESPONSE);
	assert_int_equal(h.src_port, HPORT);
	assert_int_equal(h.dst_port, GPORT);
	assert_int_equal(h.buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(h.fwd_cnt, 0);
	expect_idle(m);
	return r.c;
}

static int setup(void **state)
{
	struct vsock_mux *m = malloc(sizeof(*m));
	if (!m)
		return -1;
	vsock_mux_init(m, GCID);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct vsock_mux *m = *state;
	vsock_mux_clear(m);
	free(m);
	return 0;
}

static void test_hdr_codec(void **state)
{
	(void)state;
	struct vsock_hdr h = {0x1122334455667788ull,
			      2,
			      0xa1a2a3a4,
			      0xb1b2b3b4,
			      77,
			      1,
			      5,
			      0xc1c2c3c4,
			      0xd1d2d3d4,
			      0xe1e2e3e4};
	uint8_t raw[VSOCK_HDR_LEN];
	vsock_hdr_encode(&h, raw);
	struct virtio_vsock_hdr k;
	memcpy(&k, raw, sizeof(k));
	assert_int_equal(le64toh(k.src_cid), h.src_cid);
	assert_int_equal(le32toh(k.dst_port), h.dst_port);
	assert_int_equal(le16toh(k.op), 5);
	assert_int_equal(le32toh(k.fwd_cnt), h.fwd_cnt);
	struct vsock_hdr d;
	vsock_hdr_decode(raw, &d);
	assert_memory_equal(&d, &h, sizeof(h));
}

static void test_connect_and_data_both_ways(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);

	/* guest -> host */
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_RW, 5), "hello", 5);
	assert_int_equal(r.act, VSOCK_ACT_FLUSH);
	assert_ptr_equal(r.c, c);
	size_t n;
	const uint8_t *p = vsock_conn_out_peek(c, &n);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "hello", 5);
	vsock_mux_out_consumed(m, c, 5);
	assert_int_equal(c->fwd_cnt, 5);
	assert_int_equal(vsock_mux_out_check(m, c), VSOCK_ACT_NONE);
	expect_idle(m); /* 5 bytes freed: no credit update worth a packet */

	/* host -> guest: readable, read at most the room and the credit */
	assert_true(vsock_conn_want_in(c));
	vsock_mux_host_readable(m, c);
	assert_false(vsock_conn_want_in(c));
	struct vsock_hdr h;
	struct vsock_conn *cc;
	uint32_t max;
	assert_int_equal(vsock_mux_rx_next(m, 1000, &h, &cc, &max), VSOCK_RX_DATA);
	assert_ptr_equal(cc, c);
	assert_int_equal(max, 1000);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.fwd_cnt, 5); /* our credit rides along */
	assert_int_equal(vsock_mux_rx_data(m, c, &h, 700), VSOCK_ACT_NONE);
	assert_int_equal(h.len, 700);
	assert_int_equal(c->rx_cnt, 700);
}

static void test_peer_credit(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	struct vsock_hdr h;
	struct vsock_conn *cc;
	uint32_t max;

	vsock_mux_host_readable(m, c);
	assert_int_equal(vsock_mux_rx_next(m, 65536, &h, &cc, &max), VSOCK_RX_DATA);
	assert_int_equal(max, 4096); /* the guest's buf_alloc */
	vsock_mux_rx_data(m, c, &h, 4096);
	/* no credit left: the readable connection waits */
	expect_idle(m);

	/* the guest consumed 1000 */
	struct vsock_hdr u = pkt(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	u.fwd_cnt = 1000;
	assert_int_equal(tx(m, u, NULL, 0).act, VSOCK_ACT_NONE);
	assert_int_equal(vsock_mux_rx_next(m, 65536, &h, &cc, &max), VSOCK_RX_DATA);
	assert_int_equal(max, 1000);
	vsock_mux_rx_data(m, c, &h, 1000);

	/* a fwd_cnt ahead of what we ever sent (a lie): no credit at all */
	u.fwd_cnt = 100000;
	tx(m, u, NULL, 0);
	expect_idle(m);
	/* a buf_alloc that shrank below what is in flight: none either */
	u.fwd_cnt = 5000;
	u.buf_alloc = 10;
	tx(m, u, NULL, 0);
	expect_idle(m);
}

/* c became readable; the caller's read of up to 100 bytes gave n. */
static enum vsock_act read_result(struct vsock_mux *m, struct vsock_conn *c, ssize_t n,
				  struct vsock_hdr *h)
{
	struct vsock_conn *cc;
	uint32_t max;
	vsock_mux_host_readable(m, c);
	assert_int_equal(vsock_mux_rx_next(m, 100, h, &cc, &max), VSOCK_RX_DATA);
	assert_ptr_equal(cc, c);
	assert_int_equal(max, 100);
	return vsock_mux_rx_data(m, c, h, n);
}

static void test_rx_data_results(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	struct vsock_hdr h;

	assert_int_equal(read_result(m, c, -EAGAIN, &h), VSOCK_ACT_NONE);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h.len, 0);
	assert_true(vsock_conn_want_in(c));

	assert_int_equal(read_result(m, c, 0, &h), VSOCK_ACT_NONE);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	assert_false(vsock_conn_want_in(c)); /* end of stream: never read again */
	expect_idle(m);
}

static void test_rx_read_error_resets(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	struct vsock_hdr h;
	assert_int_equal(read_result(m, c, -ECONNRESET, &h), VSOCK_ACT_CLOSE);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
}

static void test_credit_update_after_quarter(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	static uint8_t big[VSOCK_MAX_PKT];
	memset(big, 0x5a, sizeof(big));
	for (int i = 0; i < 2; i++)
		assert_int_equal(
		    tx(m, pkt(VIRTIO_VSOCK_OP_RW, VSOCK_MAX_PKT), big, sizeof(big)).act,
		    VSOCK_ACT_FLUSH);
	size_t n;
	vsock_conn_out_peek(c, &n);
	assert_int_equal(n, 2 * VSOCK_MAX_PKT);
	vsock_mux_out_consumed(m, c, VSOCK_BUF_ALLOC / 4 - 1);
	expect_idle(m);
	vsock_mux_out_consumed(m, c, 1);
	struct vsock_hdr h = expect_ctrl(m, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h.fwd_cnt, VSOCK_BUF_ALLOC / 4);
	assert_int_equal(h.buf_alloc, VSOCK_BUF_ALLOC);
	expect_idle(m);
}

static void test_credit_request(void **state)
{
	struct vsock_mux *m = *state;
	connect_guest(m);
	assert_int_equal(tx(m, pkt(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0), NULL, 0).act,
			 VSOCK_ACT_NONE);
	expect_ctrl(m, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	expect_idle(m);
}

/* The guest sends more than the buffer we advertised: it lied about the
 * credit it had. */
static void test_credit_lie(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	static uint8_t big[VSOCK_MAX_PKT];
	for (unsigned i = 0; i < VSOCK_BUF_ALLOC / VSOCK_MAX_PKT; i++)
		assert_int_equal(
		    tx(m, pkt(VIRTIO_VSOCK_OP_RW, VSOCK_MAX_PKT), big, sizeof(big)).act,
		    VSOCK_ACT_FLUSH);
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_RW, 1), "x", 1);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	assert_ptr_equal(r.c, c);
	vsock_mux_release(m, c);
	expect_rst_to_guest(m);
	expect_idle(m);
}

/* Data wraps around the end of the ring buffer intact. */
static void test_buffer_wrap(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	static uint8_t chunk[VSOCK_MAX_PKT];
	uint8_t seq = 0;
	uint8_t want = 0;
	for (int round = 0; round < 12; round++) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = seq++;
		/* split over two iovecs */
		struct vsock_hdr h = pkt(VIRTIO_VSOCK_OP_RW, sizeof(chunk));
		struct iovec iov[2] = {{chunk, 1000}, {chunk + 1000, sizeof(chunk) - 1000}};
		assert_int_equal(vsock_mux_tx(m, &h, iov, 2).act, VSOCK_ACT_FLUSH);
		/* drain 3/4 of a packet each round, in pieces */
		size_t left = round == 11 ? c->buf_len : sizeof(chunk) * 3 / 4;
		while (left) {
			size_t n;
			const uint8_t *p = vsock_conn_out_peek(c, &n);
			assert_true(n > 0);
			if (n > left)
				n = left;
			for (size_t i = 0; i < n; i++)
				assert_int_equal(p[i], want++);
			vsock_mux_out_consumed(m, c, n);
			left -= n;
		}
	}
	assert_int_equal(c->buf_len, 0);
}

static void test_rw_unknown_connection(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_RW, 3), "abc", 3);
	assert_int_equal(r.act, VSOCK_ACT_NONE);
	assert_null(r.c);
	expect_rst_to_guest(m);
	expect_idle(m);
	/* every op but REQUEST and RST is answered the same way */
	uint16_t ops[] = {VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_SHUTDOWN,
			  VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_OP_CREDIT_REQUEST};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		tx(m, pkt(ops[i], 0), NULL, 0);
		expect_rst_to_guest(m);
	}
	/* RST is never answered */
	tx(m, pkt(VIRTIO_VSOCK_OP_RST, 0), NULL, 0);
	expect_idle(m);
}

static void test_wrong_cids_dropped(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_hdr h = pkt(VIRTIO_VSOCK_OP_REQUEST, 0);
	h.src_cid = 7; /* spoofing another guest */
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_NONE);
	h = pkt(VIRTIO_VSOCK_OP_REQUEST, 0);
	h.dst_cid = 1;
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_NONE);
	h.dst_cid = VSOCK_HOST_CID | (1ull << 32); /* high bits matter */
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_NONE);
	assert_int_equal(m->dropped, 3);
	expect_idle(m);
	/* and they do not touch a live connection */
	struct vsock_conn *c = connect_guest(m);
	h = pkt(VIRTIO_VSOCK_OP_RST, 0);
	h.src_cid = 4;
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_NONE);
	assert_int_equal(c->state, VSOCK_CONNECTED);
}

static void test_len_checks(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	/* len larger than the bytes the chain holds */
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_RW, 10), "abc", 3);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	assert_ptr_equal(r.c, c);
	vsock_mux_release(m, c);
	expect_rst_to_guest(m);

	/* len above the largest packet, with the bytes present */
	c = connect_guest(m);
	static uint8_t big[VSOCK_MAX_PKT + 1];
	r = tx(m, pkt(VIRTIO_VSOCK_OP_RW, sizeof(big)), big, sizeof(big));
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	vsock_mux_release(m, c);
	expect_rst_to_guest(m);
	/* ... and on no connection */
	r = tx(m, pkt(VIRTIO_VSOCK_OP_REQUEST, 0xffffffffu), NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_NONE);
	expect_rst_to_guest(m);
	expect_idle(m);
}

static void test_bad_type_and_op(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_hdr h = pkt(VIRTIO_VSOCK_OP_REQUEST, 0);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET; /* not offered */
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_NONE);
	expect_rst_to_guest(m);
	h.type = 0xffff;
	tx(m, h, NULL, 0);
	expect_rst_to_guest(m);

	struct vsock_conn *c = connect_guest(m);
	struct vsock_res r = tx(m, pkt(0x99, 0), NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	assert_ptr_equal(r.c, c);
	vsock_mux_release(m, c);
	expect_rst_to_guest(m);
	r = tx(m, pkt(VIRTIO_VSOCK_OP_INVALID, 0), NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_NONE);
	expect_rst_to_guest(m);
	expect_idle(m);
}

/* A second REQUEST for a live pair: the guest thinks the old one is gone. */
static void test_duplicate_request(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_REQUEST, 0), NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	assert_ptr_equal(r.c, c);
	vsock_mux_release(m, c);
	expect_rst_to_guest(m);
	expect_idle(m);
	connect_guest(m); /* and the pair is usable again */
}

static void test_response_when_connected(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_RESPONSE, 0), NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	assert_ptr_equal(r.c, c);
}

static void test_guest_rst_closes(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_RST, 0), NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	assert_ptr_equal(r.c, c);
	vsock_mux_release(m, c);
	expect_idle(m); /* no answer to an RST */
}

static void test_shutdown_send_then_both(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	tx(m, pkt(VIRTIO_VSOCK_OP_RW, 4), "last", 4);
	struct vsock_hdr h = pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_FLUSH);
	/* not before the bytes left */
	assert_int_equal(vsock_mux_out_check(m, c), VSOCK_ACT_NONE);
	vsock_mux_out_consumed(m, c, 4);
	assert_int_equal(vsock_mux_out_check(m, c), VSOCK_ACT_SHUT_WR);
	assert_int_equal(vsock_mux_out_check(m, c), VSOCK_ACT_NONE); /* once */
	/* more data after SHUTDOWN(SEND) is a protocol violation */
	struct vsock_res r = tx(m, pkt(VIRTIO_VSOCK_OP_RW, 1), "x", 1);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	vsock_mux_release(m, c);
	expect_rst_to_guest(m);

	/* the guest's close: SHUTDOWN with both flags, bytes still buffered */
	c = connect_guest(m);
	tx(m, pkt(VIRTIO_VSOCK_OP_RW, 4), "bye!", 4);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV | 0xf0; /* junk bits */
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_FLUSH);
	assert_int_equal(c->peer_shutdown, 3);
	assert_int_equal(vsock_mux_out_check(m, c), VSOCK_ACT_NONE);
	expect_idle(m);
	vsock_mux_out_consumed(m, c, 4);
	assert_int_equal(vsock_mux_out_check(m, c), VSOCK_ACT_CLOSE);
	vsock_mux_release(m, c);
	expect_rst_to_guest(m);
	expect_idle(m);
}

static void test_host_initiated(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = vsock_mux_host_connect(m, 1025, 7);
	assert_non_null(c);
	assert_int_equal(c->state, VSOCK_CONNECTING);
	assert_int_equal(c->host_port, VSOCK_HOST_PORT_BASE);
	assert_false(vsock_conn_want_in(c)); /* not before the guest accepted */
	struct vsock_hdr h = expect_ctrl(m, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(h.src_port, VSOCK_HOST_PORT_BASE);
	assert_int_equal(h.dst_port, 1025);
	expect_idle(m);

	/* the guest's answer comes from its port 1025 to our local port */
	struct vsock_hdr a = pkt(VIRTIO_VSOCK_OP_RW, 1);
	a.src_port = 1025;
	a.dst_port = VSOCK_HOST_PORT_BASE;
	/* data before RESPONSE: refused */
	struct vsock_res r = tx(m, a, "x", 1);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	vsock_mux_release(m, c);
	expect_ctrl(m, VIRTIO_VSOCK_OP_RST);

	c = vsock_mux_host_connect(m, 1025, 8);
	assert_int_equal(c->host_port, VSOCK_HOST_PORT_BASE + 1);
	expect_ctrl(m, VIRTIO_VSOCK_OP_REQUEST);
	a.op = VIRTIO_VSOCK_OP_RESPONSE;
	a.len = 0;
	a.dst_port = c->host_port;
	r = tx(m, a, NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_ACCEPTED);
	assert_ptr_equal(r.c, c);
	assert_int_equal(c->state, VSOCK_CONNECTED);
	assert_true(vsock_conn_want_in(c));
	/* the guest refusing (RST) closes the host side */
	c = vsock_mux_host_connect(m, 2000, 9);
	expect_ctrl(m, VIRTIO_VSOCK_OP_REQUEST);
	a.op = VIRTIO_VSOCK_OP_RST;
	a.src_port = 2000;
	a.dst_port = c->host_port;
	r = tx(m, a, NULL, 0);
	assert_int_equal(r.act, VSOCK_ACT_CLOSE);
	assert_ptr_equal(r.c, c);
}

static void test_table_full(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_hdr h = pkt(VIRTIO_VSOCK_OP_REQUEST, 0);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		h.src_port = 100 + i;
		assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_CONNECT);
	}
	h.src_port = 99;
	assert_int_equal(tx(m, h, NULL, 0).act, VSOCK_ACT_NONE);
	assert_null(vsock_mux_host_connect(m, 5, -1));
	/* 64 RESPONSEs, then the RST for the 65th (RSTs go first) */
	struct vsock_hdr o;
	struct vsock_conn *c;
	uint32_t max;
	assert_int_equal(vsock_mux_rx_next(m, 4096, &o, &c, &max), VSOCK_RX_CTRL);
	assert_int_equal(o.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(o.dst_port, 99);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		assert_int_equal(vsock_mux_rx_next(m, 4096, &o, &c, &max), VSOCK_RX_CTRL);
		assert_int_equal(o.op, VIRTIO_VSOCK_OP_RESPONSE);
	}
	expect_idle(m);
}

/* A flood of bad packets cannot grow the RST queue without bound. */
static void test_rst_queue_bounded(void **state)
{
	struct vsock_mux *m = *state;
	for (unsigned i = 0; i < VSOCK_MAX_RST + 10; i++)
		tx(m, pkt(VIRTIO_VSOCK_OP_RW, 0), NULL, 0);
	assert_int_equal(m->dropped, 10);
	for (unsigned i = 0; i < VSOCK_MAX_RST; i++)
		expect_rst_to_guest(m);
	expect_idle(m);
}

/* Round robin: a connection with endless data does not starve another. */
static void test_round_robin(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *a = connect_guest(m);
	struct vsock_hdr h = pkt(VIRTIO_VSOCK_OP_REQUEST, 0);
	h.src_port = GPORT + 1;
	struct vsock_conn *b = tx(m, h, NULL, 0).c;
	expect_ctrl(m, VIRTIO_VSOCK_OP_RESPONSE);
	vsock_mux_host_readable(m, a);
	vsock_mux_host_readable(m, b);
	struct vsock_conn *c;
	uint32_t max;
	assert_int_equal(vsock_mux_rx_next(m, 10, &h, &c, &max), VSOCK_RX_DATA);
	struct vsock_conn *first = c;
	vsock_mux_rx_data(m, c, &h, 10);
	assert_int_equal(vsock_mux_rx_next(m, 10, &h, &c, &max), VSOCK_RX_DATA);
	assert_ptr_not_equal(c, first);
	vsock_mux_rx_data(m, c, &h, 10);
	assert_int_equal(vsock_mux_rx_next(m, 10, &h, &c, &max), VSOCK_RX_DATA);
	assert_ptr_equal(c, first);
}

static void test_no_room_sends_credit(void **state)
{
	struct vsock_mux *m = *state;
	struct vsock_conn *c = connect_guest(m);
	vsock_mux_host_readable(m, c);
	struct vsock_hdr h;
	struct vsock_conn *cc;
	uint32_t max;
	/* a buffer with room for the header only */
	assert_int_equal(vsock_mux_rx_next(m, 0, &h, &cc, &max), VSOCK_RX_CTRL);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(max, 0);
}

static void test_parse_connect(void **state)
{
	(void)state;
	uint32_t p = 0;
	assert_int_equal(vsock_parse_connect("CONNECT 1025", 12, &p), 0);
	assert_int_equal(p, 1025);
	assert_int_equal(vsock_parse_connect("CONNECT 4294967295", 18, &p), 0);
	assert_int_equal(p, 4294967295u);
	const char *bad[] = {"CONNECT 4294967296",
			     "CONNECT ",
			     "CONNECT",
			     "connect 1",
			     "CONNECT -1",
			     "CONNECT 1 ",
			     "CONNECT  1",
			     "CONNECT 1x",
			     "CONNECT 99999999999",
			     "LISTEN 1",
			     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vsock_parse_connect(bad[i], strlen(bad[i]), &p), -EINVAL);
	/* length-bounded: no NUL needed, nothing read past n */
	char nonul[12];
	memcpy(nonul, "CONNECT 7777", 12);
	assert_int_equal(vsock_parse_connect(nonul, 10, &p), 0);
	assert_int_equal(p, 77);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr_codec),
	    T(test_connect_and_data_both_ways),
	    T(test_peer_credit),
	    T(test_rx_data_results),
	    T(test_rx_read_error_resets),
	    T(test_credit_update_after_quarter),
	    T(test_credit_request),
	    T(test_credit_lie),
	    T(test_buffer_wrap),
	    T(test_rw_unknown_connection),
	    T(test_wrong_cids_dropped),
	    T(test_len_checks),
	    T(test_bad_type_and_op),
	    T(test_duplicate_request),
	    T(test_response_when_connected),
	    T(test_guest_rst_closes),
	    T(test_shutdown_send_then_both),
	    T(test_host_initiated),
	    T(test_table_full),
	    T(test_rst_queue_bounded),
	    T(test_round_robin),
	    T(test_no_room_sends_credit),
	    cmocka_unit_test(test_parse_connect),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
