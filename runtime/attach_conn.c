#include "attach_conn.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"

void attach_conn_rx_init(struct attach_conn_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

/* read(2) of up to n bytes: > 0, 0 (nothing now), -EPIPE at the end, -errno */
static ssize_t get(int fd, void *buf, size_t n)
{
	ssize_t r;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return r == 0 ? -EPIPE : r;
}

static int header_done(struct attach_conn_rx *rx)
{
	uint8_t type;
	uint32_t len;
	if (hcp_header_decode(rx->hdr, &type, &len))
		return -EPROTO;
	if (type == HCP_STDIN	 ? len == 0 || len > ATTACH_CONN_MAX_STDIN
	    : type == HCP_RESIZE ? len != HCP_WINSIZE_LEN
				 : true)
		return -EPROTO;
	rx->type = type;
	rx->left = len;
	rx->in_frame = true;
	return 0;
}

int attach_conn_read(struct attach_conn_rx *rx, int fd, uint8_t *buf, size_t cap,
		     struct attach_conn_ev *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!cap)
		return -EINVAL;
	if (!rx->in_frame) {
		ssize_t r = get(fd, rx->hdr + rx->hdr_got, sizeof(rx->hdr) - rx->hdr_got);
		if (r <= 0)
			return (int)r;
		rx->hdr_got += (size_t)r;
		if (rx->hdr_got < sizeof(rx->hdr))
			return 0;
		rx->hdr_got = 0;
		int rc = header_done(rx);
		if (rc)
			return rc;
	}
	if (rx->type == HCP_STDIN) {
		ssize_t r = get(fd, buf, rx->left < cap ? rx->left : cap);
		if (r <= 0)
			return (int)r;
		rx->left -= (uint32_t)r;
		rx->in_frame = rx->left > 0;
		return (int)r;
	}
	/* RESIZE */
	size_t have = HCP_WINSIZE_LEN - rx->left;
	ssize_t r = get(fd, rx->ws + have, rx->left);
	if (r <= 0)
		return (int)r;
	rx->left -= (uint32_t)r;
	if (rx->left)
		return 0;
	rx->in_frame = false;
	struct hcp_msg m = {.type = HCP_RESIZE, .len = HCP_WINSIZE_LEN, .payload = rx->ws};
	if (hcp_winsize_decode(&m, &ev->rows, &ev->cols))
		return -EPROTO;
	ev->resized = true;
	return 0;
}

int attach_conn_frame(uint8_t out[ATTACH_CONN_FRAME_MAX], uint8_t type, const void *buf, size_t n)
{
	if (type == HCP_STDIN	 ? n == 0 || n > ATTACH_CONN_MAX_STDIN
	    : type == HCP_RESIZE ? n != HCP_WINSIZE_LEN
				 : true)
		return -EINVAL;
	int rc = hcp_header_encode(out, type, (uint32_t)n);
	if (rc)
		return rc;
	memcpy(out + HCP_HDR_LEN, buf, n);
	return (int)(HCP_HDR_LEN + n);
}

int attach_conn_send(int fd, uint8_t type, const void *buf, size_t n)
{
	uint8_t frame[ATTACH_CONN_FRAME_MAX];
	int len = attach_conn_frame(frame, type, buf, n);
	return len < 0 ? len : fdio_write_all(fd, frame, (size_t)len);
}
