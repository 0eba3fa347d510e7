#include "images/digest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

int digest_parse(const char *s, char hex[DIGEST_HEX_LEN + 1], const char *what, struct errmsg *err)
{
	if (!s)
		return errmsg_set(err, -EINVAL, "%s: missing digest", what);
	if (strncmp(s, "sha256:", 7) != 0) {
		const char *colon = strchr(s, ':');
		if (colon && colon - s < 32)
			return errmsg_set(err, -EINVAL, "%s: unsupported digest algorithm '%.*s'",
					  what, (int)(colon - s), s);
		return errmsg_set(err, -EINVAL, "%s: malformed digest '%.80s'", what, s);
	}
	const char *h = s + 7;
	size_t n = strlen(h);
	bool ok = n == DIGEST_HEX_LEN;
	for (size_t i = 0; ok && i < n; i++)
		ok = (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f');
	if (!ok)
		return errmsg_set(err, -EINVAL, "%s: malformed sha256 digest '%.80s'", what, s);
	if (hex)
		memcpy(hex, h, DIGEST_HEX_LEN + 1);
	return 0;
}

int digest_init(struct digest_ctx *d)
{
	struct sha256_ctx *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	sha256_init(s);
	d->md = s;
	return 0;
}

void digest_update(struct digest_ctx *d, const void *buf, size_t len)
{
	if (d->md && len)
		sha256_update(d->md, len, buf);
}

int digest_final(struct digest_ctx *d, char out[DIGEST_STR_LEN])
{
	static const char xd[] = "0123456789abcdef";
	uint8_t md[SHA256_DIGEST_SIZE];
	if (!d->md)
		return -EINVAL;
	sha256_digest(d->md, sizeof(md), md);
	digest_free(d);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[7 + 2 * i] = xd[md[i] >> 4];
		out[7 + 2 * i + 1] = xd[md[i] & 15];
	}
	out[7 + DIGEST_HEX_LEN] = '\0';
	return 0;
}

void digest_free(struct digest_ctx *d)
{
	free(d->md);
	d->md = NULL;
}

int digest_buf(const void *buf, size_t len, char out[DIGEST_STR_LEN])
{
	struct digest_ctx d;
	int rc = digest_init(&d);
	if (rc)
		return rc;
	digest_update(&d, buf, len);
	return digest_final(&d, out);
}
