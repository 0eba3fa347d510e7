/* fetch_rec: hull-fetch's request and answer (images/fetch_rec.h) on
 * hostile input: a good record of each kind is accepted whole; each field
 * out of range, every truncation and random damage is refused (or, for
 * damage that leaves it valid, accepted within the limits), never read out
 * of bounds (ASan). The answer is what the privileged parent decodes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "images/fetch_rec.h"
#include "images/oci_json.h"
#include "images/registry.h"
#include "rectest.h"

static const char *D1 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char *D2 = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
static const char *D3 = "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static int req_dec(const void *b, size_t n, void **o, struct errmsg *e)
{
	return fetchreq_decode(b, n, (struct fetchreq **)o, e);
}
static int res_dec(const void *b, size_t n, void **o, struct errmsg *e)
{
	return fetchres_decode(b, n, (struct fetchres **)o, e);
}

/* ---- the request ---- */

static struct fetchreq *req_blobs(void)
{
	struct fetchreq *q = fetchreq_new(2);
	assert_non_null(q);
	q->mode = FETCH_BLOBS;
	strcpy(q->domain, "registry.example:5000");
	strcpy(q->repo, "team/app");
	q->creds = 1;
	strcpy(q->user, "alice");
	strcpy(q->pass, "s3cret");
	q->n_insecure = 2;
	strcpy(q->insecure[0], "registry.example:5000");
	strcpy(q->insecure[1], "127.0.0.1");
	strcpy(q->blobs[0].digest, D1); /* the config */
	q->blobs[0].size = 1234;
	strcpy(q->blobs[1].digest, D2);
	q->blobs[1].size = 1ull << 40;
	q->blobs[1].layer = 2;
	q->blobs[1].of = 3;
	return q;
}

static struct fetchreq *req_resolve(void)
{
	struct fetchreq *q = fetchreq_new(0);
	assert_non_null(q);
	q->mode = FETCH_RESOLVE;
	q->max_bytes = 16ull << 30;
	strcpy(q->domain, "docker.io");
	strcpy(q->repo, "library/alpine");
	strcpy(q->ref, "3.19");
	return q;
}

static const char *req_decode(const struct fetchreq *q, size_t len, char *text)
{
	return rectest_decode(req_dec, q, len, text);
}

static void test_req_good(void **state)
{
	(void)state;
	char t[1024];
	struct fetchreq *q = req_blobs();
	assert_string_equal(req_decode(q, fetchreq_size(2), t), "");
	q->creds = 0;
	q->user[0] = q->pass[0] = '\0';
	q->n_insecure = 0;
	memset(q->insecure, 0, sizeof(q->insecure));
	assert_string_equal(req_decode(q, fetchreq_size(2), t), "");
	free(q);
	q = req_resolve();
	assert_string_equal(req_decode(q, fetchreq_size(0), t), "");
	strcpy(q->ref, D3);
	assert_string_equal(req_decode(q, fetchreq_size(0), t), "");
	free(q);
}

static void req_expect(struct fetchreq *q, size_t len, const char *msg)
{
	char t[1024];
	assert_string_equal(req_decode(q, len, t), msg);
	free(q);
}

