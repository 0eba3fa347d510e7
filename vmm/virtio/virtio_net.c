#include "virtio_net.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "common/clock.h"
#include "vmm/ratelimit_timer.h"

/* What the guest sees in config space: the MAC, the link status and the
 * queue-pair count (the fields up to and including max_virtqueue_pairs). */
#define NET_CONFIG_LEN (offsetof(struct virtio_net_config, mtu))

struct held_frame {
	size_t len;
	uint8_t data[];
};

struct virtio_net {
	struct virtio_dev_ops ops;
	struct virtio_net_config cfg; /* little-endian, as the guest sees it */
	struct virtio_mmio *t;
	struct virtio_net_backend be;
	/* Everything below is touched only with the transport lock held (inside
	 * queue_notify, reset or virtio_mmio_run_locked), except the atomics. */
	struct held_frame *backlog[VIRTIO_NET_BACKLOG_MAX];
	unsigned bl_head, bl_count; /* bl_count: atomic for readers */
	bool want_ready;	    /* a back end waits for the backlog to empty */
	bool receiving;		    /* the driver posted receive buffers since reset */
	struct virtio_net_stats st; /* atomic adds */
	struct virtq_chain rxc, txc;
	struct iovec txv[VIRTQ_MAX_SEGS];
	uint8_t txbuf[VIRTIO_NET_GSO_MAX]; /* a frame we finish or segment */
	uint8_t segbuf[VIRTIO_NET_FRAME_MAX];
	bool tso; /* HOST_TSO4 offered */
	/* Rate limits (virtio_net_set_limits), one direction each: a frame
	 * its buckets refuse waits (tx: its chain back in the ring; rx: in the
	 * backlog) and the direction stops until its timer fires. */
	bool limited, rx_wait, tx_wait;
	struct ratelimit rl_rx, rl_tx;
	struct ratelimit_timer rx_timer, tx_timer;
};

static void stat_add(uint64_t *v)
{
	__atomic_add_fetch(v, 1, __ATOMIC_RELAXED);
}

static void stat_add_n(uint64_t *v, uint64_t n)
{
	__atomic_add_fetch(v, n, __ATOMIC_RELAXED);
}

/* Put one frame into the next receive chain. 1: the chain was used (the
 * frame delivered, or dropped because the chain is too small), 0: no chain
 * posted, -EIO: the queue is broken. */
static int deliver(struct virtio_net *n, struct virtq *q, const void *frame, size_t len)
{
	struct virtq_chain *c = &n->rxc;
	if (n->rx_wait)
		return 0; /* the rx timer runs: nothing passes before it fires */
	int rc = virtq_pop(q, c);
	if (rc <= 0)
		return rc;
	/* charged once a chain is there to take the frame: a frame that
	 * waits for buffers has cost nothing yet */
	if (n->limited && !ratelimit_timer_admit(&n->rx_timer, &n->rl_rx, len)) {
		virtq_unpop(q);
		n->rx_wait = true;
		return 0;
	}
	if (c->in_len == 0) {
		/* nothing to write the frame into, nor any way to say so */
		virtq_set_broken(q);
		stat_add(&n->st.rx_dropped);
		return -EIO;
	}
	if (c->in_len < VIRTIO_NET_HDR_LEN + len) {
		virtq_push(q, c->head, 0);
		stat_add(&n->st.rx_dropped);
		return 1;
	}
	struct virtio_net_hdr_v1 h;
	memset(&h, 0, sizeof(h));
	h.num_buffers = htole16(1);
	/* Back ends hand over frames with valid checksums (slirp computes
	 * them; the tun driver completes partial ones without a vnet header),
	 * so the guest may skip verifying them: much of a received packet's
	 * cost in a guest kernel that is emulated. */
	if (virtio_mmio_features_locked(n->t) & (1ull << VIRTIO_NET_F_GUEST_CSUM))
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	virtq_chain_write(c, 0, &h, VIRTIO_NET_HDR_LEN);
	virtq_chain_write(c, VIRTIO_NET_HDR_LEN, frame, len);
	virtq_push(q, c->head, (uint32_t)(VIRTIO_NET_HDR_LEN + len));
	stat_add(&n->st.rx_frames);
	stat_add_n(&n->st.rx_bytes, len);
	return 1;
}

