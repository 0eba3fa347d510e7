#include "outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void outq_flush(struct outq *q)
{
	while (q->len && !q->error && q->fd >= 0) {
		ssize_t w = send(q->fd, q->buf, q->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (errno != EAGAIN)
				q->error = -errno;
			return;
		}
		memmove(q->buf, q->buf + w, q->len - (size_t)w);
		q->len -= (size_t)w;
	}
}

int outq_send(void *ctx, const void *buf, size_t n)
{
	struct outq *q = ctx;
	if (q->error)
		return q->error;
	if (q->fd < 0)
		return -ENOTCONN;
	/* one frame always fits an empty queue */
	if (q->len && q->len + n > OUTQ_MAX)
		return -ENOBUFS;
	uint8_t *nb = realloc(q->buf, q->len + n);
	if (!nb)
		return -ENOMEM;
	q->buf = nb;
	memcpy(q->buf + q->len, buf, n);
	q->len += n;
	outq_flush(q);
	return 0;
}

bool outq_pending(const struct outq *q)
{
	return q->len && !q->error && q->fd >= 0;
}

void outq_reset(struct outq *q, int fd)
{
	q->fd = fd;
	q->len = 0;
	q->error = 0;
}

void outq_free(struct outq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->len = 0;
}
