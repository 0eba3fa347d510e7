/* What the hull-fetch stand-in (fetch_standin.c) reports for its "limits"
 * request, as it saw itself from the inside. */
#ifndef HULL_TESTS_FETCH_STANDIN_H
#define HULL_TESTS_FETCH_STANDIN_H

#include <stdint.h>

struct fetch_seen {
	uint64_t as_cur, as_max;
	uint64_t nofile_cur, nofile_max;
	uint64_t fsize_cur, fsize_max;
	int seccomp, filters; /* /proc/self/status */
};

#endif
