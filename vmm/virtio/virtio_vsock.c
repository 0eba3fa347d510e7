/* virtio_vsock: rings and Unix sockets around vsock_conn (see the header).
 * No library provides a virtio-vsock device back end. */
#include "virtio_vsock.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>

#include "common/peercred.h"
#include "vmm/virtio/vsock_conn.h"

enum { RXQ = 0, TXQ = 1, EVQ = 2, NQUEUES = 3 };

#define MAX_HANDSHAKES 16
#define CONNECT_LINE_MAX 32
/* rx packets per round before going back to the loop */
#define RX_BUDGET 256
#define EPOLL_BATCH 32

/* epoll data: kind << 56 | generation << 16 | index */
enum { K_LISTEN = 1, K_KICK, K_HS, K_CONN };
#define EV_DATA(kind, gen, idx) (((uint64_t)(kind) << 56) | ((uint64_t)(gen) << 16) | (idx))

/* A host process connected to U and has not yet said which port. */
struct handshake {
	int fd;
	uint32_t gen;
};

struct virtio_vsock {
	struct virtio_dev_ops ops;
	struct virtio_vsock_config cfg; /* little-endian, as the guest reads it */
	struct vsock_mux mux;
	struct virtio_mmio *t;
	struct evloop *loop;
	char uds[VIRTIO_VSOCK_UDS_MAX + 1];
	int epfd, listen_fd, kick_fd;
	bool debug;
	bool reset_event; /* TRANSPORT_RESET waits for an event buffer */
	struct handshake hs[MAX_HANDSHAKES];
	uint32_t watched[VSOCK_MAX_CONNS]; /* epoll events registered per connection */
	struct virtq_chain chain;	   /* scratch, under the transport lock */
	struct iovec iov[VIRTQ_MAX_SEGS];
};

static void dbg(const struct virtio_vsock *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void dbg(const struct virtio_vsock *v, const char *fmt, ...)
{
	if (!v->debug)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hull: vsock: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static unsigned conn_idx(const struct virtio_vsock *v, const struct vsock_conn *c)
{
	return (unsigned)(c - v->mux.conns);
}

/* Watch c's socket for exactly what the state machine wants; a socket
 * wanting nothing leaves the set, or a hung-up one would wake us forever. */
static void conn_watch(struct virtio_vsock *v, struct vsock_conn *c)
{
	unsigned i = conn_idx(v, c);
	uint32_t want = 0;
	if (c->state != VSOCK_FREE && c->fd >= 0) {
		if (vsock_conn_want_in(c))
			want |= EPOLLIN;
		if (vsock_conn_want_out(c))
			want |= EPOLLOUT;
	}
	if (want == v->watched[i])
		return;
	struct epoll_event ev = {.events = want, .data.u64 = EV_DATA(K_CONN, c->gen, i)};
	int op = !v->watched[i] ? EPOLL_CTL_ADD : want ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
	if (epoll_ctl(v->epfd, op, c->fd, &ev) == 0)
		v->watched[i] = want;
}

static void conn_close(struct virtio_vsock *v, struct vsock_conn *c)
{
	unsigned i = conn_idx(v, c);
	if (v->watched[i])
		epoll_ctl(v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	v->watched[i] = 0;
	if (c->fd >= 0)
		close(c->fd);
	dbg(v, "closed host port %u <-> guest port %u", c->host_port, c->guest_port);
	vsock_mux_release(&v->mux, c);
}

static void kick(struct virtio_vsock *v)
{
	uint64_t one = 1;
	ssize_t r = write(v->kick_fd, &one, sizeof(one));
	(void)r; /* a pending kick is enough */
}

static void do_act(struct virtio_vsock *v, enum vsock_act a, struct vsock_conn *c);

/* Write what the guest sent to the host socket, as far as it takes it. */
static void conn_flush(struct virtio_vsock *v, struct vsock_conn *c)
{
	for (;;) {
		size_t n;
		const uint8_t *p = vsock_conn_out_peek(c, &n);
		if (!n)
			break;
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) { /* the host side went away */
			do_act(v, vsock_mux_reset(&v->mux, c), c);
			return;
		}
		vsock_mux_out_consumed(&v->mux, c, (size_t)w);
	}
	do_act(v, vsock_mux_out_check(&v->mux, c), c);
}

static int uds_connect(const char *path, int *fd)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	if (connect(*fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int rc = -errno;
		close(*fd);
		*fd = -1;
		return rc;
	}
	return 0;
}

/* The guest connects to host port P: "U_P" must be listening. A Unix
 * socket connect completes (or fails) at once, so no half-open state. */
static void conn_connect(struct virtio_vsock *v, struct vsock_conn *c)
{
	char path[sizeof(v->uds) + 12];
	snprintf(path, sizeof(path), "%s_%u", v->uds, c->host_port);
	int rc = uds_connect(path, &c->fd);
	dbg(v, "guest port %u -> %s: %s", c->guest_port, path, rc ? strerror(-rc) : "connected");
	if (rc)
		do_act(v, vsock_mux_reset(&v->mux, c), c);
}

static void conn_accepted(struct virtio_vsock *v, struct vsock_conn *c)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "OK %u\n", c->host_port);
	/* a fresh socket's buffer takes a dozen bytes; anything else is a
	 * host side that went away */
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		do_act(v, vsock_mux_reset(&v->mux, c), c);
}

