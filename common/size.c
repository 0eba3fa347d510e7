#include "size.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'b' || *end == 'B')
		end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b')) ? 2 : 1;
	if (*end || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* v in units of step, at most 4 steps up */
static void human(uint64_t b, double step, const char *const u[5], const char *fmt, char *out,
		  size_t n)
{
	double v = (double)b;
	int i = 0;
	while (v >= step && i < 4) {
		v /= step;
		i++;
	}
	snprintf(out, n, i ? fmt : "%.0f%s", v, u[i]);
}

void size_human(uint64_t b, char *out, size_t n)
{
	static const char *const u[] = {" B", " kB", " MB", " GB", " TB"};
	human(b, 1000, u, "%.3g%s", out, n);
}

void size_human_tight(uint64_t b, char *out, size_t n)
{
	static const char *const u[] = {"B", "kB", "MB", "GB", "TB"};
	human(b, 1000, u, "%.3g%s", out, n);
}

void size_human_binary(uint64_t b, char *out, size_t n)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	human(b, 1024, u, "%.4g%s", out, n);
}

void size_human_iec(uint64_t b, char *out, size_t n)
{
	static const char *const u[] = {" B", " KiB", " MiB", " GiB", " TiB"};
	human(b, 1024, u, "%.1f%s", out, n);
}
