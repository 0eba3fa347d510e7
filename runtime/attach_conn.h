/* attach_conn: the stream `hull attach` sends a detached container's
 * supervisor once its "attach" request was answered "ok" on the control
 * socket (runtime/supervisor.h): the attaching terminal's (or pipe's) stdin
 * and window size, for the container's existing hcp stdin path.
 *
 * Contract
 * - Framing is hcp's (proto/hcp.h: 8-byte header, little-endian length),
 *   and two types only: HCP_STDIN with 1..ATTACH_CONN_MAX_STDIN bytes, and
 *   HCP_RESIZE with exactly HCP_WINSIZE_LEN bytes. Any other type, a length
 *   out of those bounds or non-zero reserved bytes is -EPROTO: the
 *   supervisor then drops the connection (framing is lost).
 * - There is no end-of-input frame: the client closes the connection at the
 *   end of its stdin, or when the detach keys are read, and the container's
 *   stdin stays open for the next attach (docker's rule for a container run
 *   with -d -i: no StdinOnce).
 * - attach_conn_read() reads only what the current frame still needs (never
 *   a byte of the next frame), so bytes it has not handed out stay in the
 *   socket and poll() on fd says when there is more; the caller reads again
 *   only when it can take stdin (the supervisor's backpressure is the
 *   socket's). fd must be non-blocking.
 * - attach_conn_frame() and attach_conn_send() are the client's.
 * - The peer is the caller's own user (SO_PEERCRED is checked at accept),
 *   but every frame is bounds-checked anyway. No global state.
 */
#ifndef HULL_RUNTIME_ATTACH_CONN_H
#define HULL_RUNTIME_ATTACH_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/hcp.h"

#define ATTACH_CONN_MAX_STDIN (16 * 1024)

struct attach_conn_rx {
	uint8_t hdr[HCP_HDR_LEN];
	size_t hdr_got;
	bool in_frame; /* hdr is whole: type and left describe the frame */
	uint8_t type;
	uint32_t left; /* payload bytes still to read */
	uint8_t ws[HCP_WINSIZE_LEN];
};

/* What one attach_conn_read() found besides stdin bytes. */
struct attach_conn_ev {
	bool resized;
	uint16_t rows, cols;
};

void attach_conn_rx_init(struct attach_conn_rx *rx);
/* Returns n > 0: stdin bytes in buf[0, n) (n <= cap); 0: none yet (nothing
 * to read now, a partial frame, or a whole RESIZE: ev->resized); -EPIPE: the
 * client closed the connection (at a frame boundary or not); -EPROTO: a bad
 * frame; another -errno from read(2). */
int attach_conn_read(struct attach_conn_rx *rx, int fd, uint8_t *buf, size_t cap,
		     struct attach_conn_ev *ev);
/* One frame into out: type HCP_STDIN (1..ATTACH_CONN_MAX_STDIN bytes) or
 * HCP_RESIZE (the 4-byte payload of hcp_winsize_encode()). Returns its
 * length, or -EINVAL. */
#define ATTACH_CONN_FRAME_MAX (HCP_HDR_LEN + ATTACH_CONN_MAX_STDIN)
int attach_conn_frame(uint8_t out[ATTACH_CONN_FRAME_MAX], uint8_t type, const void *buf, size_t n);
/* The same frame written whole (blocking): 0, -EINVAL, or write(2)'s -errno. */
int attach_conn_send(int fd, uint8_t type, const void *buf, size_t n);

#endif
