#include "net_slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "common/clock.h"
#include "vmm/virtio/virtio_net.h" /* the frame bounds (constants only) */

struct slirp_timer {
	SlirpTimerCb cb;
	void *opaque;
	int64_t expire_ms; /* -1: not armed */
	struct slirp_timer *next;
};

struct net_slirp {
	Slirp *slirp;
	int fd;
	bool debug;
	bool host_loopback;
	bool hungup;
	bool full; /* fd had no room when this round began: host input paused */
	struct pollfd *pfd;
	unsigned npfd, cap;
	struct slirp_timer *timers;
	uint8_t buf[VIRTIO_NET_FRAME_MAX];
};

/* ---- libslirp callbacks (this thread) ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->hungup || len < VIRTIO_NET_ETH_MIN || len > VIRTIO_NET_FRAME_MAX)
		return (ssize_t)len; /* nobody to send to, or a frame no NIC takes */
	for (;;) {
		ssize_t n = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0)
			return (ssize_t)len;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			s->hungup = true;
			return (ssize_t)len;
		}
		/* flow control: wait for the monitor to take frames; its
		 * hangup ends the wait */
		struct pollfd p = {.fd = s->fd, .events = POLLOUT};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return (ssize_t)len;
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			s->hungup = true;
			return (ssize_t)len;
		}
	}
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->debug)
		fprintf(stderr, "hull-slirp: guest error: %s\n", msg);
}

static int64_t cb_clock_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)clock_now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cb = cb;
	t->opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;
	for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

static void cb_register_fd(int fd, void *opaque)
{
	/* the poll set is rebuilt every round */
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	(void)opaque; /* one thread: the next round sees the change */
}

static const SlirpCb slirp_cbs = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_fd,
    .unregister_poll_fd = cb_register_fd,
    .notify = cb_notify,
};

/* ---- the loop ---- */

static int add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->npfd == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 32;
		struct pollfd *p = realloc(s->pfd, cap * sizeof(*p));
		if (!p)
			return -1; /* slirp skips the fd this round */
		s->pfd = p;
		s->cap = cap;
	}
	/* flow control: no reading while the monitor is behind */
	if (s->full)
		events &= ~SLIRP_POLL_IN;
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	s->pfd[s->npfd] = (struct pollfd){.fd = fd, .events = ev};
	return (int)s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	if (idx < 0 || (unsigned)idx >= s->npfd)
		return 0;
	short r = s->pfd[idx].revents;
	int ev = 0;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & (POLLERR | POLLNVAL))
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* recv() returns 0 for an empty message as for the end: tell them apart */
static bool peer_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

bool net_slirp_to_host_loopback(const uint8_t *f, size_t n)
{
	/* Ethernet header (14 bytes, ethertype at 12), then the IPv4 header:
	 * destination at offset 16. slirp takes only untagged 0x0800 for IPv4 */
	if (n < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return false;
	uint8_t first = f[14 + 16];
	return first == 127 || first == 0;
}

/* The guest's frames, from the monitor, into slirp. */
static void read_frames(struct net_slirp *s)
{
	for (unsigned i = 0; i < NET_SLIRP_RX_BUDGET && !s->hungup; i++) {
		/* MSG_TRUNC: n is the message's real length */
		ssize_t n = recv(s->fd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 || (n == 0 && peer_closed(s->fd))) {
			s->hungup = true;
			return;
		}
		if ((size_t)n < VIRTIO_NET_ETH_MIN || (size_t)n > sizeof(s->buf)) {
			if (s->debug)
				fprintf(stderr, "hull-slirp: dropped a %zd-byte frame\n", n);
			continue;
		}
		if (!s->host_loopback && net_slirp_to_host_loopback(s->buf, (size_t)n)) {
			if (s->debug)
				fprintf(stderr, "hull-slirp: dropped a frame to the host's "
						"loopback\n");
			continue;
		}
		slirp_input(s->slirp, s->buf, (int)n);
	}
}

static void run_timers(struct net_slirp *s, int64_t now_ms)
{
	/* a callback may re-arm or free timers: restart the walk after each */
	for (bool again = true; again;) {
		again = false;
		for (struct slirp_timer *t = s->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
				t->expire_ms = -1;
				t->cb(t->opaque);
				again = true;
				break;
			}
		}
	}
}