static unsigned backlog_count(const struct virtio_net *n)
{
	return __atomic_load_n(&n->bl_count, __ATOMIC_RELAXED);
}

static void backlog_drop_all(struct virtio_net *n)
{
	while (n->bl_count) {
		free(n->backlog[n->bl_head]);
		n->backlog[n->bl_head] = NULL;
		n->bl_head = (n->bl_head + 1) % VIRTIO_NET_BACKLOG_MAX;
		__atomic_store_n(&n->bl_count, n->bl_count - 1, __ATOMIC_RELAXED);
	}
}

/* Move held frames into the chains the guest posted, oldest first. */
static void backlog_flush(struct virtio_net *n, struct virtq *q)
{
	while (n->bl_count) {
		struct held_frame *f = n->backlog[n->bl_head];
		if (deliver(n, q, f->data, f->len) <= 0)
			return;
		free(f);
		n->backlog[n->bl_head] = NULL;
		n->bl_head = (n->bl_head + 1) % VIRTIO_NET_BACKLOG_MAX;
		__atomic_store_n(&n->bl_count, n->bl_count - 1, __ATOMIC_RELAXED);
	}
}

/* Deliver what is held; tell a waiting back end once nothing is. */
static void rx_resume(struct virtio_net *n, struct virtq *q)
{
	backlog_flush(n, q);
	if (n->bl_count == 0 && n->want_ready) {
		n->want_ready = false;
		if (n->be.rx_ready)
			n->be.rx_ready(n->be.be);
	}
}

static void rx_notify(struct virtio_net *n, struct virtq *q)
{
	/* a notification without buffers (a template's queues are looked at
	 * after a restore, the guest's interface still down) is not "up" */
	if (virtq_has_avail(q))
		n->receiving = true;
	rx_resume(n, q);
}

