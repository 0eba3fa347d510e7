#include "images/pull.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <json.h>

#include "common/clock.h"
#include "common/readfile.h"
#include "images/auth.h"
#include "images/lstore.h"
#include "images/oci_json.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

struct progress {
	FILE *out;
	const char *label; /* "config", "layer 2/5" */
	const char *digest;
	uint64_t total;
	uint64_t last_ns;
};

static void progress_print(struct progress *p, uint64_t done, bool final)
{
	bool mib = p->total >= (1u << 20);
	double unit = mib ? (1u << 20) : 1024;
	fprintf(p->out, "\r%-10s %.12s %8.1f / %.1f %s%s", p->label, p->digest + 7,
		(double)done / unit, (double)p->total / unit, mib ? "MiB" : "KiB",
		final ? "  done\n" : "");
	fflush(p->out);
}

static void on_progress(void *arg, uint64_t done)
{
	struct progress *p = arg;
	uint64_t now = clock_now_ns();
	if (now - p->last_ns < 100 * 1000 * 1000ull)
		return; /* a terminal redraw ten times a second is plenty */
	p->last_ns = now;
	progress_print(p, done, false);
}

/* The "mediaType" member of a manifest JSON, malloc'd, or NULL. */
static char *json_media_type(const char *buf, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL;
	json_object *v;
	char *mt = NULL;
	if (o && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "mediaType", &v) &&
	    json_object_is_type(v, json_type_string))
		mt = strdup(json_object_get_string(v));
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return mt;
}

/* Decide what the registry sent: an index or a manifest. *mt becomes the
 * media type to record (owned by the caller). */
static int classify(const char *header_mt, const char *buf, size_t len, const char *what,
		    enum oci_kind *kind, char **mt, struct errmsg *err)
{
	*mt = NULL;
	enum oci_kind k = oci_media_kind(header_mt);
	if (k == OCI_KIND_INDEX || k == OCI_KIND_MANIFEST) {
		*kind = k;
		*mt = strdup(header_mt);
		return *mt ? 0 : -ENOMEM;
	}
	/* Content-Type missing or generic (application/json): look inside */
	char *jmt = json_media_type(buf, len);
	k = jmt ? oci_media_kind(jmt) : OCI_KIND_UNKNOWN;
	if (k != OCI_KIND_INDEX && k != OCI_KIND_MANIFEST) {
		const char *shown = jmt ? jmt : header_mt;
		if (shown && (k != OCI_KIND_UNKNOWN || strstr(shown, "manifest.v1") ||
			      (header_mt && strcmp(header_mt, "application/json")))) {
			int rc = errmsg_set(err, -EPROTONOSUPPORT,
					    "%s: unsupported media type '%.100s'%s", what, shown,
					    strstr(shown, "manifest.v1")
						? " (Docker schema 1 is not supported)"
						: "");
			free(jmt);
			return rc;
		}
		k = oci_json_is_index(buf, len) ? OCI_KIND_INDEX : OCI_KIND_MANIFEST;
	}
	*kind = k;
	*mt = jmt ? jmt : strdup(k == OCI_KIND_INDEX ? MT_OCI_INDEX : MT_OCI_MANIFEST);
	return *mt ? 0 : -ENOMEM;
}

/* Download one blob into the store unless it is there. */
static int fetch_blob(struct registry *r, struct lstore *s, const struct oci_descriptor *d,
		      const char *label, const struct pull_opts *o, struct errmsg *err)
{
	if (lstore_has_blob(s, d->digest))
		return 0;
	struct lstore_writer *w;
	int rc = lstore_blob_begin(s, d->digest, (int64_t)d->size, &w, err);
	if (rc)
		return rc;
	struct progress p = {o->progress_out, label, d->digest, d->size, 0};
	struct errmsg e = {{0}};
	rc = registry_get_blob(r, d->digest, d->size, w, o->progress ? on_progress : NULL, &p, &e);
	if (rc) {
		lstore_blob_abort(w);
		return errmsg_set(err, rc, "%s: %s", label, e.text[0] ? e.text : strerror(-rc));
	}
	rc = lstore_blob_commit(w, err);
	if (!rc && o->progress)
		progress_print(&p, d->size, true);
	return rc;
}

