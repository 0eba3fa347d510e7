/* Unit tests for vmm/virtio/virtio_net.c, driven through the virtio-mmio transport
 * with a fake driver and a recording back end: frames both ways, the
 * backlog, and malformed chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "common/clock.h"
#include "virtio_fake_driver.h"
#include "vmm/evloop.h"
#include "vmm/virtio/virtio_net.h"

#define QSZ 16
#define F_V1 (1ull << VIRTIO_F_VERSION_1)
/* queue 1 (tx) has its rings above queue 0's */
#define TXQ_OFF 0x40000u
#define RX_BUF (FD_DATA)
#define TX_BUF (FD_DATA + 0x8000)

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct fx {
	struct fake_guest rx, tx; /* one RAM, two ring layouts */
	struct virtio_net *n;
	struct virtio_mmio *t;
	unsigned irqs;
	/* what the back end saw */
	uint8_t last[4096];
	size_t last_len;
	unsigned frames, ready_calls;
	uint8_t firsts[64]; /* the first byte of every frame, in order */
	int tx_rc;
};

static void irq_cb(void *ctx)
{
	((struct fx *)ctx)->irqs++;
}

static int be_tx(void *be, const struct iovec *iov, unsigned cnt, size_t len)
{
	struct fx *f = be;
	size_t off = 0;
	for (unsigned i = 0; i < cnt; i++) {
		assert_true(off + iov[i].iov_len <= sizeof(f->last));
		memcpy(f->last + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	assert_int_equal(off, len);
	f->last_len = len;
	if (f->frames < sizeof(f->firsts))
		f->firsts[f->frames] = f->last[0];
	f->frames++;
	return f->tx_rc;
}

static void be_ready(void *be)
{
	((struct fx *)be)->ready_calls++;
}

static int setup_features(void **state, uint64_t features)
{
	struct fx *f = calloc(1, sizeof(*f));
	fg_init(&f->rx, QSZ);
	f->tx = f->rx;
	f->tx.desc += TXQ_OFF;
	f->tx.avail += TXQ_OFF;
	f->tx.used += TXQ_OFF;
	assert_int_equal(virtio_net_init(&f->n, mac, true), 0);
	assert_int_equal(
	    virtio_mmio_init(&f->t, 0xd0000000, &f->rx.mem, virtio_net_ops(f->n), f->n, irq_cb, f),
	    0);
	struct virtio_net_backend be = {.tx = be_tx, .rx_ready = be_ready, .be = f};
	virtio_net_connect(f->n, f->t, &be);
	uint32_t st = mmio_negotiate(f->t, F_V1 | (1ull << VIRTIO_NET_F_MAC) | features);
	assert_true(st & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mmio_setup_queue(f->t, &f->rx, 0, QSZ), 1);
	assert_int_equal(mmio_setup_queue(f->t, &f->tx, 1, QSZ), 1);
	mmio_driver_ok(f->t);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_features(state, 0);
}

static int setup_csum(void **state)
{
	return setup_features(state, (1ull << VIRTIO_NET_F_CSUM) |
					 (1ull << VIRTIO_NET_F_GUEST_CSUM) |
					 (1ull << VIRTIO_NET_F_HOST_TSO4));
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_free(f->t);
	virtio_net_free(f->n);
	fg_free(&f->rx);
	free(f);
	return 0;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* Post one receive buffer of `len` writable bytes as chain 0 (in two
 * descriptors when split). */
static void post_rx(struct fx *f, uint32_t len, bool split)
{
	if (split && len > VIRTIO_NET_HDR_LEN) {
		fg_set_desc(&f->rx, 0, RX_BUF, VIRTIO_NET_HDR_LEN,
			    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
		fg_set_desc(&f->rx, 1, RX_BUF + 0x100, len - VIRTIO_NET_HDR_LEN, VRING_DESC_F_WRITE,
			    0);
	} else {
		fg_set_desc(&f->rx, 0, RX_BUF, len, VRING_DESC_F_WRITE, 0);
	}
	fg_avail_push(&f->rx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_RXQ);
}

/* The driver brings the interface up, and its one buffer is used up
 * (used index 1 afterwards): the device now holds frames. */
static void rx_up(struct fx *f)
{
	uint8_t dummy[60] = {0};
	/* a notification without buffers does not count as up */
	virtio_mmio_notify(f->t, VIRTIO_NET_RXQ);
	assert_int_equal(virtio_net_rx(f->n, dummy, sizeof(dummy)), -ENOBUFS);
	post_rx(f, 2048, false);
	assert_int_equal(virtio_net_rx(f->n, dummy, sizeof(dummy)), 0);
	assert_int_equal(fg_used_idx(&f->rx), 1);
}

/* Queue one transmit chain: header descriptor + frame descriptor. */
static void send_tx(struct fx *f, uint32_t hdr_len, uint32_t frame_len, uint16_t frame_flags)
{
	memset(fg_ptr(&f->tx, TX_BUF), 0, hdr_len);
	fill(fg_ptr(&f->tx, TX_BUF + 0x100), frame_len, 7);
	fg_set_desc(&f->tx, 0, TX_BUF, hdr_len, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->tx, 1, TX_BUF + 0x100, frame_len, frame_flags, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	uint8_t got[6];
	for (unsigned i = 0; i < 6; i++)
		virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + i, &got[i], 1);
	assert_memory_equal(got, mac, 6);
	uint16_t status = 0;
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 6, &status, 2);
	assert_int_equal(le16toh(status), VIRTIO_NET_S_LINK_UP);
	/* past the config space: ignored, reads 0 */
	uint32_t v = 0xffffffff;
	virtio_mmio_read(f->t, VIRTIO_MMIO_CONFIG + 0x40, &v, 4);
	assert_int_equal(v, 0);
}

static void test_tx_frame(void **state)
{
	struct fx *f = *state;
	send_tx(f, VIRTIO_NET_HDR_LEN, 60, 0);
	assert_int_equal(f->frames, 1);
	assert_int_equal(f->last_len, 60);
	assert_memory_equal(f->last, fg_ptr(&f->tx, TX_BUF + 0x100), 60);
	assert_int_equal(fg_used_idx(&f->tx), 1);
	assert_int_equal(fg_used_elem(&f->tx, 0).len, 0);
	assert_true(f->irqs > 0);
}

static void test_tx_header_split(void **state)
{
	/* header and frame in one descriptor: the frame starts 12 bytes in */
	struct fx *f = *state;
	uint8_t *p = fg_ptr(&f->tx, TX_BUF);
	memset(p, 0, VIRTIO_NET_HDR_LEN);
	fill(p + VIRTIO_NET_HDR_LEN, 100, 3);
	fg_set_desc(&f->tx, 0, TX_BUF, VIRTIO_NET_HDR_LEN + 100, 0, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 1);
	assert_int_equal(f->last_len, 100);
	assert_memory_equal(f->last, p + VIRTIO_NET_HDR_LEN, 100);
}

static void test_tx_malformed_dropped(void **state)
{
	struct fx *f = *state;
	send_tx(f, VIRTIO_NET_HDR_LEN, VIRTIO_NET_ETH_MIN - 1, 0); /* runt */
	send_tx(f, 4, 0x10, 0); /* short header: 20 bytes in all */
	send_tx(f, VIRTIO_NET_HDR_LEN, VIRTIO_NET_FRAME_MAX + 1, 0); /* oversized */
	send_tx(f, VIRTIO_NET_HDR_LEN, 60, VRING_DESC_F_WRITE);	     /* frame writable */
	assert_int_equal(f->frames, 0);
	assert_int_equal(fg_used_idx(&f->tx), 4);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.tx_dropped, 4);
	assert_int_equal(st.tx_frames, 0);
	assert_int_equal(st.tx_bytes, 0); /* a dropped frame's claimed length counts nowhere */
	/* the queue still works */
	send_tx(f, VIRTIO_NET_HDR_LEN, VIRTIO_NET_FRAME_MAX, 0);
	assert_int_equal(f->frames, 1);
	assert_int_equal(f->last_len, VIRTIO_NET_FRAME_MAX);
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.tx_bytes, VIRTIO_NET_FRAME_MAX); /* the frame, not the header */
}

static void test_tx_refused_by_backend(void **state)
{
	struct fx *f = *state;
	f->tx_rc = -EAGAIN;
	send_tx(f, VIRTIO_NET_HDR_LEN, 60, 0);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.tx_dropped, 1);
	assert_int_equal(st.tx_bytes, 0);
	assert_int_equal(fg_used_idx(&f->tx), 1); /* the buffer goes back anyway */
}

