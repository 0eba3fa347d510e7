/* term: the host terminal under `-t`.
 *
 * Contract
 * - term_raw() puts a terminal fd in raw mode (cfmakeraw: no echo, no line
 *   editing, no signals from ^C/^Z, no output processing), so every key
 *   reaches the container's pty, whose own line discipline does the work.
 *   It does nothing (and returns 0) when fd is not a terminal. The previous
 *   settings are kept in *t; term_restore() puts them back (idempotent), and
 *   the caller calls it on every way out.
 * - term_winsize() reads a terminal's size; returns 0 or -errno (-ENOTTY).
 */
#ifndef HULL_CLI_TERM_H
#define HULL_CLI_TERM_H

#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

struct term {
	int fd;
	bool raw; /* saved holds the settings to restore */
	struct termios saved;
};

int term_raw(struct term *t, int fd);
void term_restore(struct term *t);
int term_winsize(int fd, uint16_t *rows, uint16_t *cols);

#endif
