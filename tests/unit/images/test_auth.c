/* auth: WWW-Authenticate challenges, token URLs and answers, docker config
 * credentials. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/auth.h"
#include "ocitest.h"

static struct errmsg err;

static void test_bearer(void **state)
{
	(void)state;
	struct auth_challenge c;
	assert_int_equal(
	    auth_challenge_parse(
		"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		"scope=\"repository:library/alpine:pull\"",
		&c, &err),
	    0);
	assert_int_equal(c.scheme, AUTH_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/alpine:pull");
	auth_challenge_free(&c);

	/* case, spaces around '=' and ',', unquoted tokens, unknown params,
	 * escapes in quoted strings */
	assert_int_equal(auth_challenge_parse("bEaReR  Realm = \"http://h:1/t?x=1\" , ERROR="
					      "\"insufficient_scope\",service=reg ,"
					      "scope=\"repository:a/b:pull,push \\\"q\\\"\"",
					      &c, &err),
			 0);
	assert_int_equal(c.scheme, AUTH_BEARER);
	assert_string_equal(c.realm, "http://h:1/t?x=1");
	assert_string_equal(c.service, "reg");
	assert_string_equal(c.scope, "repository:a/b:pull,push \"q\"");
	char *url = auth_token_url(&c, "ignored");
	assert_string_equal(url, "http://h:1/t?x=1&service=reg&scope=repository%3Aa%2Fb%3Apull%"
				 "2Cpush%20%22q%22");
	free(url);
	auth_challenge_free(&c);

	/* no scope in the challenge: the default; no service: omitted */
	assert_int_equal(auth_challenge_parse("Bearer realm=\"https://t/token\"", &c, &err), 0);
	assert_null(c.service);
	url = auth_token_url(&c, "repository:x/y:pull");
	assert_string_equal(url, "https://t/token?scope=repository%3Ax%2Fy%3Apull");
	free(url);
	auth_challenge_free(&c);
}

static void test_several(void **state)
{
	(void)state;
	struct auth_challenge c;
	/* Bearer is preferred whatever the order; other schemes are skipped */
	assert_int_equal(auth_challenge_parse("Basic realm=\"r\", Negotiate, Bearer "
					      "realm=\"https://t/\",service=\"s\"",
					      &c, &err),
			 0);
	assert_int_equal(c.scheme, AUTH_BEARER);
	assert_string_equal(c.service, "s");
	auth_challenge_free(&c);
	assert_int_equal(auth_challenge_parse("Digest realm=\"x\", nonce=\"y\", Basic "
					      "realm=\"Registry Realm\"",
					      &c, &err),
			 0);
	assert_int_equal(c.scheme, AUTH_BASIC);
	assert_string_equal(c.realm, "Registry Realm");
	auth_challenge_free(&c);
	assert_int_equal(auth_challenge_parse("Basic", &c, &err), 0);
	assert_int_equal(c.scheme, AUTH_BASIC);
	assert_null(c.realm);
	auth_challenge_free(&c);
}

static void test_bad_challenges(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    NULL,
	    "",
	    "Negotiate",
	    "Digest realm=\"x\"",
	    "Bearer",			 /* no realm */
	    "Bearer realm=\"ftp://x/\"", /* not http(s) */
	    "Bearer realm=\"file:///etc\"",
	    "Bearer realm=\"https://t/", /* unterminated */
	    "Bearer realm=",
	    "Bearer realm=,service=x",
	    "=x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct auth_challenge c;
		memset(&err, 0, sizeof(err));
		if (auth_challenge_parse(bad[i], &c, &err) != -EINVAL)
			fail_msg("challenge '%s' accepted", bad[i] ? bad[i] : "(null)");
		assert_true(err.text[0] != '\0');
		assert_null(c.realm);
	}
}