static void test_tx_outside_ram_breaks(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->tx, 0, FD_RAM_SIZE - 8, 64, 0, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* a broken device neither sends nor receives */
	uint8_t frame[60] = {0};
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), -ENOBUFS);
}

static void test_tx_descriptor_loop_breaks(void **state)
{
	struct fx *f = *state;
	fg_set_desc(&f->tx, 0, TX_BUF, 32, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->tx, 1, TX_BUF, 32, VRING_DESC_F_NEXT, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 0);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void check_rx(struct fx *f, uint16_t used, size_t len, const uint8_t *frame, bool split)
{
	assert_int_equal(fg_used_idx(&f->rx), used);
	struct vring_used_elem e = fg_used_elem(&f->rx, (uint16_t)(used - 1));
	assert_int_equal(e.len, VIRTIO_NET_HDR_LEN + len);
	struct virtio_net_hdr_v1 h;
	memcpy(&h, fg_ptr(&f->rx, RX_BUF), sizeof(h));
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(le16toh(h.num_buffers), 1);
	const uint8_t *got = fg_ptr(&f->rx, split ? RX_BUF + 0x100 : RX_BUF + VIRTIO_NET_HDR_LEN);
	assert_memory_equal(got, frame, len);
}

static void test_rx_frame(void **state)
{
	struct fx *f = *state;
	uint8_t frame[1514];
	fill(frame, sizeof(frame), 1);
	post_rx(f, VIRTIO_NET_HDR_LEN + 1514, false);
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), 0);
	check_rx(f, 1, sizeof(frame), frame, false);
	post_rx(f, VIRTIO_NET_HDR_LEN + 1514, true);
	fill(frame, sizeof(frame), 2);
	assert_int_equal(virtio_net_rx(f->n, frame, 64), 0);
	check_rx(f, 2, 64, frame, true);
	assert_true(f->irqs > 0);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_frames, 2);
	assert_int_equal(st.rx_bytes, 1514 + 64);
}

