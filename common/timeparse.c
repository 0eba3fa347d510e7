#include "timeparse.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS 1000000000LL

/* exactly n digits at *p (advanced) */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* a fraction after '.' -> nanoseconds; 1..9 digits */
static bool fraction(const char **p, int64_t *ns)
{
	int64_t v = 0;
	int n = 0;
	while (isdigit((unsigned char)**p)) {
		if (++n > 9)
			return false;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (!n)
		return false;
	for (int i = n; i < 9; i++)
		v *= 10;
	*ns = v;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int time_parse_rfc3339(const char *s, int64_t *ns)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t frac = 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return -EINVAL;
	bool has_time = *p == 'T' || *p == 't';
	bool local = true;
	long off = 0;
	if (has_time) {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return -EINVAL;
			if (*p == '.' && (p++, !fraction(&p, &frac)))
				return -EINVAL;
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -EINVAL;
		if (*p == 'Z' || *p == 'z') {
			p++;
			local = false;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 ||
			    om > 59)
				return -EINVAL;
			off = sign * (oh * 3600L + om * 60L);
			local = false;
		}
	}
	if (*p)
		return -EINVAL;
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = sec,
			.tm_isdst = -1};
	time_t t = local ? mktime(&tm) : timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	t -= off;
	if (t < 0)
		return -EINVAL;
	*ns = (int64_t)t * NS + frac;
	return 0;
}

int time_parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000},	{"ms", 1000000},
		     {"s", NS}, {"m", 60 * NS}, {"h", 3600 * NS}};
	const char *p = s;
	int64_t total = 0;
	if (!*p)
		return -EINVAL;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		int64_t whole = 0, frac = 0;
		while (isdigit((unsigned char)*p)) {
			if (whole > (INT64_MAX - 9) / 10)
				return -EINVAL;
			whole = whole * 10 + (*p++ - '0');
		}
		if (*p == '.' && (p++, !fraction(&p, &frac)))
			return -EINVAL;
		size_t best = 0;
		int64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].name);
			if (l > best && !strncmp(p, units[i].name, l)) {
				best = l;
				unit = units[i].ns;
			}
		}
		if (!best)
			return -EINVAL;
		p += best;
		/* whole * unit + frac * unit / 1e9, checked */
		if (whole > (INT64_MAX - total) / unit)
			return -EINVAL;
		int64_t part = whole * unit + (int64_t)((__int128)frac * unit / NS);
		if (part > INT64_MAX - total)
			return -EINVAL;
		total += part;
	}
	*ns = total;
	return 0;
}

int time_parse_point(const char *s, int64_t now_ns, int64_t *ns)
{
	int64_t v;
	if (!time_parse_rfc3339(s, ns))
		return 0;
	if (!time_parse_duration(s, &v)) {
		if (v > now_ns)
			return -EINVAL;
		*ns = now_ns - v;
		return 0;
	}
	/* Unix seconds[.fraction] */
	const char *p = s;
	int64_t sec = 0, frac = 0;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		if (sec > (INT64_MAX / NS - 9) / 10)
			return -EINVAL;
		sec = sec * 10 + (*p++ - '0');
	}
	if (*p == '.' && (p++, !fraction(&p, &frac)))
		return -EINVAL;
	if (*p)
		return -EINVAL;
	*ns = sec * NS + frac;
	return 0;
}

void time_format_rfc3339(int64_t ns, char *out, size_t n)
{
	time_t sec = (time_t)(ns / NS);
	struct tm tm;
	char day[32];
	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%09lldZ", day, (long long)(ns % NS));
}
