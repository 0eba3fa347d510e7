/* convert_req: hull-convert's request decoder on hostile input: a good
 * request is accepted whole; each field out of range, every truncation and
 * random damage is refused (or, for damage that leaves it valid, accepted
 * within the limits), never read out of bounds (ASan). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "images/convert_req.h"
#include "images/oci_json.h"
#include "rectest.h"

#define NFDS 3

static const char *D1 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char *D2 = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

static struct convreq *good(void)
{
	struct convreq *r = convreq_new(2);
	assert_non_null(r);
	r->image_fd = 0;
	r->size = 128ull << 20;
	r->cap = 1ull << 30;
	r->inodes = 32768;
	r->max_bytes = 16ull << 30;
	r->max_entries = 2000000;
	strcpy(r->path, "/var/lib/hull/rootfs/x.ext4.tmp.1");
	strcpy(r->source, "/var/lib/hull/oci");
	strcpy(r->layers[0].digest, D1);
	strcpy(r->layers[0].diff_id, D2);
	r->layers[0].kind = OCI_KIND_LAYER_GZIP;
	r->layers[0].fd = 1;
	strcpy(r->layers[1].digest, D2);
	strcpy(r->layers[1].diff_id, D1);
	r->layers[1].kind = OCI_KIND_LAYER_TAR;
	r->layers[1].fd = 2;
	return r;
}

static int dec(const void *b, size_t n, void **o, struct errmsg *e)
{
	return convreq_decode(b, n, NFDS, (struct convreq **)o, e);
}

/* decode r (its wire size for n layers); the error text, "" if accepted */
static const char *decode(const struct convreq *r, size_t len, char *text)
{
	return rectest_decode(dec, r, len, text);
}

static void test_good(void **state)
{
	(void)state;
	struct convreq *r = good();
	char t[256];
	assert_string_equal(decode(r, convreq_size(2), t), "");
	r->archive = 1;
	r->layers[1].fd = 1;
	assert_string_equal(decode(r, convreq_size(2), t), "");
	free(r);
}

static void expect(void (*spoil)(struct convreq *), const char *msg)
{
	struct convreq *r = good();
	char t[256];
	spoil(r);
	assert_string_equal(decode(r, convreq_size(2), t), msg);
	free(r);
}

static void s_magic(struct convreq *r)
{
	r->magic ^= 1;
}
static void s_nlayers0(struct convreq *r)
{
	r->n_layers = 0;
}
static void s_nlayers_big(struct convreq *r)
{
	r->n_layers = OCI_MAX_LAYERS + 1;
}
static void s_nlayers1(struct convreq *r)
{
	r->n_layers = 1;
}
static void s_archive(struct convreq *r)
{
	r->archive = 2;
}
static void s_pad(struct convreq *r)
{
	r->pad = 1;
}
static void s_image_fd(struct convreq *r)
{
	r->image_fd = NFDS;
}
static void s_path_empty(struct convreq *r)
{
	r->path[0] = '\0';
}
static void s_path_open(struct convreq *r)
{
	memset(r->path, 'a', sizeof(r->path));
}
static void s_source_open(struct convreq *r)
{
	memset(r->source, 'a', sizeof(r->source));
}
static void s_size_small(struct convreq *r)
{
	r->size = 4096;
}
static void s_size_over_cap(struct convreq *r)
{
	r->size = r->cap + 1;
}
static void s_cap(struct convreq *r)
{
	r->cap = CONVREQ_FS_MAX + 1;
}
static void s_inodes0(struct convreq *r)
{
	r->inodes = 0;
}
static void s_inodes_big(struct convreq *r)
{
	r->inodes = CONVREQ_INODES_MAX + 1;
}
static void s_limit0(struct convreq *r)
{
	r->max_entries = 0;
}
static void s_digest_upper(struct convreq *r)
{
	r->layers[1].digest[10] = 'A';
}
static void s_digest_open(struct convreq *r)
{
	memset(r->layers[0].digest, 'a', DIGEST_STR_LEN);
}
static void s_diff_open(struct convreq *r)
{
	memset(r->layers[1].diff_id, '0', DIGEST_STR_LEN);
}
static void s_kind(struct convreq *r)
{
	r->layers[0].kind = OCI_KIND_CONFIG;
}
static void s_layer_fd(struct convreq *r)
{
	r->layers[1].fd = NFDS;
}
static void s_layer_image(struct convreq *r)
{
	r->layers[0].fd = 0;
}
static void s_archive_fds(struct convreq *r)
{
	r->archive = 1;
}

