/* import_rec: hull-import's request and answer (images/import_rec.h) on
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

#include "images/import.h"
#include "images/import_rec.h"
#include "images/oci_json.h"
#include "rectest.h"

static const char *D1 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char *D2 = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

static int req_dec(const void *b, size_t n, void **o, struct errmsg *e)
{
	return impreq_decode(b, n, (struct impreq **)o, e);
}
static int res_dec(const void *b, size_t n, void **o, struct errmsg *e)
{
	return impres_decode(b, n, (struct impres **)o, e);
}

/* decode (request or answer): rectest_decode() */
static const char *decode(int answer, const void *rec, size_t len, char *text)
{
	return rectest_decode(answer ? res_dec : req_dec, rec, len, text);
}

static void set_blob(struct imp_blob *b, const char *digest, uint32_t src)
{
	strcpy(b->digest, digest);
	b->size = 1000;
	b->src = src;
	if (src == IMPORT_SRC_MEMBER)
		strcpy(b->member, "abc/layer.tar");
	strcpy(b->label, "layer 1");
}

static struct impreq *req_copy(void)
{
	struct impreq *q = impreq_new(2);
	assert_non_null(q);
	q->mode = IMPORT_COPY;
	strcpy(q->path, "/tmp/x.tar");
	set_blob(&q->blobs[0], D1, IMPORT_SRC_BLOB);
	set_blob(&q->blobs[1], D2, IMPORT_SRC_MEMBER);
	return q;
}

static struct impres *res_good(void)
{
	struct impres *r = impres_new(1, 3);
	assert_non_null(r);
	r->format = IMPORT_DOCKER_ARCHIVE;
	r->docs_len = 3000;
	struct imp_image *m = impres_images(r);
	strcpy(m->ref, "docker.io/library/busybox:latest");
	strcpy(m->digest, D1);
	strcpy(m->mt, "application/vnd.oci.image.manifest.v1+json");
	m->size = 500;
	struct imp_blob *b = impres_blobs(r);
	set_blob(&b[0], D1, IMPORT_SRC_INLINE);
	b[0].off = 2000;
	set_blob(&b[1], D2, IMPORT_SRC_MEMBER);
	set_blob(&b[2], D2, IMPORT_SRC_BLOB);
	return r;
}

static void test_good(void **state)
{
	(void)state;
	char t[sizeof(struct errmsg)];
	struct impreq *q = req_copy();
	assert_string_equal(decode(0, q, impreq_size(2), t), "");
	free(q);
	q = impreq_new(0);
	q->mode = IMPORT_LIST;
	strcpy(q->path, "x.tar");
	strcpy(q->name, "team/app:1");
	assert_string_equal(decode(0, q, impreq_size(0), t), "");
	free(q);
	struct impres *r = res_good();
	assert_string_equal(decode(1, r, impres_size(1, 3), t), "");
	free(r);
}

/* one field of the request spoiled by fn: refused, naming the field */
static void req_bad(void (*fn)(struct impreq *), const char *want)
{
	char t[sizeof(struct errmsg)];
	struct impreq *q = req_copy();
	fn(q);
	assert_non_null(strstr(decode(0, q, impreq_size(2), t), want));
	free(q);
}
static void rq_magic(struct impreq *q)
{
	q->magic++;
}
static void rq_mode(struct impreq *q)
{
	q->mode = 3;
}
static void rq_list_blobs(struct impreq *q)
{
	q->mode = IMPORT_LIST;
}
static void rq_pad(struct impreq *q)
{
	q->pad = 1;
}
static void rq_path(struct impreq *q)
{
	memset(q->path, 'a', sizeof(q->path));
}
static void rq_nopath(struct impreq *q)
{
	q->path[0] = 0;
}
static void rq_name(struct impreq *q)
{
	memset(q->name, 'a', sizeof(q->name));
}
static void rq_inline(struct impreq *q)
{
	q->blobs[0].src = IMPORT_SRC_INLINE;
}
static void rq_digest(struct impreq *q)
{
	q->blobs[1].digest[10] = 'X';
}
static void rq_member(struct impreq *q)
{
	memset(q->blobs[1].member, 'm', IMPORT_MEMBER_MAX);
}
static void rq_label(struct impreq *q)
{
	q->blobs[0].label[0] = 0;
}
static void rq_src(struct impreq *q)
{
	q->blobs[0].src = 9;
}
static void rq_boff(struct impreq *q)
{
	q->blobs[0].off = 1;
}
static void rq_bmember(struct impreq *q)
{
	q->blobs[0].member[100] = 'x';
}

