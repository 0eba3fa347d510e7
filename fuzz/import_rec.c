/* Fuzz the records between an import's halves (images/import_rec.c): the
 * answer hull-import writes and the privileged parent decodes, and the
 * request the parent sends. Beyond memory safety: a decoded answer has its
 * length that of its counts, every string terminated in its field, every
 * digest whole, an inline blob's bytes within the documents; a decoded
 * request the same for its blobs, none inline (what import.c and
 * import_work.c rely on without checking again).
 *
 * Input: the first byte's low bit picks the decoder (1: the answer), the
 * rest is the record. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "images/import_rec.h"
#include "images/oci_json.h"

static bool whole_digest(const char *d)
{
	return strnlen(d, DIGEST_STR_LEN) == DIGEST_STR_LEN - 1 && !strncmp(d, "sha256:", 7);
}

static void check_blob(const struct imp_blob *b, uint64_t docs_len)
{
	FZ_CHECK(whole_digest(b->digest) && !b->pad);
	FZ_CHECK(b->label[0] && strnlen(b->label, IMPORT_LABEL_MAX) < IMPORT_LABEL_MAX);
	FZ_CHECK(b->src == IMPORT_SRC_INLINE || b->src == IMPORT_SRC_BLOB ||
		 b->src == IMPORT_SRC_MEMBER);
	if (b->src == IMPORT_SRC_INLINE)
		FZ_CHECK(b->size <= OCI_JSON_MAX && b->off <= docs_len &&
			 b->size <= docs_len - b->off && !b->member[0]);
	if (b->src == IMPORT_SRC_MEMBER)
		FZ_CHECK(b->member[0] && strnlen(b->member, IMPORT_MEMBER_MAX) < IMPORT_MEMBER_MAX);
}

static void answer(const uint8_t *data, size_t size)
{
	struct impres *r = NULL;
	struct errmsg err = {{0}};
	int rc = impres_decode(data, size, &r, &err);
	if (rc) {
		FZ_CHECK(!r && rc == -EBADMSG &&
			 strnlen(err.text, sizeof(err.text)) < sizeof(err.text));
		return;
	}
	FZ_CHECK(r && impres_size(r->n_images, r->n_blobs) == size);
	FZ_CHECK(r->n_images >= 1 && r->n_images <= IMPORT_IMAGES_MAX &&
		 r->n_blobs <= IMPORT_BLOBS_MAX && r->docs_len <= IMPORT_DOCS_MAX);
	for (uint32_t i = 0; i < r->n_images; i++) {
		const struct imp_image *m = &impres_images(r)[i];
		FZ_CHECK(m->ref[0] && strnlen(m->ref, IMPORT_REF_MAX) < IMPORT_REF_MAX);
		FZ_CHECK(whole_digest(m->digest) && strnlen(m->mt, IMPORT_MT_MAX) < IMPORT_MT_MAX);
		FZ_CHECK(m->size >= 1 && m->size <= OCI_JSON_MAX);
	}
	for (uint32_t i = 0; i < r->n_blobs; i++)
		check_blob(&impres_blobs(r)[i], r->docs_len);
	free(r);
}

static void request(const uint8_t *data, size_t size)
{
	struct impreq *q = NULL;
	struct errmsg err = {{0}};
	int rc = impreq_decode(data, size, &q, &err);
	if (rc) {
		FZ_CHECK(!q && rc == -EBADMSG &&
			 strnlen(err.text, sizeof(err.text)) < sizeof(err.text));
		return;
	}
	FZ_CHECK(q && impreq_size(q->n_blobs) == size);
	FZ_CHECK(q->mode == IMPORT_LIST ? !q->n_blobs
					: q->n_blobs >= 1 && q->n_blobs <= IMPORT_BLOBS_MAX);
	FZ_CHECK(q->path[0] && strnlen(q->path, IMPORT_PATH_MAX) < IMPORT_PATH_MAX &&
		 strnlen(q->name, IMPORT_REF_MAX) < IMPORT_REF_MAX);
	for (uint32_t i = 0; i < q->n_blobs; i++) {
		check_blob(&q->blobs[i], 0);
		FZ_CHECK(q->blobs[i].src != IMPORT_SRC_INLINE);
	}
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		answer(data + 1, size - 1);
	else
		request(data + 1, size - 1);
	return 0;
}
