#include "detachkeys.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* ctrl-X: the control code, or -1 */
static int ctrl_code(char x)
{
	static const char punct[] = "@[\\]^_";
	x = (char)tolower((unsigned char)x);
	if (x >= 'a' && x <= 'z')
		return x - 'a' + 1;
	const char *p = x ? strchr(punct, x) : NULL;
	if (!p)
		return -1;
	return p == punct ? 0 : 0x1b + (int)(p - punct - 1);
}

int detach_keys_parse(const char *spec, struct detach_keys *k, struct errmsg *err)
{
	memset(k, 0, sizeof(*k));
	if (!spec || !*spec)
		spec = DETACH_KEYS_DEFAULT;
	const char *p = spec;
	for (;;) {
		size_t n = strcspn(p, ",");
		int code = -1;
		if (n == 1)
			code = (unsigned char)p[0];
		else if (n == 6 && !strncasecmp(p, "ctrl-", 5))
			code = ctrl_code(p[5]);
		if (code < 0)
			return errmsg_set(err, -EINVAL,
					  "--detach-keys %s: unknown character '%.*s' (keys are a "
					  "character or ctrl-X, X one of a-z @ [ \\ ] ^ _, "
					  "comma-separated)",
					  spec, (int)(n > 32 ? 32 : n), p);
		if (k->len == DETACH_KEYS_MAX)
			return errmsg_set(err, -EINVAL, "--detach-keys %s: more than %d keys", spec,
					  DETACH_KEYS_MAX);
		k->seq[k->len++] = (uint8_t)code;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

bool detach_keys_scan(struct detach_keys *k, const uint8_t *in, size_t n, uint8_t *out,
		      size_t *out_n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == k->seq[k->pos]) {
			if (++k->pos == k->len) {
				k->pos = 0;
				*out_n = o;
				return true;
			}
			continue;
		}
		/* a broken sequence: what was held goes on, then this byte */
		memcpy(out + o, k->seq, k->pos);
		o += k->pos;
		k->pos = 0;
		out[o++] = in[i];
	}
	*out_n = o;
	return false;
}

size_t detach_keys_flush(struct detach_keys *k, uint8_t *out)
{
	size_t n = k->pos;
	memcpy(out, k->seq, n);
	k->pos = 0;
	return n;
}
