#include "images/pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/fdio.h"
#include "images/auth.h"
#include "images/fetch_proc.h"
#include "images/lstore.h"
#include "images/oci_json.h"

/* Blobs per hull-fetch run (each run is one registry session): bounds the
 * temp files open at once. */
#define BLOBS_PER_RUN 64

struct progress {
	FILE *out;
	bool on;
	const struct fetchreq *q; /* the blob items of this run, for their labels */
};

static void progress_print(FILE *out, const char *label, const char *digest, uint64_t total,
			   uint64_t done, bool final)
{
	bool mib = total >= (1u << 20);
	double unit = mib ? (1u << 20) : 1024;
	fprintf(out, "\r%-10s %.12s %8.1f / %.1f %s%s", label, digest + 7, (double)done / unit,
		(double)total / unit, mib ? "MiB" : "KiB", final ? "  done\n" : "");
	fflush(out);
}

/* hull-fetch's progress records on the layers (convproc_helper.progress):
 * the child sends at most ten a second while a blob streams, and one with
 * its whole size at the end (item is below n_blobs: convert_proc checks). */
static void on_progress(void *arg, unsigned item, uint64_t done)
{
	struct progress *p = arg;
	if (!p->on || p->q->mode != FETCH_BLOBS)
		return;
	const struct fetchreq_blob *b = &p->q->blobs[item];
	char label[48];
	fetchreq_blob_label(b, label, sizeof(label));
	if (done > b->size)
		done = b->size;
	progress_print(p->out, label, b->digest, b->size, done, done == b->size);
}

/* The request's common part: registry, repository, insecure list,
 * credentials. */
static int request_base(struct fetchreq *q, const struct image_ref *ref,
			const struct registry_opts *ro, struct errmsg *err)
{
	if (snprintf(q->domain, sizeof(q->domain), "%s", ref->domain) >= (int)sizeof(q->domain) ||
	    snprintf(q->repo, sizeof(q->repo), "%s", ref->path) >= (int)sizeof(q->repo))
		return errmsg_set(err, -ENAMETOOLONG, "the reference is too long");
	if (ro->n_insecure > FETCH_INSECURE_MAX)
		return errmsg_set(err, -E2BIG, "more than %d insecure registries",
				  FETCH_INSECURE_MAX);
	q->n_insecure = (uint32_t)ro->n_insecure;
	for (size_t i = 0; i < ro->n_insecure; i++)
		if (!ro->insecure[i][0] || snprintf(q->insecure[i], FETCH_DOMAIN_MAX, "%s",
						    ro->insecure[i]) >= FETCH_DOMAIN_MAX)
			return errmsg_set(err, -EINVAL,
					  "insecure registry '%.80s': empty or too long",
					  ro->insecure[i]);
	if (ro->user && ro->user[0]) {
		const char *pass = ro->pass ? ro->pass : "";
		if (snprintf(q->user, sizeof(q->user), "%s", ro->user) >= (int)sizeof(q->user) ||
		    snprintf(q->pass, sizeof(q->pass), "%s", pass) >= (int)sizeof(q->pass))
			return errmsg_set(err, -E2BIG,
					  "the credentials for %s are longer than hull takes (%d "
					  "bytes for the user, %d for the password)",
					  ref->domain, FETCH_USER_MAX - 1, FETCH_PASS_MAX - 1);
		q->creds = 1;
	}
	return 0;
}

/* What hull-fetch gets of the caller's environment: the proxy variables
 * libcurl reads, nothing else. env[] has room for PROXY_VARS + 1 entries,
 * "NAME=value" (malloc'd: env_free()), NULL-terminated. */
#define PROXY_VARS 8
static int proxy_env(char *env[PROXY_VARS + 1])
{
	static const char *const names[PROXY_VARS] = {"http_proxy", "https_proxy", "no_proxy",
						      "all_proxy",  "HTTP_PROXY",  "HTTPS_PROXY",
						      "NO_PROXY",   "ALL_PROXY"};
	size_t n = 0;
	env[0] = NULL;
	for (size_t i = 0; i < PROXY_VARS; i++) {
		const char *v = getenv(names[i]);
		if (v && asprintf(&env[n++], "%s=%s", names[i], v) < 0) {
			env[n - 1] = NULL;
			return -ENOMEM;
		}
		env[n] = NULL;
	}
	return 0;
}

static void env_free(char **env)
{
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
}