static void do_act(struct virtio_vsock *v, enum vsock_act a, struct vsock_conn *c)
{
	switch (a) {
	case VSOCK_ACT_NONE:
		break;
	case VSOCK_ACT_CONNECT:
		conn_connect(v, c);
		break;
	case VSOCK_ACT_ACCEPTED:
		conn_accepted(v, c);
		break;
	case VSOCK_ACT_FLUSH:
		conn_flush(v, c);
		break;
	case VSOCK_ACT_SHUT_WR:
		shutdown(c->fd, SHUT_WR);
		break;
	case VSOCK_ACT_CLOSE:
		conn_close(v, c);
		return;
	}
	if (c && c->state != VSOCK_FREE)
		conn_watch(v, c);
}

static void peek_readable(struct virtio_vsock *v, struct vsock_conn *c)
{
	uint8_t b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		vsock_mux_host_drained(&v->mux, c);
}

/* Fill the guest's rx buffers while there is something for them. */
static void rx_run(struct virtio_vsock *v, struct virtq *q)
{
	struct virtq_chain *ch = &v->chain;
	for (unsigned n = 0; n < RX_BUDGET; n++) {
		if (!vsock_mux_rx_pending(&v->mux))
			return;
		if (virtq_pop(q, ch) <= 0)
			return;
		if (ch->in_len < VSOCK_HDR_LEN) { /* no room for a header: unusable */
			v->mux.dropped++;
			virtq_push(q, ch->head, 0);
			continue;
		}
		uint32_t room = ch->in_len - VSOCK_HDR_LEN;
		struct vsock_hdr h;
		struct vsock_conn *c;
		uint32_t max;
		enum vsock_rx r = vsock_mux_rx_next(&v->mux, room, &h, &c, &max);
		enum vsock_act a = VSOCK_ACT_NONE;
		if (r == VSOCK_RX_DATA) {
			unsigned ni = virtq_iov_slice(ch->iov + ch->n_out, ch->n_in, VSOCK_HDR_LEN,
						      max, v->iov, VIRTQ_MAX_SEGS);
			ssize_t got;
			do
				got = readv(c->fd, v->iov, (int)(ni > IOV_MAX ? IOV_MAX : ni));
			while (got < 0 && errno == EINTR);
			if (got < 0)
				got = errno == EWOULDBLOCK ? -EAGAIN : -errno;
			a = vsock_mux_rx_data(&v->mux, c, &h, got);
			/* A short read likely drained the socket: find out now
			 * rather than spend a guest buffer on learning it. */
			if (got > 0 && (uint32_t)got < max)
				peek_readable(v, c);
		}
		uint32_t used = 0;
		if (r != VSOCK_RX_NONE) {
			uint8_t raw[VSOCK_HDR_LEN];
			vsock_hdr_encode(&h, raw);
			virtq_chain_write(ch, 0, raw, sizeof(raw));
			used = VSOCK_HDR_LEN + h.len;
		}
		virtq_push(q, ch->head, used);
		if (c)
			do_act(v, a, c);
	}
	kick(v); /* budget spent: come back after the loop served others */
}

