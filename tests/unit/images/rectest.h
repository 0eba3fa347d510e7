/* rectest: the checks every fixed-record codec's unit test makes (the
 * records hull's front end exchanges with its unprivileged helpers:
 * images/convert_req.h, images/fetch_rec.h, ...), written once.
 *
 * Contract
 * - rectest_dec is a codec's decoder adapted to one signature: decode
 *   len bytes of buf; 0 and a malloc'd copy in *out, or -EBADMSG, *out
 *   NULL and err naming the field. Extra arguments (a fd count) are the
 *   adapter's business.
 * - rectest_decode(dec, rec, len, text): decodes rec and returns text
 *   (at least sizeof(struct errmsg) bytes): "" when accepted (asserting
 *   the copy equals rec byte for byte), else the error text (asserting
 *   -EBADMSG and a NULL out).
 * - rectest_lengths(dec, good, n): every length 0..n+1 but n, each from a
 *   buffer of exactly that size (ASan sees a read past it), is refused.
 * - Both fail the running cmocka test on a broken promise; single-threaded. */
#ifndef HULL_TESTS_RECTEST_H
#define HULL_TESTS_RECTEST_H

#include <stddef.h>

#include "common/errmsg.h"

typedef int (*rectest_dec)(const void *buf, size_t len, void **out, struct errmsg *err);

const char *rectest_decode(rectest_dec dec, const void *rec, size_t len, char *text);
void rectest_lengths(rectest_dec dec, const void *good, size_t n);

#endif
