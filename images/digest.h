/* digest: sha256 content digests as OCI writes them ("sha256:<64 hex>").
 *
 * Contract
 * - digest_parse() accepts only "sha256:" followed by exactly 64 lowercase hex
 *   digits; anything else (other algorithms, upper case, wrong length) is
 *   refused, so a parsed hex string is always safe to use in a file name.
 * - struct digest_ctx wraps libnettle's sha256 (not libcrypto's: the
 *   converter hull-convert, which hashes every layer twice, links no
 *   OpenSSL; libarchive maps nettle there anyway; SHA-NI where the CPU
 *   has it, about 6x common/sha256.h's plain C); it must be finished with
 *   digest_final() or released with digest_free() (both are idempotent). */
#ifndef HULL_IMAGES_DIGEST_H
#define HULL_IMAGES_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"

#define DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN + 1)

struct digest_ctx {
	void *md; /* struct sha256_ctx * (nettle) */
};

/* Returns 0 if s is a well-formed sha256 digest and, if hex is non-NULL,
 * copies its 64 hex digits (plus NUL) there. -EINVAL otherwise, with err
 * naming `what` (e.g. "manifest layers[2].digest"). */
int digest_parse(const char *s, char hex[DIGEST_HEX_LEN + 1], const char *what, struct errmsg *err);

int digest_init(struct digest_ctx *d);
void digest_update(struct digest_ctx *d, const void *buf, size_t len);
/* Writes "sha256:<hex>" into out and frees the context. */
int digest_final(struct digest_ctx *d, char out[DIGEST_STR_LEN]);
void digest_free(struct digest_ctx *d);

/* One-shot digest of a buffer. */
int digest_buf(const void *buf, size_t len, char out[DIGEST_STR_LEN]);

#endif
