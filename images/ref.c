#include "images/ref.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The grammar is docker's (distribution/reference regexp.go); hand-written
 * because Debian's C libraries have no image-reference parser. */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return isalnum((unsigned char)c) != 0;
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*,
 * separator := "." | "_" | "__" | "-"+ */
static bool path_component_ok(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	while (i < n) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		size_t sep = i;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else
			while (i < n && s[i] == '-')
				i++;
		if (i == sep || i == n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] */
static bool host_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (s[0] == '[') { /* IPv6 literal */
		if (n < 3 || s[n - 1] != ']')
			return false;
		for (size_t i = 1; i < n - 1; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return false;
		return true;
	}
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-')
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

static bool domain_ok(const char *s)
{
	size_t n = strlen(s);
	const char *colon = NULL;
	/* the port's colon is the last one after any IPv6 literal */
	const char *close = s[0] == '[' ? strchr(s, ']') : NULL;
	colon = strrchr(close ? close : s, ':');
	if (s[0] == '[' && !close)
		return false;
	size_t hn = colon ? (size_t)(colon - s) : n;
	if (!host_ok(s, hn))
		return false;
	if (!colon)
		return true;
	const char *port = colon + 1;
	size_t pn = strlen(port);
	if (pn == 0 || pn > 5)
		return false;
	for (size_t i = 0; i < pn; i++)
		if (!isdigit((unsigned char)port[i]))
			return false;
	return atoi(port) <= 65535;
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(is_alnum(t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return false;
	return true;
}

static bool is_hex64(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return i == 64;
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isupper((unsigned char)s[i]))
			return true;
	return false;
}

void ref_free(struct image_ref *r)
{
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

static int parse(const char *in, struct image_ref *r, struct errmsg *err)
{
	if (!*in)
		return errmsg_set(err, -EINVAL, "image reference is empty");
	if (strlen(in) > 4096)
		return errmsg_set(err, -EINVAL, "image reference '%.60s...' is too long", in);
	if (is_hex64(in))
		return errmsg_set(err, -EINVAL,
				  "image reference '%s': a 64-hex-digit repository name is not "
				  "allowed (it looks like an image id)",
				  in);
	char *s = strdup(in);
	if (!s)
		return -ENOMEM;
	int rc = 0;
	char *at = strchr(s, '@');
	if (at) {
		*at = '\0';
		const char *d = at + 1;
		if (strchr(d, '@') || digest_parse(d, NULL, "", NULL)) {
			const char *colon = strchr(d, ':');
			if (colon && strncmp(d, "sha256:", 7) != 0)
				rc = errmsg_set(err, -EINVAL,
						"image reference '%s': unsupported digest "
						"algorithm '%.*s' (hull verifies sha256 only)",
						in, (int)(colon - d), d);
			else
				rc = errmsg_set(err, -EINVAL,
						"image reference '%s': malformed digest '%s' "
						"(want sha256: and 64 lower-case hex digits)",
						in, d);
			goto out;
		}
		memcpy(r->digest, d, DIGEST_STR_LEN);
	}
	/* A ':' after the last '/' starts the tag; one before it is a port. */
	char *slash = strrchr(s, '/');
	char *colon = strrchr(slash ? slash : s, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_ok(colon + 1)) {
			rc = errmsg_set(err, -EINVAL,
					"image reference '%s': invalid tag '%s' (letters, digits, "
					"'_', '.', '-', at most 128, not starting with '.' or '-')",
					in, colon + 1);
			goto out;
		}
		if (!(r->tag = strdup(colon + 1))) {
			rc = -ENOMEM;
			goto out;
		}
	}
	const char *remote = s;
	char *first = strchr(s, '/');
	size_t fl = first ? (size_t)(first - s) : 0;
	if (first && (memchr(s, '.', fl) || memchr(s, ':', fl) ||
		      (fl == 9 && !strncmp(s, "localhost", 9)) || has_upper(s, fl))) {
		*first = '\0';
		remote = first + 1;
		if (!domain_ok(s)) {
			rc = errmsg_set(err, -EINVAL,
					"image reference '%s': invalid registry host '%s'", in, s);
			goto out;
		}
		r->domain = strdup(strcmp(s, "index.docker.io") ? s : REF_DEFAULT_DOMAIN);
	} else {
		r->domain = strdup(REF_DEFAULT_DOMAIN);
	}
	if (!r->domain) {
		rc = -ENOMEM;
		goto out;
	}
	if (!*remote) {
		rc = errmsg_set(err, -EINVAL, "image reference '%s': no repository name", in);
		goto out;
	}
	if (has_upper(remote, strlen(remote))) {
		rc = errmsg_set(err, -EINVAL,
				"image reference '%s': repository name '%s' must be lower-case", in,
				remote);
		goto out;
	}
	for (const char *c = remote;;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (!path_component_ok(c, n)) {
			rc = errmsg_set(err, -EINVAL,
					"image reference '%s': invalid repository name component "
					"'%.*s' (lower-case letters and digits, separated by '.', "
					"'_', '__' or '-')",
					in, (int)n, c);
			goto out;
		}
		if (!e)
			break;
		c = e + 1;
	}
	bool library = !strcmp(r->domain, REF_DEFAULT_DOMAIN) && !strchr(remote, '/');
	if (asprintf(&r->path, "%s%s", library ? "library/" : "", remote) < 0) {
		r->path = NULL;
		rc = -ENOMEM;
		goto out;
	}
	if (strlen(r->domain) + 1 + strlen(r->path) > REF_NAME_MAX) {
		rc = errmsg_set(err, -EINVAL,
				"image reference '%.60s...': the name is longer than %d characters",
				in, REF_NAME_MAX);
		goto out;
	}
	if (!r->tag && !r->digest[0] && !(r->tag = strdup("latest"))) {
		rc = -ENOMEM;
		goto out;
	}
	int w = r->digest[0] ? asprintf(&r->name, "%s/%s@%s", r->domain, r->path, r->digest)
			     : asprintf(&r->name, "%s/%s:%s", r->domain, r->path, r->tag);
	if (w < 0) {
		r->name = NULL;
		rc = -ENOMEM;
	}
out:
	free(s);
	return rc;
}

int ref_parse(const char *s, struct image_ref *r, struct errmsg *err)
{
	memset(r, 0, sizeof(*r));
	int rc = parse(s, r, err);
	if (rc)
		ref_free(r);
	return rc;
}