#define RQ "hull-fetch: request: "
static void test_req_fields(void **state)
{
	(void)state;
	size_t b2 = fetchreq_size(2), r0 = fetchreq_size(0);
	struct fetchreq *q;
	q = req_blobs(), q->magic ^= 1;
	req_expect(q, b2, RQ "magic: not a fetch request");
	q = req_blobs(), q->mode = 3;
	req_expect(q, b2, RQ "mode: neither resolve nor blobs");
	q = req_blobs(), q->n_blobs = 0;
	req_expect(q, b2, RQ "n_blobs: out of range");
	q = req_blobs(), q->n_blobs = OCI_MAX_LAYERS + 1;
	req_expect(q, b2, RQ "n_blobs: out of range");
	q = req_blobs(), q->n_blobs = 1;
	req_expect(q, b2, RQ "length: not that of its blobs");
	q = req_resolve(), q->n_blobs = 1;
	req_expect(q, r0, RQ "n_blobs: out of range");
	q = req_blobs(), q->pad = 1;
	req_expect(q, b2, RQ "pad: not zero");
	q = req_resolve(), q->max_bytes = 0;
	req_expect(q, r0, RQ "max_bytes: zero");
	q = req_blobs(), q->domain[0] = '\0';
	req_expect(q, b2, RQ "domain: empty or not terminated");
	q = req_blobs(), memset(q->domain, 'a', sizeof(q->domain));
	req_expect(q, b2, RQ "domain: empty or not terminated");
	q = req_blobs(), q->repo[0] = '\0';
	req_expect(q, b2, RQ "repo: empty or not terminated");
	q = req_blobs(), memset(q->repo, 'a', sizeof(q->repo));
	req_expect(q, b2, RQ "repo: empty or not terminated");
	q = req_resolve(), q->ref[0] = '\0';
	req_expect(q, r0, RQ "ref: empty or unterminated (resolve), set (blobs)");
	q = req_resolve(), memset(q->ref, 'a', sizeof(q->ref));
	req_expect(q, r0, RQ "ref: empty or unterminated (resolve), set (blobs)");
	q = req_blobs(), q->ref[FETCH_REF_MAX - 1] = 'x';
	req_expect(q, b2, RQ "ref: empty or unterminated (resolve), set (blobs)");
	q = req_blobs(), q->creds = 2;
	req_expect(q, b2, RQ "creds: malformed");
	q = req_blobs(), q->user[0] = '\0';
	req_expect(q, b2, RQ "creds: malformed");
	q = req_blobs(), memset(q->user, 'u', sizeof(q->user));
	req_expect(q, b2, RQ "creds: malformed");
	q = req_blobs(), memset(q->pass, 'p', sizeof(q->pass));
	req_expect(q, b2, RQ "creds: malformed");
	q = req_blobs(), q->creds = 0;
	req_expect(q, b2, RQ "creds: malformed"); /* a user without creds */
	q = req_blobs(), q->n_insecure = FETCH_INSECURE_MAX + 1;
	req_expect(q, b2, RQ "n_insecure: out of range");
	q = req_blobs(), q->n_insecure = 1;
	req_expect(q, b2, RQ "insecure: an entry empty, unterminated or extra");
	q = req_blobs(), q->n_insecure = 3;
	req_expect(q, b2, RQ "insecure: an entry empty, unterminated or extra");
	q = req_blobs(), memset(q->insecure[FETCH_INSECURE_MAX - 1], 'i', FETCH_DOMAIN_MAX);
	req_expect(q, b2, RQ "insecure: an entry empty, unterminated or extra");
	const char *blob = RQ "blobs: not a sha256 digest or a layer out of range";
	q = req_blobs(), q->blobs[1].digest[9] = 'A';
	req_expect(q, b2, blob);
	q = req_blobs(), memset(q->blobs[0].digest, 'a', DIGEST_STR_LEN);
	req_expect(q, b2, blob);
	q = req_blobs(), q->blobs[1].layer = 3;
	req_expect(q, b2, blob);
	q = req_blobs(), q->blobs[1].of = OCI_MAX_LAYERS + 1;
	req_expect(q, b2, blob);
	q = req_blobs(), q->blobs[0].layer = 1; /* a config is layer 0 of 0 */
	req_expect(q, b2, blob);
	q = req_blobs(), q->blobs[0].size = OCI_JSON_MAX + 1;
	req_expect(q, b2, blob);
}

/* ---- the answer ---- */

static struct fetchres *res_index(void)
{
	struct fetchres *a = fetchres_new(2);
	assert_non_null(a);
	a->top_kind = OCI_KIND_INDEX;
	strcpy(a->top_mt, "application/vnd.docker.distribution.manifest.list.v2+json");
	strcpy(a->top_digest, D1);
	a->top_len = 1000;
	strcpy(a->man_digest, D2);
	a->man_len = REGISTRY_MANIFEST_MAX;
	strcpy(a->config_digest, D3);
	a->config_size = 1;
	strcpy(a->layers[0].digest, D2);
	a->layers[0].size = 0;
	a->layers[0].kind = OCI_KIND_LAYER_GZIP;
	strcpy(a->layers[1].digest, D3);
	a->layers[1].size = UINT64_MAX;
	a->layers[1].kind = OCI_KIND_LAYER_ZSTD;
	return a;
}

