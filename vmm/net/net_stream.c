#include "net_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct net_stream {
	int fd;
	struct virtio_net *dev;
	struct evloop *loop;
	bool watched;	    /* registered with the loop */
	bool paused;	    /* registered, no events: the guest is behind */
	atomic_bool hungup; /* read by tx() on a vCPU thread */
	unsigned long dropped;
	uint8_t buf[VIRTIO_NET_FRAME_MAX];
};

static void hangup(struct net_stream *s)
{
	if (s->watched)
		evloop_del(s->loop, s->fd);
	s->watched = false;
	atomic_store(&s->hungup, true);
}

/* recv() returns 0 for an empty message as for the end: tell them apart */
static bool peer_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

static void readable(void *ctx, int fd, uint32_t events)
{
	struct net_stream *s = ctx;
	for (unsigned i = 0; i < NET_STREAM_BUDGET; i++) {
		if (virtio_net_rx_backlog(s->dev) > NET_STREAM_BACKLOG_PAUSE) {
			/* wait for rx_ready instead of reading into drops */
			s->paused = true;
			evloop_mod(s->loop, fd, 0);
			return;
		}
		/* MSG_TRUNC: n is the message's real length, so an
		 * oversized one is seen as such, not cut to fit */
		ssize_t n = recv(fd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 || (n == 0 && peer_closed(fd))) {
			/* EOF or an error: the peer is gone */
			hangup(s);
			return;
		}
		if ((size_t)n < VIRTIO_NET_ETH_MIN || (size_t)n > sizeof(s->buf)) {
			s->dropped++;
			continue;
		}
		virtio_net_rx(s->dev, s->buf, (size_t)n);
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* drained what was queued; nothing more can come */
		char c;
		if (recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0)
			hangup(s);
	}
}

static int be_tx(void *be, const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_stream *s = be;
	if (atomic_load(&s->hungup))
		return -EPIPE;
	if (len > VIRTIO_NET_FRAME_MAX)
		return -EMSGSIZE;
	struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = cnt};
	ssize_t n = sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ENOBUFS : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static void be_rx_ready(void *be)
{
	struct net_stream *s = be;
	if (s->paused && s->watched) {
		s->paused = false;
		evloop_mod(s->loop, s->fd, EPOLLIN);
	}
}

struct virtio_net_backend net_stream_backend(struct net_stream *s)
{
	return (struct virtio_net_backend){.tx = be_tx, .rx_ready = be_rx_ready, .be = s};
}

unsigned long net_stream_dropped(const struct net_stream *s)
{
	return s->dropped;
}

bool net_stream_hungup(const struct net_stream *s)
{
	return atomic_load(&s->hungup);
}

int net_stream_open(struct net_stream **out, int fd, struct virtio_net *dev, struct evloop *loop,
		    struct errmsg *err)
{
	*out = NULL;
	int type = 0;
	socklen_t tl = sizeof(type);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) || type != SOCK_SEQPACKET)
		return errmsg_set(err, -EINVAL,
				  "network: fd %d is not a SOCK_SEQPACKET socket to the "
				  "network helper",
				  fd);
	struct net_stream *s = calloc(1, sizeof(*s));
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (!s || dup < 0) {
		int e = dup < 0 ? errno : ENOMEM;
		free(s);
		return errmsg_set(err, -e, "network: %s", strerror(e));
	}
	s->fd = dup;
	s->dev = dev;
	s->loop = loop;
	/* the status flag is shared with the caller's fd: it is non-blocking
	 * for every holder, which the monitor's never reads */
	fcntl(dup, F_SETFL, fcntl(dup, F_GETFL) | O_NONBLOCK);
	int rc = evloop_add(loop, dup, EPOLLIN, readable, s);
	if (rc) {
		close(dup);
		free(s);
		return errmsg_set(err, rc, "network: event loop: %s", strerror(-rc));
	}
	s->watched = true;
	*out = s;
	return 0;
}

void net_stream_free(struct net_stream *s)
{
	if (!s)
		return;
	if (s->watched)
		evloop_del(s->loop, s->fd);
	close(s->fd);
	free(s);
}
