#include "images/convert_work.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/ext4w.h"
#include "images/fstree.h"
#include "images/layer.h"

#define MAX_ATTEMPTS 3

_Static_assert(sizeof(struct convert_stats) <= CONVPROC_OUT_MAX, "the stats come back whole");

/* The request's layers as the layer reader takes them. */
struct job {
	struct oci_source *src;
	struct oci_descriptor *d;
	const struct convreq *r;
	int fd; /* the image */
	struct image_limits lim;
};

static int build(const struct job *j, const struct ext4w_params *p, struct convproc *cp,
		 struct convert_stats *st, struct errmsg *err)
{
	const struct convreq *r = j->r;
	struct ext4w *w;
	struct fstree *t = NULL;
	int rc = ext4w_create_fd(j->fd, r->path, p, &w, err);
	if (rc)
		return rc;
	rc = fstree_new(ext4w_release, w, &t);
	struct layer_stats ls = {0};
	for (uint32_t i = 0; !rc && i < r->n_layers; i++) {
		convproc_progress(cp, i);
		rc = layer_apply(j->src, &j->d[i], (enum oci_kind)r->layers[i].kind,
				 r->layers[i].diff_id, i, &j->lim, t, w, &ls, err);
	}
	if (!rc)
		rc = ext4w_finish(w, t, err);
	if (!rc) {
		uint64_t used, total;
		uint32_t iused, itotal;
		ext4w_usage(w, &used, &total, &iused, &itotal);
		st->fs_bytes = total * 4096;
		st->used_bytes = used * 4096;
		st->inodes = iused;
		st->entries = ls.entries;
		st->tar_bytes = ls.tar_bytes;
	}
	fstree_free(t);
	ext4w_free(w);
	return rc;
}

static int attempts(const struct job *j, struct convproc *cp, struct convert_stats *st,
		    struct errmsg *err)
{
	const struct convreq *r = j->r;
	struct ext4w_params p = {.size = r->size, .inodes = r->inodes, .uuid = r->uuid};
	int rc;
	for (unsigned a = 1;; a++) {
		st->attempts = a;
		rc = build(j, &p, cp, st, err);
		if (rc != -EFBIG || a == MAX_ATTEMPTS || p.size >= r->cap)
			break;
		p.size = p.size * 4 > r->cap ? r->cap : p.size * 4;
		p.inodes = p.inodes > CONVREQ_INODES_MAX / 4 ? CONVREQ_INODES_MAX : p.inodes * 4;
	}
	return rc;
}

int convert_work(const struct convreq *r, struct convproc *cp, struct convert_stats *st,
		 struct errmsg *err)
{
	memset(st, 0, sizeof(*st));
	struct job j = {.r = r,
			.fd = CONVPROC_FD_WORK + (int)r->image_fd,
			.lim = {r->max_bytes, r->max_entries}};
	j.d = calloc(r->n_layers, sizeof(*j.d));
	if (!j.d)
		return -ENOMEM;
	int rc = oci_source_sealed(
	    r->source, r->archive ? CONVPROC_FD_WORK + (int)r->layers[0].fd : -1, &j.src);
	for (uint32_t i = 0; !rc && i < r->n_layers; i++) {
		memcpy(j.d[i].digest, r->layers[i].digest, DIGEST_STR_LEN);
		j.d[i].size = r->layers[i].size;
		if (!r->archive)
			rc = oci_source_add_fd(j.src, r->layers[i].digest,
					       CONVPROC_FD_WORK + (int)r->layers[i].fd);
	}
	if (rc)
		errmsg_set(err, rc, "hull-convert: the layers' fds: %s", strerror(-rc));
	else
		rc = attempts(&j, cp, st, err);
	oci_source_close(j.src);
	free(j.d);
	return rc;
}
