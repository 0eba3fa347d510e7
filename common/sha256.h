/* sha256: SHA-256 (FIPS 180-4) in plain C, for the parts of hull that must
 * not link libcrypto: hull-vmm checks template files with it and names
 * template directories by it. (images/ hashes blobs and layers with
 * libnettle's faster code, SHA-NI where the CPU has it: images/digest.h;
 * both give the same digests.)
 *
 * Contract: sha256_init, any number of sha256_update, sha256_final; a
 * context is one caller's (no shared state). Never fails. */
#ifndef HULL_COMMON_SHA256_H
#define HULL_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* One call: out = SHA-256(data[0, n)). */
void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);

#endif
