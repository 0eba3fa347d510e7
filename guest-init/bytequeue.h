/* bytequeue: a FIFO of bytes waiting to be written to a non-blocking fd
 * (HCP_STDIN data on its way to the container's stdin pipe).
 *
 * Contract
 * - Pure memory management, no I/O. Storage grows on demand and is released
 *   by bytequeue_free(); the queue itself sets no limit: the caller decides
 *   when to stop reading more input (backpressure).
 * - bytequeue_push() returns 0 or -ENOMEM (the queue is unchanged then).
 */
#ifndef HULL_GUEST_INIT_BYTEQUEUE_H
#define HULL_GUEST_INIT_BYTEQUEUE_H

#include <stddef.h>
#include <stdint.h>

struct bytequeue {
	uint8_t *buf;
	size_t head; /* first queued byte */
	size_t len;  /* queued bytes */
	size_t cap;
};

void bytequeue_init(struct bytequeue *q);
void bytequeue_free(struct bytequeue *q);
int bytequeue_push(struct bytequeue *q, const void *data, size_t n);
/* The queued bytes as one contiguous run; *n = bytequeue_len(). */
const uint8_t *bytequeue_peek(const struct bytequeue *q, size_t *n);
/* Drop the first n bytes (n <= length). */
void bytequeue_pop(struct bytequeue *q, size_t n);
/* Drop everything (keeps the storage). */
void bytequeue_clear(struct bytequeue *q);
size_t bytequeue_len(const struct bytequeue *q);

#endif