/* The config: fetched, then parsed to refuse another platform early. */
static int fetch_config(struct registry *r, struct lstore *s, const struct oci_descriptor *d,
			const struct pull_opts *o, struct errmsg *err)
{
	if (d->size > OCI_JSON_MAX)
		return errmsg_set(err, -EFBIG, "config %.19s: %llu bytes, more than the %u allowed",
				  d->digest, (unsigned long long)d->size, OCI_JSON_MAX);
	int rc = fetch_blob(r, s, d, "config", o, err);
	char *path = rc ? NULL : lstore_blob_path(s, d->digest);
	char *buf = NULL;
	size_t len;
	if (!rc && !path)
		rc = -ENOMEM;
	if (!rc && (rc = readfile(path, OCI_JSON_MAX, &buf, &len)))
		errmsg_set(err, rc, "%s: %s", path, strerror(-rc));
	if (!rc) {
		char what[64];
		struct image_config cfg;
		snprintf(what, sizeof(what), "config %.19s", d->digest);
		rc = oci_config_parse(buf, len, what, &cfg, NULL, NULL, err);
		if (!rc)
			image_config_free(&cfg);
	}
	free(buf);
	free(path);
	return rc;
}

struct pulled {
	char *top, *top_mt; /* what the tag or digest names */
	size_t top_len;
	char top_digest[DIGEST_STR_LEN];
	char *man, *man_mt; /* the image manifest (== top unless top is an index) */
	size_t man_len;
	char man_digest[DIGEST_STR_LEN];
	struct oci_manifest m;
};

static void pulled_free(struct pulled *p)
{
	if (p->man != p->top)
		free(p->man);
	free(p->top);
	free(p->top_mt);
	free(p->man_mt);
	oci_manifest_free(&p->m);
}

/* The manifest the reference names, through an index when there is one. */
static int resolve(struct registry *r, const struct image_ref *ref, struct pulled *p,
		   struct errmsg *err)
{
	char *hdr_mt = NULL;
	enum oci_kind kind;
	const char *at = ref->digest[0] ? ref->digest : ref->tag;
	int rc = registry_get_manifest(r, at, &p->top, &p->top_len, &hdr_mt, p->top_digest, err);
	if (!rc)
		rc = classify(hdr_mt, p->top, p->top_len, at, &kind, &p->top_mt, err);
	free(hdr_mt);
	if (rc)
		return rc;
	p->man = p->top;
	p->man_len = p->top_len;
	memcpy(p->man_digest, p->top_digest, DIGEST_STR_LEN);
	if (kind == OCI_KIND_INDEX) {
		struct oci_descriptor d;
		char what[64];
		snprintf(what, sizeof(what), "image index %.19s", p->top_digest);
		rc = oci_index_select(p->top, p->top_len, what, false, NULL, &d, err);
		if (rc)
			return rc;
		enum oci_kind dk = oci_media_kind(d.media_type);
		if (d.media_type && dk != OCI_KIND_MANIFEST)
			rc = errmsg_set(err, -EPROTONOSUPPORT,
					"%s: the linux/%s entry is a '%.100s', not an image "
					"manifest",
					what, oci_host_arch(), d.media_type);
		if (!rc)
			rc = registry_get_manifest(r, d.digest, &p->man, &p->man_len, &hdr_mt,
						   p->man_digest, err);
		if (!rc && p->man_len != d.size)
			rc = errmsg_set(err, -EBADMSG,
					"manifest %.19s: %zu bytes, the index says %llu", d.digest,
					p->man_len, (unsigned long long)d.size);
		if (!rc)
			rc = classify(hdr_mt, p->man, p->man_len, d.digest, &kind, &p->man_mt, err);
		if (!rc && kind != OCI_KIND_MANIFEST)
			rc = errmsg_set(err, -EPROTONOSUPPORT,
					"%s: names another index, not an image manifest", what);
		free(hdr_mt);
		oci_descriptor_free(&d);
		if (rc)
			return rc;
	}
	char what[64];
	snprintf(what, sizeof(what), "manifest %.19s", p->man_digest);
	return oci_manifest_parse(p->man, p->man_len, what, &p->m, err);
}

/* The layers' compressed sizes, as the manifest gives them, are held to the
 * image size limit (images/limits.h) before anything is downloaded; the
 * bytes that then arrive are held to those sizes (registry_get_blob). */