static void test_rx_held_until_buffers(void **state)
{
	struct fx *f = *state;
	uint8_t a[60], b[70];
	fill(a, sizeof(a), 10);
	fill(b, sizeof(b), 20);
	/* interface never up: dropped, not held */
	assert_int_equal(virtio_net_rx(f->n, a, sizeof(a)), -ENOBUFS);
	assert_int_equal(virtio_net_rx_backlog(f->n), 0);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_bytes, 0);
	rx_up(f);
	assert_int_equal(virtio_net_rx(f->n, a, sizeof(a)), 0);
	assert_int_equal(virtio_net_rx(f->n, b, sizeof(b)), 0);
	assert_int_equal(virtio_net_rx_backlog(f->n), 2);
	assert_int_equal(fg_used_idx(&f->rx), 1);
	/* one buffer: the oldest frame goes first, the back end keeps waiting */
	post_rx(f, 2048, false);
	check_rx(f, 2, sizeof(a), a, false);
	assert_int_equal(virtio_net_rx_backlog(f->n), 1);
	assert_int_equal(f->ready_calls, 0);
	post_rx(f, 2048, false);
	check_rx(f, 3, sizeof(b), b, false);
	assert_int_equal(virtio_net_rx_backlog(f->n), 0);
	assert_int_equal(f->ready_calls, 1);
	/* held frames count once the guest took them */
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_bytes, 60 + sizeof(a) + sizeof(b)); /* rx_up()'s frame too */
}