static struct fetchres *res_manifest(void)
{
	struct fetchres *a = fetchres_new(0);
	assert_non_null(a);
	a->top_kind = OCI_KIND_MANIFEST;
	strcpy(a->top_mt, "application/vnd.oci.image.manifest.v1+json");
	strcpy(a->top_digest, D1);
	a->top_len = 1;
	strcpy(a->config_digest, D3);
	a->config_size = OCI_JSON_MAX;
	return a;
}

static const char *res_decode(const struct fetchres *a, size_t len, char *text)
{
	return rectest_decode(res_dec, a, len, text);
}

static void test_res_good(void **state)
{
	(void)state;
	char t[1024];
	struct fetchres *a = res_index();
	assert_string_equal(res_decode(a, fetchres_size(2), t), "");
	a->layers[1].kind = OCI_KIND_LAYER_TAR;
	assert_string_equal(res_decode(a, fetchres_size(2), t), "");
	free(a);
	a = res_manifest();
	assert_string_equal(res_decode(a, fetchres_size(0), t), "");
	free(a);
}

static void res_expect(struct fetchres *a, size_t len, const char *msg)
{
	char t[1024];
	assert_string_equal(res_decode(a, len, t), msg);
	free(a);
}

#define RS "hull-fetch: answer: "
static void test_res_fields(void **state)
{
	(void)state;
	size_t i2 = fetchres_size(2), m0 = fetchres_size(0);
	struct fetchres *a;
	a = res_index(), a->magic ^= 1;
	res_expect(a, i2, RS "magic: not a fetch answer");
	a = res_index(), a->n_layers = OCI_MAX_LAYERS + 1;
	res_expect(a, i2, RS "n_layers: out of range");
	a = res_index(), a->n_layers = 1;
	res_expect(a, i2, RS "length: not that of its layers");
	a = res_index(), a->pad = 1;
	res_expect(a, i2, RS "pad: not zero");
	a = res_index(), a->top_kind = OCI_KIND_CONFIG;
	res_expect(a, i2, RS "top_kind: neither an index nor a manifest");
	a = res_index(), a->top_kind = OCI_KIND_MANIFEST; /* an index's media type */
	res_expect(a, i2, RS "top_mt: not a media type of its kind");
	a = res_index(), strcpy(a->top_mt, "application/json");
	res_expect(a, i2, RS "top_mt: not a media type of its kind");
	a = res_index(), memset(a->top_mt, 'm', sizeof(a->top_mt));
	res_expect(a, i2, RS "top_mt: not a media type of its kind");
	a = res_index(), a->top_digest[8] = 'g';
	res_expect(a, i2, RS "top_digest: not a sha256 digest");
	a = res_index(), memset(a->top_digest, '0', DIGEST_STR_LEN);
	res_expect(a, i2, RS "top_digest: not a sha256 digest");
	a = res_index(), a->top_len = 0;
	res_expect(a, i2, RS "top_len: out of range");
	a = res_index(), a->top_len = REGISTRY_MANIFEST_MAX + 1;
	res_expect(a, i2, RS "top_len: out of range");
	a = res_manifest(), a->man_len = 1;
	res_expect(a, m0, RS "man_digest: set with a manifest on top");
	a = res_manifest(), a->man_digest[DIGEST_STR_LEN - 1] = 1;
	res_expect(a, m0, RS "man_digest: set with a manifest on top");
	a = res_index(), a->man_digest[0] = '\0';
	res_expect(a, i2, RS "man_digest: not a sha256 digest");
	a = res_index(), a->man_len = 0;
	res_expect(a, i2, RS "man_len: out of range");
	a = res_index(), a->man_len = REGISTRY_MANIFEST_MAX + 1;
	res_expect(a, i2, RS "man_len: out of range");
	a = res_index(), strcpy(a->config_digest, "sha512:00");
	res_expect(a, i2, RS "config_digest: not a sha256 digest");
	a = res_index(), a->config_size = 0;
	res_expect(a, i2, RS "config_size: out of range");
	a = res_index(), a->config_size = OCI_JSON_MAX + 1;
	res_expect(a, i2, RS "config_size: out of range");
	a = res_index(), a->layers[1].digest[70] = 'Z';
	res_expect(a, i2, RS "layers[1]: not a sha256 digest");
	a = res_index(), memset(a->layers[0].digest, 'a', DIGEST_STR_LEN);
	res_expect(a, i2, RS "layers[0]: not a sha256 digest");
	a = res_index(), a->layers[0].kind = OCI_KIND_CONFIG;
	res_expect(a, i2, RS "layers[0]: not a layer kind");
	a = res_index(), a->layers[1].kind = 99;
	res_expect(a, i2, RS "layers[1]: not a layer kind");
	a = res_index(), a->layers[1].pad = 1;
	res_expect(a, i2, RS "layers[1]: pad not zero");
}

