/* timeparse: the points in time docker's `logs --since/--until` take, and
 * the RFC 3339 timestamps hull's container log records carry.
 *
 * Contract
 * - Pure functions of their arguments (and, for a time of day without a
 *   zone, the local time zone, as docker's); no state.
 * - Times are CLOCK_REALTIME nanoseconds since the Unix epoch.
 * - Input is the user's or a log file's (possibly damaged): anything not
 *   wholly understood is -EINVAL, never a guess; values are range-checked
 *   (years 1970..9999, no overflow).
 * Functions return 0 or -EINVAL. */
#ifndef HULL_COMMON_TIMEPARSE_H
#define HULL_COMMON_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* RFC 3339: YYYY-MM-DD, or that followed by THH:MM[:SS[.fraction]] and an
 * optional zone (Z or +HH:MM/-HH:MM; none: local time). Fractions beyond
 * nanoseconds are refused. */
int time_parse_rfc3339(const char *s, int64_t *ns);
/* A Go duration: one or more NUMBER[.FRACTION]UNIT with UNIT ns, us, ms, s,
 * m, h ("1h30m", "1.5s", "10m"). Not negative. */
int time_parse_duration(const char *s, int64_t *ns);
/* docker's --since/--until: an RFC 3339 time, Unix seconds with an optional
 * fraction ("1700000000.5"), or a duration meaning that long before now. */
int time_parse_point(const char *s, int64_t now_ns, int64_t *ns);
/* ns as RFC 3339 UTC with nanoseconds ("2026-12-07T05:21:08.123456789Z");
 * out holds at least 36 bytes. */
void time_format_rfc3339(int64_t ns, char *out, size_t n);

#endif
