#include "images/import.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "images/digest.h"
#include "images/image.h"
#include "images/lstore.h"
#include "images/oci_json.h"
#include "images/oci_source.h"
#include "images/ref.h"

#define MAX_INDEX_DEPTH 4
#define MAX_DOCKER_IMAGES 1024
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

/* A reference this import set, and what it pointed at before. */
struct prev_tag {
	char *ref;
	bool existed;
	struct lstore_entry old;
};

struct imp {
	const char *path;
	const char *name; /* --name, or NULL */
	struct oci_source *src;
	struct lstore st;
	struct import_result *res;
	struct prev_tag *prev;
	size_t n_prev;
};

const char *import_format_name(enum import_format f)
{
	switch (f) {
	case IMPORT_OCI_LAYOUT:
		return "OCI layout";
	case IMPORT_OCI_ARCHIVE:
		return "oci-archive";
	default:
		return "docker-archive";
	}
}

void import_result_free(struct import_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->images[i].ref);
	free(r->images);
	memset(r, 0, sizeof(*r));
}

/* ---- names ---- */

/* "dir/busybox.tar.gz" -> "busybox": lower case, [a-z0-9._-] only. */
static char *base_name(const char *path)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	const char *b = path + len;
	while (b > path && b[-1] != '/')
		b--;
	size_t n = 0;
	char *out = malloc((size_t)(path + len - b) + 8);
	if (!out)
		return NULL;
	for (const char *p = b; p < path + len && *p != '.'; p++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*p);
		bool ok = isalnum(c) || ((c == '_' || c == '-') && n > 0);
		out[n++] = ok && c < 0x80 ? (char)c : '-';
	}
	while (n > 0 && !isalnum((unsigned char)out[n - 1]))
		n--;
	if (n == 0) {
		strcpy(out, "image");
		return out;
	}
	out[n] = '\0';
	return out;
}

int import_ref_name(const char *path, const char *full, const char *tag, char **out,
		    struct errmsg *err)
{
	*out = NULL;
	char *s = NULL;
	if (full) {
		s = strdup(full);
	} else {
		char *b = base_name(path);
		if (!b || asprintf(&s, "localhost/%s:%s", b, tag ? tag : "latest") < 0)
			s = NULL;
		free(b);
	}
	if (!s)
		return -ENOMEM;
	struct image_ref r;
	struct errmsg e = {{0}};
	int rc = ref_parse(s, &r, &e);
	if (rc) {
		rc = errmsg_set(err, rc, "%s%s (name the image with --name REF)", e.text,
				full ? "" : ", made from the file name and tag");
	} else {
		*out = r.name;
		r.name = NULL;
		ref_free(&r);
	}
	free(s);
	return rc;
}

/* An OCI ref-name annotation is mostly a bare tag ("latest"); sometimes a
 * whole reference ("alpine:3.19", "registry/x:1"). */
static bool is_whole_ref(const char *s)
{
	return strchr(s, '/') || strchr(s, ':') || strchr(s, '@');
}

/* ---- blobs ---- */

static int copy_blob(struct imp *im, const struct oci_descriptor *d, struct errmsg *err)
{
	if (lstore_has_blob(&im->st, d->digest))
		return 0;
	struct oci_blob *b;
	struct lstore_writer *w = NULL;
	int rc = oci_blob_open(im->src, d, &b, err);
	if (rc)
		return rc;
	rc = lstore_blob_begin(&im->st, d->digest, (int64_t)d->size, &w, err);
	while (!rc) {
		const void *buf;
		ssize_t n = oci_blob_read(b, &buf, err);
		if (n <= 0) {
			rc = (int)n;
			break;
		}
		rc = lstore_blob_write(w, buf, (size_t)n, err);
	}
	if (w && rc)
		lstore_blob_abort(w);
	else if (w)
		rc = lstore_blob_commit(w, err);
	oci_blob_close(b);
	return rc;
}

/* Store buf as a blob; its digest goes to digest. */
static int store_buf(struct imp *im, const void *buf, size_t len, char digest[DIGEST_STR_LEN],
		     struct errmsg *err)
{
	if (digest_buf(buf, len, digest))
		return -ENOMEM;
	if (lstore_has_blob(&im->st, digest))
		return 0;
	return lstore_blob_put(&im->st, digest, buf, len, err);
}

/* ---- OCI ---- */

/* Copy a manifest or index and what it needs (the host's manifest of an
 * index) into the store. */
