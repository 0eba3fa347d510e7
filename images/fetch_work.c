/* hull-fetch's work (images/fetch_proc.h): the registry half of a pull,
 * moved here from images/pull.c unchanged in what it checks and says. */
#include "images/fetch_proc.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json.h>

#include "common/clock.h"
#include "common/fdio.h"
#include "images/limits.h"
#include "images/lstore.h"
#include "images/oci_json.h"
#include "images/registry.h"
#include "seccomp/filter.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

const struct convproc_helper fetch_helper = {
    .name = FETCH_NAME,
    .what = "the registry client",
    .exe_what = "the registry client",
    .env = FETCH_ENV,
    .host_net = true,
    .nofile_extra = FETCH_NOFILE_EXTRA,
};

/* ASan's shadow is terabytes of reserved address space: no RLIMIT_AS */
#if defined(__SANITIZE_ADDRESS__)
#define FETCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FETCH_SANITIZED 1
#endif
#endif

static void *no_op(void *arg)
{
	return arg;
}

int fetch_child_begin(struct convproc *cp, void **req, size_t *len, struct errmsg *err)
{
	*cp = (struct convproc){.fd = CONVPROC_FD_STATUS};
	*req = NULL;
	*len = 0;
#ifndef FETCH_SANITIZED
	if (setrlimit(RLIMIT_AS, &(struct rlimit){FETCH_AS_MAX, FETCH_AS_MAX}))
		return errmsg_set(err, -errno, FETCH_NAME ": RLIMIT_AS: %s", strerror(errno));
#endif
	/* what would otherwise run under the filter and need more of it:
	 * libcurl's and OpenSSL's global init (kept: registry_open()'s own
	 * init and cleanup only count), glibc's set-up of its first thread */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errmsg_set(err, -EIO, FETCH_NAME ": libcurl failed to initialise");
	pthread_t t;
	int rc = pthread_create(&t, NULL, no_op, NULL);
	if (rc)
		return errmsg_set(err, -rc, FETCH_NAME ": a first thread: %s", strerror(rc));
	pthread_join(t, NULL);
	return convproc_child_begin_as(cp, FETCH_NAME, HSC_FETCH, req, len, err);
}

uint64_t fetch_fsize(const struct fetchreq *q)
{
	if (q->mode != FETCH_BLOBS)
		return REGISTRY_MANIFEST_MAX > fetchres_size(OCI_MAX_LAYERS)
			   ? REGISTRY_MANIFEST_MAX
			   : fetchres_size(OCI_MAX_LAYERS);
	uint64_t m = 1;
	for (uint32_t i = 0; i < q->n_blobs; i++)
		if (q->blobs[i].size > m)
			m = q->blobs[i].size;
	return m;
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
		free(jmt);
		jmt = NULL;
	}
	*kind = k;
	*mt = jmt ? jmt : strdup(k == OCI_KIND_INDEX ? MT_OCI_INDEX : MT_OCI_MANIFEST);
	return *mt ? 0 : -ENOMEM;
}

struct pulled {
	char *top, *top_mt; /* what the tag or digest names */
	size_t top_len;
	char top_digest[DIGEST_STR_LEN];
	enum oci_kind top_kind;
	char *man; /* the image manifest (== top unless top is an index) */
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
	oci_manifest_free(&p->m);
}

/* The manifest the reference names, through an index when there is one. */
static int resolve(struct registry *r, const char *at, struct pulled *p, struct errmsg *err)
{
	char *hdr_mt = NULL, *man_mt = NULL;
	enum oci_kind kind;
	int rc = registry_get_manifest(r, at, &p->top, &p->top_len, &hdr_mt, p->top_digest, err);
	if (!rc)
		rc = classify(hdr_mt, p->top, p->top_len, at, &p->top_kind, &p->top_mt, err);
	free(hdr_mt);
	hdr_mt = NULL;
	if (rc)
		return rc;
	p->man = p->top;
	p->man_len = p->top_len;
	memcpy(p->man_digest, p->top_digest, DIGEST_STR_LEN);
	if (p->top_kind == OCI_KIND_INDEX) {
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
			rc = classify(hdr_mt, p->man, p->man_len, d.digest, &kind, &man_mt, err);
		if (!rc && kind != OCI_KIND_MANIFEST)
			rc = errmsg_set(err, -EPROTONOSUPPORT,
					"%s: names another index, not an image manifest", what);
		free(hdr_mt);
		free(man_mt);
		oci_descriptor_free(&d);
		if (rc)
			return rc;
	}
	char what[64];
	snprintf(what, sizeof(what), "manifest %.19s", p->man_digest);
	return oci_manifest_parse(p->man, p->man_len, what, &p->m, err);
}

