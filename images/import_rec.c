#include "images/import_rec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/import.h"
#include "images/oci_json.h"
#include "images/recfield.h"

struct impreq *impreq_new(size_t n_blobs)
{
	struct impreq *r = calloc(1, impreq_size(n_blobs));
	if (r) {
		r->magic = IMPREQ_MAGIC;
		r->n_blobs = (uint32_t)n_blobs;
	}
	return r;
}

struct impres *impres_new(size_t n_images, size_t n_blobs)
{
	struct impres *r = calloc(1, impres_size(n_images, n_blobs));
	if (r) {
		r->magic = IMPRES_MAGIC;
		r->n_images = (uint32_t)n_images;
		r->n_blobs = (uint32_t)n_blobs;
	}
	return r;
}

static int bad(struct errmsg *err, const char *rec, const char *field, const char *problem)
{
	return errmsg_set(err, -EBADMSG, "hull-import: %s: %s: %s", rec, field, problem);
}

/* What is wrong with blob entry b (NULL: nothing); docs_len bounds an
 * inline one's bytes. */
static const char *blob_problem(const struct imp_blob *b, uint64_t docs_len)
{
	if (!recfield_is_digest(b->digest))
		return "not a sha256 digest";
	if (b->pad)
		return "pad not zero";
	if (!recfield_terminated(b->label, sizeof(b->label)) || !b->label[0])
		return "label empty or not terminated";
	switch (b->src) {
	case IMPORT_SRC_INLINE:
		if (b->size > OCI_JSON_MAX || b->off > docs_len || b->size > docs_len - b->off)
			return "inline bytes out of range";
		return recfield_all_zero(b->member, sizeof(b->member)) ? NULL : "member set inline";
	case IMPORT_SRC_BLOB:
		if (b->off)
			return "off set for an archive blob";
		return recfield_all_zero(b->member, sizeof(b->member)) ? NULL
								       : "member set for a blob";
	case IMPORT_SRC_MEMBER:
		if (b->off)
			return "off set for a member";
		return recfield_terminated(b->member, sizeof(b->member)) && b->member[0]
			   ? NULL
			   : "member empty or not terminated";
	default:
		return "not a source";
	}
}

static int bad_entry(struct errmsg *err, const char *rec, const char *what, uint32_t i,
		     const char *problem)
{
	char field[32];
	snprintf(field, sizeof(field), "%s[%u]", what, i);
	return bad(err, rec, field, problem);
}

#define RQ "request"

int impreq_decode(const void *buf, size_t len, struct impreq **out, struct errmsg *err)
{
	*out = NULL;
	struct impreq h;
	if (len < sizeof(h))
		return bad(err, RQ, "length", "shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (h.magic != IMPREQ_MAGIC)
		return bad(err, RQ, "magic", "not an import request");
	if (h.mode != IMPORT_LIST && h.mode != IMPORT_COPY)
		return bad(err, RQ, "mode", "neither list nor copy");
	if (h.mode == IMPORT_LIST ? h.n_blobs != 0 : h.n_blobs < 1 || h.n_blobs > IMPORT_BLOBS_MAX)
		return bad(err, RQ, "n_blobs", "out of range");
	if (len != impreq_size(h.n_blobs))
		return bad(err, RQ, "length", "not that of its blobs");
	if (h.pad)
		return bad(err, RQ, "pad", "not zero");
	if (!recfield_terminated(h.path, sizeof(h.path)) || !h.path[0])
		return bad(err, RQ, "path", "empty or not terminated");
	if (!recfield_terminated(h.name, sizeof(h.name)))
		return bad(err, RQ, "name", "not terminated");
	struct impreq *r = malloc(len);
	if (!r)
		return -ENOMEM;
	memcpy(r, buf, len);
	for (uint32_t i = 0; i < r->n_blobs; i++) {
		const char *problem = blob_problem(&r->blobs[i], 0);
		if (!problem && r->blobs[i].src == IMPORT_SRC_INLINE)
			problem = "inline: the parent stores it";
		if (problem) {
			free(r);
			return bad_entry(err, RQ, "blobs", i, problem);
		}
	}
	*out = r;
	return 0;
}

#define RS "answer"

static const char *image_problem(const struct imp_image *m)
{
	if (!recfield_terminated(m->ref, sizeof(m->ref)) || !m->ref[0])
		return "ref empty or not terminated";
	if (!recfield_is_digest(m->digest))
		return "not a sha256 digest";
	if (!recfield_terminated(m->mt, sizeof(m->mt)))
		return "mt not terminated";
	enum oci_kind k = oci_media_kind(m->mt);
	if (m->mt[0] && k != OCI_KIND_MANIFEST && k != OCI_KIND_INDEX)
		return "mt neither a manifest's nor an index's";
	if (m->size < 1 || m->size > OCI_JSON_MAX)
		return "size out of range";
	return NULL;
}

int impres_decode(const void *buf, size_t len, struct impres **out, struct errmsg *err)
{
	*out = NULL;
	struct impres h;
	if (len < sizeof(h))
		return bad(err, RS, "length", "shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (h.magic != IMPRES_MAGIC)
		return bad(err, RS, "magic", "not an import answer");
	if (h.format != IMPORT_OCI_LAYOUT && h.format != IMPORT_OCI_ARCHIVE &&
	    h.format != IMPORT_DOCKER_ARCHIVE)
		return bad(err, RS, "format", "not a format");
	if (h.n_images < 1 || h.n_images > IMPORT_IMAGES_MAX)
		return bad(err, RS, "n_images", "out of range");
	if (h.n_blobs > IMPORT_BLOBS_MAX)
		return bad(err, RS, "n_blobs", "out of range");
	if (len != impres_size(h.n_images, h.n_blobs))
		return bad(err, RS, "length", "not that of its images and blobs");
	if (h.docs_len > IMPORT_DOCS_MAX)
		return bad(err, RS, "docs_len", "out of range");
	struct impres *r = malloc(len);
	if (!r)
		return -ENOMEM;
	memcpy(r, buf, len);
	int rc = 0;
	for (uint32_t i = 0; !rc && i < r->n_images; i++) {
		const char *problem = image_problem(&impres_images(r)[i]);
		if (problem)
			rc = bad_entry(err, RS, "images", i, problem);
	}
	for (uint32_t i = 0; !rc && i < r->n_blobs; i++) {
		const char *problem = blob_problem(&impres_blobs(r)[i], r->docs_len);
		if (problem)
			rc = bad_entry(err, RS, "blobs", i, problem);
	}
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}