static void tx_run(struct virtio_vsock *v, struct virtq *q)
{
	struct virtq_chain *ch = &v->chain;
	while (virtq_pop(q, ch) > 0) {
		if (ch->out_len < VSOCK_HDR_LEN) {
			v->mux.dropped++;
			virtq_push(q, ch->head, 0);
			continue;
		}
		uint8_t raw[VSOCK_HDR_LEN];
		virtq_chain_read(ch, 0, raw, sizeof(raw));
		struct vsock_hdr h;
		vsock_hdr_decode(raw, &h);
		unsigned ni = virtq_iov_slice(ch->iov, ch->n_out, VSOCK_HDR_LEN,
					      ch->out_len - VSOCK_HDR_LEN, v->iov, VIRTQ_MAX_SEGS);
		struct vsock_res r = vsock_mux_tx(&v->mux, &h, v->iov, ni);
		virtq_push(q, ch->head, 0);
		if (r.c)
			do_act(v, r.act, r.c);
	}
}

static void event_run(struct virtio_vsock *v, struct virtq *q)
{
	struct virtq_chain *ch = &v->chain;
	while (v->reset_event && virtq_pop(q, ch) > 0) {
		struct virtio_vsock_event e = {.id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET)};
		if (ch->in_len < sizeof(e)) {
			virtq_push(q, ch->head, 0);
			continue;
		}
		virtq_chain_write(ch, 0, &e, sizeof(e));
		virtq_push(q, ch->head, sizeof(e));
		v->reset_event = false;
		dbg(v, "transport reset sent to the guest");
	}
}

static void vsock_queue_notify(void *dev, struct virtq *q, unsigned qidx)
{
	struct virtio_vsock *v = dev;
	switch (qidx) {
	case RXQ:
		rx_run(v, q);
		break;
	case TXQ:
		tx_run(v, q);
		/* answers wait on the rx queue, whose interrupt only a locked
		 * run outside this notify raises */
		if (vsock_mux_rx_pending(&v->mux))
			kick(v);
		break;
	case EVQ:
		event_run(v, q);
		break;
	}
}

