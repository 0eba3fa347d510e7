/* recfield: the field checks shared by the decoders of the fixed records
 * hull's front end exchanges with its unprivileged helpers
 * (images/fetch_rec.h, images/import_rec.h). The record's bytes are
 * hostile; each check reads only the n bytes it is given.
 *
 * - recfield_terminated(s, n): a NUL within s[0, n).
 * - recfield_is_digest(s): s[0, DIGEST_STR_LEN) holds a NUL-terminated,
 *   well-formed "sha256:<64 hex>" (digest_parse()).
 * - recfield_all_zero(p, n): every byte of p[0, n) is zero (padding).
 * Pure functions; any thread. */
#ifndef HULL_IMAGES_RECFIELD_H
#define HULL_IMAGES_RECFIELD_H

#include <stdbool.h>
#include <stddef.h>

bool recfield_terminated(const char *s, size_t n);
bool recfield_is_digest(const char *s);
bool recfield_all_zero(const void *p, size_t n);

#endif