static void test_rx_backlog_bound(void **state)
{
	struct fx *f = *state;
	uint8_t frame[60] = {0};
	rx_up(f);
	for (unsigned i = 0; i < VIRTIO_NET_BACKLOG_MAX; i++)
		assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), 0);
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), -ENOBUFS);
	assert_int_equal(virtio_net_rx_backlog(f->n), VIRTIO_NET_BACKLOG_MAX);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_dropped, 2); /* one in rx_up(), one here */
	/* a reset drops what is held and releases a waiting back end */
	mmio_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(virtio_net_rx_backlog(f->n), 0);
	assert_int_equal(f->ready_calls, 1);
	/* after the reset: dropped, not held */
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), -ENOBUFS);
	assert_int_equal(virtio_net_rx_backlog(f->n), 0);
}

static void test_rx_bad_sizes(void **state)
{
	struct fx *f = *state;
	uint8_t frame[VIRTIO_NET_FRAME_MAX + 1] = {0};
	assert_int_equal(virtio_net_rx(f->n, frame, VIRTIO_NET_ETH_MIN - 1), -EMSGSIZE);
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), -EMSGSIZE);
	assert_int_equal(virtio_net_rx_backlog(f->n), 0);
}

static void test_rx_chain_too_small(void **state)
{
	struct fx *f = *state;
	uint8_t frame[200] = {0};
	post_rx(f, VIRTIO_NET_HDR_LEN + 100, false);
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), 0);
	assert_int_equal(fg_used_idx(&f->rx), 1);
	assert_int_equal(fg_used_elem(&f->rx, 0).len, 0);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_dropped, 1);
	assert_int_equal(st.rx_frames, 0);
	assert_int_equal(st.rx_bytes, 0);
	assert_false(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_rx_readonly_chain_breaks(void **state)
{
	struct fx *f = *state;
	uint8_t frame[60] = {0};
	rx_up(f);
	fg_set_desc(&f->rx, 0, RX_BUF, 2048, 0, 0); /* not writable */
	fg_avail_push(&f->rx, 0);
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), -ENOBUFS);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(fg_used_idx(&f->rx), 1);
}

