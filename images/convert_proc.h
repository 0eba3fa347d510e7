/* convert_proc: run the part of an image conversion that parses untrusted
 * layer bytes (libarchive, zlib/zstd, the ext4 writer) in a child process
 * without privileges, "hull-convert".
 *
 * Contract
 * - convproc_run() forks (no exec: the child runs fn with the parent's
 *   code and data) and waits for the child. The child, before fn reads a
 *   byte of the layers:
 *   - names itself hull-convert (/proc/PID/comm), dies with its parent
 *     (PDEATHSIG), gets /dev/null as stdin, stdout and stderr and closes
 *     every other fd but keep[] and its status pipe;
 *   - as root: new network, IPC and UTS namespaces (empty: no socket would
 *     reach anything), then the identity of the monitor's jail (the system
 *     user `hull`, common/jail_enter.h jail_user()/jail_become()): no
 *     supplementary groups, every capability set empty, no_new_privs, no
 *     core dumps. Started by anyone else: its own uid, no capabilities,
 *     no_new_privs (no namespaces: that would need a user namespace);
 *   - a seccomp filter (seccomp/ role HSC_CONVERT): reading and writing the
 *     fds it holds, nothing opened, no socket, no exec, no fork; a call
 *     outside it ends the child, and the parent reports the filter's text.
 *   So everything fn may touch is in keep[] (and its own memory: a copy of
 *   the parent's, hence no secret should be in the parent's memory that
 *   the output must not carry; hull's front end holds none while it
 *   converts, registry credentials live only during a pull).
 * - fn runs in the child; it calls convproc_progress(cp, i) when it starts
 *   on item i (a layer) so that a crash can be blamed on it, and fills
 *   out[0, out_len) (out_len <= CONVPROC_OUT_MAX) and err. Its return value
 *   and err come back to the caller as convproc_run()'s.
 * - The child's messages are read as hostile: fixed-size records, the item
 *   below n_items, the text bounded and NUL-terminated, rc a -errno.
 * - If the child ends without a result (killed, crashed, stopped by its
 *   filter): -EIO with err "the converter hull-convert (pid N) <what
 *   happened>" and *item the last item it started (-1: none), for the
 *   caller to name. *item is -1 after a result, too.
 * - Blocks until the child has ended (reaped). Not async-signal-safe; call
 *   from one thread at a time per process (it changes no process state:
 *   any thread may call it, the child is single-threaded). */
#ifndef HULL_IMAGES_CONVERT_PROC_H
#define HULL_IMAGES_CONVERT_PROC_H

#include <stddef.h>

#include "common/errmsg.h"

#define CONVPROC_OUT_MAX 128
#define CONVPROC_NAME "hull-convert"

struct convproc;
typedef int (*convproc_fn)(void *ctx, struct convproc *cp, void *out, size_t out_len,
			   struct errmsg *err);

int convproc_run(const int *keep, size_t nkeep, unsigned n_items, convproc_fn fn, void *ctx,
		 void *out, size_t out_len, int *item, struct errmsg *err);
void convproc_progress(struct convproc *cp, unsigned item);

#endif
