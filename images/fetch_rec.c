#include "images/fetch_rec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci_json.h"
#include "images/recfield.h"
#include "images/registry.h"

struct fetchreq *fetchreq_new(size_t n_blobs)
{
	struct fetchreq *r = calloc(1, fetchreq_size(n_blobs));
	if (r) {
		r->magic = FETCHREQ_MAGIC;
		r->n_blobs = (uint32_t)n_blobs;
	}
	return r;
}

void fetchreq_blob_label(const struct fetchreq_blob *b, char *buf, size_t n)
{
	if (b->of)
		snprintf(buf, n, "layer %u/%u", b->layer + 1, b->of);
	else
		snprintf(buf, n, "config");
}

struct fetchres *fetchres_new(size_t n_layers)
{
	struct fetchres *r = calloc(1, fetchres_size(n_layers));
	if (r) {
		r->magic = FETCHRES_MAGIC;
		r->n_layers = (uint32_t)n_layers;
	}
	return r;
}

static int bad(struct errmsg *err, const char *rec, const char *field, const char *problem)
{
	return errmsg_set(err, -EBADMSG, "hull-fetch: %s: %s: %s", rec, field, problem);
}

#define RQ "request"

int fetchreq_decode(const void *buf, size_t len, struct fetchreq **out, struct errmsg *err)
{
	*out = NULL;
	struct fetchreq h;
	if (len < sizeof(h))
		return bad(err, RQ, "length", "shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (h.magic != FETCHREQ_MAGIC)
		return bad(err, RQ, "magic", "not a fetch request");
	if (h.mode != FETCH_RESOLVE && h.mode != FETCH_BLOBS)
		return bad(err, RQ, "mode", "neither resolve nor blobs");
	if (h.mode == FETCH_RESOLVE ? h.n_blobs != 0 : h.n_blobs < 1 || h.n_blobs > OCI_MAX_LAYERS)
		return bad(err, RQ, "n_blobs", "out of range");
	if (len != fetchreq_size(h.n_blobs))
		return bad(err, RQ, "length", "not that of its blobs");
	if (h.pad)
		return bad(err, RQ, "pad", "not zero");
	if (h.mode == FETCH_RESOLVE && !h.max_bytes)
		return bad(err, RQ, "max_bytes", "zero");
	if (!recfield_terminated(h.domain, sizeof(h.domain)) || !h.domain[0])
		return bad(err, RQ, "domain", "empty or not terminated");
	if (!recfield_terminated(h.repo, sizeof(h.repo)) || !h.repo[0])
		return bad(err, RQ, "repo", "empty or not terminated");
	/* the grammar is ref_parse()'s, in the parent */
	if (h.mode == FETCH_RESOLVE ? !recfield_terminated(h.ref, sizeof(h.ref)) || !h.ref[0]
				    : !recfield_all_zero(h.ref, sizeof(h.ref)))
		return bad(err, RQ, "ref", "empty or unterminated (resolve), set (blobs)");
	if (h.creds > 1 || !recfield_terminated(h.user, sizeof(h.user)) ||
	    !recfield_terminated(h.pass, sizeof(h.pass)) ||
	    (h.creds ? !h.user[0] : h.user[0] || h.pass[0]))
		return bad(err, RQ, "creds", "malformed");
	if (h.n_insecure > FETCH_INSECURE_MAX)
		return bad(err, RQ, "n_insecure", "out of range");
	for (uint32_t i = 0; i < FETCH_INSECURE_MAX; i++)
		if (!recfield_terminated(h.insecure[i], FETCH_DOMAIN_MAX) ||
		    (i < h.n_insecure) != (h.insecure[i][0] != '\0'))
			return bad(err, RQ, "insecure", "an entry empty, unterminated or extra");
	struct fetchreq *r = malloc(len);
	if (!r)
		return -ENOMEM;
	memcpy(r, buf, len);
	for (uint32_t i = 0; i < r->n_blobs; i++) {
		const struct fetchreq_blob *b = &r->blobs[i];
		bool config = !b->of && !b->layer && b->size <= OCI_JSON_MAX;
		if (!recfield_is_digest(b->digest) ||
		    (!config && (b->layer >= b->of || b->of > OCI_MAX_LAYERS))) {
			free(r);
			return bad(err, RQ, "blobs", "not a sha256 digest or a layer out of range");
		}
	}
	*out = r;
	return 0;
}

#define RS "answer"

static bool is_layer_kind(uint32_t k)
{
	return k == OCI_KIND_LAYER_TAR || k == OCI_KIND_LAYER_GZIP || k == OCI_KIND_LAYER_ZSTD;
}

int fetchres_decode(const void *buf, size_t len, struct fetchres **out, struct errmsg *err)
{
	*out = NULL;
	struct fetchres h;
	if (len < sizeof(h))
		return bad(err, RS, "length", "shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (h.magic != FETCHRES_MAGIC)
		return bad(err, RS, "magic", "not a fetch answer");
	if (h.n_layers > OCI_MAX_LAYERS)
		return bad(err, RS, "n_layers", "out of range");
	if (len != fetchres_size(h.n_layers))
		return bad(err, RS, "length", "not that of its layers");
	if (h.pad)
		return bad(err, RS, "pad", "not zero");
	if (h.top_kind != OCI_KIND_INDEX && h.top_kind != OCI_KIND_MANIFEST)
		return bad(err, RS, "top_kind", "neither an index nor a manifest");
	if (!recfield_terminated(h.top_mt, sizeof(h.top_mt)) ||
	    oci_media_kind(h.top_mt) != (enum oci_kind)h.top_kind)
		return bad(err, RS, "top_mt", "not a media type of its kind");
	if (!recfield_is_digest(h.top_digest))
		return bad(err, RS, "top_digest", "not a sha256 digest");
	if (h.top_len < 1 || h.top_len > REGISTRY_MANIFEST_MAX)
		return bad(err, RS, "top_len", "out of range");
	if (h.top_kind == OCI_KIND_MANIFEST &&
	    (h.man_len || !recfield_all_zero(h.man_digest, sizeof(h.man_digest))))
		return bad(err, RS, "man_digest", "set with a manifest on top");
	if (h.top_kind == OCI_KIND_INDEX && !recfield_is_digest(h.man_digest))
		return bad(err, RS, "man_digest", "not a sha256 digest");
	if (h.top_kind == OCI_KIND_INDEX && (h.man_len < 1 || h.man_len > REGISTRY_MANIFEST_MAX))
		return bad(err, RS, "man_len", "out of range");
	if (!recfield_is_digest(h.config_digest))
		return bad(err, RS, "config_digest", "not a sha256 digest");
	if (h.config_size < 1 || h.config_size > OCI_JSON_MAX)
		return bad(err, RS, "config_size", "out of range");
	struct fetchres *r = malloc(len);
	if (!r)
		return -ENOMEM;
	memcpy(r, buf, len);
	for (uint32_t i = 0; i < r->n_layers; i++) {
		const struct fetchres_layer *l = &r->layers[i];
		const char *problem = !recfield_is_digest(l->digest) ? "not a sha256 digest"
				      : !is_layer_kind(l->kind)	     ? "not a layer kind"
				      : l->pad			     ? "pad not zero"
								     : NULL;
		if (problem) {
			char field[32];
			snprintf(field, sizeof(field), "layers[%u]", i);
			free(r);
			return bad(err, RS, field, problem);
		}
	}
	*out = r;
	return 0;
}