int virtio_net_csum_finish(uint8_t *frame, size_t len, size_t start, size_t off)
{
	if (start >= len || off > len - start || len - start - off < 2)
		return -EINVAL;
	/* the guest seeded the field with the pseudo-header sum: it is summed
	 * along with the rest */
	uint32_t sum = 0;
	size_t i = start;
	for (; i + 1 < len; i += 2)
		sum += (uint32_t)frame[i] << 8 | frame[i + 1];
	if (i < len)
		sum += (uint32_t)frame[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	if (c == 0)
		c = 0xffff; /* the same value for TCP; mandatory for UDP */
	frame[start + off] = (uint8_t)(c >> 8);
	frame[start + off + 1] = (uint8_t)c;
	return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int virtio_net_tso_segment(const uint8_t *f, size_t len, size_t mss, uint8_t *seg,
			   int (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx)
{
	/* Ethernet (no VLAN tag: the guest tags nothing here), IPv4, TCP */
	if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return -EINVAL;
	const uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 6 || len < 14 + ihl + 20)
		return -EINVAL;
	const uint8_t *tcp = ip + ihl;
	size_t thl = (size_t)(tcp[12] >> 4) * 4;
	size_t hlen = 14 + ihl + thl;
	if (thl < 20 || hlen > len || mss < 64 || hlen + mss > VIRTIO_NET_FRAME_MAX)
		return -EINVAL;
	size_t payload = len - hlen;
	uint16_t id = (uint16_t)(ip[4] << 8 | ip[5]);
	uint32_t seq =
	    (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	for (size_t off = 0, i = 0; off < payload || (payload == 0 && i == 0); off += mss, i++) {
		size_t chunk = payload - off < mss ? payload - off : mss;
		bool last = off + chunk >= payload;
		memcpy(seg, f, hlen);
		memcpy(seg + hlen, f + hlen + off, chunk);
		uint8_t *sip = seg + 14, *stcp = sip + ihl;
		put16(sip + 2, (uint16_t)(ihl + thl + chunk));
		put16(sip + 4, (uint16_t)(id + i));
		put16(sip + 10, 0);
		put16(sip + 10, fold(sum16(sip, ihl, 0)));
		uint32_t s = seq + (uint32_t)off;
		put16(stcp + 4, (uint16_t)(s >> 16));
		put16(stcp + 6, (uint16_t)s);
		if (!last)
			stcp[13] &= (uint8_t)~0x09; /* FIN and PSH only on the last */
		put16(stcp + 16, 0);
		/* pseudo header: addresses, protocol, TCP length */
		uint32_t sum = sum16(sip + 12, 8, 6 + (uint32_t)(thl + chunk));
		put16(stcp + 16, fold(sum16(stcp, thl + chunk, sum)));
		int rc = emit(ctx, seg, hlen + chunk);
		if (rc)
			return rc;
		if (payload == 0)
			break;
	}
	return 0;
}

static int emit_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct virtio_net *n = ctx;
	struct iovec one = {.iov_base = (void *)frame, .iov_len = len};
	return n->be.tx(n->be.be, &one, 1, len);
}

/* One guest frame to the back end. 0, or -errno when dropped. */
static int tx_one(struct virtio_net *n, const struct virtq_chain *c)
{
	if (c->out_len < VIRTIO_NET_HDR_LEN + VIRTIO_NET_ETH_MIN ||
	    c->out_len - VIRTIO_NET_HDR_LEN > VIRTIO_NET_GSO_MAX || !n->be.tx)
		return -EMSGSIZE;
	size_t len = c->out_len - VIRTIO_NET_HDR_LEN;
	struct virtio_net_hdr_v1 h;
	virtq_chain_read(c, 0, &h, VIRTIO_NET_HDR_LEN);
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		/* VIRTIO_NET_F_HOST_TSO4: cut the guest's big TCP segment into
		 * frames (checksums computed whole, NEEDS_CSUM implied) */
		if (!n->tso || h.gso_type != VIRTIO_NET_HDR_GSO_TCPV4)
			return -EOPNOTSUPP;
		virtq_chain_read(c, VIRTIO_NET_HDR_LEN, n->txbuf, len);
		return virtio_net_tso_segment(n->txbuf, len, le16toh(h.gso_size), n->segbuf,
					      emit_tx, n);
	}
	if (len > VIRTIO_NET_FRAME_MAX)
		return -EMSGSIZE;
	if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		unsigned cnt = virtq_iov_slice(c->iov, c->n_out, VIRTIO_NET_HDR_LEN, len, n->txv,
					       VIRTQ_MAX_SEGS);
		return n->be.tx(n->be.be, n->txv, cnt, len);
	}
	/* VIRTIO_NET_F_CSUM: finish the checksum in a private copy (the
	 * guest's buffer is read-only to the device) */
	virtq_chain_read(c, VIRTIO_NET_HDR_LEN, n->txbuf, len);
	if (virtio_net_csum_finish(n->txbuf, len, le16toh(h.csum_start), le16toh(h.csum_offset)))
		return -EINVAL;
	struct iovec one = {.iov_base = n->txbuf, .iov_len = len};
	return n->be.tx(n->be.be, &one, 1, len);
}

static void tx_notify(struct virtio_net *n, struct virtq *q)
{
	struct virtq_chain *c = &n->txc;
	/* while the tx timer runs, the guest's kicks wait for it */
	while (!n->tx_wait && virtq_pop(q, c) > 0) {
		/* a TSO segment is charged whole, as one packet: what the
		 * guest handed over */
		uint64_t bytes =
		    c->out_len > VIRTIO_NET_HDR_LEN ? c->out_len - VIRTIO_NET_HDR_LEN : 0;
		if (n->limited && !ratelimit_timer_admit(&n->tx_timer, &n->rl_tx, bytes)) {
			virtq_unpop(q);
			n->tx_wait = true;
			break;
		}
		bool ok = tx_one(n, c) == 0;
		stat_add(ok ? &n->st.tx_frames : &n->st.tx_dropped);
		if (ok) /* tx_one() bounded it: at most VIRTIO_NET_GSO_MAX */
			stat_add_n(&n->st.tx_bytes, bytes);
		virtq_push(q, c->head, 0);
	}
}

