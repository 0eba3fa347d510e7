/* termesc: untrusted bytes (a guest's console) made safe to show on a
 * terminal. Printable ASCII (0x20-0x7e), '\n' and '\t' stay as they are;
 * '\r' right before '\n' (a serial console's line end) is dropped; every
 * other byte (control characters, ESC and so every escape sequence, DEL,
 * bytes >= 0x80 including C1 controls and UTF-8) becomes the four
 * characters \xNN, and a backslash becomes "\\" so that the output reads
 * back unambiguously. Pure; no allocation. */
#ifndef HULL_COMMON_TERMESC_H
#define HULL_COMMON_TERMESC_H

#include <stddef.h>

/* The most output term_escape() makes of n input bytes. */
#define TERM_ESCAPE_MAX(n) ((n)*4)

/* in[0, n) -> out (room for TERM_ESCAPE_MAX(n) bytes, not NUL-terminated);
 * returns the output length. */
size_t term_escape(const void *in, size_t n, char *out);

#endif
