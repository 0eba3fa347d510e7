#include "images/convert_req.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci_json.h"

#define MIB (1ull << 20)

struct convreq *convreq_new(size_t n_layers)
{
	struct convreq *r = calloc(1, convreq_size(n_layers));
	if (r) {
		r->magic = CONVREQ_MAGIC;
		r->n_layers = (uint32_t)n_layers;
	}
	return r;
}

static int bad(struct errmsg *err, const char *field, const char *problem)
{
	return errmsg_set(err, -EBADMSG, "hull-convert: request: %s: %s", field, problem);
}

static int check_digest(const char *s, const char *field, struct errmsg *err)
{
	struct errmsg e2 = {{0}};
	if (!memchr(s, '\0', DIGEST_STR_LEN) || digest_parse(s, NULL, field, &e2))
		return bad(err, field, "not a sha256 digest");
	return 0;
}

static int check_layer(const struct convreq *r, uint32_t i, size_t nfds, struct errmsg *err)
{
	const struct convreq_layer *l = &r->layers[i];
	char field[40];
	snprintf(field, sizeof(field), "layers[%u].digest", i);
	int rc = check_digest(l->digest, field, err);
	snprintf(field, sizeof(field), "layers[%u].diff_id", i);
	if (!rc)
		rc = check_digest(l->diff_id, field, err);
	snprintf(field, sizeof(field), "layers[%u]", i);
	if (!rc && l->kind != OCI_KIND_LAYER_TAR && l->kind != OCI_KIND_LAYER_GZIP &&
	    l->kind != OCI_KIND_LAYER_ZSTD)
		rc = bad(err, field, "not a layer kind");
	if (!rc && l->fd >= nfds)
		rc = bad(err, field, "fd index out of range");
	if (!rc && l->fd == r->image_fd)
		rc = bad(err, field, "read from the image's fd");
	if (!rc && r->archive && l->fd != r->layers[0].fd)
		rc = bad(err, field, "not in the archive's fd");
	return rc;
}

int convreq_decode(const void *buf, size_t len, size_t nfds, struct convreq **out,
		   struct errmsg *err)
{
	*out = NULL;
	struct convreq h;
	if (len < sizeof(h))
		return bad(err, "length", "shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (h.magic != CONVREQ_MAGIC)
		return bad(err, "magic", "not a conversion request");
	if (h.n_layers < 1 || h.n_layers > OCI_MAX_LAYERS)
		return bad(err, "n_layers", "out of range");
	if (len != convreq_size(h.n_layers))
		return bad(err, "length", "not that of its layers");
	if (h.archive > 1 || h.pad)
		return bad(err, "archive", "neither 0 nor 1");
	if (h.image_fd >= nfds)
		return bad(err, "image_fd", "fd index out of range");
	if (!memchr(h.path, '\0', sizeof(h.path)) || !h.path[0])
		return bad(err, "path", "empty or not terminated");
	if (!memchr(h.source, '\0', sizeof(h.source)))
		return bad(err, "source", "not terminated");
	if (h.cap > CONVREQ_FS_MAX || h.size < MIB || h.size > h.cap)
		return bad(err, "size", "out of range");
	if (h.inodes < 1 || h.inodes > CONVREQ_INODES_MAX)
		return bad(err, "inodes", "out of range");
	if (!h.max_bytes || !h.max_entries)
		return bad(err, "limits", "zero");
	struct convreq *r = malloc(len);
	if (!r)
		return -ENOMEM;
	memcpy(r, buf, len);
	for (uint32_t i = 0; i < r->n_layers; i++) {
		int rc = check_layer(r, i, nfds, err);
		if (rc) {
			free(r);
			return rc;
		}
	}
	*out = r;
	return 0;
}