static void test_rx_avail_jump_breaks(void **state)
{
	struct fx *f = *state;
	uint8_t frame[60] = {0};
	rx_up(f);
	fg_set_avail_idx(&f->rx,
			 (uint16_t)(f->rx.avail_idx + QSZ + 1)); /* more than the ring holds */
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), -ENOBUFS);
	assert_true(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* The 16-bit ones' complement sum of p[0, n), folded. */
static uint16_t ocsum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void test_csum_finish(void **state)
{
	(void)state;
	uint8_t f[101];
	for (size_t start = 0; start < 40; start += 7) {
		fill(f, sizeof(f), (uint8_t)start);
		/* seed 0 (no pseudo-header): the region then sums to all ones */
		f[start + 16] = f[start + 17] = 0;
		assert_int_equal(virtio_net_csum_finish(f, sizeof(f), start, 16), 0);
		/* a correct checksum makes the region sum to all ones */
		assert_int_equal(ocsum(f + start, sizeof(f) - start), 0xffff);
	}
	/* a region summing to 0xffff with a zero seed gives 0, sent as 0xffff */
	uint8_t z[4] = {0xff, 0xff, 0, 0};
	assert_int_equal(virtio_net_csum_finish(z, 4, 0, 2), 0);
	assert_int_equal(z[2], 0xff);
	assert_int_equal(z[3], 0xff);
	/* the field must lie inside the frame */
	assert_int_equal(virtio_net_csum_finish(f, sizeof(f), sizeof(f), 0), -EINVAL);
	assert_int_equal(virtio_net_csum_finish(f, sizeof(f), 90, 10), -EINVAL);
	assert_int_equal(virtio_net_csum_finish(f, sizeof(f), 90, 9), 0);
	assert_int_equal(virtio_net_csum_finish(f, sizeof(f), 1, (size_t)-1), -EINVAL);
}

static void put_csum_hdr(struct fx *f, uint8_t flags, uint8_t gso, uint16_t start, uint16_t off)
{
	struct virtio_net_hdr_v1 h;
	memset(&h, 0, sizeof(h));
	h.flags = flags;
	h.gso_type = gso;
	h.csum_start = htole16(start);
	h.csum_offset = htole16(off);
	memcpy(fg_ptr(&f->tx, TX_BUF), &h, sizeof(h));
}

static void test_tx_csum(void **state)
{
	struct fx *f = *state;
	uint8_t *frame = fg_ptr(&f->tx, TX_BUF + 0x100);
	fill(frame, 200, 9);
	frame[50] = frame[51] = 0; /* the seed: see test_csum_finish */
	uint8_t orig[200];
	memcpy(orig, frame, sizeof(orig));
	put_csum_hdr(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 34, 16);
	fg_set_desc(&f->tx, 0, TX_BUF, VIRTIO_NET_HDR_LEN, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->tx, 1, TX_BUF + 0x100, 200, 0, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 1);
	assert_int_equal(f->last_len, 200);
	assert_int_equal(ocsum(f->last + 34, 200 - 34), 0xffff);
	assert_memory_equal(f->last, orig, 34 + 16);	/* only the field changed */
	assert_memory_equal(frame, orig, sizeof(orig)); /* the guest's copy is untouched */

	/* csum_start/csum_offset outside the frame, or a GSO frame: dropped */
	put_csum_hdr(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 199, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	put_csum_hdr(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0xffff, 0xffff);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	put_csum_hdr(f, 0, VIRTIO_NET_HDR_GSO_TCPV4, 0, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 1);
	assert_int_equal(fg_used_idx(&f->tx), 4);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.tx_dropped, 3);
}

/* An Ethernet/IPv4/TCP frame with `payload` bytes, FIN|PSH|ACK set. */
static size_t make_tcp(uint8_t *f, size_t payload)
{
	memset(f, 0, 54);
	f[12] = 0x08;
	f[14] = 0x45;
	f[14 + 4] = 0x12, f[14 + 5] = 0x34; /* id */
	f[14 + 8] = 64;
	f[14 + 9] = 6;
	memcpy(f + 14 + 12, (uint8_t[]){10, 0, 2, 15, 10, 0, 2, 2}, 8);
	uint8_t *t = f + 34;
	t[4] = 0xff, t[5] = 0xff, t[6] = 0xff, t[7] = 0x00; /* seq wraps */
	t[12] = 5 << 4;
	t[13] = 0x19;
	fill(f + 54, payload, 5);
	return 54 + payload;
}

struct segs {
	uint8_t f[8][VIRTIO_NET_FRAME_MAX];
	size_t len[8];
	unsigned n;
};

static int keep(void *ctx, const uint8_t *frame, size_t len)
{
	struct segs *s = ctx;
	assert_true(s->n < 8);
	memcpy(s->f[s->n], frame, len);
	s->len[s->n++] = len;
	return 0;
}

static void check_segment(const uint8_t *g, size_t len, unsigned i, size_t chunk, bool last)
{
	assert_int_equal(len, 54 + chunk);
	assert_int_equal(g[16] << 8 | g[17], 40 + chunk); /* IP total length */
	assert_int_equal(g[18] << 8 | g[19], 0x1234 + i); /* IP id */
	assert_int_equal(ocsum(g + 14, 20), 0xffff);	  /* IP checksum */
	uint32_t seq = (uint32_t)g[38] << 24 | g[39] << 16 | g[40] << 8 | g[41];
	assert_int_equal(seq, (uint32_t)(0xffffff00u + i * 1000));
	assert_int_equal(g[47] & 0x09, last ? 0x09 : 0); /* FIN, PSH */
	assert_int_equal(g[47] & 0x10, 0x10);		 /* ACK everywhere */
	/* TCP checksum with the pseudo header */
	uint8_t ph[12];
	memcpy(ph, g + 26, 8);
	ph[8] = 0, ph[9] = 6, ph[10] = (uint8_t)((20 + chunk) >> 8), ph[11] = (uint8_t)(20 + chunk);
	uint32_t s = ocsum(ph, 12) + ocsum(g + 34, 20 + chunk);
	assert_int_equal((s & 0xffff) + (s >> 16), 0xffff);
}

static void test_tso_segment(void **state)
{
	(void)state;
	static uint8_t f[4096], seg[VIRTIO_NET_FRAME_MAX];
	static struct segs out;
	size_t len = make_tcp(f, 2500);
	out.n = 0;
	assert_int_equal(virtio_net_tso_segment(f, len, 1000, seg, keep, &out), 0);
	assert_int_equal(out.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		size_t chunk = i < 2 ? 1000 : 500;
		check_segment(out.f[i], out.len[i], i, chunk, i == 2);
		assert_memory_equal(out.f[i] + 54, f + 54 + i * 1000, chunk);
	}
	/* malformed: not IPv4, not TCP, bad header lengths, bad mss */
	len = make_tcp(f, 100);
	uint8_t b[4096];
	memcpy(b, f, len);
	b[12] = 0x86, b[13] = 0xdd;
	assert_int_equal(virtio_net_tso_segment(b, len, 1000, seg, keep, &out), -EINVAL);
	memcpy(b, f, len);
	b[23] = 17;
	assert_int_equal(virtio_net_tso_segment(b, len, 1000, seg, keep, &out), -EINVAL);
	memcpy(b, f, len);
	b[14] = 0x44; /* ihl 4 */
	assert_int_equal(virtio_net_tso_segment(b, len, 1000, seg, keep, &out), -EINVAL);
	memcpy(b, f, len);
	b[14] = 0x4f; /* ihl 15: the TCP header would start past the frame's end */
	assert_int_equal(virtio_net_tso_segment(b, 80, 1000, seg, keep, &out), -EINVAL);
	memcpy(b, f, len);
	b[46] = 0xf0; /* data offset 60 bytes, beyond the frame */
	assert_int_equal(virtio_net_tso_segment(b, 60, 1000, seg, keep, &out), -EINVAL);
	assert_int_equal(virtio_net_tso_segment(f, len, 10, seg, keep, &out), -EINVAL);
	assert_int_equal(virtio_net_tso_segment(f, len, 1500, seg, keep, &out), -EINVAL);
	assert_int_equal(virtio_net_tso_segment(f, 40, 1000, seg, keep, &out), -EINVAL);
}

static void test_tx_tso(void **state)
{
	struct fx *f = *state;
	uint8_t *frame = fg_ptr(&f->tx, TX_BUF + 0x100);
	size_t len = make_tcp(frame, 1500);
	put_csum_hdr(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 34, 16);
	struct virtio_net_hdr_v1 *h = fg_ptr(&f->tx, TX_BUF);
	h->gso_size = htole16(1000);
	fg_set_desc(&f->tx, 0, TX_BUF, VIRTIO_NET_HDR_LEN, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&f->tx, 1, TX_BUF + 0x100, (uint32_t)len, 0, 0);
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 2);
	check_segment(f->last, f->last_len, 1, 500, true);
	/* UDP fragmentation offload was not offered */
	h->gso_type = VIRTIO_NET_HDR_GSO_UDP;
	fg_avail_push(&f->tx, 0);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 2);
}

