/* control: the host's side of the hcp conversation with guest-init (one
 * container process: the container's own, or an exec session's).
 *
 * Contract
 * - Events, not hooks: control_next() hands the caller one event at a time
 *   (READY, STARTED, OUTPUT, ERROR, EXIT, FAILED) decoded from the bytes the
 *   caller passes in; the caller acts on it (save a template, log output,
 *   record the start...) and then calls back in (control_send_spec(),
 *   control_signal()...). Nothing is called back, nothing is locked: one
 *   thread owns a struct control (the session loop, runtime/session.h).
 * - READY: the caller sends the spec with control_send_spec() when it is
 *   ready to (after saving a template and attaching the image disk), stamped
 *   with the host's current time and a fresh RNG seed, followed by STDIN_EOF
 *   unless stdin was opened. An exec session has no READY: the caller calls
 *   control_assume_ready(), which sends the spec as EXEC (hcp_exec_encode, no
 *   time or seed).
 * - OUTPUT carries the container's STDOUT (stream 1) or STDERR (stream 2)
 *   bytes, pointing into the reader: valid until the next control_next().
 *   ERROR carries guest-init's text, bounded to 400 bytes and with control
 *   characters replaced by '?' (the guest is hostile; the text is data).
 * - The guest is hostile: malformed frames or frames out of order end the
 *   conversation with one FAILED event (control_failed() says why); they
 *   never crash the host. After FAILED no more events come.
 * - Stdin: closed by default (STDIN_EOF right after the spec: the process
 *   reads an empty stdin). control_set_stdin_open() keeps it open; the caller
 *   then forwards bytes with control_stdin() and ends with
 *   control_stdin_eof(). Every frame goes to `send` in one call, so a
 *   transport that refuses it (-ENOBUFS, -EAGAIN: full) took nothing and the
 *   caller retries later: stdin is read no faster than the guest takes it.
 * - control_resize() records the terminal size; it travels in the spec (when
 *   the spec asks for a TTY) or, once the spec is out, as a RESIZE frame.
 * - Timestamps (CLOCK_MONOTONIC ns, 0 = not seen) feed --timings.
 * - Transport-agnostic: `send` moves bytes towards the guest.
 */
#ifndef HULL_RUNTIME_CONTROL_H
#define HULL_RUNTIME_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/hcp.h"

typedef int (*control_send_fn)(void *ctx, const void *buf, size_t n);

enum control_event_type {
	CONTROL_READY = 1, /* guest-init is up: send the spec when ready */
	CONTROL_STARTED,   /* the process runs */
	CONTROL_OUTPUT,	   /* stream, data, len */
	CONTROL_ERROR,	   /* text: why guest-init could not run the process */
	CONTROL_EXIT,	   /* status: the process's exit status (0..255) */
	CONTROL_FAILED,	   /* text: the conversation broke; nothing follows */
};

struct control_event {
	enum control_event_type type;
	int stream; /* OUTPUT: 1 stdout, 2 stderr */
	const uint8_t *data;
	size_t len;
	int status;	  /* EXIT */
	const char *text; /* ERROR, FAILED: NUL-terminated, the control's own */
};

struct control {
	struct hcp_reader rd;
	const struct hcp_spec *spec; /* the caller's; stays alive while c does */
	control_send_fn send;
	void *send_ctx;
	bool ready, spec_sent, started, exited, failed_reported;
	bool stdin_open, stdin_eof_sent;
	bool exec; /* an exec session: EXEC instead of SPEC */
	bool has_winsize;
	uint16_t rows, cols;
	int exit_status;
	char text[512];	   /* the last ERROR's text */
	char failure[256]; /* empty while the conversation is healthy */
	uint64_t t_ready, t_started, t_exit;
};

/* Returns 0, or -EINVAL when the spec cannot be encoded (incomplete or
 * larger than one frame). exec: an exec session (the spec is an exec spec,
 * see proto/hcp.h). */
int control_init(struct control *c, const struct hcp_spec *spec, bool exec, control_send_fn send,
		 void *send_ctx);
void control_free(struct control *c);

/* The next event from buf[*off, n): takes bytes from buf (advancing *off) as
 * it needs them. Returns 1 with *ev filled, or 0 when buf is used up and no
 * whole frame is left (call again with the next bytes). */
int control_next(struct control *c, const uint8_t *buf, size_t n, size_t *off,
		 struct control_event *ev);

/* Returns 0, -EAGAIN before READY, -EALREADY when already sent, -EIO when it
 * could not be sent (the conversation failed). */
int control_send_spec(struct control *c);
/* No READY comes (an exec session, or a VM restored from a template made
 * right after READY): the spec goes out now. 0, -EALREADY or -EIO. */
int control_assume_ready(struct control *c);
/* Returns 0, -EAGAIN when the process is not running (yet, or any more), or
 * a send error. */
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
/* True and *status when guest-init reported an exit. */
bool control_exit_status(const struct control *c, int *status);
const char *control_failed(const struct control *c);

#endif
