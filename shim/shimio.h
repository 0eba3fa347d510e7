/* shimio: open the stdio containerd's client made for a process.
 *
 * Contract
 * - Paths are what CreateTask/Exec carry: "" (none), a FIFO path (ctr's
 *   default; the client holds the other ends), or "file:///abs/path" (output
 *   appended to a file). Other URI schemes (binary://) are refused with
 *   -ENOTSUP and a sentence naming the path.
 * - stdout/stderr FIFOs are opened O_RDWR: that never blocks nor fails when
 *   the client has not opened its read end yet (ctr task exec opens them
 *   after Exec returns), and the pipe keeps what is written until it reads.
 *   Like containerd's runc shim (which holds a read end too), output blocks
 *   when a client stops reading with the pipe full.
 * - stdin: the read end is opened O_RDONLY|O_NONBLOCK. The reader must poll
 *   before reading: Linux reports POLLHUP on a FIFO only once a writer that
 *   came after the open has gone, so the process sees end-of-file exactly
 *   when the client closes its end (ctr does at the end of its stdin).
 * - All fds are O_CLOEXEC; on failure nothing stays open. 0 or -errno.
 */
#ifndef HULL_SHIM_SHIMIO_H
#define HULL_SHIM_SHIMIO_H

#include <stdbool.h>

#include "common/errmsg.h"
#include "shim/backend.h"

struct shim_stdio {
	struct shim_io io; /* handed to the backend */
};

int shim_stdio_open(const char *in, const char *out, const char *err_path, bool terminal,
		    struct shim_stdio *s, struct errmsg *err);
/* Close everything still held, backend's fds included (for failures before
 * the backend took them). */
void shim_stdio_close(struct shim_stdio *s);

#endif
