/* outq: hcp frames on their way to a non-blocking stream socket.
 *
 * Contract
 * - outq_send() has control_send_fn's shape (runtime/control.h): it queues a
 *   whole frame and writes what the socket takes now; it refuses (-ENOBUFS,
 *   nothing queued) once OUTQ_MAX bytes wait, so the producer (stdin) slows
 *   to the guest's pace instead of hull blocking in send() while the guest
 *   blocks sending output to hull.
 * - The owner polls POLLOUT while outq_pending() and calls outq_flush().
 * - A write error sticks (q->error) and is returned by later sends.
 * - outq_reset() forgets queued bytes and moves to another fd (a new
 *   connection); outq_free() releases the buffer (not the fd).
 */
#ifndef HULL_RUNTIME_OUTQ_H
#define HULL_RUNTIME_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUTQ_MAX (256 * 1024)

struct outq {
	int fd;
	uint8_t *buf;
	size_t len;
	int error;
};

int outq_send(void *q, const void *buf, size_t n);
void outq_flush(struct outq *q);
bool outq_pending(const struct outq *q);
void outq_reset(struct outq *q, int fd);
void outq_free(struct outq *q);

#endif
