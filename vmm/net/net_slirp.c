#include "net_slirp.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "common/clock.h"

/* libslirp is loaded when the first slirp NIC is made, not at exec: it
 * brings glib and pcre2 (about 1.1 MiB resident in hull-vmm, measured),
 * which a VM without slirp networking should not carry. Only the
 * functions below are used; the types come from the header. */
#define SLIRP_SONAME "libslirp.so.0"
static struct {
	Slirp *(*new_)(const SlirpConfig *, const SlirpCb *, void *);
	void (*cleanup)(Slirp *);
	void (*input)(Slirp *, const uint8_t *, int);
	void (*pollfds_fill)(Slirp *, uint32_t *, SlirpAddPollCb, void *);
	void (*pollfds_poll)(Slirp *, int, SlirpGetREventsCb, void *);
	int (*add_hostfwd)(Slirp *, int, struct in_addr, int, struct in_addr, int);
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static char lib_err[256];

static void lib_load(void)
{
	void *h = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lib_err, sizeof(lib_err), "%s", dlerror());
		return;
	}
#define SYM(f, name)                                                                               \
	do {                                                                                       \
		*(void **)&lib.f = dlsym(h, name);                                                 \
		if (!lib.f && !lib_err[0])                                                         \
			snprintf(lib_err, sizeof(lib_err), "%s: no %s", SLIRP_SONAME, name);       \
	} while (0)
	SYM(new_, "slirp_new");
	SYM(cleanup, "slirp_cleanup");
	SYM(input, "slirp_input");
	SYM(pollfds_fill, "slirp_pollfds_fill");
	SYM(pollfds_poll, "slirp_pollfds_poll");
	SYM(add_hostfwd, "slirp_add_hostfwd");
#undef SYM
}

struct slirp_timer {
	SlirpTimerCb cb;
	void *opaque;
	int64_t expire_ms; /* -1: not armed */
	struct slirp_timer *next;
};

struct tx_frame {
	size_t len;
	uint8_t data[]; /* len bytes */
};

struct net_slirp {
	Slirp *slirp;
	struct virtio_net *dev;
	bool debug;
	int wake_fd;
	atomic_bool stop;
	pthread_t thread;
	bool started;
	/* guest -> slirp frames: filled by tx() on the event loop, emptied
	 * by the slirp thread */
	pthread_mutex_t txlock;
	struct tx_frame **txq; /* NET_SLIRP_TXQ_MAX slots, each malloc'd while queued */
	unsigned tx_head, tx_count;
	/* the slirp thread's own state */
	struct pollfd *pfd;
	unsigned npfd, cap;
	struct slirp_timer *timers;
};

static void wake(struct net_slirp *s)
{
	uint64_t one = 1;
	ssize_t r = write(s->wake_fd, &one, sizeof(one));
	(void)r; /* a saturated counter wakes the thread as well */
}

/* ---- libslirp callbacks (slirp thread, or slirp_new/hostfwd setup) ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	/* dropped frames are like a lossy wire: TCP resends them */
	virtio_net_rx(s->dev, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->debug)
		fprintf(stderr, "hull: slirp: guest error: %s\n", msg);
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
	wake(opaque);
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

/* ---- the device back end (event loop thread, transport lock held) ---- */

static int be_tx(void *be, const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_slirp *s = be;
	if (len > VIRTIO_NET_FRAME_MAX)
		return -EMSGSIZE;
	/* sized to the frame: one segmented TSO burst queues dozens */
	struct tx_frame *f = malloc(offsetof(struct tx_frame, data) + len);
	if (!f)
		return -ENOBUFS;
	size_t off = 0;
	for (unsigned i = 0; i < cnt && off < len; i++) {
		size_t n = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;
		memcpy(f->data + off, iov[i].iov_base, n);
		off += n;
	}
	f->len = off;
	pthread_mutex_lock(&s->txlock);
	if (s->tx_count == NET_SLIRP_TXQ_MAX) {
		pthread_mutex_unlock(&s->txlock);
		free(f);
		return -ENOBUFS;
	}
	s->txq[(s->tx_head + s->tx_count) % NET_SLIRP_TXQ_MAX] = f;
	bool was_empty = s->tx_count++ == 0;
	pthread_mutex_unlock(&s->txlock);
	if (was_empty)
		wake(s);
	return 0;
}

static void be_rx_ready(void *be)
{
	wake(be);
}

struct virtio_net_backend net_slirp_backend(struct net_slirp *s)
{
	return (struct virtio_net_backend){.tx = be_tx, .rx_ready = be_rx_ready, .be = s};
}

/* ---- the slirp thread ---- */

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
	/* flow control: no reading while the guest is behind */
	if (virtio_net_rx_backlog(s->dev) > NET_SLIRP_BACKLOG_PAUSE)
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

/* Feed the guest's queued frames to slirp, one at a time so tx() never
 * waits on slirp. */
