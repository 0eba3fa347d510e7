#include "images/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/convert.h"
#include "images/oci_json.h"
#include "images/oci_source.h"
#include "images/store.h"

#define MAX_INDEX_DEPTH 4

void image_rootfs_free(struct image_rootfs *r)
{
	free(r->path);
	image_config_free(&r->config);
	memset(r, 0, sizeof(*r));
}

/* index.json (and nested indexes) -> the manifest descriptor. */
int image_resolve(struct oci_source *src, const char *ref_name, struct oci_descriptor *out,
		   struct errmsg *err)
{
	char *buf;
	size_t len;
	int rc = oci_source_read_file(src, "index.json", OCI_JSON_MAX, &buf, &len, err);
	if (rc == -ENOENT)
		return errmsg_set(err, rc, "no index.json: not an OCI image layout%s",
				  oci_source_is_archive(src)
				      ? " archive (docker-archive tars are not supported)"
				      : "");
	if (rc)
		return rc;
	rc = oci_index_select(buf, len, "index.json", true, ref_name, out, err);
	free(buf);
	for (int depth = 0; !rc; depth++) {
		enum oci_kind k = oci_media_kind(out->media_type);
		if (k == OCI_KIND_MANIFEST)
			return 0;
		if (k != OCI_KIND_INDEX && out->media_type) {
			rc = errmsg_set(err, -EINVAL, "%.19s: unsupported media type '%.100s'",
					out->digest, out->media_type);
			break;
		}
		if (depth == MAX_INDEX_DEPTH) {
			rc = errmsg_set(err, -ELOOP, "image indexes nested too deep");
			break;
		}
		rc = oci_source_read_blob(src, out, OCI_JSON_MAX, &buf, &len, err);
		if (rc)
			break;
		if (k == OCI_KIND_UNKNOWN && !oci_json_is_index(buf, len)) {
			free(buf); /* no mediaType, and it is not an index: a manifest */
			return 0;
		}
		char what[64];
		snprintf(what, sizeof(what), "image index %.19s", out->digest);
		struct oci_descriptor next;
		rc = oci_index_select(buf, len, what, false, NULL, &next, err);
		free(buf);
		oci_descriptor_free(out);
		*out = next;
	}
	oci_descriptor_free(out);
	return rc;
}

static int prepare(const char *image_path, const char *ref_name, const char *store_root,
		   const struct image_limits *lim, struct image_rootfs *out, struct errmsg *err)
{
	struct oci_source *src = NULL;
	struct store st = {NULL};
	struct oci_descriptor md;
	char hex[DIGEST_HEX_LEN + 1];
	char *config = NULL, *tmp = NULL;
	size_t config_len = 0;
	bool hit = false;
	int lock = -1;
	memset(&md, 0, sizeof(md));

	int rc = oci_source_open(image_path, &src, err);
	if (!rc)
		rc = image_resolve(src, ref_name, &md, err);
	if (!rc)
		rc = digest_parse(md.digest, hex, "manifest", err);
	if (!rc)
		rc = store_open(store_root, &st, err);
	if (!rc)
		rc = store_lookup(&st, hex, &hit, &config, &config_len, err);
	if (!rc && !hit) {
		rc = store_lock(&st, hex, &lock, err);
		if (!rc)
			rc = store_lookup(&st, hex, &hit, &config, &config_len, err);
		if (!rc && !hit) {
			store_remove_temps(&st, hex);
			tmp = store_tmp_path(&st, hex);
			struct convert_stats cs;
			rc = tmp ? convert_image(src, &md, tmp, lim, &config, &config_len, &cs, err)
				 : -ENOMEM;
			if (!rc)
				rc = store_commit(&st, hex, tmp, config, config_len, err);
			if (rc && tmp)
				store_remove_temps(&st, hex);
		}
		store_unlock(lock);
	}
	if (!rc)
		rc = oci_config_parse(config, config_len, "config", &out->config, NULL, NULL, err);
	if (!rc) {
		out->path = store_path(&st, hex, ".ext4");
		if (!out->path)
			rc = -ENOMEM;
		memcpy(out->digest, md.digest, DIGEST_STR_LEN);
		out->cache_hit = hit;
	}
	free(tmp);
	free(config);
	store_close(&st);
	oci_descriptor_free(&md);
	oci_source_close(src);
	return rc;
}

int image_prepare_limits(const char *image_path, const char *ref_name, const char *store_root,
			 const struct image_limits *lim, struct image_rootfs *out,
			 struct errmsg *err)
{
	struct errmsg e = {{0}};
	memset(out, 0, sizeof(*out));
	int rc = prepare(image_path, ref_name, store_root, lim, out, &e);
	if (rc) {
		image_rootfs_free(out);
		errmsg_set(err, rc, "image %s: %s", ref_name ? ref_name : image_path,
			   e.text[0] ? e.text : strerror(-rc));
	}
	return rc;
}

int image_prepare(const char *image_path, const char *ref_name, const char *store_root,
		  struct image_rootfs *out, struct errmsg *err)
{
	return image_prepare_limits(image_path, ref_name, store_root, NULL, out, err);
}
