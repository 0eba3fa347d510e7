#include "images/convert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/convert_proc.h"
#include "images/convert_req.h"
#include "images/ext4w.h"

#define MIB (1ull << 20)
#define MAX_FS_BYTES CONVREQ_FS_MAX

void convert_size(const struct oci_manifest *m, uint64_t *bytes, uint32_t *inodes)
{
	uint64_t data = 0;
	for (size_t i = 0; i < m->n_layers; i++) {
		uint64_t s = m->layers[i].size;
		if (s > MAX_FS_BYTES)
			s = MAX_FS_BYTES;
		data += m->layer_kinds[i] == OCI_KIND_LAYER_TAR ? s : 10 * s;
		if (data > MAX_FS_BYTES)
			data = MAX_FS_BYTES;
	}
	uint64_t size = 128 * MIB + 2 * data;
	size = (size + MIB - 1) / MIB * MIB;
	if (size > MAX_FS_BYTES)
		size = MAX_FS_BYTES;
	*bytes = size;
	uint64_t n = size / 4096;
	*inodes = n > 0xfff00000u ? 0xfff00000u : (uint32_t)n;
}

/* The filesystem UUID: the first 16 bytes of the manifest digest, so the
 * same image always gets the same UUID. */
static void uuid_of(const char *digest, uint8_t uuid[16])
{
	const char *h = digest + 7;
	for (int i = 0; i < 16; i++) {
		int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10;
		int lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;
		uuid[i] = (uint8_t)(hi << 4 | lo);
	}
}

/* What hull-convert works on: all of it opened here. */
struct job {
	int fd;		    /* the image file, at its temp name */
	const char *path;   /* that name, for messages */
	const char *source; /* the layout or archive, for messages */
	struct ext4w_params p;
	uint64_t cap; /* the largest filesystem the limit allows */
	const struct image_limits *lim;
};

/* The request for hull-convert (images/convert_req.h) and its fds: the
 * image first, then each layer's blob (or the archive) once. fds[] has
 * room for n_layers + 1. */
static int request(struct oci_source *src, const struct oci_manifest *m, char **diff_ids,
		   const struct job *j, struct convreq *r, int *fds, size_t *nfds)
{
	r->archive = oci_source_is_archive(src);
	r->image_fd = 0;
	fds[0] = j->fd;
	*nfds = 1;
	r->size = j->p.size;
	r->cap = j->cap;
	r->inodes = j->p.inodes;
	memcpy(r->uuid, j->p.uuid, sizeof(r->uuid));
	r->max_bytes = j->lim->max_bytes;
	r->max_entries = j->lim->max_entries;
	if (snprintf(r->path, sizeof(r->path), "%s", j->path) >= (int)sizeof(r->path))
		return -ENAMETOOLONG;
	snprintf(r->source, sizeof(r->source), "%s", j->source);
	for (size_t i = 0; i < m->n_layers; i++) {
		struct convreq_layer *l = &r->layers[i];
		memcpy(l->digest, m->layers[i].digest, DIGEST_STR_LEN);
		snprintf(l->diff_id, sizeof(l->diff_id), "%s", diff_ids[i]);
		l->size = m->layers[i].size;
		l->kind = m->layer_kinds[i];
		int fd = oci_source_blob_fd(src, m->layers[i].digest);
		if (fd < 0)
			return -EBADF;
		size_t k = 1;
		while (k < *nfds && fds[k] != fd)
			k++;
		if (k == *nfds)
			fds[(*nfds)++] = fd;
		l->fd = (uint32_t)k;
	}
	return 0;
}

/* Open every layer for the child (no symlink, regular files: oci_source.h),
 * create the image file, run hull-convert on them, remove the file unless
 * it succeeded. */