static void test_req_fields(void **state)
{
	(void)state;
	req_bad(rq_magic, "request: magic:");
	req_bad(rq_mode, "request: mode:");
	req_bad(rq_list_blobs, "request: n_blobs:");
	req_bad(rq_pad, "request: pad:");
	req_bad(rq_path, "request: path:");
	req_bad(rq_nopath, "request: path:");
	req_bad(rq_name, "request: name:");
	req_bad(rq_inline, "request: blobs[0]: inline");
	req_bad(rq_digest, "request: blobs[1]: not a sha256 digest");
	req_bad(rq_member, "request: blobs[1]: member empty or not terminated");
	req_bad(rq_label, "request: blobs[0]: label");
	req_bad(rq_src, "request: blobs[0]: not a source");
	req_bad(rq_boff, "request: blobs[0]: off set");
	req_bad(rq_bmember, "request: blobs[0]: member set");
	char t[sizeof(struct errmsg)];
	struct impreq *q = impreq_new(0);
	q->mode = IMPORT_COPY;
	strcpy(q->path, "x");
	assert_non_null(strstr(decode(0, q, impreq_size(0), t), "n_blobs"));
	q->n_blobs = IMPORT_BLOBS_MAX + 1;
	assert_non_null(strstr(decode(0, q, impreq_size(0), t), "n_blobs"));
	free(q);
}

static void res_bad(void (*fn)(struct impres *), const char *want)
{
	char t[sizeof(struct errmsg)];
	struct impres *r = res_good();
	fn(r);
	assert_non_null(strstr(decode(1, r, impres_size(1, 3), t), want));
	free(r);
}
static void rs_magic(struct impres *r)
{
	r->magic = 0;
}
static void rs_format(struct impres *r)
{
	r->format = 7;
}
static void rs_noimages(struct impres *r)
{
	r->n_images = 0;
}
static void rs_manyimages(struct impres *r)
{
	r->n_images = IMPORT_IMAGES_MAX + 1;
}
static void rs_manyblobs(struct impres *r)
{
	r->n_blobs = IMPORT_BLOBS_MAX + 1;
}
static void rs_count(struct impres *r)
{
	r->n_blobs = 2;
}
static void rs_docs(struct impres *r)
{
	r->docs_len = IMPORT_DOCS_MAX + 1ull;
}
static void rs_ref(struct impres *r)
{
	memset(impres_images(r)->ref, 'r', IMPORT_REF_MAX);
}
static void rs_noref(struct impres *r)
{
	impres_images(r)->ref[0] = 0;
}
static void rs_idigest(struct impres *r)
{
	strcpy(impres_images(r)->digest, "sha256:12");
}
static void rs_mt(struct impres *r)
{
	strcpy(impres_images(r)->mt, "text/plain");
}
static void rs_mtlong(struct impres *r)
{
	memset(impres_images(r)->mt, 'a', IMPORT_MT_MAX);
}
static void rs_size0(struct impres *r)
{
	impres_images(r)->size = 0;
}
static void rs_sizebig(struct impres *r)
{
	impres_images(r)->size = OCI_JSON_MAX + 1ull;
}
static void rs_inline_off(struct impres *r)
{
	impres_blobs(r)[0].off = 2001;
}
static void rs_inline_wrap(struct impres *r)
{
	impres_blobs(r)[0].off = ~0ull - 10;
}
static void rs_inline_big(struct impres *r)
{
	r->docs_len = IMPORT_DOCS_MAX;
	impres_blobs(r)[0].off = 0;
	impres_blobs(r)[0].size = OCI_JSON_MAX + 1ull;
}
static void rs_inline_member(struct impres *r)
{
	impres_blobs(r)[0].member[0] = 'x';
}
static void rs_bpad(struct impres *r)
{
	impres_blobs(r)[2].pad = 1;
}
static void rs_moff(struct impres *r)
{
	impres_blobs(r)[1].off = 4;
}
static void rs_nomember(struct impres *r)
{
	impres_blobs(r)[1].member[0] = 0;
}
static void rs_label(struct impres *r)
{
	memset(impres_blobs(r)[2].label, 'l', IMPORT_LABEL_MAX);
}