static int copy_image(struct imp *im, const struct oci_descriptor *d, int depth, struct errmsg *err)
{
	enum oci_kind k = oci_media_kind(d->media_type);
	if (k != OCI_KIND_MANIFEST && k != OCI_KIND_INDEX && d->media_type)
		return errmsg_set(err, -EINVAL, "%.19s: unsupported media type '%.100s'", d->digest,
				  d->media_type);
	if (depth > MAX_INDEX_DEPTH)
		return errmsg_set(err, -ELOOP, "image indexes nested too deep");
	char *buf;
	size_t len;
	int rc = oci_source_read_blob(im->src, d, OCI_JSON_MAX, &buf, &len, err);
	if (rc)
		return rc;
	if (k == OCI_KIND_UNKNOWN)
		k = oci_json_is_index(buf, len) ? OCI_KIND_INDEX : OCI_KIND_MANIFEST;
	char what[64];
	snprintf(what, sizeof(what), "%s %.19s", k == OCI_KIND_INDEX ? "image index" : "manifest",
		 d->digest);
	if (k == OCI_KIND_INDEX) {
		struct oci_descriptor next;
		rc = oci_index_select(buf, len, what, false, NULL, &next, err);
		if (!rc)
			rc = copy_image(im, &next, depth + 1, err);
		oci_descriptor_free(&next);
	} else {
		struct oci_manifest m;
		rc = oci_manifest_parse(buf, len, what, &m, err);
		if (!rc)
			rc = copy_blob(im, &m.config, err);
		for (size_t i = 0; !rc && i < m.n_layers; i++) {
			struct errmsg e = {{0}};
			rc = copy_blob(im, &m.layers[i], &e);
			if (rc)
				errmsg_set(err, rc, "layer %zu (%.19s): %s", i + 1,
					   m.layers[i].digest, e.text);
		}
		oci_manifest_free(&m);
	}
	if (!rc)
		rc = copy_blob(im, d, err);
	free(buf);
	return rc;
}

static int add_result(struct imp *im, char *ref, const char *digest)
{
	struct import_result *r = im->res;
	struct import_image *v = realloc(r->images, (r->n + 1) * sizeof(*v));
	if (!v) {
		free(ref);
		return -ENOMEM;
	}
	r->images = v;
	memset(&v[r->n], 0, sizeof(v[r->n]));
	v[r->n].ref = ref;
	snprintf(v[r->n].digest, sizeof(v[r->n].digest), "%s", digest);
	r->n++;
	return 0;
}

/* Tag ref (owned: freed here or kept in the result), remembering its old
 * target for a rollback. */
static int tag(struct imp *im, char *ref, const char *digest, const char *media_type, uint64_t size,
	       struct errmsg *err)
{
	struct prev_tag *p = realloc(im->prev, (im->n_prev + 1) * sizeof(*p));
	if (!p) {
		free(ref);
		return -ENOMEM;
	}
	im->prev = p;
	p = &im->prev[im->n_prev];
	memset(p, 0, sizeof(*p));
	p->ref = strdup(ref);
	if (!p->ref) {
		free(ref);
		return -ENOMEM;
	}
	im->n_prev++;
	p->existed = lstore_resolve(&im->st, ref, &p->old, NULL) == 0;
	int rc = lstore_tag(&im->st, ref, digest, media_type ? media_type : MT_MANIFEST,
			    (int64_t)size, err);
	if (rc) {
		free(ref);
		return rc;
	}
	return add_result(im, ref, digest);
}

static int import_oci(struct imp *im, const char *index, size_t len, struct errmsg *err)
{
	struct oci_descriptor *all = NULL;
	size_t n = 0;
	int rc;
	if (im->name) {
		all = calloc(1, sizeof(*all));
		if (!all)
			return -ENOMEM;
		rc = oci_index_select(index, len, "index.json", true, NULL, all, err);
		if (rc) {
			free(all);
			return rc;
		}
		n = 1;
	} else {
		rc = oci_index_entries(index, len, "index.json", &all, &n, err);
		if (!rc && n == 0)
			rc = errmsg_set(err, -ENOENT, "index.json lists no images");
	}
	for (size_t i = 0; !rc && i < n; i++) {
		struct oci_descriptor *d = &all[i];
		char *ref = NULL;
		if (im->name)
			rc = import_ref_name(im->path, im->name, NULL, &ref, err);
		else if (d->image_name)
			rc = import_ref_name(im->path, d->image_name, NULL, &ref, err);
		else if (d->ref_name && is_whole_ref(d->ref_name))
			rc = import_ref_name(im->path, d->ref_name, NULL, &ref, err);
		else
			rc = import_ref_name(im->path, NULL, d->ref_name, &ref, err);
		if (rc)
			break;
		struct errmsg e = {{0}};
		rc = copy_image(im, d, 0, &e);
		if (rc) {
			errmsg_set(err, rc, "image %s: %s", ref, e.text);
			free(ref);
			break;
		}
		rc = tag(im, ref, d->digest, d->media_type, d->size, err);
	}
	for (size_t i = 0; i < n; i++)
		oci_descriptor_free(&all[i]);
	free(all);
	return rc;
}

