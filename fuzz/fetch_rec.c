/* Fuzz the records between a pull's halves (images/fetch_rec.c): the
 * answer hull-fetch writes and the privileged parent decodes, and the
 * request the parent sends. Beyond memory safety: a decoded answer has its
 * lengths within the parent's buffers, every digest whole, a media type of
 * its kind and only layer kinds; a decoded request every string
 * terminated in its field and its blob entries within the limits (what
 * pull.c and fetch_work.c rely on without checking again).
 *
 * Input: the first byte's low bit picks the decoder (1: the answer), the
 * rest is the record. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "images/fetch_rec.h"
#include "images/oci_json.h"
#include "images/registry.h"

static bool whole_digest(const char *d)
{
	return strnlen(d, DIGEST_STR_LEN) == DIGEST_STR_LEN - 1 && !strncmp(d, "sha256:", 7);
}

static void answer(const uint8_t *data, size_t size)
{
	struct fetchres *a = NULL;
	struct errmsg err = {{0}};
	int rc = fetchres_decode(data, size, &a, &err);
	if (rc) {
		FZ_CHECK(!a && rc == -EBADMSG &&
			 strnlen(err.text, sizeof(err.text)) < sizeof(err.text));
		return;
	}
	FZ_CHECK(a && fetchres_size(a->n_layers) == size && a->n_layers <= OCI_MAX_LAYERS);
	FZ_CHECK(a->top_len >= 1 && a->top_len <= REGISTRY_MANIFEST_MAX);
	FZ_CHECK(a->man_len <= REGISTRY_MANIFEST_MAX);
	FZ_CHECK(a->config_size >= 1 && a->config_size <= OCI_JSON_MAX);
	FZ_CHECK(whole_digest(a->top_digest) && whole_digest(a->config_digest));
	FZ_CHECK(a->top_kind == OCI_KIND_MANIFEST ? !a->man_len && !a->man_digest[0]
						  : whole_digest(a->man_digest) && a->man_len);
	FZ_CHECK(oci_media_kind(a->top_mt) == (enum oci_kind)a->top_kind);
	for (uint32_t i = 0; i < a->n_layers; i++)
		FZ_CHECK(whole_digest(a->layers[i].digest) &&
			 (a->layers[i].kind == OCI_KIND_LAYER_TAR ||
			  a->layers[i].kind == OCI_KIND_LAYER_GZIP ||
			  a->layers[i].kind == OCI_KIND_LAYER_ZSTD));
	free(a);
}

static void request(const uint8_t *data, size_t size)
{
	struct fetchreq *q = NULL;
	struct errmsg err = {{0}};
	int rc = fetchreq_decode(data, size, &q, &err);
	if (rc) {
		FZ_CHECK(!q && rc == -EBADMSG &&
			 strnlen(err.text, sizeof(err.text)) < sizeof(err.text));
		return;
	}
	FZ_CHECK(q && fetchreq_size(q->n_blobs) == size);
	FZ_CHECK(q->mode == FETCH_RESOLVE ? !q->n_blobs && q->ref[0] && q->max_bytes
					  : q->n_blobs >= 1 && q->n_blobs <= OCI_MAX_LAYERS);
	FZ_CHECK(strnlen(q->domain, FETCH_DOMAIN_MAX) < FETCH_DOMAIN_MAX && q->domain[0] &&
		 strnlen(q->repo, FETCH_REPO_MAX) < FETCH_REPO_MAX && q->repo[0] &&
		 strnlen(q->ref, FETCH_REF_MAX) < FETCH_REF_MAX &&
		 strnlen(q->user, FETCH_USER_MAX) < FETCH_USER_MAX &&
		 strnlen(q->pass, FETCH_PASS_MAX) < FETCH_PASS_MAX);
	FZ_CHECK(q->n_insecure <= FETCH_INSECURE_MAX);
	for (uint32_t i = 0; i < q->n_insecure; i++)
		FZ_CHECK(strnlen(q->insecure[i], FETCH_DOMAIN_MAX) < FETCH_DOMAIN_MAX);
	for (uint32_t i = 0; i < q->n_blobs; i++) {
		const struct fetchreq_blob *b = &q->blobs[i];
		FZ_CHECK(whole_digest(b->digest));
		FZ_CHECK(b->of ? b->layer < b->of && b->of <= OCI_MAX_LAYERS
			       : !b->layer && b->size <= OCI_JSON_MAX);
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
