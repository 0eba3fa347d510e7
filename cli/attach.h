/* attach: hull's own stdin, stdout, stderr, terminal and signals as the
 * runtime's I/O callbacks (runtime/runtime.h, struct rt_io), for `hull run`
 * and `hull exec` alike. The front end's half of a session: the runtime
 * forwards what it is given; what a terminal or a signal means is decided
 * here.
 *
 * Contract
 * - attach_init() fills a->io (no side effects); attach_start(): with tty and interactive and stdin
 * a terminal, that terminal goes raw (^C is then a byte for the guest's pty, whose line discipline
 * signals the foreground process group) until attach_end(), which the caller calls on every way out
 * (idempotent). The signals of attach_signals() (plus SIGWINCH under tty) are blocked and read from
 * a signalfd the session polls (every thread created later inherits the mask). Returns 0 or -errno
 * with err.
 * - Signals: the first SIGTERM starts the stop sequence (the stop signal
 *   now, SIGKILL after the stop timeout); every other one, and every later
 *   SIGTERM, is forwarded as itself (docker's sig-proxy: a second ^C is a
 *   second SIGINT). SIGWINCH sends the terminal's new size.
 * - a->io: stdin is fd 0 (read only with interactive), output goes to fds 1
 *   and 2, hull's messages to fd 2.
 */
#ifndef HULL_CLI_ATTACH_H
#define HULL_CLI_ATTACH_H

#include <signal.h>
#include <stdbool.h>

#include "cli/term.h"
#include "common/errmsg.h"
#include "runtime/runtime.h"

struct attach {
	struct rt_io io;
	struct term term;
	int sigfd;
	bool interactive, tty;
};

/* Adds to set the signals a session forwards to its container (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2; not SIGWINCH): hull attach's
 * --sig-proxy forwards the same ones. */
void attach_signals(sigset_t *set);

void attach_init(struct attach *a, bool interactive, bool tty);
int attach_start(struct attach *a, struct errmsg *err);
void attach_end(struct attach *a);

#endif
