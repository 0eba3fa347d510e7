#include "images/auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json.h>
#include <openssl/evp.h>

#include "common/readfile.h"

#define CONFIG_MAX (1u << 20)

/* ---- WWW-Authenticate (RFC 7235 section 4.1); no library in Debian parses
 * it, libcurl only answers challenges itself ---- */

static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* A token at *p: its length (0 if none). */
static size_t token_len(const char *p)
{
	size_t n = 0;
	while (is_tchar(p[n]))
		n++;
	return n;
}

/* A quoted string at *p (which is '"'): malloc'd unescaped value. */
static int quoted(const char **p, char **out)
{
	const char *s = *p + 1;
	char *v = malloc(strlen(s) + 1);
	if (!v)
		return -ENOMEM;
	size_t n = 0;
	for (; *s && *s != '"'; s++) {
		if (*s == '\\') {
			s++;
			if (!*s)
				break;
		}
		v[n++] = *s;
	}
	if (*s != '"') {
		free(v);
		return -EINVAL;
	}
	v[n] = '\0';
	*p = s + 1;
	*out = v;
	return 0;
}

void auth_challenge_free(struct auth_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* Parse one challenge starting at *p (at its scheme). */
static int one_challenge(const char **p, struct auth_challenge *c)
{
	size_t sn = token_len(*p);
	if (!sn)
		return -EINVAL;
	if (sn == 6 && !strncasecmp(*p, "bearer", 6))
		c->scheme = AUTH_BEARER;
	else if (sn == 5 && !strncasecmp(*p, "basic", 5))
		c->scheme = AUTH_BASIC;
	else
		c->scheme = AUTH_NONE;
	*p += sn;
	for (;;) {
		const char *save = *p;
		skip_ws(p);
		size_t n = token_len(*p);
		const char *name = *p;
		const char *q = *p + n;
		while (*q == ' ' || *q == '\t')
			q++;
		if (!n || *q != '=') { /* not a parameter: the next challenge */
			*p = save;
			return 0;
		}
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		char *v = NULL;
		if (*q == '"') {
			if (quoted(&q, &v))
				return -EINVAL;
		} else {
			size_t vn = token_len(q);
			if (!vn || !(v = strndup(q, vn)))
				return vn ? -ENOMEM : -EINVAL;
			q += vn;
		}
		char **slot = NULL;
		if (n == 5 && !strncasecmp(name, "realm", 5))
			slot = &c->realm;
		else if (n == 7 && !strncasecmp(name, "service", 7))
			slot = &c->service;
		else if (n == 5 && !strncasecmp(name, "scope", 5))
			slot = &c->scope;
		if (slot) {
			free(*slot);
			*slot = v;
		} else {
			free(v);
		}
		*p = q;
		skip_ws(p);
		if (**p != ',')
			return 0;
		(*p)++;
	}
}

int auth_challenge_parse(const char *header, struct auth_challenge *out, struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	const char *p = header ? header : "";
	struct auth_challenge basic = {0};
	bool have_basic = false;
	int rc = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		struct auth_challenge c = {0};
		rc = one_challenge(&p, &c);
		if (rc) {
			auth_challenge_free(&c);
			break;
		}
		if (c.scheme == AUTH_BEARER && !out->scheme) {
			*out = c;
		} else if (c.scheme == AUTH_BASIC && !have_basic) {
			basic = c;
			have_basic = true;
		} else {
			auth_challenge_free(&c);
		}
	}
	if (rc == -ENOMEM)
		goto fail;
	if (rc) {
		rc = errmsg_set(err, -EINVAL, "malformed WWW-Authenticate header '%.200s'", header);
		goto fail;
	}
	if (!out->scheme && have_basic) {
		*out = basic;
		have_basic = false;
	}
	if (!out->scheme) {
		rc = errmsg_set(err, -EINVAL,
				"WWW-Authenticate '%.200s' offers neither Bearer nor Basic "
				"authentication",
				header ? header : "");
		goto fail;
	}
	if (out->scheme == AUTH_BEARER && (!out->realm || (strncmp(out->realm, "https://", 8) &&
							   strncmp(out->realm, "http://", 7)))) {
		rc = errmsg_set(err, -EINVAL,
				"WWW-Authenticate '%.200s': Bearer challenge without an http(s) "
				"realm",
				header);
		goto fail;
	}
	if (have_basic)
		auth_challenge_free(&basic);
	return 0;
fail:
	if (have_basic)
		auth_challenge_free(&basic);
	auth_challenge_free(out);
	return rc;
}

char *auth_token_url(const struct auth_challenge *c, const char *default_scope)
{
	const char *scope = c->scope ? c->scope : default_scope;
	char *svc = c->service ? curl_easy_escape(NULL, c->service, 0) : NULL;
	char *sc = scope ? curl_easy_escape(NULL, scope, 0) : NULL;
	char *url = NULL;
	const char *sep = strchr(c->realm, '?') ? "&" : "?";
	if ((!c->service || svc) && (!scope || sc)) {
		int w = asprintf(&url, "%s%s%s%s%s%s", c->realm, svc || sc ? sep : "",
				 svc ? "service=" : "", svc ? svc : "",
				 sc ? (svc ? "&scope=" : "scope=") : "", sc ? sc : "");
		if (w < 0)
			url = NULL;
	}
	curl_free(svc);
	curl_free(sc);
	return url;
}

