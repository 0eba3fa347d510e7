/* attach: hull's own stdin, terminal and signals wired to a container
 * process's hcp conversation (struct control): for `hull run` and
 * `hull exec` alike.
 *
 * Contract
 * - -i (interactive): stdin is read in chunks of up to ATTACH_CHUNK bytes
 *   and forwarded as STDIN frames, then STDIN_EOF at end of file (or on a
 *   read error). A chunk the transport refuses (full) is kept and retried
 *   every ATTACH_RETRY_MS, and stdin is not read meanwhile: input moves no
 *   faster than the guest takes it. Without -i nothing is read (the
 *   conversation sends STDIN_EOF itself).
 * - -t (tty): the terminal size (of stdin, else stdout) goes with the spec
 *   and again on every SIGWINCH. With -i as well and stdin a terminal, that
 *   terminal is put in raw mode (attach_start) until attach_end(), which the
 *   caller calls on every way out; in raw mode ^C is a byte for the guest's
 *   pty, whose line discipline signals the foreground process group.
 * - Signals sent to hull (ATTACH_SIGNALS, plus SIGWINCH under -t) reach the
 *   caller through a signalfd and go to attach_on_signal(): SIGTERM starts
 *   the stop sequence (runtime/stop.h): the stop signal now, SIGKILL after the
 *   stop timeout unless the process exited; every other one, and every
 *   later SIGTERM, is forwarded as itself (docker's sig-proxy: a second ^C
 *   is a second SIGINT).
 * - No global state; the caller runs the event loop: attach_stdin_fd() to
 *   poll for input, attach_timeout_ms() for poll's timeout, attach_tick()
 *   after every wakeup.
 */
#ifndef HULL_CLI_ATTACH_H
#define HULL_CLI_ATTACH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/control.h"
#include "runtime/stop.h"
#include "cli/term.h"

#define ATTACH_CHUNK (16 * 1024)
#define ATTACH_RETRY_MS 5

struct attach_opts {
	bool interactive, tty;
	int stop_signo;
	unsigned stop_timeout_s;
};

struct attach {
	struct control *ctl;
	struct attach_opts o;
	int in_fd;
	bool in_done;	   /* end of stdin read */
	bool eof_sent;	   /* STDIN_EOF accepted */
	uint8_t buf[ATTACH_CHUNK];
	size_t len; /* read, not yet accepted by the transport */
	struct term term;
	struct stop_seq stop;
};

void attach_init(struct attach *a, struct control *ctl, const struct attach_opts *o);
/* Tell the control conversation about stdin and the window size, and make
 * the terminal raw if asked; call before the spec goes out. Returns 0 or
 * -errno (the terminal could not be set). */
int attach_start(struct attach *a);
/* Restore the terminal. Idempotent. */
void attach_end(struct attach *a);
/* The signals to route to attach_on_signal(). */
void attach_sigset(const struct attach *a, sigset_t *set);
/* Fd to poll for POLLIN now, or -1. */
int attach_stdin_fd(const struct attach *a);
/* Poll timeout in ms (-1: none) for retries and the stop timer. */
int attach_timeout_ms(const struct attach *a, uint64_t now_ns);
/* stdin is readable. */
void attach_on_stdin(struct attach *a);
/* Retry what the transport refused; SIGKILL when the stop timer ran out. */
void attach_tick(struct attach *a, uint64_t now_ns);
/* Returns 0, or control_signal()'s error (-EAGAIN: nothing runs yet). */
int attach_on_signal(struct attach *a, int signo, uint64_t now_ns);

#endif