int fetch_check_limit(const struct fetchres *r, uint64_t max_bytes, struct errmsg *err)
{
	uint64_t total = 0;
	for (size_t i = 0; i < r->n_layers; i++) {
		uint64_t s = r->layers[i].size;
		if (s <= max_bytes - total) {
			total += s;
			continue;
		}
		char h[32];
		image_size_str(max_bytes, h, sizeof(h));
		return errmsg_set(err, -E2BIG,
				  "layer %zu/%u (%.19s): %llu bytes compressed, with the %llu "
				  "before it over the image size limit of %s (--max-image-size, "
				  "HULL_MAX_IMAGE_SIZE); nothing was downloaded",
				  i + 1, r->n_layers, r->layers[i].digest, (unsigned long long)s,
				  (unsigned long long)total, h);
	}
	return 0;
}

/* Progress records for the parent's display, at most ten a second. */
struct progress {
	struct convproc *cp;
	unsigned item;
	uint64_t size; /* the end is reported once, by get_blob() */
	uint64_t last_ns;
};

static void on_progress(void *arg, uint64_t done)
{
	struct progress *p = arg;
	uint64_t now = clock_now_ns();
	if (done >= p->size || now - p->last_ns < 100 * 1000 * 1000ull)
		return;
	p->last_ns = now;
	convproc_progress_bytes(p->cp, p->item, done);
}

/* One blob into the work fd fd, verified; label names it in errors. */
static int get_blob(struct registry *r, struct convproc *cp, unsigned item, const char *digest,
		    uint64_t size, int fd, const char *label, struct errmsg *err)
{
	struct lstore_writer *w;
	struct errmsg e = {{0}};
	struct progress p = {cp, item, size, 0};
	if (size) /* an empty blob: its end says it all */
		convproc_progress_bytes(cp, item, 0);
	int rc = lstore_writer_on_fd(digest, (int64_t)size, fd, &w, &e);
	if (!rc) {
		rc = registry_get_blob(r, digest, size, w, on_progress, &p, &e);
		int rc2 = lstore_writer_end(w, rc ? NULL : &e);
		if (!rc)
			rc = rc2;
	}
	if (rc)
		return errmsg_set(err, rc, "%s: %s", label, e.text[0] ? e.text : strerror(-rc));
	convproc_progress_bytes(cp, item, size);
	return 0;
}

static void registry_opts_of(const struct fetchreq *q, const char *insecure[],
			     struct registry_opts *ro)
{
	for (uint32_t i = 0; i < q->n_insecure; i++)
		insecure[i] = q->insecure[i];
	*ro = (struct registry_opts){.insecure = insecure, .n_insecure = q->n_insecure};
	if (q->creds) {
		ro->user = q->user;
		ro->pass = q->pass;
	}
}

/* The answer: the decoded facts, for the parent. */
static struct fetchres *answer(const struct pulled *p)
{
	struct fetchres *a = fetchres_new(p->m.n_layers);
	if (!a)
		return NULL;
	a->top_kind = p->top_kind;
	a->top_len = p->top_len;
	memcpy(a->top_digest, p->top_digest, DIGEST_STR_LEN);
	snprintf(a->top_mt, sizeof(a->top_mt), "%s", p->top_mt);
	if (p->top_kind == OCI_KIND_INDEX) {
		a->man_len = p->man_len;
		memcpy(a->man_digest, p->man_digest, DIGEST_STR_LEN);
	}
	memcpy(a->config_digest, p->m.config.digest, DIGEST_STR_LEN);
	a->config_size = p->m.config.size;
	for (size_t i = 0; i < p->m.n_layers; i++) {
		memcpy(a->layers[i].digest, p->m.layers[i].digest, DIGEST_STR_LEN);
		a->layers[i].size = p->m.layers[i].size;
		a->layers[i].kind = p->m.layer_kinds[i];
	}
	return a;
}

