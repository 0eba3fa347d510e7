/* The walk of an import (images/import_proc.h): what images/import.c did
 * with the source, moved here unchanged in what it checks and says; what it
 * stored it now lists (struct impres) for the parent to store. */
#include "images/import_proc.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "common/fdio.h"
#include "images/digest.h"
#include "images/import.h"
#include "images/lstore.h"
#include "images/oci_json.h"
#include "images/ref.h"

#define MAX_INDEX_DEPTH 4
#define MAX_DOCKER_IMAGES 1024
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

const struct convproc_helper import_helper = {
    .name = IMPORT_NAME,
    .what = "the archive reader",
    .exe_what = "the archive reader",
    .env = IMPORT_ENV,
};

struct walk {
	const char *path;
	const char *name; /* --name, or NULL */
	struct oci_source *src;
	int docs_fd;
	uint64_t docs_len;
	uint32_t format;
	struct imp_image *images;
	size_t n_images;
	struct imp_blob *blobs;
	size_t n_blobs;
};

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

/* ---- the list ---- */

/* Blob (digest, size) from src, once (the first label wins). */
static int add_blob(struct walk *w, const char *digest, uint64_t size, uint32_t src,
		    const char *member, const char *label, struct errmsg *err)
{
	for (size_t i = 0; i < w->n_blobs; i++)
		if (!strcmp(w->blobs[i].digest, digest))
			return 0;
	if (w->n_blobs >= IMPORT_BLOBS_MAX)
		return errmsg_set(err, -E2BIG, "more than %u blobs", IMPORT_BLOBS_MAX);
	if (member && strlen(member) >= IMPORT_MEMBER_MAX)
		return errmsg_set(err, -ENAMETOOLONG,
				  "%s: '%.100s...': a member name over %d bytes", label, member,
				  IMPORT_MEMBER_MAX - 1);
	struct imp_blob *v = realloc(w->blobs, (w->n_blobs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->blobs = v;
	struct imp_blob *b = &v[w->n_blobs++];
	memset(b, 0, sizeof(*b));
	snprintf(b->digest, sizeof(b->digest), "%s", digest);
	b->size = size;
	b->src = src;
	if (member)
		snprintf(b->member, sizeof(b->member), "%s", member);
	snprintf(b->label, sizeof(b->label), "%s", label);
	return 0;
}

/* Bytes the walk read (verified) or made: into the documents, listed
 * inline; their digest into digest. */
static int add_inline(struct walk *w, const void *buf, size_t len, const char *label,
		      char digest[DIGEST_STR_LEN], struct errmsg *err)
{
	if (digest_buf(buf, len, digest))
		return -ENOMEM;
	for (size_t i = 0; i < w->n_blobs; i++)
		if (!strcmp(w->blobs[i].digest, digest))
			return 0;
	if (len > OCI_JSON_MAX || len > IMPORT_DOCS_MAX - w->docs_len)
		return errmsg_set(err, -EFBIG, "%s: more than %u MiB of manifests and configs",
				  label, IMPORT_DOCS_MAX >> 20);
	int rc = fdio_pwrite_all(w->docs_fd, buf, len, w->docs_len);
	if (rc)
		return errmsg_set(err, rc, "writing the documents: %s", strerror(-rc));
	rc = add_blob(w, digest, len, IMPORT_SRC_INLINE, NULL, label, err);
	if (!rc)
		w->blobs[w->n_blobs - 1].off = w->docs_len;
	w->docs_len += len;
	return rc;
}

/* An image to tag: ref (owned: freed here). */
static int add_image(struct walk *w, char *ref, const char *digest, const char *mt, uint64_t size,
		     struct errmsg *err)
{
	int rc = 0;
	if (w->n_images >= IMPORT_IMAGES_MAX)
		rc = errmsg_set(err, -E2BIG, "more than %u images", IMPORT_IMAGES_MAX);
	else if (strlen(ref) >= IMPORT_REF_MAX)
		rc = errmsg_set(err, -ENAMETOOLONG, "'%.100s...': a reference over %d bytes", ref,
				IMPORT_REF_MAX - 1);
	else if (mt && strlen(mt) >= IMPORT_MT_MAX)
		rc = errmsg_set(err, -EINVAL, "'%.100s...': a media type over %d bytes", mt,
				IMPORT_MT_MAX - 1);
	else if (size < 1 || size > OCI_JSON_MAX)
		rc = errmsg_set(err, -EFBIG, "%s: a manifest of %llu bytes", ref,
				(unsigned long long)size);
	struct imp_image *v = rc ? NULL : realloc(w->images, (w->n_images + 1) * sizeof(*v));
	if (!rc && !v)
		rc = -ENOMEM;
	if (!rc) {
		w->images = v;
		struct imp_image *m = &v[w->n_images++];
		memset(m, 0, sizeof(*m));
		snprintf(m->ref, sizeof(m->ref), "%s", ref);
		snprintf(m->digest, sizeof(m->digest), "%s", digest);
		snprintf(m->mt, sizeof(m->mt), "%s", mt ? mt : "");
		m->size = size;
	}
	free(ref);
	return rc;
}

/* An OCI ref-name annotation is mostly a bare tag ("latest"); sometimes a
 * whole reference ("alpine:3.19", "registry/x:1"). */
static bool is_whole_ref(const char *s)
{
	return strchr(s, '/') || strchr(s, ':') || strchr(s, '@');
}

/* ---- OCI ---- */

/* List a manifest or index and what it needs (the host's manifest of an
 * index); ref names the image in labels. */
static int list_image(struct walk *w, const char *ref, const struct oci_descriptor *d, int depth,
		      struct errmsg *err)
{
	enum oci_kind k = oci_media_kind(d->media_type);
	if (k != OCI_KIND_MANIFEST && k != OCI_KIND_INDEX && d->media_type)
		return errmsg_set(err, -EINVAL, "%.19s: unsupported media type '%.100s'", d->digest,
				  d->media_type);
	if (depth > MAX_INDEX_DEPTH)
		return errmsg_set(err, -ELOOP, "image indexes nested too deep");
	char *buf;
	size_t len;
	int rc = oci_source_read_blob(w->src, d, OCI_JSON_MAX, &buf, &len, err);
	if (rc)
		return rc;
	if (k == OCI_KIND_UNKNOWN)
		k = oci_json_is_index(buf, len) ? OCI_KIND_INDEX : OCI_KIND_MANIFEST;
	char what[64], label[IMPORT_LABEL_MAX];
	snprintf(what, sizeof(what), "%s %.19s", k == OCI_KIND_INDEX ? "image index" : "manifest",
		 d->digest);
	snprintf(label, sizeof(label), "image %s", ref);
	if (k == OCI_KIND_INDEX) {
		struct oci_descriptor next;
		rc = oci_index_select(buf, len, what, false, NULL, &next, err);
		if (!rc)
			rc = list_image(w, ref, &next, depth + 1, err);
		oci_descriptor_free(&next);
	} else {
		struct oci_manifest m;
		rc = oci_manifest_parse(buf, len, what, &m, err);
		if (!rc)
			rc = add_blob(w, m.config.digest, m.config.size, IMPORT_SRC_BLOB, NULL,
				      label, err);
		for (size_t i = 0; !rc && i < m.n_layers; i++) {
			snprintf(label, sizeof(label), "image %s: layer %zu (%.19s)", ref, i + 1,
				 m.layers[i].digest);
			rc = add_blob(w, m.layers[i].digest, m.layers[i].size, IMPORT_SRC_BLOB,
				      NULL, label, err);
		}
		oci_manifest_free(&m);
	}
	char digest[DIGEST_STR_LEN];
	snprintf(label, sizeof(label), "image %s", ref);
	if (!rc)
		rc = add_inline(w, buf, len, label, digest, err);
	free(buf);
	return rc;
}

static int list_oci(struct walk *w, const char *index, size_t len, struct errmsg *err)
{
	struct oci_descriptor *all = NULL;
	size_t n = 0;
	int rc;
	if (w->name) {
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
		if (w->name)
			rc = import_ref_name(w->path, w->name, NULL, &ref, err);
		else if (d->image_name)
			rc = import_ref_name(w->path, d->image_name, NULL, &ref, err);
		else if (d->ref_name && is_whole_ref(d->ref_name))
			rc = import_ref_name(w->path, d->ref_name, NULL, &ref, err);
		else
			rc = import_ref_name(w->path, NULL, d->ref_name, &ref, err);
		if (rc)
			break;
		struct errmsg e = {{0}};
		rc = list_image(w, ref, d, 0, &e);
		if (rc) {
			errmsg_set(err, rc, "image %s: %s", ref, e.text);
			free(ref);
			break;
		}
		rc = add_image(w, ref, d->digest, d->media_type, d->size, err);
	}
	for (size_t i = 0; i < n; i++)
		oci_descriptor_free(&all[i]);
	free(all);
	return rc;
}

/* ---- docker-archive ---- */

/* Read a whole (small) member. */
static int read_member(struct walk *w, const char *name, char **buf, size_t *len,
		       struct errmsg *err)
{
	struct oci_blob *b;
	uint64_t size;
	*buf = NULL;
	int rc = oci_member_open(w->src, name, &b, &size, err);
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

/* Hash member `name`: its digest, size and first bytes. */
static int hash_member(struct walk *w, const char *name, char digest[DIGEST_STR_LEN],
		       uint8_t magic[4], uint64_t *size, struct errmsg *err)
{
	struct digest_ctx dg;
	if (digest_init(&dg))
		return -ENOMEM;
	struct oci_blob *b;
	int rc = oci_member_open(w->src, name, &b, size, err);
	size_t got = 0;
	while (!rc) {
		const void *chunk;
		ssize_t r = oci_member_read(b, &chunk, err);
		if (r <= 0) {
			rc = (int)r;
			break;
		}
		for (size_t i = 0; got + i < 4 && i < (size_t)r; i++)
			magic[got + i] = ((const uint8_t *)chunk)[i];
		got += (size_t)r;
		digest_update(&dg, chunk, (size_t)r);
	}
	oci_blob_close(b);
	if (rc) {
		digest_free(&dg);
		return rc;
	}
	return digest_final(&dg, digest) ? -ENOMEM : 0;
}

/* List a docker-archive layer, stored as it is. Its digest: the diff_id
 * when it is an uncompressed tar, else its hash. */
static int list_layer(struct walk *w, const char *member, const char *diff_id, size_t i,
		      json_object *layers, struct errmsg *err)
{
	uint8_t magic[4] = {0};
	uint64_t size;
	char digest[DIGEST_STR_LEN], label[32];
	int rc = hash_member(w, member, digest, magic, &size, err);
	if (rc)
		return rc;
	const char *mt = MT_LAYER;
	if (magic[0] == 0x1f && magic[1] == 0x8b)
		mt = MT_LAYER "+gzip";
	else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
		mt = MT_LAYER "+zstd";
	else if (strcmp(digest, diff_id) != 0)
		return errmsg_set(err, -EBADMSG,
				  "%s: content %s does not match the config's diff_id %s", member,
				  digest, diff_id);
	snprintf(label, sizeof(label), "layer %zu", i + 1);
	rc = add_blob(w, digest, size, IMPORT_SRC_MEMBER, member, label, err);
	if (rc)
		return rc;
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

/* One manifest.json item -> its config, layers and a synthesised OCI
 * manifest (its digest and size returned). */
static int docker_image(struct walk *w, json_object *item, size_t idx, char mdigest[DIGEST_STR_LEN],
			size_t *msize, struct errmsg *err)
{
	const char *config_name = str_of(item, "Config");
	json_object *lnames = array_of(item, "Layers");
	if (!config_name || !lnames)
		return errmsg_set(err, -EINVAL, "manifest.json[%zu]: Config or Layers is missing",
				  idx);
	char *cbuf, cdigest[DIGEST_STR_LEN];
	size_t clen;
	int rc = read_member(w, config_name, &cbuf, &clen, err);
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
		rc = add_inline(w, cbuf, clen, "config", cdigest, err);
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
		rc = list_layer(w, json_object_get_string(ln), diff_ids[i], i, layers, &e);
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
		rc = s ? add_inline(w, s, len, "manifest", mdigest, err) : -ENOMEM;
		*msize = len;
		json_object_put(m);
	}
	json_object_put(layers);
	oci_strv_free(diff_ids, n_diff);
	free(cbuf);
	return rc;
}

static int list_docker(struct walk *w, struct errmsg *err)
{
	char *buf;
	size_t len;
	int rc = read_member(w, "manifest.json", &buf, &len, err);
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
	else if (w->name && n != 1)
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
		rc = docker_image(w, item, i, mdigest, &msize, err);
		json_object *tags = array_of(item, "RepoTags");
		size_t nt = w->name || !tags ? 0 : json_object_array_length(tags);
		for (size_t t = 0; !rc && t < (nt ? nt : 1); t++) {
			const char *full = w->name;
			if (nt) {
				json_object *tj = json_object_array_get_idx(tags, t);
				full = json_object_is_type(tj, json_type_string)
					   ? json_object_get_string(tj)
					   : "";
			}
			char *ref;
			rc = import_ref_name(w->path, full, NULL, &ref, err);
			if (!rc)
				rc = add_image(w, ref, mdigest, MT_MANIFEST, msize, err);
		}
	}
	json_object_put(o);
	return rc;
}

static int walk(struct walk *w, struct errmsg *err)
{
	char *index;
	size_t len;
	int rc = oci_source_read_file(w->src, "index.json", OCI_JSON_MAX, &index, &len, err);
	if (rc == 0) {
		w->format = oci_source_is_archive(w->src) ? IMPORT_OCI_ARCHIVE : IMPORT_OCI_LAYOUT;
		rc = list_oci(w, index, len, err);
		free(index);
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	struct oci_blob *b;
	uint64_t size;
	if (oci_member_open(w->src, "manifest.json", &b, &size, NULL))
		return errmsg_set(err, -EINVAL,
				  "neither an OCI layout or oci-archive (no index.json) nor a "
				  "docker-archive (no manifest.json)");
	oci_blob_close(b);
	w->format = IMPORT_DOCKER_ARCHIVE;
	return list_docker(w, err);
}

int import_list(struct oci_source *src, const char *path, const char *name, int answer_fd,
		int docs_fd, struct errmsg *err)
{
	struct walk w = {.path = path, .name = name, .src = src, .docs_fd = docs_fd};
	int rc = walk(&w, err);
	struct impres *r = NULL;
	if (!rc && !(r = impres_new(w.n_images, w.n_blobs)))
		rc = -ENOMEM;
	if (!rc) {
		r->format = w.format;
		r->docs_len = w.docs_len;
		memcpy(impres_images(r), w.images, w.n_images * sizeof(*w.images));
		memcpy(impres_blobs(r), w.blobs, w.n_blobs * sizeof(*w.blobs));
		rc = fdio_pwrite_all(answer_fd, r, impres_size(w.n_images, w.n_blobs), 0);
		if (rc)
			errmsg_set(err, rc, "writing the answer: %s", strerror(-rc));
	}
	free(r);
	free(w.images);
	free(w.blobs);
	return rc;
}

/* ---- the copy ---- */

static int copy_one(struct oci_source *src, const struct imp_blob *b, int fd, struct errmsg *err)
{
	struct oci_blob *ob;
	struct lstore_writer *wr = NULL;
	uint64_t size;
	int rc;
	if (b->src == IMPORT_SRC_MEMBER) {
		rc = oci_member_open(src, b->member, &ob, &size, err);
	} else {
		struct oci_descriptor d = {.size = b->size};
		memcpy(d.digest, b->digest, DIGEST_STR_LEN);
		rc = oci_blob_open(src, &d, &ob, err);
	}
	if (rc)
		return rc;
	rc = lstore_writer_on_fd(b->digest, (int64_t)b->size, fd, &wr, err);
	while (!rc) {
		const void *buf;
		ssize_t n = b->src == IMPORT_SRC_MEMBER ? oci_member_read(ob, &buf, err)
							: oci_blob_read(ob, &buf, err);
		if (n <= 0) {
			rc = (int)n;
			break;
		}
		rc = lstore_blob_write(wr, buf, (size_t)n, err);
	}
	if (wr) {
		struct errmsg e = {{0}};
		int rc2 = lstore_writer_end(wr, &e);
		if (!rc && rc2)
			rc = errmsg_set(err, rc2, "%s", e.text);
	}
	oci_blob_close(ob);
	return rc;
}

int import_copy(struct oci_source *src, const struct impreq *q, const int *fds, struct convproc *cp,
		struct errmsg *err)
{
	for (uint32_t k = 0; k < q->n_blobs; k++) {
		struct errmsg e = {{0}};
		if (cp)
			convproc_progress(cp, k);
		int rc = copy_one(src, &q->blobs[k], fds[k], &e);
		if (rc)
			return errmsg_set(err, rc, "%s: %s", q->blobs[k].label, e.text);
	}
	return 0;
}