/* Serve the loop (the rate limits' timers) until *idx reaches want or 10 s
 * pass; the time it took, from t0. */
static uint64_t poll_until(struct evloop *loop, struct fake_guest *g, uint16_t want, uint64_t t0)
{
	while (fg_used_idx(g) < want && clock_now_ns() - t0 < 10000000000ull) {
		assert_true(evloop_poll(loop) >= 0);
		usleep(1000);
	}
	assert_int_equal(fg_used_idx(g), want);
	return clock_now_ns() - t0;
}

/* tx limited to 1000 bytes a second (the bucket starts with one second's
 * worth): of four 500-byte frames in one notification two leave at once,
 * the others stay in the ring (kicks do not send them) until the device's
 * timer lets them through, in order, none dropped: 1000 bytes past the
 * burst at 1000/s, at least about 1 s. */
static void test_tx_rate_limit(void **state)
{
	struct fx *f = *state;
	struct evloop *loop;
	struct errmsg err = {{0}};
	assert_int_equal(evloop_init(&loop), 0);
	const struct virtio_net_limits lim = {.tx_bps = 1000};
	assert_int_equal(virtio_net_set_limits(f->n, &lim, loop, &err), 0);
	assert_int_equal(virtio_net_set_limits(f->n, &lim, loop, &err), -EALREADY);
	for (uint16_t i = 0; i < 4; i++) {
		uint64_t hdr = TX_BUF + i * 0x1000u;
		memset(fg_ptr(&f->tx, hdr), 0, VIRTIO_NET_HDR_LEN);
		fill(fg_ptr(&f->tx, hdr + 0x100), 500, (uint8_t)(0x40 + i));
		fg_set_desc(&f->tx, (uint16_t)(2 * i), hdr, VIRTIO_NET_HDR_LEN, VRING_DESC_F_NEXT,
			    (uint16_t)(2 * i + 1));
		fg_set_desc(&f->tx, (uint16_t)(2 * i + 1), hdr + 0x100, 500, 0, 0);
		fg_avail_push(&f->tx, (uint16_t)(2 * i));
	}
	uint64_t t0 = clock_now_ns();
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ);
	assert_int_equal(f->frames, 2);
	assert_int_equal(fg_used_idx(&f->tx), 2);
	virtio_mmio_notify(f->t, VIRTIO_NET_TXQ); /* a kick while waiting sends nothing */
	assert_int_equal(f->frames, 2);
	uint64_t took = poll_until(loop, &f->tx, 4, t0);
	if (took < 900000000ull)
		fail_msg("2000 bytes at 1000/s with 1000 of burst took %llu ms",
			 (unsigned long long)(took / 1000000));
	assert_int_equal(f->frames, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(f->firsts[i], 0x40 + i);
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.tx_frames, 4);
	assert_int_equal(st.tx_dropped, 0);
	/* the device's timers are deregistered before the loop goes */
	virtio_net_free(f->n);
	f->n = NULL;
	evloop_free(loop);
}