static void test_token(void **state)
{
	(void)state;
	char *t;
	const char *a = "{\"token\":\"abc.def\",\"expires_in\":300}";
	assert_int_equal(auth_token_parse(a, strlen(a), &t, &err), 0);
	assert_string_equal(t, "abc.def");
	free(t);
	const char *b = "{\"access_token\":\"xyz\"}";
	assert_int_equal(auth_token_parse(b, strlen(b), &t, &err), 0);
	assert_string_equal(t, "xyz");
	free(t);
	const char *bads[] = {"{}",
			      "[]",
			      "{\"token\":7}",
			      "{\"token\":\"\"}",
			      "not json",
			      "{\"token\":\"a\\r\\nX-Evil: 1\"}"};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		assert_int_equal(auth_token_parse(bads[i], strlen(bads[i]), &t, &err), -EINVAL);
}

static void test_config(void **state)
{
	(void)state;
	char *u, *p;
	/* "alice:s3cr:et" base64; and a username/password pair */
	const char *cfg = "{\"auths\":{"
			  "\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6czNjcjpldA==\"},"
			  "\"registry.example:5000\":{\"username\":\"bob\",\"password\":\"pw\"},"
			  "\"http://other.example/v2/\":{\"auth\":\"Y2Fyb2w6eA==\"},"
			  "\"broken.example\":{\"auth\":\"!!!!\"},"
			  "\"nocolon.example\":{\"auth\":\"YWJj\"}},"
			  "\"credsStore\":\"desktop\"}";
	size_t n = strlen(cfg);
	assert_int_equal(auth_config_find(cfg, n, "docker.io", &u, &p, &err), 0);
	assert_string_equal(u, "alice");
	assert_string_equal(p, "s3cr:et");
	free(u);
	free(p);
	assert_int_equal(auth_config_find(cfg, n, "registry.example:5000", &u, &p, &err), 0);
	assert_string_equal(u, "bob");
	assert_string_equal(p, "pw");
	free(u);
	free(p);
	assert_int_equal(auth_config_find(cfg, n, "other.example", &u, &p, &err), 0);
	assert_string_equal(u, "carol");
	assert_string_equal(p, "x");
	free(u);
	free(p);
	assert_int_equal(auth_config_find(cfg, n, "registry.example", &u, &p, &err), -ENOENT);
	assert_null(u);
	assert_int_equal(auth_config_find(cfg, n, "unknown", &u, &p, &err), -ENOENT);
	assert_int_equal(auth_config_find(cfg, n, "broken.example", &u, &p, &err), -EINVAL);
	assert_non_null(strstr(err.text, "broken.example"));
	assert_int_equal(auth_config_find(cfg, n, "nocolon.example", &u, &p, &err), -EINVAL);
	/* all padding (fuzz/auth_config.c found it: a write before the buffer)
	 * and three pad characters are not base64 */
	static const char pads[] = "{\"auths\":{\"[::1]:5000\":{\"auth\":\"====\"},"
				   "\"[::1]:5001\":{\"auth\":\"Y===\"}}}";
	assert_int_equal(auth_config_find(pads, strlen(pads), "[::1]:5000", &u, &p, &err), -EINVAL);
	assert_int_equal(auth_config_find(pads, strlen(pads), "[::1]:5001", &u, &p, &err), -EINVAL);
	assert_int_equal(auth_config_find("{}", 2, "docker.io", &u, &p, &err), -ENOENT);
	assert_int_equal(auth_config_find("[1]", 3, "docker.io", &u, &p, &err), -EINVAL);

	/* loading: $DOCKER_CONFIG/config.json, else none */
	char *dir = tmpdir_new();
	char path[4096];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_file(path, cfg, n);
	setenv("DOCKER_CONFIG", dir, 1);
	assert_int_equal(auth_config_load("registry.example:5000", &u, &p, &err), 0);
	assert_string_equal(u, "bob");
	free(u);
	free(p);
	unlink(path);
	assert_int_equal(auth_config_load("registry.example:5000", &u, &p, &err), -ENOENT);
	write_file(path, "{", 1);
	assert_int_equal(auth_config_load("registry.example:5000", &u, &p, &err), -EINVAL);
	assert_non_null(strstr(err.text, "config.json"));
	unsetenv("DOCKER_CONFIG");
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bearer),	   cmocka_unit_test(test_several),
	    cmocka_unit_test(test_bad_challenges), cmocka_unit_test(test_token),
	    cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