/* ---- JSON: token answers and docker config ---- */

static json_object *parse_object(const char *buf, size_t len)
{
	if (len > CONFIG_MAX)
		return NULL;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	json_tokener_free(tok);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static const char *str_member(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	return *s ? s : NULL;
}

int auth_token_parse(const char *json, size_t len, char **token, struct errmsg *err)
{
	*token = NULL;
	json_object *o = parse_object(json, len);
	if (!o)
		return errmsg_set(err, -EINVAL, "token server answer is not a JSON object");
	const char *t = str_member(o, "token");
	if (!t)
		t = str_member(o, "access_token");
	int rc = 0;
	if (!t)
		rc = errmsg_set(err, -EINVAL, "token server answer has no token");
	else if (strlen(t) > 64 * 1024 || strpbrk(t, "\r\n"))
		rc = errmsg_set(err, -EINVAL, "token server answer: malformed token");
	else if (!(*token = strdup(t)))
		rc = -ENOMEM;
	json_object_put(o);
	return rc;
}

/* The host[:port] of a config key ("https://host:5000/v1/" -> "host:5000"). */
static char *key_host(const char *key)
{
	const char *s = strstr(key, "://");
	s = s ? s + 3 : key;
	size_t n = strcspn(s, "/");
	return strndup(s, n);
}

static bool key_matches(const char *key, const char *domain)
{
	static const char *const hub[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
	char *h = key_host(key);
	if (!h)
		return false;
	bool m = !strcmp(h, domain);
	if (!m && !strcmp(domain, "docker.io"))
		for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++)
			m = m || !strcmp(h, hub[i]);
	free(h);
	return m;
}

/* "user:pass" from base64. */
static int decode_auth(const char *b64, char **user, char **pass)
{
	size_t n = strlen(b64);
	if (n == 0 || n % 4 || n > 16384)
		return -EINVAL;
	unsigned char *raw = malloc(n / 4 * 3 + 1);
	if (!raw)
		return -ENOMEM;
	int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	int rc = len < 0 ? -EINVAL : 0;
	/* EVP_DecodeBlock counts the padding as zero bytes; base64 has at most
	 * two ('====' would make len negative: a write before raw) */
	size_t pad = 0;
	while (pad < n && b64[n - 1 - pad] == '=')
		pad++;
	if (!rc && (pad > 2 || (size_t)len < pad))
		rc = -EINVAL;
	if (!rc) {
		len -= (int)pad;
		raw[len] = '\0';
		char *colon = memchr(raw, ':', (size_t)len);
		if (!colon || strlen((char *)raw) != (size_t)len) {
			rc = -EINVAL;
		} else {
			*colon = '\0';
			*user = strdup((char *)raw);
			*pass = strdup(colon + 1);
			if (!*user || !*pass)
				rc = -ENOMEM;
		}
	}
	free(raw);
	return rc;
}

int auth_config_find(const char *json, size_t len, const char *domain, char **user, char **pass,
		     struct errmsg *err)
{
	*user = *pass = NULL;
	json_object *o = parse_object(json, len);
	if (!o)
		return errmsg_set(err, -EINVAL, "not a JSON object");
	json_object *auths;
	int rc = -ENOENT;
	if (!json_object_object_get_ex(o, "auths", &auths) ||
	    !json_object_is_type(auths, json_type_object)) {
		json_object_put(o);
		return rc;
	}
	json_object_object_foreach(auths, key, val)
	{
		if (!key_matches(key, domain) || !json_object_is_type(val, json_type_object))
			continue;
		const char *a = str_member(val, "auth");
		const char *u = str_member(val, "username"), *p = str_member(val, "password");
		if (a) {
			rc = decode_auth(a, user, pass);
			if (rc == -EINVAL)
				errmsg_set(err, rc, "auths.%s.auth: not base64 of user:password",
					   key);
		} else if (u && p) {
			*user = strdup(u);
			*pass = strdup(p);
			rc = *user && *pass ? 0 : -ENOMEM;
		} else {
			continue;
		}
		break;
	}
	if (rc) {
		free(*user);
		free(*pass);
		*user = *pass = NULL;
	}
	json_object_put(o);
	return rc;
}

int auth_config_load(const char *domain, char **user, char **pass, struct errmsg *err)
{
	*user = *pass = NULL;
	const char *dir = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");
	char *path = NULL;
	int w = dir && *dir ? asprintf(&path, "%s/config.json", dir)
		: home	    ? asprintf(&path, "%s/.docker/config.json", home)
			    : -2;
	if (w == -2)
		return -ENOENT;
	if (w < 0)
		return -ENOMEM;
	char *buf;
	size_t len;
	int rc = readfile(path, CONFIG_MAX, &buf, &len);
	if (rc) {
		if (rc != -ENOENT)
			errmsg_set(err, rc, "%s: %s", path, strerror(-rc));
		free(path);
		return rc;
	}
	struct errmsg e = {{0}};
	rc = auth_config_find(buf, len, domain, user, pass, &e);
	if (rc && rc != -ENOENT)
		errmsg_set(err, rc, "%s: %s", path, e.text[0] ? e.text : strerror(-rc));
	free(buf);
	free(path);
	return rc;
}