static int run(const struct pull_opts *o, struct fetchreq *q, const int *fds, size_t nfds,
	       unsigned n_items, struct errmsg *err)
{
	struct progress p = {o->progress_out, o->progress, q};
	struct convproc_helper h = fetch_helper;
	char *env[PROXY_VARS + 1];
	int item, rc = proxy_env(env);
	h.env_vars = env;
	h.progress = on_progress;
	h.arg = &p;
	h.cancel = o->reg.cancel;
	h.fsize = fetch_fsize(q);
	if (!rc)
		rc = convproc_spawn(&h, NULL, q, fetchreq_size(q->n_blobs), fds, nfds, n_items,
				    NULL, 0, &item, err);
	env_free(env);
	return rc;
}

/* What hull-fetch found (decoded), and the documents it fetched. */
struct resolved {
	struct fetchres *a;
	char *top, *man;
};

static void resolved_free(struct resolved *r)
{
	free(r->a);
	free(r->top);
	free(r->man);
}

/* len bytes from the start of fd, malloc'd. */
static int read_doc(int fd, size_t len, char **out, const char *what, struct errmsg *err)
{
	*out = malloc(len + 1);
	if (!*out)
		return -ENOMEM;
	int rc = fdio_pread_all(fd, *out, len, 0);
	if (rc)
		return errmsg_set(err, rc, FETCH_NAME ": reading the %s: %s", what, strerror(-rc));
	(*out)[len] = '\0';
	return 0;
}

static int read_answer(const int *fds, struct resolved *res, struct errmsg *err)
{
	struct fetchres h;
	int rc = fdio_pread_all(fds[FETCH_FD_ANSWER], &h, sizeof(h), 0);
	if (rc)
		return errmsg_set(err, rc, FETCH_NAME ": reading the answer: %s", strerror(-rc));
	if (h.n_layers > OCI_MAX_LAYERS)
		return errmsg_set(err, -EBADMSG, FETCH_NAME ": answer: n_layers: out of range");
	size_t len = fetchres_size(h.n_layers);
	char *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	if ((rc = fdio_pread_all(fds[FETCH_FD_ANSWER], buf, len, 0)))
		errmsg_set(err, rc, FETCH_NAME ": reading the answer: %s", strerror(-rc));
	if (!rc)
		rc = fetchres_decode(buf, len, &res->a, err);
	free(buf);
	if (rc)
		return rc;
	rc = read_doc(fds[FETCH_FD_TOP], res->a->top_len, &res->top, "manifest", err);
	if (!rc && res->a->man_len)
		rc = read_doc(fds[FETCH_FD_MAN], res->a->man_len, &res->man, "manifest", err);
	return rc;
}

/* hull-fetch resolves the reference: the decoded facts and the manifest
 * (and index) bytes into *res. */
