/* Unit tests for vmm/net/net_stream.c: a real virtio-net device (driven by
 * the fake driver) on a real SOCK_SEQPACKET socketpair whose other end plays
 * the network helper: frames both ways, malformed frames from the peer,
 * flow control, and the peer's hangup. The event loop is stepped with
 * evloop_poll() on this thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "virtio_fake_driver.h"
#include "vmm/evloop.h"
#include "vmm/net/net_stream.h"
#include "vmm/virtio/virtio_net.h"

#define QSZ 16
#define F_V1 (1ull << VIRTIO_F_VERSION_1)
#define TXQ_OFF 0x40000u
#define RX_BUF (FD_DATA)
#define TX_BUF (FD_DATA + 0x8000)

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct fx {
	struct fake_guest rx, tx;
	struct virtio_net *n;
	struct virtio_mmio *t;
	struct evloop *loop;
	struct net_stream *s;
	int peer, mine;
};

static void irq_cb(void *ctx)
{
	(void)ctx;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	f->mine = sv[0];
	f->peer = sv[1];
	fg_init(&f->rx, QSZ);
	f->tx = f->rx;
	f->tx.desc += TXQ_OFF;
	f->tx.avail += TXQ_OFF;
	f->tx.used += TXQ_OFF;
	assert_int_equal(virtio_net_init(&f->n, mac, true), 0);
	assert_int_equal(
	    virtio_mmio_init(&f->t, 0xd0000000, &f->rx.mem, virtio_net_ops(f->n), f->n, irq_cb, f),
	    0);
	assert_int_equal(evloop_init(&f->loop), 0);
	struct errmsg err = {{0}};
	assert_int_equal(net_stream_open(&f->s, f->mine, f->n, f->loop, &err), 0);
	struct virtio_net_backend be = net_stream_backend(f->s);
	virtio_net_connect(f->n, f->t, &be);
	uint32_t st = mmio_negotiate(f->t, F_V1 | (1ull << VIRTIO_NET_F_MAC));
	assert_true(st & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->rx, 0, QSZ), 1);
	assert_int_equal(mmio_setup_queue(f->t, &f->tx, 1, QSZ), 1);
	mmio_driver_ok(f->t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_free(f->t);
	net_stream_free(f->s);
	evloop_free(f->loop);
	virtio_net_free(f->n);
	fg_free(&f->rx);
	close(f->mine);
	if (f->peer >= 0)
		close(f->peer);
	free(f);
	return 0;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

static void post_rx(struct fx *f)
{
	fg_set_desc(&f->rx, 0, RX_BUF, 2048, VRING_DESC_F_WRITE, 0);
	fg_avail_push(&f->rx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_RXQ);
}

static void check_rx(struct fx *f, uint16_t used, const uint8_t *frame, size_t len)
{
	assert_int_equal(fg_used_idx(&f->rx), used);
	struct vring_used_elem e = fg_used_elem(&f->rx, (uint16_t)(used - 1));
	assert_int_equal(e.len, VIRTIO_NET_HDR_LEN + len);
	assert_memory_equal(fg_ptr(&f->rx, RX_BUF + VIRTIO_NET_HDR_LEN), frame, len);
}

static void test_peer_to_guest(void **state)
{
	struct fx *f = *state;
	uint8_t frame[VIRTIO_NET_FRAME_MAX];
	fill(frame, sizeof(frame), 3);
	post_rx(f);
	assert_int_equal(send(f->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_true(evloop_poll(f->loop) >= 1);
	check_rx(f, 1, frame, sizeof(frame));
	post_rx(f);
	assert_int_equal(send(f->peer, frame + 1, 60, 0), 60);
	assert_true(evloop_poll(f->loop) >= 1);
	check_rx(f, 2, frame + 1, 60);
	assert_int_equal(net_stream_dropped(f->s), 0);
}

static void test_guest_to_peer(void **state)
{
	struct fx *f = *state;
	memset(fg_ptr(&f->tx, TX_BUF), 0, VIRTIO_NET_HDR_LEN);
	fill(fg_ptr(&f->tx, TX_BUF + 0x100), 600, 9);
	fg_set_desc(&f->tx, 0, TX_BUF, VIRTIO_NET_HDR_LEN, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->tx, 1, TX_BUF + 0x100, 600, 0, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	uint8_t got[4096];
	ssize_t n = recv(f->peer, got, sizeof(got), MSG_DONTWAIT);
	assert_int_equal(n, 600); /* one message, the frame alone */
	assert_memory_equal(got, fg_ptr(&f->tx, TX_BUF + 0x100), 600);
}