/* tx limited to 2 frames a second: the third of three small frames waits
 * about half a second. */
static void test_tx_pps_limit(void **state)
{
	struct fx *f = *state;
	struct evloop *loop;
	struct errmsg err = {{0}};
	assert_int_equal(evloop_init(&loop), 0);
	const struct virtio_net_limits lim = {.tx_pps = 2};
	assert_int_equal(virtio_net_set_limits(f->n, &lim, loop, &err), 0);
	uint64_t t0 = clock_now_ns();
	for (unsigned i = 0; i < 3; i++)
		send_tx(f, VIRTIO_NET_HDR_LEN, 60, 0); /* chain 0, sent and returned each time */
	assert_int_equal(f->frames, 2);
	uint64_t took = poll_until(loop, &f->tx, 3, t0);
	if (took < 400000000ull)
		fail_msg("3 frames at 2/s took %llu ms", (unsigned long long)(took / 1000000));
	assert_int_equal(f->frames, 3);
	virtio_net_free(f->n);
	f->n = NULL;
	evloop_free(loop);
}

/* rx limited to 1000 bytes a second, the guest with four buffers posted:
 * of four 500-byte frames two are delivered at once, the others held (the
 * back end told to wait) until the timer delivers them, in order, none
 * dropped: at least about 1 s. */
