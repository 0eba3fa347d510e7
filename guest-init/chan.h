/* chan: the hcp control channel to the host, over one byte-stream fd.
 *
 * Contract
 * - chan_open_vsock() connects a blocking AF_VSOCK stream socket to (cid,
 *   port) (the host: VMADDR_CID_HOST), with SO_LINGER so that chan_close()
 *   returns only once the host acknowledged the last bytes (or after
 *   CHAN_LINGER_S): virtio-vsock sends from a kernel worker, and init
 *   reboots right after its last frame. chan_init() adopts any other stream
 *   fd (tests use a socketpair).
 * - chan_vsock_absent(rc) says whether chan_open_vsock()'s error means the
 *   VM has no vsock transport at all (no device), as opposed to a host that
 *   is not listening (yet): only then may a caller fall back to
 *   chan_open_tty(), which opens a serial port for the channel (O_RDWR|
 *   O_NOCTTY, raw mode: no echo, no CR/LF translation, no XON/XOFF, 8 bits,
 *   VMIN=1, modem lines ignored) and leaves the fd blocking: output waits for
 *   the host rather than being dropped. Closing a serial port waits until
 *   its output drained, as the lingering vsock close does.
 * - chan_send() writes one whole frame or fails: partial writes and EINTR
 *   are retried, so frames never interleave or tear. chan_send_split() does
 *   the same for a bulk of bytes cut into consecutive frames of one type,
 *   HCP_MAX_PAYLOAD bytes each but the last, CHAN_SPLIT_FRAMES frames per
 *   writev(2): one system call for up to 1 MiB of container output, which
 *   the vsock transport packs into packets of its own maximum (64 KiB)
 *   whatever the frame boundaries. Zero bytes send nothing.
 * - Reading is split so the caller can poll(): chan_fill() does exactly one
 *   read(2) and only when chan_pending() is false; chan_next() turns buffered
 *   bytes into frames. A frame's payload stays valid until the next
 *   chan_next()/chan_fill() call.
 * - Everything read is hostile: framing errors come back as -EPROTO and stay.
 * - Functions return 0 (or a count, or 1 for "a frame") or -errno.
 */
#ifndef HULL_GUEST_INIT_CHAN_H
#define HULL_GUEST_INIT_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/hcp.h"

#define CHAN_READ_CHUNK 4096
#define CHAN_LINGER_S 5
#define CHAN_SPLIT_FRAMES 16

struct chan {
	int fd;
	struct hcp_reader rd;
	uint8_t in[CHAN_READ_CHUNK];
	size_t in_off; /* bytes of in[] already given to the reader */
	size_t in_len;
};

void chan_init(struct chan *c, int fd);
int chan_open_vsock(struct chan *c, unsigned cid, unsigned port);
bool chan_vsock_absent(int rc);
int chan_open_tty(struct chan *c, const char *path);
/* Closes the fd and frees the reader. */
void chan_close(struct chan *c);

int chan_send(struct chan *c, uint8_t type, const void *payload, size_t len);
int chan_send_u32(struct chan *c, uint8_t type, uint32_t v);
int chan_send_split(struct chan *c, uint8_t type, const void *data, size_t len);

/* True when bytes read earlier still wait to be framed: call chan_next()
 * before polling the fd again. */
bool chan_pending(const struct chan *c);
/* One read(2). Returns the byte count, 0 at end of stream, or -errno (-EAGAIN
 * included, for a non-blocking fd). */
int chan_fill(struct chan *c);
/* 1 and *m for a complete frame, 0 when more bytes are needed, or -errno. */
int chan_next(struct chan *c, struct hcp_msg *m);

#endif
