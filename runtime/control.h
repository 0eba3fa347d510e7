/* control: hull's side of the hcp conversation with guest-init.
 *
 * Contract
 * - control_feed() takes bytes from the control channel as they arrive (any
 *   thread, one at a time) and acts on complete frames: on READY it sends the
 *   spec, stamped with the host's current time and a fresh RNG seed (then
 *   STDIN_EOF: stdin forwarding comes later), STDOUT/STDERR go to
 *   the output fds, ERROR is printed to the error fd as "hull: <text>", EXIT
 *   records the status. The guest is hostile: malformed frames or frames out
 *   of order end the conversation (control_failed() says why), they never
 *   crash hull.
 * - control_signal() forwards a signal to the container once it runs.
 * - Stdin: closed by default (STDIN_EOF right after SPEC: the container's
 *   stdin is empty). control_set_stdin_open() keeps it open; the caller
 *   then forwards bytes with control_stdin() and ends with
 *   control_stdin_eof(). Every frame goes to `send` in one call, so a
 *   transport that refuses it (-ENOBUFS, -EAGAIN: full) took nothing and
 *   the caller retries later: stdin is read no faster than the guest takes it.
 * - control_init_exec() makes the same conversation an exec session's: the
 *   spec goes out as EXEC (hcp_exec_encode, no time or seed) when
 *   control_resume_ready() is called, as nothing says READY there.
 * - control_resize() records the terminal size; it travels in the SPEC (when
 *   the spec asks for a TTY) or, once the spec is out, as a RESIZE frame.
 * - Timestamps (CLOCK_MONOTONIC ns, 0 = not seen) feed --timings.
 * - Transport-agnostic: `send` moves bytes towards the guest.
 */
#ifndef HULL_RUNTIME_CONTROL_H
#define HULL_RUNTIME_CONTROL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/hcp.h"

typedef int (*control_send_fn)(void *ctx, const void *buf, size_t n);

struct control {
	pthread_mutex_t lock;
	struct hcp_reader rd;
	const struct hcp_spec *spec; /* the caller's; stays alive while c does */
	control_send_fn send;
	void *send_ctx;
	int out_fd, err_fd;
	bool ready, spec_sent, started, exited;
	bool stdin_open, stdin_eof_sent;
	bool exec; /* an exec session: EXEC instead of SPEC */
	bool has_winsize;
	uint16_t rows, cols;
	void (*ready_hook)(void *);
	void *ready_hook_ctx;
	/* lifecycle: the container's output also goes to the log, and its start
	 * is announced (both called on the feeding thread, under the lock) */
	void (*output_hook)(void *ctx, int stream, const uint8_t *buf, size_t n);
	void (*started_hook)(void *ctx);
	void *hook_ctx;
	int exit_status;
	char failure[256]; /* empty while the conversation is healthy */
	uint64_t t_ready, t_started, t_exit;
};

/* Returns 0, or -EINVAL when the spec cannot be encoded (incomplete or
 * larger than one frame). */
int control_init(struct control *c, const struct hcp_spec *spec, int out_fd, int err_fd,
		 control_send_fn send, void *send_ctx);
/* Same for an exec session (the spec is an exec spec, see proto/hcp.h). */
int control_init_exec(struct control *c, const struct hcp_spec *spec, int out_fd, int err_fd,
		      control_send_fn send, void *send_ctx);
/* The guest already said READY (a VM restored from a template made right
 * after READY): send the spec now. Returns 0 or a send error. */
int control_resume_ready(struct control *c);
/* With a hook set, READY does not send the spec: it calls hook(ctx) on the
 * feeding thread and the spec goes out at control_send_spec(), so the host
 * can first save a template and attach the image disk. */
void control_set_ready_hook(struct control *c, void (*hook)(void *), void *ctx);
/* Also pass every STDOUT (stream 1) / STDERR (stream 2) chunk to output(),
 * and call started() when the container runs; either may be NULL. They run
 * on the feeding thread with the control lock held: keep them short. */
void control_set_hooks(struct control *c,
		       void (*output)(void *ctx, int stream, const uint8_t *buf, size_t n),
		       void (*started)(void *ctx), void *ctx);
/* Returns 0, -EAGAIN before READY, -EALREADY when already sent. */
int control_send_spec(struct control *c);
void control_free(struct control *c);
void control_feed(struct control *c, const uint8_t *buf, size_t n);
/* Returns 0, -EAGAIN when the container is not running yet, or a send error. */
int control_signal(struct control *c, int signo);
/* Call before the spec goes out. */
void control_set_stdin_open(struct control *c, bool open);
/* One STDIN frame of n <= HCP_MAX_PAYLOAD bytes. Returns 0, -EAGAIN before the
 * spec is out, -EPIPE after STDIN_EOF or the exit, or the send error
 * (-ENOBUFS/-EAGAIN: nothing was sent, retry). */
int control_stdin(struct control *c, const void *buf, size_t n);
/* Returns 0 (also when already sent), -EAGAIN before the spec, or a send error. */
int control_stdin_eof(struct control *c);
/* Returns 0, or the send error of the RESIZE frame. */
int control_resize(struct control *c, uint16_t rows, uint16_t cols);
/* After the VM stopped: true and *status when guest-init reported an exit. */
bool control_exit_status(struct control *c, int *status);
const char *control_failed(struct control *c);

#endif
