#include "net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>

#define TUN_DEV "/dev/net/tun"

struct net_tap {
	int fd;
	char name[IFNAMSIZ];
	struct virtio_net *dev;
	struct evloop *loop;
	bool paused; /* not watched: the guest is behind */
	uint8_t buf[65536];
};

static void tap_readable(void *ctx, int fd, uint32_t events)
{
	struct net_tap *t = ctx;
	(void)events;
	for (unsigned i = 0; i < NET_TAP_BUDGET; i++) {
		if (virtio_net_rx_backlog(t->dev) > 0) {
			/* wait for rx_ready instead of reading into drops */
			t->paused = true;
			evloop_mod(t->loop, fd, 0);
			return;
		}
		ssize_t n = read(fd, t->buf, sizeof(t->buf));
		if (n <= 0)
			return; /* EAGAIN: drained */
		virtio_net_rx(t->dev, t->buf, (size_t)n);
	}
}

static int be_tx(void *be, const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_tap *t = be;
	ssize_t n = writev(t->fd, iov, (int)cnt);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static void be_rx_ready(void *be)
{
	struct net_tap *t = be;
	if (t->paused) {
		t->paused = false;
		evloop_mod(t->loop, t->fd, EPOLLIN);
	}
}

struct virtio_net_backend net_tap_backend(struct net_tap *t)
{
	return (struct virtio_net_backend){.tx = be_tx, .rx_ready = be_rx_ready, .be = t};
}

int net_tap_open(struct net_tap **out, const char *name, struct virtio_net *dev,
		 struct evloop *loop, struct errmsg *err)
{
	*out = NULL;
	if (!name[0] || strlen(name) >= IFNAMSIZ)
		return errmsg_set(err, -EINVAL, "--network tap:%s: not a network device name",
				  name);
	if (if_nametoindex(name) == 0)
		return errmsg_set(
		    err, -ENODEV,
		    "--network tap:%s: no such device (create it first: ip tuntap add "
		    "%s mode tap)",
		    name, name);
	int fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return errmsg_set(err, -e, "--network tap:%s: %s: %s%s", name, TUN_DEV, strerror(e),
				  e == ENOENT ? " (mknod " TUN_DEV " c 10 200)" : "");
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return errmsg_set(err, -e, "--network tap:%s: cannot attach: %s%s", name,
				  strerror(e),
				  e == EPERM ? " (needs root, or a tap device owned by this user)"
				  : e == EINVAL ? " (is it a tap device, not a tun?)"
						: "");
	}
	struct net_tap *t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return errmsg_set(err, -ENOMEM, "--network tap:%s: out of memory", name);
	}
	t->fd = fd;
	t->dev = dev;
	t->loop = loop;
	memcpy(t->name, name, strlen(name));
	int rc = evloop_add(loop, fd, EPOLLIN, tap_readable, t);
	if (rc) {
		close(fd);
		free(t);
		return errmsg_set(err, rc, "--network tap:%s: event loop: %s", name, strerror(-rc));
	}
	*out = t;
	return 0;
}

void net_tap_free(struct net_tap *t)
{
	if (!t)
		return;
	evloop_del(t->loop, t->fd);
	close(t->fd);
	free(t);
}