static void drain_tx(struct net_slirp *s)
{
	for (;;) {
		pthread_mutex_lock(&s->txlock);
		if (s->tx_count == 0) {
			pthread_mutex_unlock(&s->txlock);
			return;
		}
		struct tx_frame *f = s->txq[s->tx_head];
		s->txq[s->tx_head] = NULL;
		s->tx_head = (s->tx_head + 1) % NET_SLIRP_TXQ_MAX;
		s->tx_count--;
		pthread_mutex_unlock(&s->txlock);
		lib.input(s->slirp, f->data, (int)f->len);
		free(f);
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

static void *slirp_main(void *arg)
{
	struct net_slirp *s = arg;
	sigset_t set;
	sigfillset(&set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	while (!atomic_load(&s->stop)) {
		s->npfd = 0;
		add_poll(s->wake_fd, SLIRP_POLL_IN, s);
		s->pfd[0].events = POLLIN; /* never masked */
		uint32_t timeout = 1000;
		lib.pollfds_fill(s->slirp, &timeout, add_poll, s);
		int64_t now_ms = (int64_t)(clock_now_ns() / 1000000);
		for (struct slirp_timer *t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0)
				timeout = t->expire_ms <= now_ms ? 0
					  : (uint64_t)(t->expire_ms - now_ms) < timeout
					      ? (uint32_t)(t->expire_ms - now_ms)
					      : timeout;
		int rc = poll(s->pfd, s->npfd, (int)timeout);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc > 0 && s->pfd[0].revents) {
			uint64_t v;
			ssize_t r = read(s->wake_fd, &v, sizeof(v));
			(void)r;
		}
		if (atomic_load(&s->stop))
			break;
		drain_tx(s);
		lib.pollfds_poll(s->slirp, rc < 0, get_revents, s);
		run_timers(s, (int64_t)(clock_now_ns() / 1000000));
	}
	return NULL;
}

int net_slirp_create(struct net_slirp **out, struct virtio_net *dev,
		     const struct vmm_portfwd *ports, unsigned nports, bool debug,
		     struct errmsg *err)
{
	*out = NULL;
	pthread_once(&lib_once, lib_load);
	if (lib_err[0])
		return errmsg_set(err, -ENOSYS, "network slirp: cannot load %s", lib_err);
	struct net_slirp *s = calloc(1, sizeof(*s));
	if (!s)
		return errmsg_set(err, -ENOMEM, "network: out of memory");
	s->dev = dev;
	s->debug = debug;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->txq = calloc(NET_SLIRP_TXQ_MAX, sizeof(*s->txq));
	pthread_mutex_init(&s->txlock, NULL);
	if (s->wake_fd < 0 || !s->txq) {
		net_slirp_free(s);
		return errmsg_set(err, -ENOMEM, "network: out of memory or file descriptors");
	}

	SlirpConfig cfg = {
	    .version = 1,
	    .in_enabled = true,
	    .vhostname = "hull",
	    /* like QEMU: 10.0.2.2 is the host, its loopback included */
	    .disable_host_loopback = false,
	};
	inet_pton(AF_INET, NET_SLIRP_NETWORK, &cfg.vnetwork);
	cfg.vnetmask.s_addr = htonl(~0u << (32 - NET_SLIRP_PREFIX));
	inet_pton(AF_INET, NET_SLIRP_GATEWAY, &cfg.vhost);
	inet_pton(AF_INET, NET_SLIRP_GUEST, &cfg.vdhcp_start);
	inet_pton(AF_INET, NET_SLIRP_DNS, &cfg.vnameserver);
	s->slirp = lib.new_(&cfg, &slirp_cbs, s);
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
		if (lib.add_hostfwd(s->slirp, p->udp, host, p->host_port, guest, p->guest_port) <
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

int net_slirp_start(struct net_slirp *s, struct errmsg *err)
{
	int rc = pthread_create(&s->thread, NULL, slirp_main, s);
	if (rc)
		return errmsg_set(err, -rc, "network thread: %s", strerror(rc));
	s->started = true;
	return 0;
}

void net_slirp_stop(struct net_slirp *s)
{
	if (!s || !s->started)
		return;
	atomic_store(&s->stop, true);
	wake(s);
	pthread_join(s->thread, NULL);
	s->started = false;
}

void net_slirp_free(struct net_slirp *s)
{
	if (!s)
		return;
	net_slirp_stop(s);
	if (s->slirp)
		lib.cleanup(s->slirp);
	while (s->timers) {
		struct slirp_timer *t = s->timers;
		s->timers = t->next;
		free(t);
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->txlock);
	for (unsigned i = 0; s->txq && i < s->tx_count; i++)
		free(s->txq[(s->tx_head + i) % NET_SLIRP_TXQ_MAX]);
	free(s->txq);
	free(s->pfd);
	free(s);
}
