#include "signame.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int signame_parse(const char *s)
{
	char *end;
	if (!s || !s[0])
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '9') {
		long v = strtol(s, &end, 10);
		return *end || v < 1 || v > SIGRTMAX ? -EINVAL : (int)v;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *n = sigabbrev_np(i);
		if (n && !strcasecmp(n, s))
			return i;
	}
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		int base = !strncasecmp(s, "RTMIN", 5) ? SIGRTMIN : SIGRTMAX;
		if (!s[5])
			return base;
		long off = strtol(s + 5, &end, 10);
		int v = base + (int)off;
		if (*end || (s[5] != '+' && s[5] != '-') || v < SIGRTMIN || v > SIGRTMAX)
			return -EINVAL;
		return v;
	}
	return -EINVAL;
}