static int check_limit(const struct oci_manifest *m, const struct image_limits *lim,
		       struct errmsg *err)
{
	uint64_t total = 0;
	for (size_t i = 0; i < m->n_layers; i++) {
		uint64_t s = m->layers[i].size;
		if (s <= lim->max_bytes - total) {
			total += s;
			continue;
		}
		char h[32];
		image_size_str(lim->max_bytes, h, sizeof(h));
		return errmsg_set(err, -E2BIG,
				  "layer %zu/%zu (%.19s): %llu bytes compressed, with the %llu "
				  "before it over the image size limit of %s (--max-image-size, "
				  "HULL_MAX_IMAGE_SIZE); nothing was downloaded",
				  i + 1, m->n_layers, m->layers[i].digest, (unsigned long long)s,
				  (unsigned long long)total, h);
	}
	return 0;
}

/* The layers the store lacks must fit on its filesystem: a manifest that
 * announces absurd sizes fails here instead of filling the disk. */
static int check_space(struct lstore *s, const struct oci_manifest *m, struct errmsg *err)
{
	uint64_t need = 0;
	for (size_t i = 0; i < m->n_layers; i++)
		if (!lstore_has_blob(s, m->layers[i].digest))
			need += m->layers[i].size;
	struct statvfs v;
	if (statvfs(s->dir, &v) < 0)
		return 0; /* cannot tell: the writes will say */
	uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (need > avail)
		return errmsg_set(err, -ENOSPC, "the layers need %llu MiB, %s has %llu MiB free",
				  (unsigned long long)(need >> 20), s->dir,
				  (unsigned long long)(avail >> 20));
	return 0;
}

static int pull(const char *store_root, const struct image_ref *ref, const struct pull_opts *o,
		char digest[DIGEST_STR_LEN], struct errmsg *err)
{
	struct lstore s;
	struct registry *r = NULL;
	struct pulled p;
	struct registry_opts ro = o->reg;
	char *user = NULL, *pass = NULL;
	memset(&p, 0, sizeof(p));
	int rc = lstore_open(store_root, &s, err);
	if (rc)
		return rc;
	if ((rc = lstore_hold(&s, err)))
		goto out;
	if (!ro.user) {
		rc = auth_config_load(ref->domain, &user, &pass, err);
		if (rc && rc != -ENOENT)
			goto out;
		ro.user = user;
		ro.pass = pass;
	}
	struct image_limits dflt = image_limits_default();
	if ((rc = registry_open(ref->domain, ref->path, &ro, &r, err)) ||
	    (rc = resolve(r, ref, &p, err)) ||
	    (rc = check_limit(&p.m, o->limits ? o->limits : &dflt, err)) ||
	    (rc = check_space(&s, &p.m, err)) || (rc = fetch_config(r, &s, &p.m.config, o, err)))
		goto out;
	for (size_t i = 0; i < p.m.n_layers && !rc; i++) {
		char label[48];
		snprintf(label, sizeof(label), "layer %zu/%zu", i + 1, p.m.n_layers);
		rc = fetch_blob(r, &s, &p.m.layers[i], label, o, err);
	}
	/* manifests last: a reference only ever names complete images */
	if (!rc)
		rc = lstore_blob_put(&s, p.man_digest, p.man, p.man_len, err);
	if (!rc && p.top != p.man)
		rc = lstore_blob_put(&s, p.top_digest, p.top, p.top_len, err);
	if (!rc)
		rc = lstore_tag(&s, ref->name, p.top_digest, p.top_mt, (int64_t)p.top_len, err);
	if (!rc)
		memcpy(digest, p.top_digest, DIGEST_STR_LEN);
out:
	pulled_free(&p);
	registry_close(r);
	free(user);
	free(pass);
	lstore_close(&s);
	return rc;
}

int pull_image(const char *store_root, const struct image_ref *ref, const struct pull_opts *o,
	       char digest[DIGEST_STR_LEN], struct errmsg *err)
{
	struct errmsg e = {{0}};
	int rc = pull(store_root, ref, o, digest, &e);
	if (rc)
		errmsg_set(err, rc, "image %s: %s", ref->name, e.text[0] ? e.text : strerror(-rc));
	return rc;
}