static void net_queue_notify(void *dev, struct virtq *q, unsigned qidx)
{
	struct virtio_net *n = dev;
	if (qidx == VIRTIO_NET_RXQ)
		rx_notify(n, q);
	else if (qidx == VIRTIO_NET_TXQ)
		tx_notify(n, q);
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;
	backlog_drop_all(n);
	n->receiving = false;
	/* what waited went with the rings; a timer still armed finds
	 * nothing to do */
	n->rx_wait = n->tx_wait = false;
	if (n->want_ready) {
		n->want_ready = false;
		if (n->be.rx_ready)
			n->be.rx_ready(n->be.be);
	}
}

static void net_config_read(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct virtio_net *n = dev;
	memcpy(data, (const uint8_t *)&n->cfg + off, len);
}

static void net_config_write(void *dev, uint32_t off, const void *data, uint32_t len)
{
	/* Read-only: a VERSION_1 driver changes its MAC without telling the
	 * device (there is no control queue), and the device does not filter. */
	(void)dev;
	(void)off;
	(void)data;
	(void)len;
}

int virtio_net_init(struct virtio_net **out, const uint8_t mac[6], bool csum)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->tso = csum;
	ratelimit_timer_init(&n->rx_timer);
	ratelimit_timer_init(&n->tx_timer);
	memcpy(n->cfg.mac, mac, 6);
	n->cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	n->cfg.max_virtqueue_pairs = htole16(1);
	n->ops = (struct virtio_dev_ops){
	    .device_id = VIRTIO_ID_NET,
	    .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
			(csum ? (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
				    (1ull << VIRTIO_NET_F_HOST_TSO4)
			      : 0),
	    .num_queues = 2,
	    .queue_max = VIRTIO_NET_QUEUE_MAX,
	    .config_read = net_config_read,
	    .config_write = net_config_write,
	    .config_len = NET_CONFIG_LEN,
	    .queue_notify = net_queue_notify,
	    .reset = net_reset,
	};
	*out = n;
	return 0;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	ratelimit_timer_close(&n->rx_timer);
	ratelimit_timer_close(&n->tx_timer);
	backlog_drop_all(n);
	free(n);
}

const struct virtio_dev_ops *virtio_net_ops(const struct virtio_net *n)
{
	return &n->ops;
}

void virtio_net_connect(struct virtio_net *n, struct virtio_mmio *t,
			const struct virtio_net_backend *be)
{
	n->t = t;
	n->be = *be;
}

/* Transport lock held (virtio_mmio_run_locked from a timer). */
static void rx_timer_locked(void *dev, void *ctx)
{
	struct virtio_net *n = dev;
	(void)ctx;
	n->rx_wait = false;
	struct virtq *q = virtio_mmio_queue_locked(n->t, VIRTIO_NET_RXQ);
	if (q)
		rx_resume(n, q);
}

static void tx_timer_locked(void *dev, void *ctx)
{
	struct virtio_net *n = dev;
	(void)ctx;
	n->tx_wait = false;
	struct virtq *q = virtio_mmio_queue_locked(n->t, VIRTIO_NET_TXQ);
	if (q)
		tx_notify(n, q);
}

static void on_rx_timer(void *ctx, int fd, uint32_t events)
{
	struct virtio_net *n = ctx;
	(void)events;
	if (ratelimit_timer_ack(fd))
		virtio_mmio_run_locked(n->t, rx_timer_locked, NULL);
}

