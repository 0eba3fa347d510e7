/* corpus: the hostile-image corpus, built at test time (nothing is checked
 * in). Each case writes one OCI layout that a converter must refuse with an
 * error containing every needle (or, for `ok` cases, must convert with the
 * hostile part contained inside the image). lim: the caps to convert with
 * (zero fields: defaults), so that bombs stay small enough for a test. */
#ifndef HULL_TESTS_CORPUS_H
#define HULL_TESTS_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

#include "images/limits.h"

struct corpus_case {
	const char *name;
	void (*build)(const char *layout);
	const char *needles[3];
	struct image_limits lim;
	bool ok;
};

extern const struct corpus_case corpus_cases[];
extern const size_t corpus_n;

#endif