static void test_fields(void **state)
{
	(void)state;
	expect(s_magic, "hull-convert: request: magic: not a conversion request");
	expect(s_nlayers0, "hull-convert: request: n_layers: out of range");
	expect(s_nlayers_big, "hull-convert: request: n_layers: out of range");
	expect(s_nlayers1, "hull-convert: request: length: not that of its layers");
	expect(s_archive, "hull-convert: request: archive: neither 0 nor 1");
	expect(s_pad, "hull-convert: request: archive: neither 0 nor 1");
	expect(s_image_fd, "hull-convert: request: image_fd: fd index out of range");
	expect(s_path_empty, "hull-convert: request: path: empty or not terminated");
	expect(s_path_open, "hull-convert: request: path: empty or not terminated");
	expect(s_source_open, "hull-convert: request: source: not terminated");
	expect(s_size_small, "hull-convert: request: size: out of range");
	expect(s_size_over_cap, "hull-convert: request: size: out of range");
	expect(s_cap, "hull-convert: request: size: out of range");
	expect(s_inodes0, "hull-convert: request: inodes: out of range");
	expect(s_inodes_big, "hull-convert: request: inodes: out of range");
	expect(s_limit0, "hull-convert: request: limits: zero");
	expect(s_digest_upper, "hull-convert: request: layers[1].digest: not a sha256 digest");
	expect(s_digest_open, "hull-convert: request: layers[0].digest: not a sha256 digest");
	expect(s_diff_open, "hull-convert: request: layers[1].diff_id: not a sha256 digest");
	expect(s_kind, "hull-convert: request: layers[0]: not a layer kind");
	expect(s_layer_fd, "hull-convert: request: layers[1]: fd index out of range");
	expect(s_layer_image, "hull-convert: request: layers[0]: read from the image's fd");
	expect(s_archive_fds, "hull-convert: request: layers[1]: not in the archive's fd");
}

/* every other length is refused (rectest_lengths()) */
static void test_lengths(void **state)
{
	(void)state;
	struct convreq *r = good();
	rectest_lengths(dec, r, convreq_size(2));
	free(r);
}

/* random damage: refused, or accepted with every field within bounds */
static void test_damage(void **state)
{
	(void)state;
	size_t n = convreq_size(2);
	srandom(13);
	for (int round = 0; round < 20000; round++) {
		struct convreq *r = good();
		unsigned char *b = (unsigned char *)r;
		for (int k = random() % 4 + 1; k > 0; k--)
			b[(size_t)random() % n] = (unsigned char)random();
		struct convreq *out = NULL;
		struct errmsg err = {{0}};
		int rc = convreq_decode(r, n, NFDS, &out, &err);
		if (!rc) {
			assert_true(out->image_fd < NFDS && out->n_layers == 2);
			for (unsigned i = 0; i < 2; i++)
				assert_true(out->layers[i].fd < NFDS &&
					    strlen(out->layers[i].digest) == DIGEST_STR_LEN - 1);
			assert_true(strnlen(out->path, CONVREQ_PATH_MAX) < CONVREQ_PATH_MAX);
			free(out);
		} else {
			assert_int_equal(rc, -EBADMSG);
			assert_null(out);
			assert_non_null(strstr(err.text, "hull-convert: request: "));
		}
		free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