int net_slirp_run(struct net_slirp *s)
{
	while (!s->hungup) {
		struct pollfd w = {.fd = s->fd, .events = POLLOUT};
		s->full = poll(&w, 1, 0) == 0;
		s->npfd = 0;
		add_poll(s->fd, SLIRP_POLL_IN, s);
		if (s->npfd == 0)
			return -ENOMEM;
		/* never masked; waits for room while host input is paused */
		s->pfd[0].events = (short)(POLLIN | (s->full ? POLLOUT : 0));
		uint32_t timeout = 1000;
		slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
		int64_t now_ms = (int64_t)(clock_now_ns() / 1000000);
		for (struct slirp_timer *t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0)
				timeout = t->expire_ms <= now_ms ? 0
					  : (uint64_t)(t->expire_ms - now_ms) < timeout
					      ? (uint32_t)(t->expire_ms - now_ms)
					      : timeout;
		int rc = poll(s->pfd, s->npfd, (int)timeout);
		if (rc < 0 && errno != EINTR)
			return -errno;
		short r0 = rc > 0 ? s->pfd[0].revents : 0;
		if (r0 & POLLIN)
			read_frames(s);
		else if (r0 & (POLLHUP | POLLERR | POLLNVAL))
			s->hungup = true;
		if (s->hungup)
			break;
		slirp_pollfds_poll(s->slirp, rc < 0, get_revents, s);
		run_timers(s, (int64_t)(clock_now_ns() / 1000000));
	}
	return 0;
}

int net_slirp_create(struct net_slirp **out, int fd, const struct vmm_portfwd *ports,
		     unsigned nports, bool host_loopback, bool debug, struct errmsg *err)
{
	*out = NULL;
	struct net_slirp *s = calloc(1, sizeof(*s));
	if (!s)
		return errmsg_set(err, -ENOMEM, "network: out of memory");
	s->fd = fd;
	s->debug = debug;
	s->host_loopback = host_loopback;

	SlirpConfig cfg = {
	    .version = 1,
	    .in_enabled = true,
	    .vhostname = "hull",
	    /* closed unless asked for (QEMU's default is open): services
	     * bound to the host's 127.0.0.1 trust local callers, and the
	     * guest is not one */
	    .disable_host_loopback = !host_loopback,
	};
	inet_pton(AF_INET, NET_SLIRP_NETWORK, &cfg.vnetwork);
	cfg.vnetmask.s_addr = htonl(~0u << (32 - NET_SLIRP_PREFIX));
	inet_pton(AF_INET, NET_SLIRP_GATEWAY, &cfg.vhost);
	inet_pton(AF_INET, NET_SLIRP_GUEST, &cfg.vdhcp_start);
	inet_pton(AF_INET, NET_SLIRP_DNS, &cfg.vnameserver);
	s->slirp = slirp_new(&cfg, &slirp_cbs, s);
	if (!s->slirp) {
		net_slirp_free(s);
		return errmsg_set(err, -ENOMEM, "network: cannot start user-mode networking");
	}
	struct in_addr guest;
	inet_pton(AF_INET, NET_SLIRP_GUEST, &guest);
	for (unsigned i = 0; i < nports; i++) {
		const struct vmm_portfwd *p = &ports[i];
		struct in_addr host = {.s_addr = p->host_ip};
		errno = 0;
		if (slirp_add_hostfwd(s->slirp, p->udp, host, p->host_port, guest, p->guest_port) <
		    0) {
			int e = errno ? errno : EADDRINUSE;
			char ip[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &host, ip, sizeof(ip));
			net_slirp_free(s);
			return errmsg_set(err, -e, "-p %s:%u:%u/%s: cannot listen on the host: %s",
					  ip, p->host_port, p->guest_port, p->udp ? "udp" : "tcp",
					  strerror(e));
		}
	}
	*out = s;
	return 0;
}

void net_slirp_free(struct net_slirp *s)
{
	if (!s)
		return;
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers) {
		struct slirp_timer *t = s->timers;
		s->timers = t->next;
		free(t);
	}
	free(s->pfd);
	free(s);
}
