/* auth: the pieces of registry authentication that are pure parsing, kept
 * apart from the HTTP client so they can be unit-tested.
 *
 * Contract
 * - auth_challenge_parse() reads a WWW-Authenticate header value (RFC 7235:
 *   one or more challenges, each a scheme and comma-separated auth-params,
 *   values as tokens or quoted strings with \-escapes; scheme and parameter
 *   names are case-insensitive). It picks Bearer over Basic; other schemes
 *   are skipped. -EINVAL (err set) for a malformed header, for none of the
 *   two schemes, or for a Bearer challenge without an http(s) realm.
 * - auth_token_url() builds "<realm>?service=..&scope=.." with both values
 *   URL-escaped (service omitted when the challenge has none; scope from the
 *   challenge, else default_scope).
 * - auth_token_parse() takes a token server's JSON answer: "token", else
 *   "access_token" (both are allowed by the distribution token spec).
 * - auth_config_find() looks up a registry's credentials in the JSON of a
 *   docker config file ("auths": {"<host>": {"auth": base64("user:pass")}}
 *   or "username"/"password"). Keys may carry a scheme and a path
 *   ("https://index.docker.io/v1/"); docker.io also matches its historical
 *   names. -ENOENT when there is no entry. credsStore/credHelpers (external
 *   programs) are not run.
 * - auth_config_load() reads $DOCKER_CONFIG/config.json, else
 *   ~/.docker/config.json, and calls auth_config_find(); a missing file is
 *   -ENOENT, like a missing entry.
 * Strings returned are malloc'd. */
#ifndef HULL_IMAGES_AUTH_H
#define HULL_IMAGES_AUTH_H

#include <stddef.h>

#include "common/errmsg.h"

enum auth_scheme { AUTH_NONE = 0, AUTH_BASIC, AUTH_BEARER };

struct auth_challenge {
	enum auth_scheme scheme;
	char *realm; /* may be NULL for Basic */
	char *service;
	char *scope;
};

int auth_challenge_parse(const char *header, struct auth_challenge *c, struct errmsg *err);
void auth_challenge_free(struct auth_challenge *c);

char *auth_token_url(const struct auth_challenge *c, const char *default_scope);

int auth_token_parse(const char *json, size_t len, char **token, struct errmsg *err);

int auth_config_find(const char *json, size_t len, const char *domain, char **user, char **pass,
		     struct errmsg *err);
int auth_config_load(const char *domain, char **user, char **pass, struct errmsg *err);

#endif