/* ---- docker-archive ---- */

/* Read a whole (small) member. */
static int read_member(struct imp *im, const char *name, char **buf, size_t *len,
		       struct errmsg *err)
{
	struct oci_blob *b;
	uint64_t size;
	*buf = NULL;
	int rc = oci_member_open(im->src, name, &b, &size, err);
	if (rc)
		return rc;
	if (size > OCI_JSON_MAX) {
		oci_blob_close(b);
		return errmsg_set(err, -EFBIG, "%s: %llu bytes, more than the %u allowed", name,
				  (unsigned long long)size, OCI_JSON_MAX);
	}
	char *p = malloc(size + 1);
	size_t n = 0;
	while (p) {
		const void *chunk;
		ssize_t r = oci_member_read(b, &chunk, err);
		if (r < 0)
			rc = (int)r;
		if (r <= 0)
			break;
		if ((size_t)r > size - n) {
			rc = errmsg_set(err, -EINVAL, "%s: longer than its header says", name);
			break;
		}
		memcpy(p + n, chunk, (size_t)r);
		n += (size_t)r;
	}
	oci_blob_close(b);
	if (!p)
		return -ENOMEM;
	if (rc) {
		free(p);
		return rc;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

/* Stream member `name` through fn (digest context or blob writer). */
typedef int (*sink_fn)(void *ctx, const void *buf, size_t n, struct errmsg *err);

static int stream_member(struct imp *im, const char *name, sink_fn fn, void *ctx, uint8_t magic[4],
			 uint64_t *size, struct errmsg *err)
{
	struct oci_blob *b;
	int rc = oci_member_open(im->src, name, &b, size, err);
	size_t got = 0;
	while (!rc) {
		const void *chunk;
		ssize_t r = oci_member_read(b, &chunk, err);
		if (r <= 0) {
			rc = (int)r;
			break;
		}
		for (size_t i = 0; magic && got + i < 4 && i < (size_t)r; i++)
			magic[got + i] = ((const uint8_t *)chunk)[i];
		got += (size_t)r;
		rc = fn(ctx, chunk, (size_t)r, err);
	}
	oci_blob_close(b);
	return rc;
}

static int sink_digest(void *ctx, const void *buf, size_t n, struct errmsg *err)
{
	(void)err;
	digest_update(ctx, buf, n);
	return 0;
}

static int sink_writer(void *ctx, const void *buf, size_t n, struct errmsg *err)
{
	return lstore_blob_write(ctx, buf, n, err);
}

/* Store a docker-archive layer as it is. Its digest: the diff_id when it is
 * an uncompressed tar (and the writer checks it), else a first pass. */
static int store_layer(struct imp *im, const char *member, const char *diff_id, json_object *layers,
		       struct errmsg *err)
{
	uint8_t magic[4] = {0};
	uint64_t size;
	struct digest_ctx dg;
	char digest[DIGEST_STR_LEN];
	if (digest_init(&dg))
		return -ENOMEM;
	int rc = stream_member(im, member, sink_digest, &dg, magic, &size, err);
	if (rc) {
		digest_free(&dg);
		return rc;
	}
	if (digest_final(&dg, digest))
		return -ENOMEM;
	const char *mt = MT_LAYER;
	if (magic[0] == 0x1f && magic[1] == 0x8b)
		mt = MT_LAYER "+gzip";
	else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
		mt = MT_LAYER "+zstd";
	else if (strcmp(digest, diff_id) != 0)
		return errmsg_set(err, -EBADMSG,
				  "%s: content %s does not match the config's diff_id %s", member,
				  digest, diff_id);
	if (!lstore_has_blob(&im->st, digest)) {
		struct lstore_writer *w;
		rc = lstore_blob_begin(&im->st, digest, (int64_t)size, &w, err);
		if (rc)
			return rc;
		rc = stream_member(im, member, sink_writer, w, NULL, &size, err);
		if (rc)
			lstore_blob_abort(w);
		else
			rc = lstore_blob_commit(w, err);
		if (rc)
			return rc;
	}
	json_object *l = json_object_new_object();
	json_object_object_add(l, "mediaType", json_object_new_string(mt));
	json_object_object_add(l, "digest", json_object_new_string(digest));
	json_object_object_add(l, "size", json_object_new_int64((int64_t)size));
	json_object_array_add(layers, l);
	return 0;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *array_of(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* One manifest.json item -> stored config, layers and a synthesised OCI
 * manifest (its digest and size returned). */
static int docker_image(struct imp *im, json_object *item, size_t idx, char mdigest[DIGEST_STR_LEN],
			size_t *msize, struct errmsg *err)
{
	const char *config_name = str_of(item, "Config");
	json_object *lnames = array_of(item, "Layers");
	if (!config_name || !lnames)
		return errmsg_set(err, -EINVAL, "manifest.json[%zu]: Config or Layers is missing",
				  idx);
	char *cbuf, cdigest[DIGEST_STR_LEN];
	size_t clen;
	int rc = read_member(im, config_name, &cbuf, &clen, err);
	if (rc)
		return rc;
	struct image_config cfg;
	char **diff_ids = NULL;
	size_t n_diff = 0;
	char what[300];
	snprintf(what, sizeof(what), "config %.200s", config_name);
	rc = oci_config_parse(cbuf, clen, what, &cfg, &diff_ids, &n_diff, err);
	if (!rc) {
		image_config_free(&cfg);
		rc = store_buf(im, cbuf, clen, cdigest, err);
	}
	size_t nl = json_object_array_length(lnames);
	if (!rc && nl != n_diff)
		rc = errmsg_set(err, -EINVAL, "%s: %zu diff_ids for %zu layers", what, n_diff, nl);
	json_object *layers = json_object_new_array();
	for (size_t i = 0; !rc && i < nl; i++) {
		json_object *ln = json_object_array_get_idx(lnames, i);
		if (!json_object_is_type(ln, json_type_string)) {
			rc = errmsg_set(err, -EINVAL,
					"manifest.json[%zu].Layers[%zu] is not a string", idx, i);
			break;
		}
		struct errmsg e = {{0}};
		rc = store_layer(im, json_object_get_string(ln), diff_ids[i], layers, &e);
		if (rc)
			errmsg_set(err, rc, "layer %zu: %s", i + 1, e.text);
	}
	if (!rc) {
		json_object *m = json_object_new_object(), *c = json_object_new_object();
		json_object_object_add(m, "schemaVersion", json_object_new_int(2));
		json_object_object_add(m, "mediaType", json_object_new_string(MT_MANIFEST));
		json_object_object_add(c, "mediaType", json_object_new_string(MT_CONFIG));
		json_object_object_add(c, "digest", json_object_new_string(cdigest));
		json_object_object_add(c, "size", json_object_new_int64((int64_t)clen));
		json_object_object_add(m, "config", c);
		json_object_object_add(m, "layers", json_object_get(layers));
		size_t len;
		const char *s = json_object_to_json_string_length(m, JSON_C_TO_STRING_PLAIN, &len);
		rc = s ? store_buf(im, s, len, mdigest, err) : -ENOMEM;
		*msize = len;
		json_object_put(m);
	}
	json_object_put(layers);
	oci_strv_free(diff_ids, n_diff);
	free(cbuf);
	return rc;
}

static int import_docker(struct imp *im, struct errmsg *err)
{
	char *buf;
	size_t len;
	int rc = read_member(im, "manifest.json", &buf, &len, err);
	if (rc)
		return rc;
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL;
	if (tok)
		json_tokener_free(tok);
	free(buf);
	size_t n = o && json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
	if (!o || !json_object_is_type(o, json_type_array))
		rc = errmsg_set(err, -EINVAL, "manifest.json: not a JSON array");
	else if (n == 0 || n > MAX_DOCKER_IMAGES)
		rc = errmsg_set(err, -EINVAL, "manifest.json: lists %zu images", n);
	else if (im->name && n != 1)
		rc = errmsg_set(err, -EINVAL,
				"holds %zu images; --name needs an archive of exactly one", n);
	for (size_t i = 0; !rc && i < n; i++) {
		json_object *item = json_object_array_get_idx(o, i);
		if (!json_object_is_type(item, json_type_object)) {
			rc = errmsg_set(err, -EINVAL, "manifest.json[%zu] is not an object", i);
			break;
		}
		char mdigest[DIGEST_STR_LEN];
		size_t msize = 0;
		rc = docker_image(im, item, i, mdigest, &msize, err);
		json_object *tags = array_of(item, "RepoTags");
		size_t nt = im->name || !tags ? 0 : json_object_array_length(tags);
		for (size_t t = 0; !rc && t < (nt ? nt : 1); t++) {
			const char *full = im->name;
			if (nt) {
				json_object *tj = json_object_array_get_idx(tags, t);
				full = json_object_is_type(tj, json_type_string)
					   ? json_object_get_string(tj)
					   : "";
			}
			char *ref;
			rc = import_ref_name(im->path, full, NULL, &ref, err);
			if (!rc)
				rc = tag(im, ref, mdigest, MT_MANIFEST, msize, err);
		}
	}
	json_object_put(o);
	return rc;
}

/* ---- the whole import ---- */

static void rollback(struct imp *im)
{
	for (size_t i = im->n_prev; i-- > 0;) {
		struct prev_tag *p = &im->prev[i];
		if (p->existed)
			lstore_tag(&im->st, p->ref, p->old.digest, p->old.media_type, p->old.size,
				   NULL);
		else
			lstore_untag(&im->st, p->ref, NULL);
	}
}

static int copy_in(struct imp *im, struct errmsg *err)
{
	char *index;
	size_t len;
	int rc = oci_source_read_file(im->src, "index.json", OCI_JSON_MAX, &index, &len, err);
	if (rc == 0) {
		im->res->format =
		    oci_source_is_archive(im->src) ? IMPORT_OCI_ARCHIVE : IMPORT_OCI_LAYOUT;
		rc = import_oci(im, index, len, err);
		free(index);
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	struct oci_blob *b;
	uint64_t size;
	if (oci_member_open(im->src, "manifest.json", &b, &size, NULL))
		return errmsg_set(err, -EINVAL,
				  "neither an OCI layout or oci-archive (no index.json) nor a "
				  "docker-archive (no manifest.json)");
	oci_blob_close(b);
	im->res->format = IMPORT_DOCKER_ARCHIVE;
	return import_docker(im, err);
}

static int import(struct imp *im, const char *root, const struct image_limits *lim,
		  struct errmsg *err)
{
	int rc = oci_source_open(im->path, &im->src, err);
	if (rc)
		return rc;
	rc = lstore_open(root, &im->st, err);
	if (rc)
		return rc;
	/* gc must not collect blobs stored before their tag is */
	rc = lstore_hold(&im->st, err);
	if (!rc)
		rc = copy_in(im, err);
	if (rc) {
		rollback(im);
		return rc;
	}
	lstore_close(&im->st); /* drops the hold: everything is tagged */

	char *oci = NULL;
	if (asprintf(&oci, "%s/oci", root) < 0)
		return -ENOMEM;
	for (size_t i = 0; !rc && i < im->res->n; i++) {
		struct image_rootfs r;
		rc = image_prepare_limits(oci, im->res->images[i].ref, root, lim, &r, err);
		if (!rc)
			im->res->images[i].cache_hit = r.cache_hit;
		image_rootfs_free(&r);
	}
	free(oci);
	if (rc && lstore_open(root, &im->st, NULL) == 0)
		rollback(im);
	return rc;
}

int image_import(const char *root, const char *path, const char *name,
		 const struct image_limits *lim, struct import_result *out, struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	struct imp im = {.path = path, .name = name, .res = out};
	im.st.hold_fd = -1;
	struct errmsg e = {{0}};
	int rc = import(&im, root, lim, &e);
	lstore_close(&im.st);
	oci_source_close(im.src);
	for (size_t i = 0; i < im.n_prev; i++) {
		free(im.prev[i].ref);
		if (im.prev[i].existed)
			lstore_entry_free(&im.prev[i].old);
	}
	free(im.prev);
	if (rc) {
		import_result_free(out);
		errmsg_set(err, rc, "importing %s: %s", path, e.text[0] ? e.text : strerror(-rc));
	}
	return rc;
}