/* The config, fetched into its fd, then parsed to refuse another platform
 * early. */
static int get_config(struct registry *r, struct convproc *cp, unsigned item,
		      const struct fetchreq_blob *b, struct errmsg *err)
{
	int fd = CONVPROC_FD_WORK + (int)item;
	char label[48];
	fetchreq_blob_label(b, label, sizeof(label));
	int rc = get_blob(r, cp, item, b->digest, b->size, fd, label, err);
	if (rc)
		return rc;
	char *buf = malloc(b->size + 1);
	if (!buf)
		return -ENOMEM;
	if ((rc = fdio_pread_all(fd, buf, b->size, 0))) {
		free(buf);
		return errmsg_set(err, rc, "config: reading it back: %s", strerror(-rc));
	}
	buf[b->size] = '\0';
	char what[64];
	struct image_config cfg;
	snprintf(what, sizeof(what), "config %.19s", b->digest);
	rc = oci_config_parse(buf, b->size, what, &cfg, NULL, NULL, err);
	if (!rc)
		image_config_free(&cfg);
	free(buf);
	return rc;
}

int fetch_resolve(const struct fetchreq *q, struct convproc *cp, struct errmsg *err)
{
	if (cp->nfds != FETCH_RESOLVE_FDS)
		return errmsg_set(err, -EBADF, FETCH_NAME ": %zu work fds, not %d", cp->nfds,
				  FETCH_RESOLVE_FDS);
	const char *insecure[FETCH_INSECURE_MAX];
	struct registry_opts ro;
	registry_opts_of(q, insecure, &ro);
	struct registry *r = NULL;
	struct pulled p;
	struct fetchres *a = NULL;
	memset(&p, 0, sizeof(p));
	int rc = registry_open(q->domain, q->repo, &ro, &r, err);
	if (!rc)
		rc = resolve(r, q->ref, &p, err);
	if (!rc && !(a = answer(&p)))
		rc = -ENOMEM;
	if (!rc)
		rc = fetch_check_limit(a, q->max_bytes, err);
	if (!rc && p.m.config.size > OCI_JSON_MAX)
		rc = errmsg_set(err, -EFBIG, "config %.19s: %llu bytes, more than the %u allowed",
				p.m.config.digest, (unsigned long long)p.m.config.size,
				OCI_JSON_MAX);
	if (!rc && ((rc = fdio_pwrite_all(CONVPROC_FD_WORK + FETCH_FD_TOP, p.top, p.top_len, 0)) ||
		    (p.man != p.top && (rc = fdio_pwrite_all(CONVPROC_FD_WORK + FETCH_FD_MAN, p.man,
							     p.man_len, 0))) ||
		    (rc = fdio_pwrite_all(CONVPROC_FD_WORK + FETCH_FD_ANSWER, a,
					  fetchres_size(a->n_layers), 0))))
		errmsg_set(err, rc, FETCH_NAME ": writing the answer: %s", strerror(-rc));
	free(a);
	pulled_free(&p);
	registry_close(r);
	return rc;
}

int fetch_blobs(const struct fetchreq *q, struct convproc *cp, struct errmsg *err)
{
	if (cp->nfds != q->n_blobs)
		return errmsg_set(err, -EBADF, FETCH_NAME ": %zu work fds for %u blobs", cp->nfds,
				  q->n_blobs);
	const char *insecure[FETCH_INSECURE_MAX];
	struct registry_opts ro;
	registry_opts_of(q, insecure, &ro);
	struct registry *r = NULL;
	int rc = registry_open(q->domain, q->repo, &ro, &r, err);
	for (uint32_t i = 0; !rc && i < q->n_blobs; i++) {
		const struct fetchreq_blob *b = &q->blobs[i];
		char label[48];
		fetchreq_blob_label(b, label, sizeof(label));
		rc = b->of ? get_blob(r, cp, i, b->digest, b->size, CONVPROC_FD_WORK + (int)i,
				      label, err)
			   : get_config(r, cp, i, b, err);
	}
	registry_close(r);
	return rc;
}