static int run_child(struct oci_source *src, const struct oci_manifest *m, char **diff_ids,
		     struct job *j, struct convert_stats *st, struct errmsg *err)
{
	struct errmsg e2 = {{0}};
	for (size_t i = 0; i < m->n_layers; i++) {
		int rc = oci_source_preopen(src, &m->layers[i], 1, &e2);
		if (rc)
			return errmsg_set(err, rc, "layer %zu (%.19s): %s", i + 1,
					  m->layers[i].digest,
					  e2.text[0] ? e2.text : strerror(-rc));
	}
	struct convreq *r = convreq_new(m->n_layers);
	int *fds = calloc(m->n_layers + 1, sizeof(*fds));
	if (!r || !fds) {
		free(r);
		free(fds);
		return -ENOMEM;
	}
	j->fd = open(j->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		int rc = -errno;
		free(r);
		free(fds);
		return errmsg_set(err, rc, "creating %s: %s", j->path, strerror(-rc));
	}
	size_t nfds;
	int item = -1;
	int rc = request(src, m, diff_ids, j, r, fds, &nfds);
	if (rc)
		errmsg_set(&e2, rc, "the request for the converter: %s", strerror(-rc));
	else
		rc = convproc_run(NULL, r, convreq_size(m->n_layers), fds, nfds,
				  (unsigned)m->n_layers, st, sizeof(*st), &item, &e2);
	free(r);
	free(fds);
	close(j->fd);
	if (rc)
		unlink(j->path);
	if (rc && item >= 0) /* it died: on this layer */
		errmsg_set(err, rc, "layer %d (%.19s): %s", item + 1, m->layers[item].digest,
			   e2.text);
	else if (rc)
		errmsg_set(err, rc, "%s", e2.text[0] ? e2.text : strerror(-rc));
	return rc;
}

int convert_image(struct oci_source *src, const struct oci_descriptor *md, const char *path,
		  const struct image_limits *lim, char **config, size_t *config_len,
		  struct convert_stats *st, struct errmsg *err)
{
	struct image_limits dflt = image_limits_default();
	if (!lim)
		lim = &dflt;
	*config = NULL;
	*config_len = 0;
	memset(st, 0, sizeof(*st));
	char *mbuf = NULL, *cbuf = NULL;
	size_t mlen, clen;
	struct oci_manifest m;
	struct image_config cfg;
	char **diff_ids = NULL;
	size_t n_diff_ids = 0;
	char what[64];
	memset(&m, 0, sizeof(m));
	memset(&cfg, 0, sizeof(cfg));

	struct errmsg e2 = {{0}};
	int rc = oci_source_read_blob(src, md, OCI_JSON_MAX, &mbuf, &mlen, &e2);
	if (rc) {
		errmsg_set(err, rc, "reading the manifest: %s", e2.text);
		goto out;
	}
	snprintf(what, sizeof(what), "manifest %.19s", md->digest);
	if ((rc = oci_manifest_parse(mbuf, mlen, what, &m, err)))
		goto out;
	if ((rc = oci_source_read_blob(src, &m.config, OCI_JSON_MAX, &cbuf, &clen, &e2))) {
		errmsg_set(err, rc, "reading the config: %s", e2.text);
		goto out;
	}
	snprintf(what, sizeof(what), "config %.19s", m.config.digest);
	if ((rc = oci_config_parse(cbuf, clen, what, &cfg, &diff_ids, &n_diff_ids, err)))
		goto out;
	if (n_diff_ids != m.n_layers) {
		rc = errmsg_set(err, -EINVAL, "%s: %zu diff_ids for %zu layers", what, n_diff_ids,
				m.n_layers);
		goto out;
	}

	uint8_t uuid[16];
	uuid_of(md->digest, uuid);
	struct job j = {.fd = -1,
			.path = path,
			.source = oci_source_path(src),
			.p = {.uuid = uuid},
			.lim = lim};
	convert_size(&m, &j.p.size, &j.p.inodes);
	/* No point in a filesystem bigger than the limit lets the layers fill. */
	uint64_t cap =
	    lim->max_bytes > MAX_FS_BYTES / 2 ? MAX_FS_BYTES : 128 * MIB + 2 * lim->max_bytes;
	cap = cap > MAX_FS_BYTES ? MAX_FS_BYTES : (cap + MIB - 1) / MIB * MIB;
	if (j.p.size > cap)
		j.p.size = cap;
	j.cap = cap;
	rc = run_child(src, &m, diff_ids, &j, st, err);
	if (!rc) {
		*config = cbuf;
		*config_len = clen;
		cbuf = NULL;
	}
out:
	free(mbuf);
	free(cbuf);
	oci_manifest_free(&m);
	image_config_free(&cfg);
	oci_strv_free(diff_ids, n_diff_ids);
	return rc;
}
