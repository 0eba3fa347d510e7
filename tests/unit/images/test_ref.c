/* ref: docker's reference normalisation, case by case (expected values
 * follow github.com/distribution/reference's normalize_test.go and
 * reference_test.go). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "images/ref.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DG "sha256:" H64

static const struct {
	const char *in, *domain, *path, *tag, *digest, *name;
} good[] = {
    {"alpine", "docker.io", "library/alpine", "latest", "", "docker.io/library/alpine:latest"},
    {"alpine:3.19", "docker.io", "library/alpine", "3.19", "", "docker.io/library/alpine:3.19"},
    {"library/alpine:3.19", "docker.io", "library/alpine", "3.19", "",
     "docker.io/library/alpine:3.19"},
    {"docker.io/alpine", "docker.io", "library/alpine", "latest", "",
     "docker.io/library/alpine:latest"},
    {"index.docker.io/alpine", "docker.io", "library/alpine", "latest", "",
     "docker.io/library/alpine:latest"},
    {"docker.io/library/alpine", "docker.io", "library/alpine", "latest", "",
     "docker.io/library/alpine:latest"},
    {"user/repo", "docker.io", "user/repo", "latest", "", "docker.io/user/repo:latest"},
    {"user/repo/sub", "docker.io", "user/repo/sub", "latest", "", "docker.io/user/repo/sub:latest"},
    {"registry.example:5000/team/app@" DG, "registry.example:5000", "team/app", NULL, DG,
     "registry.example:5000/team/app@" DG},
    {"registry.example/app", "registry.example", "app", "latest", "",
     "registry.example/app:latest"},
    {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"},
    {"localhost:5000/app:v1", "localhost:5000", "app", "v1", "", "localhost:5000/app:v1"},
    {"127.0.0.1:5000/a/b:c", "127.0.0.1:5000", "a/b", "c", "", "127.0.0.1:5000/a/b:c"},
    {"[::1]:5000/app", "[::1]:5000", "app", "latest", "", "[::1]:5000/app:latest"},
    {"Host/app", "Host", "app", "latest", "", "Host/app:latest"}, /* upper case: a domain */
    {"alpine:3.19@" DG, "docker.io", "library/alpine", "3.19", DG, "docker.io/library/alpine@" DG},
    {"alpine@" DG, "docker.io", "library/alpine", NULL, DG, "docker.io/library/alpine@" DG},
    {"a/b:TAG_with.Mixed-Case", "docker.io", "a/b", "TAG_with.Mixed-Case", "",
     "docker.io/a/b:TAG_with.Mixed-Case"},
    {"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", "",
     "docker.io/library/foo_bar.com:8080"},
    {"localhost:5000", "docker.io", "library/localhost", "5000", "",
     "docker.io/library/localhost:5000"},
    {"a__b/c-d--e/f.g", "docker.io", "a__b/c-d--e/f.g", "latest", "",
     "docker.io/a__b/c-d--e/f.g:latest"},
    {"my-registry.local/x", "my-registry.local", "x", "latest", "", "my-registry.local/x:latest"},
    {"x:_ok", "docker.io", "library/x", "_ok", "", "docker.io/library/x:_ok"},
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct image_ref r;
		struct errmsg err = {{0}};
		int rc = ref_parse(good[i].in, &r, &err);
		if (rc)
			fail_msg("%s: %s", good[i].in, err.text);
		assert_string_equal(r.domain, good[i].domain);
		assert_string_equal(r.path, good[i].path);
		if (good[i].tag)
			assert_string_equal(r.tag, good[i].tag);
		else
			assert_null(r.tag);
		assert_string_equal(r.digest, good[i].digest);
		assert_string_equal(r.name, good[i].name);
		/* normalising is idempotent */
		struct image_ref r2;
		assert_int_equal(ref_parse(r.name, &r2, &err), 0);
		assert_string_equal(r2.name, r.name);
		ref_free(&r2);
		ref_free(&r);
	}
}

static const struct {
	const char *in, *msg;
} bad[] = {
    {"", "empty"},
    {"Alpine", "lower-case"},
    {"user/Repo", "lower-case"},
    {"registry.example/Team/app", "lower-case"},
    {H64, "image id"},
    {"alpine:", "invalid tag"},
    {"alpine:.x", "invalid tag"},
    {"alpine:-x", "invalid tag"},
    {"alpine:a/b", "registry host"}, /* a ":" before the last "/" is a port */
    {"alpine@sha256:abc", "malformed digest"},
    {"alpine@sha512:" H64, "unsupported digest algorithm 'sha512'"},
    {"alpine@" DG "@" DG, "malformed digest"},
    {"alpine@sha256:"
     "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     "malformed digest"},
    {"-alpine", "component"},
    {"alpine-", "component"},
    {"a..b", "component"},
    {"a___b", "component"},
    {"a//b", "component"},
    {"a/", "component"},
    {"registry.example/", "no repository"},
    {"registry.example:99999/app", "registry host"},
    {"registry.example:/app", "registry host"},
    {"-bad.host/app", "registry host"},
    {"bad-.host/app", "registry host"},
    {"bad..host/app", "registry host"},
    {"[::1/app", "registry host"},
    {"[zz::1]:5000/app", "registry host"},
    {"https://registry.example/app", "registry host"},
    {"a b", "component"},
    {"a/b c:1", "component"},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image_ref r;
		struct errmsg err = {{0}};
		int rc = ref_parse(bad[i].in, &r, &err);
		if (rc != -EINVAL)
			fail_msg("'%s' parsed (rc %d) but should not", bad[i].in, rc);
		if (!strstr(err.text, bad[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, err.text, bad[i].msg);
		assert_null(r.name);
		assert_null(r.domain);
	}
}

static void test_limits(void **state)
{
	(void)state;
	char buf[600];
	struct image_ref r;
	struct errmsg err;
	/* a tag of 128 characters is fine, 129 is not */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "a:");
	memset(buf + 2, 't', 128);
	assert_int_equal(ref_parse(buf, &r, &err), 0);
	ref_free(&r);
	buf[2 + 128] = 't';
	assert_int_equal(ref_parse(buf, &r, &err), -EINVAL);
	/* the normalised name may be 255 characters: docker.io/ + 245 */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "u/");
	memset(buf + 2, 'n', 243);
	assert_int_equal(ref_parse(buf, &r, &err), 0);
	assert_int_equal(strlen(r.domain) + 1 + strlen(r.path), 255);
	ref_free(&r);
	buf[2 + 243] = 'n';
	assert_int_equal(ref_parse(buf, &r, &err), -EINVAL);
	assert_non_null(strstr(err.text, "longer than 255"));
	/* library/ counts: "docker.io/library/" + 237 is 255 */
	memset(buf, 0, sizeof(buf));
	memset(buf, 'n', 237);
	assert_int_equal(ref_parse(buf, &r, &err), 0);
	ref_free(&r);
	buf[237] = 'n';
	assert_int_equal(ref_parse(buf, &r, &err), -EINVAL);
	/* huge input is refused before any work */
	char *big = malloc(100000);
	memset(big, 'a', 99999);
	big[99999] = '\0';
	assert_int_equal(ref_parse(big, &r, &err), -EINVAL);
	assert_non_null(strstr(err.text, "too long"));
	free(big);
	/* port bounds */
	assert_int_equal(ref_parse("h:65535/a", &r, &err), 0);
	ref_free(&r);
	assert_int_equal(ref_parse("h:65536/a", &r, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