static void hs_close(struct virtio_vsock *v, struct handshake *s)
{
	epoll_ctl(v->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

static void on_listen(struct virtio_vsock *v)
{
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (peercred_check(fd, 0, NULL)) {
			close(fd); /* another user (not root, not ours): no guest port */
			continue;
		}
		struct handshake *s = NULL;
		for (unsigned i = 0; i < MAX_HANDSHAKES && !s; i++)
			if (v->hs[i].fd < 0)
				s = &v->hs[i];
		struct epoll_event ev = {.events = EPOLLIN};
		if (s) {
			s->gen++;
			ev.data.u64 = EV_DATA(K_HS, s->gen, (unsigned)(s - v->hs));
		}
		if (!s || epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		s->fd = fd;
	}
}

/* "CONNECT <port>\n": peeked until the newline is there, then exactly the
 * line is consumed, so bytes the host sent right after it stay for the
 * guest. */
static void on_handshake(struct virtio_vsock *v, struct handshake *s)
{
	char line[CONNECT_LINE_MAX];
	ssize_t n = recv(s->fd, line, sizeof(line), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	char *nl = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
	if (!nl && n > 0 && n < (ssize_t)sizeof(line))
		return; /* the rest of the line is on its way */
	uint32_t port;
	if (!nl || vsock_parse_connect(line, (size_t)(nl - line), &port)) {
		hs_close(v, s);
		return;
	}
	struct vsock_conn *c = vsock_mux_host_connect(&v->mux, port, s->fd);
	if (!c || recv(s->fd, line, (size_t)(nl - line + 1), MSG_DONTWAIT) != nl - line + 1) {
		if (c)
			vsock_mux_release(&v->mux, c);
		hs_close(v, s);
		return;
	}
	epoll_ctl(v->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->fd = -1;
	dbg(v, "host asks for guest port %u (host port %u)", port, c->host_port);
}

static void on_conn(struct virtio_vsock *v, struct vsock_conn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		vsock_mux_host_readable(&v->mux, c);
	if (events & (EPOLLOUT | EPOLLERR)) {
		conn_flush(v, c);
		if (c->state == VSOCK_FREE)
			return;
	}
	conn_watch(v, c);
}

static void dispatch(struct virtio_vsock *v, uint64_t d, uint32_t events)
{
	unsigned kind = (unsigned)(d >> 56), idx = (unsigned)(d & 0xffff);
	uint32_t gen = (uint32_t)(d >> 16);
	switch (kind) {
	case K_KICK: {
		uint64_t x;
		ssize_t r = read(v->kick_fd, &x, sizeof(x));
		(void)r;
		break;
	}
	case K_LISTEN:
		on_listen(v);
		break;
	case K_HS:
		if (idx < MAX_HANDSHAKES && v->hs[idx].fd >= 0 && v->hs[idx].gen == gen)
			on_handshake(v, &v->hs[idx]);
		break;
	case K_CONN:
		if (idx < VSOCK_MAX_CONNS && v->mux.conns[idx].state != VSOCK_FREE &&
		    v->mux.conns[idx].gen == gen)
			on_conn(v, &v->mux.conns[idx], events);
		break;
	}
}

/* Runs under the transport lock (virtio_mmio_run_locked). */
static void on_events_locked(void *dev, void *ctx)
{
	struct virtio_vsock *v = dev;
	(void)ctx;
	struct epoll_event evs[EPOLL_BATCH];
	int n = epoll_wait(v->epfd, evs, EPOLL_BATCH, 0);
	for (int i = 0; i < n; i++)
		dispatch(v, evs[i].data.u64, evs[i].events);
	struct virtq *q = virtio_mmio_queue_locked(v->t, RXQ);
	if (q)
		rx_run(v, q);
	q = virtio_mmio_queue_locked(v->t, EVQ);
	if (q)
		event_run(v, q);
}

static void on_epoll(void *ctx, int fd, uint32_t events)
{
	struct virtio_vsock *v = ctx;
	(void)fd;
	(void)events;
	virtio_mmio_run_locked(v->t, on_events_locked, NULL);
}

static void close_all(struct virtio_vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->mux.conns[i].state != VSOCK_FREE)
			conn_close(v, &v->mux.conns[i]);
	vsock_mux_clear(&v->mux);
}

static void vsock_reset(void *dev)
{
	struct virtio_vsock *v = dev;
	close_all(v);
	v->reset_event = false;
}

static void transport_reset_locked(void *dev, void *ctx)
{
	struct virtio_vsock *v = dev;
	(void)ctx;
	close_all(v);
	v->reset_event = true;
	struct virtq *q = virtio_mmio_queue_locked(v->t, EVQ);
	if (q)
		event_run(v, q);
}

void virtio_vsock_transport_reset(struct virtio_vsock *v)
{
	virtio_mmio_run_locked(v->t, transport_reset_locked, NULL);
}

static void vsock_config_read(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct virtio_vsock *v = dev;
	memcpy(data, (const uint8_t *)&v->cfg + off, len);
}

static int listen_uds(const char *path, int *fd, struct errmsg *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	strcpy(a.sun_path, path);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return errmsg_set(err, -errno, "vsock socket: %s", strerror(errno));
	if (bind(*fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(*fd, 16) < 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		return errmsg_set(err, -e, "vsock socket %s: %s", path, strerror(e));
	}
	return 0;
}

int virtio_vsock_init(struct virtio_vsock **out, uint64_t cid, const char *uds, struct evloop *loop,
		      bool debug, struct errmsg *err)
{
	*out = NULL;
	if (cid < 3 || cid > 0xfffffffeull)
		return errmsg_set(err, -EINVAL, "vsock guest CID %llu: must be 3..4294967294",
				  (unsigned long long)cid);
	if (!uds || !uds[0] || strlen(uds) > VIRTIO_VSOCK_UDS_MAX)
		return errmsg_set(err, -ENAMETOOLONG,
				  "vsock socket path \"%s\": empty or longer than %u bytes",
				  uds ? uds : "", VIRTIO_VSOCK_UDS_MAX);
	struct virtio_vsock *v = calloc(1, sizeof(*v));
	if (!v)
		return errmsg_set(err, -ENOMEM, "out of memory");
	v->epfd = v->listen_fd = v->kick_fd = -1;
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++)
		v->hs[i].fd = -1;
	strcpy(v->uds, uds);
	v->loop = loop;
	v->debug = debug;
	v->cfg.guest_cid = htole64(cid);
	vsock_mux_init(&v->mux, cid);
	v->ops = (struct virtio_dev_ops){
	    .device_id = VIRTIO_ID_VSOCK,
	    .features = 0,
	    .num_queues = NQUEUES,
	    .queue_max = VIRTIO_VSOCK_QUEUE_MAX,
	    .config_read = vsock_config_read,
	    .config_write = NULL,
	    .config_len = sizeof(struct virtio_vsock_config),
	    .queue_notify = vsock_queue_notify,
	    .reset = vsock_reset,
	};
	int rc = 0;
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	v->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->epfd < 0 || v->kick_fd < 0)
		rc = errmsg_set(err, -errno, "vsock: %s", strerror(errno));
	if (!rc)
		rc = listen_uds(uds, &v->listen_fd, err);
	struct epoll_event ev = {.events = EPOLLIN};
	ev.data.u64 = EV_DATA(K_LISTEN, 0, 0);
	if (!rc && epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->listen_fd, &ev) < 0)
		rc = errmsg_set(err, -errno, "vsock: epoll: %s", strerror(errno));
	ev.data.u64 = EV_DATA(K_KICK, 0, 0);
	if (!rc && epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->kick_fd, &ev) < 0)
		rc = errmsg_set(err, -errno, "vsock: epoll: %s", strerror(errno));
	if (!rc && (rc = evloop_add(loop, v->epfd, EPOLLIN, on_epoll, v)))
		errmsg_set(err, rc, "vsock: event loop: %s", strerror(-rc));
	if (rc) {
		virtio_vsock_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void virtio_vsock_set_transport(struct virtio_vsock *v, struct virtio_mmio *t)
{
	v->t = t;
}

void virtio_vsock_free(struct virtio_vsock *v)
{
	if (!v)
		return;
	if (v->epfd >= 0)
		evloop_del(v->loop, v->epfd);
	close_all(v);
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++)
		if (v->hs[i].fd >= 0)
			close(v->hs[i].fd);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->uds);
	}
	if (v->kick_fd >= 0)
		close(v->kick_fd);
	if (v->epfd >= 0)
		close(v->epfd);
	free(v);
}

const struct virtio_dev_ops *virtio_vsock_ops(const struct virtio_vsock *v)
{
	return &v->ops;
}
