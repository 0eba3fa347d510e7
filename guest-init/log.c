#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "hull-init: "

static void log_vline(const struct log *l, const char *stamp, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	if (!l || l->fd < 0)
		return;
	n = snprintf(line, sizeof(line), LOG_PREFIX "%s", stamp);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	/* vsnprintf truncated: keep the newline so the next line starts clean. */
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* The console is a tty: a short write only happens on a signal, and all
	 * signals are blocked in init. One attempt keeps lines atomic. */
	if (write(l->fd, line, (size_t)n) < 0)
		return;
}

void log_msg(const struct log *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(l, "", fmt, ap);
	va_end(ap);
}

void log_debug(const struct log *l, const char *fmt, ...)
{
	char stamp[32];
	struct timespec ts;
	va_list ap;

	if (!l || !l->debug)
		return;
	/* CLOCK_BOOTTIME is served by the vDSO (no kernel entry) and counts from
	 * boot, which is the number a boot-time investigation wants. */
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		snprintf(stamp, sizeof(stamp), "[%ld.%03ld] ", (long)ts.tv_sec,
			 ts.tv_nsec / 1000000);
	else
		stamp[0] = '\0';
	va_start(ap, fmt);
	log_vline(l, stamp, fmt, ap);
	va_end(ap);
}

const char *log_errtext(int err, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	if (err < 0)
		err = -err;
	/* strerror_r (GNU flavour) may return a static string instead of filling buf. */
	const char *s = strerror_r(err, buf, len);
	if (s != buf) {
		snprintf(buf, len, "%s", s);
	}
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

int log_syserr(struct errmsg *err, int errnum, const char *fmt, ...)
{
	char what[768], text[128];
	va_list ap;

	if (errnum < 0)
		errnum = -errnum;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return errmsg_set(err, -errnum, "%s: %s", what, log_errtext(errnum, text, sizeof(text)));
}
