/* log: diagnostics for humans on the guest console.
 *
 * Contract
 * - Every line goes out as one write(2) prefixed "hull-init: ", so lines from
 *   init never interleave with each other on the kernel console (ttyS0).
 * - Console output is expensive in this guest (each byte is a trapped UART
 *   access handled by an emulated kernel), so normal runs print only problems;
 *   log_debug() lines appear only when the kernel command line carries
 *   `hull_debug=1` (the kernel hands it to init as an environment variable).
 * - Logging never fails from the caller's point of view: a lost diagnostic
 *   must not change what init does.
 * - log_errtext() is pure: it renders an errno the way the host reports errors
 *   ("no such file or directory"), for messages that travel in HCP_ERROR.
 */
#ifndef HULL_GUEST_INIT_LOG_H
#define HULL_GUEST_INIT_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"

struct log {
	int fd;	    /* the console; -1 to drop everything */
	bool debug; /* also print log_debug() lines, with a boot-time stamp */
};

__attribute__((format(printf, 2, 3))) void log_msg(const struct log *l, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void log_debug(const struct log *l, const char *fmt, ...);

/* strerror(err) with a lower-case first letter, into buf (always
 * NUL-terminated). err may be positive or negative. Returns buf. */
const char *log_errtext(int err, char *buf, size_t len);

/* Fill err with "<fmt...>: <log_errtext(errnum)>" and return -|errnum|: the
 * one shape of every failed-system-call message that goes to the host. */
__attribute__((format(printf, 3, 4))) int log_syserr(struct errmsg *err, int errnum,
						     const char *fmt, ...);

#endif
