#include "images/convert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/convert_proc.h"
#include "images/ext4w.h"
#include "images/fstree.h"
#include "images/layer.h"

#define MIB (1ull << 20)
#define MAX_FS_BYTES (15ull << 40) /* under ext4's 16 TiB without 64bit */
#define MAX_ATTEMPTS 3

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

/* What the converter child works on: all of it opened by the parent. */
struct job {
	struct oci_source *src; /* preopened */
	const struct oci_manifest *m;
	char **diff_ids;
	int fd;		  /* the image file, at its temp name */
	const char *path; /* that name, for messages */
	struct ext4w_params p;
	uint64_t cap; /* the largest filesystem the limit allows */
	const struct image_limits *lim;
};

static int build(const struct job *j, const struct ext4w_params *p, struct convproc *cp,
		 struct convert_stats *st, struct errmsg *err)
{
	struct ext4w *w;
	struct fstree *t = NULL;
	int rc = ext4w_create_fd(j->fd, j->path, p, &w, err);
	if (rc)
		return rc;
	rc = fstree_new(ext4w_release, w, &t);
	struct layer_stats ls = {0};
	for (size_t i = 0; !rc && i < j->m->n_layers; i++) {
		convproc_progress(cp, (unsigned)i);
		rc = layer_apply(j->src, &j->m->layers[i], j->m->layer_kinds[i], j->diff_ids[i],
				 (unsigned)i, j->lim, t, w, &ls, err);
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

/* The converter child's work (convert_proc.h): the layers into the image,
 * over again bigger while the filesystem fills up. */
static int convert_child(void *ctx, struct convproc *cp, void *out, size_t out_len,
			 struct errmsg *err)
{
	struct job *j = ctx;
	struct convert_stats st = {0};
	struct ext4w_params p = j->p;
	int rc;
	oci_source_seal(j->src);
	for (unsigned a = 1;; a++) {
		st.attempts = a;
		rc = build(j, &p, cp, &st, err);
		if (rc != -EFBIG || a == MAX_ATTEMPTS || p.size >= j->cap)
			break;
		p.size = p.size * 4 > j->cap ? j->cap : p.size * 4;
		p.inodes = p.inodes > 0xfff00000u / 4 ? 0xfff00000u : p.inodes * 4;
	}
	memcpy(out, &st, out_len < sizeof(st) ? out_len : sizeof(st));
	return rc;
}
_Static_assert(sizeof(struct convert_stats) <= CONVPROC_OUT_MAX, "the stats come back whole");

/* Open every layer for the child (no symlink, regular files: oci_source.h),
 * create the image file, run the child on them, remove the file unless it
 * succeeded. */
static int run_child(struct job *j, struct convert_stats *st, struct errmsg *err)
{
	const struct oci_manifest *m = j->m;
	struct errmsg e2 = {{0}};
	for (size_t i = 0; i < m->n_layers; i++) {
		int rc = oci_source_preopen(j->src, &m->layers[i], 1, &e2);
		if (rc)
			return errmsg_set(err, rc, "layer %zu (%.19s): %s", i + 1,
					  m->layers[i].digest,
					  e2.text[0] ? e2.text : strerror(-rc));
	}
	size_t max = m->n_layers + 3;
	int *keep = calloc(max, sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	j->fd = open(j->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		int rc = -errno;
		free(keep);
		return errmsg_set(err, rc, "creating %s: %s", j->path, strerror(-rc));
	}
	size_t n = oci_source_fds(j->src, keep, max - 1);
	keep[n++] = j->fd;
	int item;
	int rc = convproc_run(keep, n, (unsigned)m->n_layers, convert_child, j, st, sizeof(*st),
			      &item, &e2);
	free(keep);
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
	struct job j = {.src = src,
			.m = &m,
			.diff_ids = diff_ids,
			.fd = -1,
			.path = path,
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
	rc = run_child(&j, st, err);
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