static void test_res_fields(void **state)
{
	(void)state;
	res_bad(rs_magic, "answer: magic:");
	res_bad(rs_format, "answer: format:");
	res_bad(rs_noimages, "answer: n_images:");
	res_bad(rs_manyimages, "answer: n_images:");
	res_bad(rs_manyblobs, "answer: n_blobs:");
	res_bad(rs_count, "answer: length:");
	res_bad(rs_docs, "answer: docs_len:");
	res_bad(rs_ref, "answer: images[0]: ref");
	res_bad(rs_noref, "answer: images[0]: ref");
	res_bad(rs_idigest, "answer: images[0]: not a sha256 digest");
	res_bad(rs_mt, "answer: images[0]: mt neither");
	res_bad(rs_mtlong, "answer: images[0]: mt not terminated");
	res_bad(rs_size0, "answer: images[0]: size");
	res_bad(rs_sizebig, "answer: images[0]: size");
	res_bad(rs_inline_off, "answer: blobs[0]: inline bytes out of range");
	res_bad(rs_inline_wrap, "answer: blobs[0]: inline bytes out of range");
	res_bad(rs_inline_big, "answer: blobs[0]: inline bytes out of range");
	res_bad(rs_inline_member, "answer: blobs[0]: member set inline");
	res_bad(rs_bpad, "answer: blobs[2]: pad not zero");
	res_bad(rs_moff, "answer: blobs[1]: off set");
	res_bad(rs_nomember, "answer: blobs[1]: member empty");
	res_bad(rs_label, "answer: blobs[2]: label");
}

/* every truncation and one byte more: refused */
static void test_lengths(void **state)
{
	(void)state;
	struct impreq *q = req_copy();
	struct impres *r = res_good();
	rectest_lengths(req_dec, q, impreq_size(2));
	rectest_lengths(res_dec, r, impres_size(1, 3));
	free(q);
	free(r);
}

/* random damage to the answer: refused, or accepted with every field
 * within the bounds the parent relies on */
static void test_damage(void **state)
{
	(void)state;
	srandom(13);
	size_t n = impres_size(1, 3);
	for (int i = 0; i < 20000; i++) {
		struct impres *r = res_good();
		unsigned char *b = (unsigned char *)r;
		for (int k = random() % 4 + 1; k > 0; k--)
			b[(size_t)random() % (random() % 2 ? n : 64)] = (unsigned char)random();
		struct impres *out = NULL;
		struct errmsg err = {{0}};
		if (!impres_decode(r, n, &out, &err)) {
			assert_int_equal(impres_size(out->n_images, out->n_blobs), n);
			assert_true(out->docs_len <= IMPORT_DOCS_MAX);
			for (uint32_t j = 0; j < out->n_blobs; j++) {
				const struct imp_blob *x = &impres_blobs(out)[j];
				assert_true(strnlen(x->label, IMPORT_LABEL_MAX) < IMPORT_LABEL_MAX);
				assert_true(strnlen(x->digest, DIGEST_STR_LEN) ==
					    DIGEST_STR_LEN - 1);
				if (x->src == IMPORT_SRC_INLINE)
					assert_true(x->off + x->size <= out->docs_len);
			}
			free(out);
		}
		free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),       cmocka_unit_test(test_req_fields),
	    cmocka_unit_test(test_res_fields), cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