static void test_malformed_from_peer_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t big[VIRTIO_NET_FRAME_MAX + 100], good[64];
	fill(big, sizeof(big), 1);
	fill(good, sizeof(good), 5);
	post_rx(f);
	assert_int_equal(send(f->peer, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(send(f->peer, big, VIRTIO_NET_ETH_MIN - 1, 0), VIRTIO_NET_ETH_MIN - 1);
	assert_int_equal(send(f->peer, big, 0, 0), 0);
	assert_int_equal(send(f->peer, good, sizeof(good), 0), (ssize_t)sizeof(good));
	assert_true(evloop_poll(f->loop) >= 1);
	/* the oversized one is not cut to fit, the short ones never reach
	 * the device: only the good frame arrives */
	check_rx(f, 1, good, sizeof(good));
	assert_int_equal(net_stream_dropped(f->s), 3);
	assert_false(net_stream_hungup(f->s));
}

static void test_flow_control(void **state)
{
	struct fx *f = *state;
	uint8_t frame[100];
	fill(frame, sizeof(frame), 2);
	/* the interface comes up: one buffer, used */
	post_rx(f);
	assert_int_equal(send(f->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_true(evloop_poll(f->loop) >= 1);
	assert_int_equal(fg_used_idx(&f->rx), 1);
	/* no more buffers: the device holds frames up to the pause mark, the
	 * rest wait in the socket (not dropped) */
	unsigned total = NET_STREAM_BACKLOG_PAUSE + 40;
	for (unsigned i = 0; i < total; i++)
		assert_int_equal(send(f->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	for (int i = 0; i < 8; i++)
		evloop_poll(f->loop);
	assert_int_equal(virtio_net_rx_backlog(f->n), NET_STREAM_BACKLOG_PAUSE + 1);
	int queued = 0;
	uint8_t tmp[200];
	while (recv(f->mine, tmp, sizeof(tmp), MSG_DONTWAIT | MSG_PEEK) > 0 && queued == 0)
		queued = 1;
	assert_int_equal(queued, 1);
	/* one buffer takes one held frame; reading waits for the whole
	 * backlog to go (the device's rx_ready) */
	post_rx(f);
	for (int i = 0; i < 8; i++)
		evloop_poll(f->loop);
	assert_int_equal(virtio_net_rx_backlog(f->n), NET_STREAM_BACKLOG_PAUSE);
	assert_int_equal(fg_used_idx(&f->rx), 2);
	assert_int_equal(net_stream_dropped(f->s), 0);
}

static void test_peer_hangup(void **state)
{
	struct fx *f = *state;
	close(f->peer);
	f->peer = -1;
	assert_true(evloop_poll(f->loop) >= 1);
	assert_true(net_stream_hungup(f->s));
	struct virtio_net_backend be = net_stream_backend(f->s);
	uint8_t frame[60] = {0};
	struct iovec iov = {frame, sizeof(frame)};
	assert_int_equal(be.tx(be.be, &iov, 1, sizeof(frame)), -EPIPE);
	/* no longer watched: nothing to serve */
	assert_int_equal(evloop_poll(f->loop), 0);
}

static void test_not_a_seqpacket(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct evloop *l;
	assert_int_equal(evloop_init(&l), 0);
	struct virtio_net *n;
	assert_int_equal(virtio_net_init(&n, mac, true), 0);
	struct net_stream *s = (void *)1;
	struct errmsg err = {{0}};
	assert_int_equal(net_stream_open(&s, p[0], n, l, &err), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.text, "SOCK_SEQPACKET"));
	virtio_net_free(n);
	evloop_free(l);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_peer_to_guest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guest_to_peer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_from_peer_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flow_control, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_hangup, setup, teardown),
	    cmocka_unit_test(test_not_a_seqpacket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
