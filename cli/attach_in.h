/* attach_in: the stdin half of `hull attach` (cli/attach_cmd.h): the
 * attaching terminal's or pipe's bytes, and its window size, as
 * runtime/attach_conn.h frames on the connection the container's supervisor
 * gave (supervisor_attach()).
 *
 * Contract
 * - attach_in_init() takes the connection (owned from then on; closed by
 *   attach_in_close() or when it fails) and the detach keys; with tty they
 *   are looked for (docker reads them on TTY containers only).
 * - The caller polls attach_in_events(): POLLIN on in_fd while a frame may
 *   be read, POLLOUT on the connection while one waits (the connection is
 *   non-blocking: a container that reads no stdin never blocks attach's
 *   output or signals). attach_in_step() then reads or writes; it returns
 *   ATTACH_IN_DETACH when the detach keys were read (the caller restores
 *   its terminal and leaves), else ATTACH_IN_GO.
 * - The end of in_fd, a read error or a write error close the connection
 *   (held detach-key bytes are sent first when they can be): the container
 *   keeps its stdin open (docker's rule for -d -i), attach follows its
 *   output on.
 * - attach_in_resize(): a RESIZE frame with the terminal's size (dropped
 *   when a frame is still waiting: the next SIGWINCH brings it again).
 * - Single-threaded; no global state.
 */
#ifndef HULL_CLI_ATTACH_IN_H
#define HULL_CLI_ATTACH_IN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/detachkeys.h"
#include "runtime/attach_conn.h"

enum { ATTACH_IN_GO, ATTACH_IN_DETACH };

struct attach_in {
	int in_fd, conn;
	bool tty, in_done;
	struct detach_keys keys;
	uint8_t pend[ATTACH_CONN_FRAME_MAX];
	size_t pend_len, pend_off;
};

void attach_in_init(struct attach_in *a, int in_fd, int conn, bool tty,
		    const struct detach_keys *keys);
/* Fills p[0] (in_fd) and p[1] (the connection); fd -1 when not wanted. */
void attach_in_events(const struct attach_in *a, struct pollfd p[2]);
int attach_in_step(struct attach_in *a, const struct pollfd p[2]);
void attach_in_resize(struct attach_in *a, uint16_t rows, uint16_t cols);
void attach_in_close(struct attach_in *a);

#endif
