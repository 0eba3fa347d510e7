#include "bytequeue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bytequeue_init(struct bytequeue *q)
{
	memset(q, 0, sizeof(*q));
}

void bytequeue_free(struct bytequeue *q)
{
	free(q->buf);
	bytequeue_init(q);
}

int bytequeue_push(struct bytequeue *q, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (q->len > SIZE_MAX / 2 || n > SIZE_MAX / 2 - q->len)
		return -ENOMEM;
	if (q->head + q->len + n > q->cap) {
		/* Slide to the front first: usually the consumer has drained most
		 * of the buffer and no allocation is needed. */
		if (q->head) {
			memmove(q->buf, q->buf + q->head, q->len);
			q->head = 0;
		}
		if (q->len + n > q->cap) {
			size_t ncap = q->cap ? q->cap : 4096;
			uint8_t *b;

			while (ncap < q->len + n)
				ncap *= 2;
			b = realloc(q->buf, ncap);
			if (!b)
				return -ENOMEM;
			q->buf = b;
			q->cap = ncap;
		}
	}
	memcpy(q->buf + q->head + q->len, data, n);
	q->len += n;
	return 0;
}

const uint8_t *bytequeue_peek(const struct bytequeue *q, size_t *n)
{
	*n = q->len;
	return q->len ? q->buf + q->head : NULL;
}

void bytequeue_pop(struct bytequeue *q, size_t n)
{
	if (n >= q->len) {
		bytequeue_clear(q);
		return;
	}
	q->head += n;
	q->len -= n;
}

void bytequeue_clear(struct bytequeue *q)
{
	q->head = 0;
	q->len = 0;
}

size_t bytequeue_len(const struct bytequeue *q)
{
	return q->len;
}
