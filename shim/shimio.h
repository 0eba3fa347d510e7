/* shimio: open the stdio containerd's client made for a process.
 *
 * Contract
 * - Paths are what CreateTask/Exec carry: "" (none), a FIFO path (ctr's
 *   default; the client holds the other ends), or "file:///abs/path" (output
 *   appended to a file). Other URI schemes (binary://) are refused with
 *   -ENOTSUP and a sentence naming the path.
 * - stdout/stderr: opened O_WRONLY without blocking (the client has the read
 *   end open before it sends the request; -ENXIO if it has not).
 * - stdin: the read end is opened O_RDONLY|O_NONBLOCK; the shim also holds a
 *   write end (keep) so the reader does not see end-of-file before the
 *   client's writer arrives. shim_stdio_close_stdin() drops it (CloseIO):
 *   then the reader sees end-of-file when the client's writer is gone.
 * - All fds are O_CLOEXEC; on failure nothing stays open. 0 or -errno.
 */
#ifndef HULL_SHIM_SHIMIO_H
#define HULL_SHIM_SHIMIO_H

#include <stdbool.h>

#include "common/errmsg.h"
#include "shim/backend.h"

struct shim_stdio {
	struct shim_io io; /* handed to the backend */
	int in_keep;	   /* the shim's write end of the stdin FIFO, -1 */
};

int shim_stdio_open(const char *in, const char *out, const char *err_path, bool terminal,
		    struct shim_stdio *s, struct errmsg *err);
void shim_stdio_close_stdin(struct shim_stdio *s);
/* Close everything still held, backend's fds included (for failures before
 * the backend took them). */
void shim_stdio_close(struct shim_stdio *s);

#endif
