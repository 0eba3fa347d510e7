#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

void chan_init(struct chan *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	hcp_reader_init(&c->rd);
}

int chan_open_vsock(struct chan *c, unsigned cid, unsigned port)
{
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	/* close() waits (up to CHAN_LINGER_S) until the host took the last
	 * bytes: init reboots right after its EXIT frame. */
	struct linger l = {.l_onoff = 1, .l_linger = CHAN_LINGER_S};
	int fd, rc;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	chan_init(c, fd);
	return 0;
}

bool chan_vsock_absent(int rc)
{
	/* EAFNOSUPPORT: a kernel without AF_VSOCK; ENODEV: no transport
	 * registered (no virtio-vsock device); ENETUNREACH: the transport
	 * cannot reach the host CID. A refused or reset connection means a
	 * device that works, and never switches channels. */
	return rc == -EAFNOSUPPORT || rc == -ENODEV || rc == -ENETUNREACH;
}

int chan_open_tty(struct chan *c, const char *path)
{
	struct termios t;
	int fd, rc;

	/* O_NONBLOCK for the open only: without CLOCAL a serial open waits for
	 * carrier detect, which a VMM's UART model need not report. */
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &t) < 0)
		goto fail;
	cfmakeraw(&t);
	cfsetspeed(&t, B115200);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(tcflag_t)CRTSCTS;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		goto fail;
	if (fcntl(fd, F_SETFL, 0) < 0) /* back to blocking */
		goto fail;
	chan_init(c, fd);
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

void chan_close(struct chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	hcp_reader_free(&c->rd);
	c->fd = -1;
	c->in_off = c->in_len = 0;
}

/* Write all of v[0..n) (adjusting v as it goes): partial writes and EINTR
 * are retried, so frames never interleave or tear. */
static int writev_all(int fd, struct iovec *v, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, v, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (uint8_t *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int chan_send(struct chan *c, uint8_t type, const void *payload, size_t len)
{
	uint8_t hdr[HCP_HDR_LEN];
	struct iovec iov[2];
	int rc;

	if (len > HCP_MAX_PAYLOAD)
		return -EMSGSIZE;
	rc = hcp_header_encode(hdr, type, (uint32_t)len);
	if (rc < 0)
		return rc;
	iov[0] = (struct iovec){hdr, sizeof(hdr)};
	iov[1] = (struct iovec){(void *)payload, len};
	/* Header and payload in one writev: one syscall per frame, which is
	 * what costs in this guest. */
	return writev_all(c->fd, iov, len ? 2 : 1);
}

int chan_send_split(struct chan *c, uint8_t type, const void *data, size_t len)
{
	uint8_t hdr[CHAN_SPLIT_FRAMES][HCP_HDR_LEN];
	struct iovec iov[2 * CHAN_SPLIT_FRAMES];
	const uint8_t *p = data;
	int rc;

	while (len) {
		int n = 0;

		for (size_t f = 0; f < CHAN_SPLIT_FRAMES && len; f++) {
			size_t k = len < HCP_MAX_PAYLOAD ? len : HCP_MAX_PAYLOAD;

			rc = hcp_header_encode(hdr[f], type, (uint32_t)k);
			if (rc < 0)
				return rc;
			iov[n++] = (struct iovec){hdr[f], HCP_HDR_LEN};
			iov[n++] = (struct iovec){(void *)p, k};
			p += k;
			len -= k;
		}
		rc = writev_all(c->fd, iov, n);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int chan_send_u32(struct chan *c, uint8_t type, uint32_t v)
{
	uint8_t b[4];

	hcp_u32_encode(b, v);
	return chan_send(c, type, b, sizeof(b));
}

bool chan_pending(const struct chan *c)
{
	return c->in_off < c->in_len;
}

int chan_fill(struct chan *c)
{
	ssize_t r;

	if (chan_pending(c))
		return -EBUSY;
	do {
		r = read(c->fd, c->in, sizeof(c->in));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	c->in_off = 0;
	c->in_len = (size_t)r;
	return (int)r;
}

int chan_next(struct chan *c, struct hcp_msg *m)
{
	for (;;) {
		size_t taken;
		int rc = hcp_reader_next(&c->rd, m);

		if (rc != 0)
			return rc;
		if (!chan_pending(c))
			return 0;
		rc = hcp_reader_push(&c->rd, c->in + c->in_off, c->in_len - c->in_off, &taken);
		if (rc < 0)
			return rc;
		if (taken == 0)
			return -EPROTO; /* the reader refused bytes without a frame: cannot progress
					 */
		c->in_off += taken;
	}
}