static int resolve(const struct image_ref *ref, const struct pull_opts *o,
		   const struct registry_opts *ro, uint64_t max_bytes, struct resolved *res,
		   struct errmsg *err)
{
	static const char *const names[] = {"hull-fetch-answer", "hull-fetch-top",
					    "hull-fetch-manifest"};
	const size_t sizes[] = {fetchres_size(OCI_MAX_LAYERS), REGISTRY_MANIFEST_MAX,
				REGISTRY_MANIFEST_MAX};
	int fds[FETCH_RESOLVE_FDS] = {-1, -1, -1}, rc = 0;
	struct fetchreq *q = fetchreq_new(0);
	if (!q)
		return -ENOMEM;
	q->mode = FETCH_RESOLVE;
	q->max_bytes = max_bytes;
	snprintf(q->ref, sizeof(q->ref), "%s", ref->digest[0] ? ref->digest : ref->tag);
	rc = request_base(q, ref, ro, err);
	for (int i = 0; !rc && i < FETCH_RESOLVE_FDS; i++)
		if ((fds[i] = convproc_sized_memfd(names[i], sizes[i], err)) < 0)
			rc = fds[i];
	if (!rc)
		rc = run(o, q, fds, FETCH_RESOLVE_FDS, 0, err);
	if (!rc)
		rc = read_answer(fds, res, err);
	for (int i = 0; i < FETCH_RESOLVE_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(q);
	return rc;
}

/* The layers the store lacks must fit on its filesystem: a manifest that
 * announces absurd sizes fails here instead of filling the disk. */
static int check_space(struct lstore *s, const struct fetchres *a, struct errmsg *err)
{
	uint64_t need = 0;
	for (size_t i = 0; i < a->n_layers; i++)
		if (!lstore_has_blob(s, a->layers[i].digest))
			need += a->layers[i].size;
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

/* The blobs the store lacks, each once: the config first (hull-fetch
 * parses it for its platform before any layer comes), then the layers.
 * *out: n entries (malloc'd). */
static int missing(struct lstore *s, const struct fetchres *a, struct fetchreq_blob **out,
		   uint32_t *n)
{
	struct fetchreq_blob *v = calloc(a->n_layers + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*n = 0;
	for (uint32_t i = 0; i <= a->n_layers; i++) {
		const char *d = i ? a->layers[i - 1].digest : a->config_digest;
		bool have = lstore_has_blob(s, d);
		for (uint32_t k = 0; k < *n && !have; k++)
			have = !strcmp(v[k].digest, d);
		if (have)
			continue;
		memcpy(v[*n].digest, d, DIGEST_STR_LEN);
		v[*n].size = i ? a->layers[i - 1].size : a->config_size;
		v[*n].layer = i ? i - 1 : 0;
		v[*n].of = i ? a->n_layers : 0;
		(*n)++;
	}
	*out = v;
	return 0;
}

/* Blobs b[0, n) through one hull-fetch run, into temp files begun here and
 * committed here once the child has ended (read back and verified again). */
static int fetch_run(struct lstore *s, const struct image_ref *ref, const struct pull_opts *o,
		     const struct registry_opts *ro, const struct fetchreq_blob *b, uint32_t n,
		     struct errmsg *err)
{
	struct fetchreq *q = fetchreq_new(n);
	struct lstore_writer **w = calloc(n, sizeof(*w));
	int *fds = calloc(n, sizeof(*fds));
	int rc = q && w && fds ? 0 : -ENOMEM;
	if (!rc) {
		q->mode = FETCH_BLOBS;
		memcpy(q->blobs, b, n * sizeof(*b));
		rc = request_base(q, ref, ro, err);
	}
	for (uint32_t k = 0; !rc && k < n; k++)
		if (!(rc = lstore_blob_begin(s, b[k].digest, (int64_t)b[k].size, &w[k], err)))
			fds[k] = lstore_blob_fd(w[k]);
	if (!rc)
		rc = run(o, q, fds, n, n, err);
	for (uint32_t k = 0; !rc && k < n; k++) {
		char label[48];
		struct errmsg e = {{0}};
		fetchreq_blob_label(&b[k], label, sizeof(label));
		rc = lstore_blob_adopt(w[k], &e);
		w[k] = NULL;
		if (rc)
			errmsg_set(err, rc, "%s: %s", label, e.text);
	}
	for (uint32_t k = 0; w && k < n; k++)
		lstore_blob_abort(w[k]);
	free(q);
	free(w);
	free(fds);
	return rc;
}

static int pull(const char *store_root, const struct image_ref *ref, const struct pull_opts *o,
		char digest[DIGEST_STR_LEN], struct errmsg *err)
{
	struct lstore s;
	struct resolved res = {0};
	struct registry_opts ro = o->reg;
	char *user = NULL, *pass = NULL;
	int rc = lstore_open(store_root, &s, err);
	if (rc)
		return rc;
	if ((rc = lstore_hold(&s, err)))
		goto out;
	/* the caller's own docker config, read here: the child gets only the
	 * entry for this registry */
	if (!ro.user) {
		rc = auth_config_load(ref->domain, &user, &pass, err);
		if (rc && rc != -ENOENT)
			goto out;
		ro.user = user;
		ro.pass = pass;
	}
	struct image_limits dflt = image_limits_default();
	const struct image_limits *lim = o->limits ? o->limits : &dflt;
	struct fetchreq_blob *want = NULL;
	uint32_t n = 0;
	if ((rc = resolve(ref, o, &ro, lim->max_bytes, &res, err)) ||
	    (rc = fetch_check_limit(res.a, lim->max_bytes, err)) ||
	    (rc = check_space(&s, res.a, err)) || (rc = missing(&s, res.a, &want, &n)))
		goto out;
	for (uint32_t i = 0; !rc && i < n; i += BLOBS_PER_RUN)
		rc = fetch_run(&s, ref, o, &ro, want + i,
			       n - i > BLOBS_PER_RUN ? BLOBS_PER_RUN : n - i, err);
	free(want);
	/* manifests last: a reference only ever names complete images */
	if (!rc && res.man)
		rc = lstore_blob_put(&s, res.a->man_digest, res.man, res.a->man_len, err);
	if (!rc)
		rc = lstore_blob_put(&s, res.a->top_digest, res.top, res.a->top_len, err);
	if (!rc)
		rc = lstore_tag(&s, ref->name, res.a->top_digest, res.a->top_mt,
				(int64_t)res.a->top_len, err);
	if (!rc)
		memcpy(digest, res.a->top_digest, DIGEST_STR_LEN);
out:
	resolved_free(&res);
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
