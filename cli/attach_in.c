#include "attach_in.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

void attach_in_init(struct attach_in *a, int in_fd, int conn, bool tty,
		    const struct detach_keys *keys)
{
	*a = (struct attach_in){.in_fd = in_fd, .conn = conn, .tty = tty, .keys = *keys};
	int fl = conn >= 0 ? fcntl(conn, F_GETFL) : -1;
	if (fl >= 0)
		fcntl(conn, F_SETFL, fl | O_NONBLOCK);
}

void attach_in_close(struct attach_in *a)
{
	if (a->conn >= 0)
		close(a->conn);
	a->conn = -1;
	a->pend_len = a->pend_off = 0;
}

void attach_in_events(const struct attach_in *a, struct pollfd p[2])
{
	bool live = a->conn >= 0;
	p[0] = (struct pollfd){.fd = live && !a->in_done && !a->pend_len ? a->in_fd : -1,
			       .events = POLLIN};
	p[1] = (struct pollfd){.fd = live && a->pend_len ? a->conn : -1, .events = POLLOUT};
}

/* Write what waits; 0, or -errno (the connection is then closed). */
static int flush(struct attach_in *a)
{
	while (a->pend_off < a->pend_len) {
		ssize_t w =
		    send(a->conn, a->pend + a->pend_off, a->pend_len - a->pend_off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0) {
			int rc = -errno;
			attach_in_close(a);
			return rc;
		}
		a->pend_off += (size_t)w;
	}
	a->pend_len = a->pend_off = 0;
	if (a->in_done)
		attach_in_close(a); /* the last bytes are out: the end of this writer */
	return 0;
}

static void queue(struct attach_in *a, uint8_t type, const void *buf, size_t n)
{
	int len = attach_conn_frame(a->pend, type, buf, n);
	if (len > 0) {
		a->pend_len = (size_t)len;
		a->pend_off = 0;
		flush(a);
	}
}

int attach_in_step(struct attach_in *a, const struct pollfd p[2])
{
	if (p[1].fd >= 0 && p[1].revents)
		flush(a);
	if (p[0].fd < 0 || !p[0].revents || a->conn < 0 || a->pend_len)
		return ATTACH_IN_GO;
	/* room for the held detach-key bytes in front of a full read */
	uint8_t in[ATTACH_CONN_MAX_STDIN - DETACH_KEYS_MAX], out[ATTACH_CONN_MAX_STDIN];
	ssize_t n = read(a->in_fd, in, sizeof(in));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return ATTACH_IN_GO;
	size_t m = 0;
	if (n <= 0) {
		a->in_done = true;
		m = a->tty ? detach_keys_flush(&a->keys, out) : 0;
		if (m)
			queue(a, HCP_STDIN, out, m);
		else
			attach_in_close(a);
		return ATTACH_IN_GO;
	}
	if (!a->tty) {
		queue(a, HCP_STDIN, in, (size_t)n);
		return ATTACH_IN_GO;
	}
	bool detach = detach_keys_scan(&a->keys, in, (size_t)n, out, &m);
	if (m && !detach)
		queue(a, HCP_STDIN, out, m);
	else if (m && detach)
		attach_conn_send(a->conn, HCP_STDIN, out, m); /* what came before the keys */
	return detach ? ATTACH_IN_DETACH : ATTACH_IN_GO;
}

void attach_in_resize(struct attach_in *a, uint16_t rows, uint16_t cols)
{
	if (a->conn < 0 || a->pend_len)
		return;
	uint8_t ws[HCP_WINSIZE_LEN];
	hcp_winsize_encode(ws, rows, cols);
	queue(a, HCP_RESIZE, ws, sizeof(ws));
}