static void test_rx_rate_limit(void **state)
{
	struct fx *f = *state;
	struct evloop *loop;
	struct errmsg err = {{0}};
	assert_int_equal(evloop_init(&loop), 0);
	rx_up(f); /* used index 1 */
	const struct virtio_net_limits lim = {.rx_bps = 1000};
	assert_int_equal(virtio_net_set_limits(f->n, &lim, loop, &err), 0);
	for (uint16_t i = 0; i < 4; i++) {
		fg_set_desc(&f->rx, i, RX_BUF + i * 0x800u, 0x800, VRING_DESC_F_WRITE, 0);
		fg_avail_push(&f->rx, i);
	}
	virtio_mmio_notify(f->t, VIRTIO_NET_RXQ);
	uint8_t frame[4][500];
	uint64_t t0 = clock_now_ns();
	for (unsigned i = 0; i < 4; i++) {
		fill(frame[i], sizeof(frame[i]), (uint8_t)(0x60 + i));
		assert_int_equal(virtio_net_rx(f->n, frame[i], sizeof(frame[i])), 0);
	}
	assert_int_equal(fg_used_idx(&f->rx), 3);
	assert_int_equal(virtio_net_rx_backlog(f->n), 2);
	virtio_mmio_notify(f->t, VIRTIO_NET_RXQ); /* buffers are there: the bucket is not */
	assert_int_equal(fg_used_idx(&f->rx), 3);
	uint64_t took = poll_until(loop, &f->rx, 5, t0);
	if (took < 900000000ull)
		fail_msg("2000 bytes at 1000/s with 1000 of burst took %llu ms",
			 (unsigned long long)(took / 1000000));
	assert_int_equal(virtio_net_rx_backlog(f->n), 0);
	assert_int_equal(f->ready_calls, 1);
	for (uint16_t i = 0; i < 4; i++) {
		struct vring_used_elem e = fg_used_elem(&f->rx, (uint16_t)(1 + i));
		assert_int_equal(e.id, i);
		assert_int_equal(e.len, VIRTIO_NET_HDR_LEN + 500);
		assert_memory_equal(fg_ptr(&f->rx, RX_BUF + i * 0x800u + VIRTIO_NET_HDR_LEN),
				    frame[i], 500);
	}
	struct virtio_net_stats st;
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_dropped, 1); /* rx_up()'s, before the interface was up */
	virtio_net_free(f->n);
	f->n = NULL;
	evloop_free(loop);
}

static void test_rx_data_valid(void **state)
{
	struct fx *f = *state;
	uint8_t frame[64] = {0};
	post_rx(f, 2048, false);
	assert_int_equal(virtio_net_rx(f->n, frame, sizeof(frame)), 0);
	struct virtio_net_hdr_v1 h;
	memcpy(&h, fg_ptr(&f->rx, RX_BUF), sizeof(h));
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(le16toh(h.num_buffers), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_header_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_malformed_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_refused_by_backend, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_outside_ram_breaks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_descriptor_loop_breaks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_held_until_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_backlog_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_bad_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_chain_too_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_readonly_chain_breaks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_avail_jump_breaks, setup, teardown),
	    cmocka_unit_test(test_csum_finish),
	    cmocka_unit_test_setup_teardown(test_tx_csum, setup_csum, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_data_valid, setup_csum, teardown),
	    cmocka_unit_test(test_tso_segment),
	    cmocka_unit_test_setup_teardown(test_tx_tso, setup_csum, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_pps_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_rate_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
