/* errmsg: a human-readable reason travelling next to a -errno return.
 *
 * Contract: functions that can fail on user input take `struct errmsg *err`,
 * return 0 or -errno, and on failure fill err->text with a sentence naming the
 * input and the problem ("image ./x.oci: index.json: not valid JSON"). The
 * caller decides how to report it. err may be NULL when the caller does not
 * care. */
#ifndef HULL_ERRMSG_H
#define HULL_ERRMSG_H

#include <stdarg.h>
#include <stdio.h>

struct errmsg {
	char text[1024];
};

/* Format into err (if non-NULL) and return rc, so callers can write
 * `return errmsg_set(err, -EINVAL, "...", ...);`. */
__attribute__((format(printf, 3, 4))) static inline int errmsg_set(struct errmsg *err, int rc,
								   const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return rc;
}

#endif