/* ---- both: every truncation, one byte more, random damage ---- */

/* every other length is refused (rectest_lengths()) */
static void test_lengths(void **state)
{
	(void)state;
	struct fetchreq *q = req_blobs();
	rectest_lengths(req_dec, q, fetchreq_size(2));
	free(q);
	struct fetchres *a = res_index();
	rectest_lengths(res_dec, a, fetchres_size(2));
	free(a);
}

static bool is_digest(const char *s)
{
	return strnlen(s, DIGEST_STR_LEN) == DIGEST_STR_LEN - 1 && !strncmp(s, "sha256:", 7);
}

/* random damage: refused, or accepted with every field within bounds */
static void test_damage(void **state)
{
	(void)state;
	srandom(13);
	for (int round = 0; round < 20000; round++) {
		bool answer = round & 1;
		void *r = answer ? (void *)res_index() : (void *)req_blobs();
		size_t n = answer ? fetchres_size(2) : fetchreq_size(2);
		unsigned char *b = r;
		/* the request's strings are most of it: hit the header too */
		for (int k = random() % 4 + 1; k > 0; k--)
			b[(size_t)random() % (random() % 2 ? n : 64)] = (unsigned char)random();
		void *out = NULL;
		struct errmsg err = {{0}};
		int rc = (answer ? res_dec : req_dec)(r, n, &out, &err);
		if (!rc && answer) {
			struct fetchres *a = out;
			assert_true(a->n_layers == 2 && is_digest(a->top_digest) &&
				    is_digest(a->config_digest));
			assert_true(a->top_len >= 1 && a->top_len <= REGISTRY_MANIFEST_MAX);
			assert_true(oci_media_kind(a->top_mt) == (enum oci_kind)a->top_kind);
			for (unsigned i = 0; i < 2; i++)
				assert_true(is_digest(a->layers[i].digest) &&
					    a->layers[i].kind >= OCI_KIND_LAYER_TAR &&
					    a->layers[i].kind <= OCI_KIND_LAYER_ZSTD);
		} else if (!rc) {
			struct fetchreq *q = out;
			assert_true(q->n_blobs == 2 && q->n_insecure <= FETCH_INSECURE_MAX);
			assert_true(strnlen(q->domain, FETCH_DOMAIN_MAX) < FETCH_DOMAIN_MAX &&
				    strnlen(q->pass, FETCH_PASS_MAX) < FETCH_PASS_MAX);
			for (unsigned i = 0; i < 2; i++)
				assert_true(is_digest(q->blobs[i].digest));
		} else {
			assert_int_equal(rc, -EBADMSG);
			assert_null(out);
			assert_non_null(strstr(err.text, answer ? "hull-fetch: answer: "
								: "hull-fetch: request: "));
		}
		free(out);
		free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_req_good), cmocka_unit_test(test_req_fields),
	    cmocka_unit_test(test_res_good), cmocka_unit_test(test_res_fields),
	    cmocka_unit_test(test_lengths),  cmocka_unit_test(test_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