static void on_tx_timer(void *ctx, int fd, uint32_t events)
{
	struct virtio_net *n = ctx;
	(void)events;
	if (ratelimit_timer_ack(fd))
		virtio_mmio_run_locked(n->t, tx_timer_locked, NULL);
}

int virtio_net_set_limits(struct virtio_net *n, const struct virtio_net_limits *l,
			  struct evloop *loop, struct errmsg *err)
{
	if (!l->rx_bps && !l->tx_bps && !l->rx_pps && !l->tx_pps)
		return 0;
	int rc = ratelimit_timer_open(&n->rx_timer, loop, on_rx_timer, n, "network", err);
	if (!rc)
		rc = ratelimit_timer_open(&n->tx_timer, loop, on_tx_timer, n, "network", err);
	if (rc) {
		ratelimit_timer_close(&n->rx_timer);
		return rc;
	}
	uint64_t now = clock_now_ns();
	ratelimit_init(&n->rl_rx, l->rx_bps, l->rx_pps, now);
	ratelimit_init(&n->rl_tx, l->tx_bps, l->tx_pps, now);
	n->limited = true;
	return 0;
}

struct rx_call {
	const void *frame;
	size_t len;
	int rc;
};

static void rx_locked(void *dev, void *ctx)
{
	struct virtio_net *n = dev;
	struct rx_call *c = ctx;
	struct virtq *q = virtio_mmio_queue_locked(n->t, VIRTIO_NET_RXQ);
	if (!q || !n->receiving) {
		/* no driver, a broken queue, or an interface never brought up:
		 * a wire without a receiver. (Holding frames for a guest that
		 * boots for tens of seconds would hand it a stale flood.) */
		c->rc = -ENOBUFS;
		stat_add(&n->st.rx_dropped);
		return;
	}
	backlog_flush(n, q);
	if (n->bl_count == 0) {
		int rc = deliver(n, q, c->frame, c->len);
		if (rc != 0) {
			c->rc = rc > 0 ? 0 : -ENOBUFS;
			return;
		}
	}
	struct held_frame *f = NULL;
	if (n->bl_count < VIRTIO_NET_BACKLOG_MAX)
		f = malloc(sizeof(*f) + c->len);
	if (!f) {
		c->rc = -ENOBUFS;
		stat_add(&n->st.rx_dropped);
		n->want_ready = true;
		return;
	}
	f->len = c->len;
	memcpy(f->data, c->frame, c->len);
	n->backlog[(n->bl_head + n->bl_count) % VIRTIO_NET_BACKLOG_MAX] = f;
	__atomic_store_n(&n->bl_count, n->bl_count + 1, __ATOMIC_RELAXED);
	n->want_ready = true;
	c->rc = 0;
}

int virtio_net_rx(struct virtio_net *n, const void *frame, size_t len)
{
	if (len < VIRTIO_NET_ETH_MIN || len > VIRTIO_NET_FRAME_MAX)
		return -EMSGSIZE;
	struct rx_call c = {.frame = frame, .len = len};
	virtio_mmio_run_locked(n->t, rx_locked, &c);
	return c.rc;
}

unsigned virtio_net_rx_backlog(const struct virtio_net *n)
{
	return backlog_count(n);
}

void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *out)
{
	out->tx_frames = __atomic_load_n(&n->st.tx_frames, __ATOMIC_RELAXED);
	out->tx_dropped = __atomic_load_n(&n->st.tx_dropped, __ATOMIC_RELAXED);
	out->rx_frames = __atomic_load_n(&n->st.rx_frames, __ATOMIC_RELAXED);
	out->rx_dropped = __atomic_load_n(&n->st.rx_dropped, __ATOMIC_RELAXED);
	out->tx_bytes = __atomic_load_n(&n->st.tx_bytes, __ATOMIC_RELAXED);
	out->rx_bytes = __atomic_load_n(&n->st.rx_bytes, __ATOMIC_RELAXED);
}
