#include "images/convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int build(struct oci_source *src, const struct oci_manifest *m, char **diff_ids,
		 const char *path, const struct ext4w_params *p, const struct image_limits *lim,
		 struct convert_stats *st, struct errmsg *err)
{
	struct ext4w *w;
	struct fstree *t = NULL;
	int rc = ext4w_create(path, p, &w, err);
	if (rc)
		return rc;
	rc = fstree_new(ext4w_release, w, &t);
	struct layer_stats ls = {0};
	for (size_t i = 0; !rc && i < m->n_layers; i++)
		rc = layer_apply(src, &m->layers[i], m->layer_kinds[i], diff_ids[i], (unsigned)i,
				 lim, t, w, &ls, err);
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
	struct ext4w_params p = {.uuid = uuid};
	convert_size(&m, &p.size, &p.inodes);
	/* No point in a filesystem bigger than the limit lets the layers fill. */
	uint64_t cap =
	    lim->max_bytes > MAX_FS_BYTES / 2 ? MAX_FS_BYTES : 128 * MIB + 2 * lim->max_bytes;
	cap = cap > MAX_FS_BYTES ? MAX_FS_BYTES : (cap + MIB - 1) / MIB * MIB;
	if (p.size > cap)
		p.size = cap;
	for (unsigned a = 1;; a++) {
		st->attempts = a;
		rc = build(src, &m, diff_ids, path, &p, lim, st, err);
		if (rc)
			unlink(path);
		if (rc != -EFBIG || a == MAX_ATTEMPTS || p.size >= cap)
			break;
		p.size = p.size * 4 > cap ? cap : p.size * 4;
		p.inodes = p.inodes > 0xfff00000u / 4 ? 0xfff00000u : p.inodes * 4;
	}
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
