/* rectest: shared checks of the fixed-record codecs' unit tests
 * (rectest.h has the contract). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rectest.h"

const char *rectest_decode(rectest_dec dec, const void *rec, size_t len, char *text)
{
	void *out = NULL;
	struct errmsg err = {{0}};
	int rc = dec(rec, len, &out, &err);
	if (!rc) {
		assert_non_null(out);
		assert_memory_equal(out, rec, len);
		free(out);
		text[0] = '\0';
		return text;
	}
	assert_int_equal(rc, -EBADMSG);
	assert_null(out);
	snprintf(text, sizeof(err.text), "%s", err.text);
	return text;
}

void rectest_lengths(rectest_dec dec, const void *good, size_t n)
{
	for (size_t len = 0; len <= n + 1; len++) {
		if (len == n)
			continue;
		char *b = malloc(len ? len : 1);
		assert_non_null(b);
		memcpy(b, good, len < n ? len : n);
		if (len > n)
			b[n] = 0;
		void *out = NULL;
		struct errmsg err = {{0}};
		assert_int_equal(dec(b, len, &out, &err), -EBADMSG);
		assert_null(out);
		free(b);
	}
}
