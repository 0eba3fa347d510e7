#include "images/registry.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json.h>

#include "images/auth.h"

#define ERRBODY_MAX (16u << 10)
#define TOKEN_MAX (1u << 20)

static const char accept_manifests[] = "Accept: application/vnd.oci.image.index.v1+json, "
				       "application/vnd.oci.image.manifest.v1+json, "
				       "application/vnd.docker.distribution.manifest.list.v2+json, "
				       "application/vnd.docker.distribution.manifest.v2+json";

struct registry {
	CURL *curl;
	char *domain, *repo;
	char *base; /* "https://host[:port]" */
	bool insecure;
	char *user, *pass;
	char *token;	/* Bearer token, once obtained */
	bool use_basic; /* the registry asked for Basic */
	char *withheld; /* why the credentials were kept from the token realm, or NULL */
	volatile sig_atomic_t *cancel;
	char curl_err[CURL_ERROR_SIZE];
};

/* One HTTP exchange: what came back, and where the body goes. */
struct xfer {
	struct registry *r;
	long status;
	char *www_auth, *content_type, *docker_digest, *location;
	/* 2xx body sink: memory (limit > 0) or an lstore writer */
	char *buf;
	size_t len, limit;
	struct lstore_writer *w;
	uint64_t max; /* writer: bytes the blob may have */
	int sink_rc;  /* the sink's error, if it stopped the transfer */
	struct errmsg sink_err;
	registry_progress_fn progress;
	void *arg;
	uint64_t done;
	/* non-2xx body, for the registry's error message */
	char *ebuf;
	size_t elen;
	bool ebuf_full; /* the error body was cut off there */
};

static void xfer_reset_headers(struct xfer *x)
{
	free(x->www_auth);
	free(x->content_type);
	free(x->docker_digest);
	free(x->location);
	x->www_auth = x->content_type = x->docker_digest = x->location = NULL;
}

static void xfer_free(struct xfer *x)
{
	xfer_reset_headers(x);
	free(x->buf);
	free(x->ebuf);
	x->buf = x->ebuf = NULL;
}

static int append(char **buf, size_t *len, const char *p, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	long code = 0;
	if (x->r->cancel && *x->r->cancel)
		return 0;
	curl_easy_getinfo(x->r->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		/* what an error body says fits in ERRBODY_MAX: stop reading
		 * there rather than take whatever the server keeps sending */
		if (x->elen + n > ERRBODY_MAX) {
			x->ebuf_full = true;
			return 0;
		}
		if (append(&x->ebuf, &x->elen, p, n))
			return 0;
		return n;
	}
	if (x->w) {
		if (x->done + n > x->max) {
			x->sink_rc = -EFBIG;
			return 0;
		}
		x->sink_rc = lstore_blob_write(x->w, p, n, &x->sink_err);
		if (x->sink_rc)
			return 0;
		x->done += n;
		if (x->progress)
			x->progress(x->arg, x->done);
		return n;
	}
	if (x->len + n > x->limit) {
		x->sink_rc = -EFBIG;
		return 0;
	}
	if ((x->sink_rc = append(&x->buf, &x->len, p, n)))
		return 0;
	return n;
}

/* Copy a header's value (trimmed) if the line is "name: value". */
static void header_value(const char *line, size_t n, const char *name, char **slot)
{
	size_t nl = strlen(name);
	if (n <= nl || strncasecmp(line, name, nl) || line[nl] != ':' || *slot)
		return;
	const char *v = line + nl + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	*slot = strndup(v, (size_t)(end - v));
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	if (n >= 5 && !strncmp(p, "HTTP/", 5)) /* a new response (after a redirect) */
		xfer_reset_headers(x);
	if (n <= 2 && (p[0] == '\r' || p[0] == '\n')) {
		/* the end of a response's headers: refuse a success whose
		 * announced length is over the cap before its body streams in
		 * (an error's body is cut off in on_body) */
		long code = 0;
		curl_off_t cl = -1;
		uint64_t max = x->w ? x->max : x->limit;
		curl_easy_getinfo(x->r->curl, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(x->r->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (code >= 200 && code <= 299 && cl > 0 && (uint64_t)cl > max) {
			x->sink_rc = -EFBIG;
			return 0;
		}
	}
	header_value(p, n, "www-authenticate", &x->www_auth);
	header_value(p, n, "content-type", &x->content_type);
	header_value(p, n, "docker-content-digest", &x->docker_digest);
	header_value(p, n, "location", &x->location);
	return n;
}

static int on_xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct registry *r = arg;
	return r->cancel && *r->cancel;
}

/* Perform a GET of url into x. auth: send the registry's credentials. */
static CURLcode get(struct registry *r, const char *url, const char *accept, bool auth,
		    const char *user, const char *pass, struct xfer *x)
{
	CURL *c = r->curl;
	curl_easy_reset(c);
	struct curl_slist *hdrs = accept ? curl_slist_append(NULL, accept) : NULL;
	r->curl_err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hull");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* HTTPS stays HTTPS: a redirect to plain HTTP (where anyone on the path
	 * can change the content or read the URL's tokens) fails the request
	 * (CURLE_UNSUPPORTED_PROTOCOL, reported by curl_failure()). */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
			 strncasecmp(url, "https:", 6) ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (under 1 byte/s for a minute) fails instead of hanging */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (r->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* libcurl's own auth options: never forwarded to another host on a
	 * redirect (CURLOPT_UNRESTRICTED_AUTH stays off). */
	if (user && pass) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
	} else if (auth && r->token) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, r->token);
	} else if (auth && r->use_basic && r->user && r->pass) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->pass);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
	curl_slist_free_all(hdrs);
	if (cc == CURLE_WRITE_ERROR && x->ebuf_full)
		cc = CURLE_OK; /* the status says what went wrong */
	return cc;
}

/* The registry's {"errors":[{"code","message"}]} as "CODE: message". */
static void registry_error_text(const struct xfer *x, char *out, size_t n)
{
	out[0] = '\0';
	json_object *o = x->ebuf ? json_tokener_parse(x->ebuf) : NULL;
	json_object *errs, *e0, *code, *msg;
	if (o && json_object_object_get_ex(o, "errors", &errs) &&
	    json_object_is_type(errs, json_type_array) && json_object_array_length(errs) > 0 &&
	    (e0 = json_object_array_get_idx(errs, 0)) &&
	    json_object_object_get_ex(e0, "code", &code) &&
	    json_object_object_get_ex(e0, "message", &msg))
		snprintf(out, n, " (%.80s: %.200s)", json_object_get_string(code),
			 json_object_get_string(msg));
	json_object_put(o);
}

static int curl_failure(struct registry *r, CURLcode cc, const char *what, struct xfer *x,
			struct errmsg *err)
{
	if (cc == CURLE_ABORTED_BY_CALLBACK || (r->cancel && *r->cancel))
		return errmsg_set(err, -EINTR, "registry %s: %s: interrupted", r->domain, what);
	if (x && x->sink_rc == -EFBIG)
		return errmsg_set(err, -EFBIG, "registry %s: %s: larger than %llu bytes%s",
				  r->domain, what, (unsigned long long)(x->w ? x->max : x->limit),
				  x->w ? ", the size the manifest gives" : "");
	if (cc == CURLE_UNSUPPORTED_PROTOCOL && x && x->location &&
	    !strncasecmp(x->location, "http:", 5))
		return errmsg_set(err, -EPROTO,
				  "registry %s: %s: refused a redirect from HTTPS to plain HTTP "
				  "(%.200s)",
				  r->domain, what, x->location);
	if (x && x->sink_rc)
		return errmsg_set(err, x->sink_rc, "registry %s: %s: %s", r->domain, what,
				  x->sink_err.text[0] ? x->sink_err.text : strerror(-x->sink_rc));
	int rc = cc == CURLE_OPERATION_TIMEDOUT	    ? -ETIMEDOUT
		 : cc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH
		 : cc == CURLE_COULDNT_CONNECT	    ? -ECONNREFUSED
						    : -EIO;
	bool tls = cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION;
	return errmsg_set(err, rc, "registry %s: %s: %s%s%s%s", r->domain, what,
			  r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc),
			  tls && !r->insecure ? " (a plain-HTTP or self-signed registry? allow it "
						"with --insecure-registry "
					      : "",
			  tls && !r->insecure ? r->domain : "", tls && !r->insecure ? ")" : "");
}

/* Why the registry's credentials may not go to the token realm at url, or
 * NULL when they may. Over HTTPS they may (the realm is where the registry
 * sends its clients; docker.io's is auth.docker.io). Over plain HTTP only to
 * the registry's own host, and only when the registry itself is spoken to
 * over plain HTTP (the user allowed that with --insecure-registry): anything
 * else would hand the docker config's password to whoever is on the path,
 * or to another host a registry names. Unparsable URLs get nothing. */
static const char *realm_refusal(const struct registry *r, const char *url)
{
	CURLU *u = curl_url(), *b = curl_url();
	char *scheme = NULL, *host = NULL, *bhost = NULL;
	const char *why = "hull cannot parse it as a URL";
	if (u && b && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) {
		if (!strcasecmp(scheme, "https"))
			why = NULL;
		else if (strncasecmp(r->base, "http:", 5))
			why = "it is plain HTTP, and the registry is reached over HTTPS";
		else if (!curl_url_set(b, CURLUPART_URL, r->base, 0) &&
			 !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
			 !curl_url_get(b, CURLUPART_HOST, &bhost, 0))
			why = strcasecmp(host, bhost) ? "it is plain HTTP on another host than the "
							"registry"
						      : NULL;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(bhost);
	curl_url_cleanup(u);
	curl_url_cleanup(b);
	return why;
}

/* Get a token for the challenge; sets r->token or r->use_basic. */
static int authenticate(struct registry *r, const char *www_auth, struct errmsg *err)
{
	struct auth_challenge ch;
	struct errmsg e = {{0}};
	int rc = auth_challenge_parse(www_auth, &ch, &e);
	if (rc)
		return errmsg_set(err, rc, "registry %s: %s", r->domain, e.text);
	if (ch.scheme == AUTH_BASIC) {
		auth_challenge_free(&ch);
		if (!r->user)
			return errmsg_set(err, -EACCES,
					  "registry %s requires a user name and password, and "
					  "the docker config (~/.docker/config.json) has none "
					  "for it",
					  r->domain);
		r->use_basic = true;
		return 0;
	}
	char *scope = NULL, *url = NULL;
	if (asprintf(&scope, "repository:%s:pull", r->repo) < 0)
		scope = NULL;
	url = scope ? auth_token_url(&ch, scope) : NULL;
	free(scope);
	const char *why = url && r->user ? realm_refusal(r, url) : NULL;
	bool send = r->user && !why;
	free(r->withheld);
	r->withheld = NULL;
	if (why && asprintf(&r->withheld,
			    "the docker config's credentials for %s were not sent to the token "
			    "realm %.200s: %s",
			    r->domain, ch.realm, why) < 0) {
		r->withheld = NULL;
		free(url);
		url = NULL;
	}
	auth_challenge_free(&ch);
	if (!url)
		return -ENOMEM;
	struct xfer x = {.r = r, .limit = TOKEN_MAX};
	CURLcode cc = get(r, url, NULL, false, send ? r->user : NULL, send ? r->pass : NULL, &x);
	if (cc != CURLE_OK) {
		rc = curl_failure(r, cc, "getting a token", &x, err);
	} else if (x.status == 401 || x.status == 403) {
		rc = errmsg_set(
		    err, -EACCES, "registry %s: the token server %.200s refused %s (HTTP %ld)%s%s",
		    r->domain, url,
		    send ? "the credentials from the docker config" : "an anonymous token",
		    x.status, r->withheld ? "; " : "", r->withheld ? r->withheld : "");
	} else if (x.status != 200) {
		rc = errmsg_set(err, -EIO, "registry %s: token server %s answered HTTP %ld",
				r->domain, url, x.status);
	} else {
		free(r->token);
		r->token = NULL;
		rc = auth_token_parse(x.buf ? x.buf : "", x.len, &r->token, &e);
		if (rc)
			errmsg_set(err, rc, "registry %s: %s: %s", r->domain, url, e.text);
	}
	xfer_free(&x);
	free(url);
	return rc;
}

/* GET base+path with auth, answering one 401 challenge. x is filled. */
static int fetch(struct registry *r, const char *path, const char *accept, const char *what,
		 struct xfer *x, struct errmsg *err)
{
	char *url;
	if (asprintf(&url, "%s%s", r->base, path) < 0)
		return -ENOMEM;
	int rc = 0;
	for (int attempt = 0;; attempt++) {
		CURLcode cc = get(r, url, accept, true, NULL, NULL, x);
		if (cc != CURLE_OK) {
			rc = curl_failure(r, cc, what, x, err);
			break;
		}
		if (x->status != 401 || attempt == 1)
			break;
		char *challenge = x->www_auth ? strdup(x->www_auth) : NULL;
		xfer_reset_headers(x);
		free(x->ebuf);
		x->ebuf = NULL;
		x->elen = 0;
		rc = authenticate(r, challenge, err);
		free(challenge);
		if (rc)
			break;
	}
	if (!rc && (x->status < 200 || x->status > 299)) {
		char detail[320];
		registry_error_text(x, detail, sizeof(detail));
		rc = x->status == 404			    ? -ENOENT
		     : x->status == 401 || x->status == 403 ? -EACCES
							    : -EIO;
		bool withheld = rc == -EACCES && r->withheld;
		errmsg_set(err, rc, "registry %s: %s: HTTP %ld%s%s%s%s%s", r->domain, what,
			   x->status, detail,
			   rc == -EACCES ? " (access denied: the repository does not exist or "
					   "needs credentials)"
					 : "",
			   withheld ? " (" : "", withheld ? r->withheld : "", withheld ? ")" : "");
	}
	free(url);
	return rc;
}

int registry_is_insecure(const struct registry_opts *o, const char *domain)
{
	const char *colon = domain[0] == '[' ? strstr(domain, "]:") : strrchr(domain, ':');
	size_t hostlen = colon ? (size_t)(colon - domain) + (domain[0] == '[') : strlen(domain);
	for (size_t i = 0; o && i < o->n_insecure; i++) {
		const char *e = o->insecure[i];
		if (!strcmp(e, domain) || (strlen(e) == hostlen && !strncmp(e, domain, hostlen)))
			return 1;
	}
	return 0;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	curl_global_cleanup();
	free(r->domain);
	free(r->repo);
	free(r->base);
	free(r->user);
	free(r->pass);
	free(r->token);
	free(r->withheld);
	free(r);
}

/* GET /v2/ on scheme://host: 200 or 401 mean a registry. */
static int ping(struct registry *r, const char *scheme, struct errmsg *err)
{
	const char *host = strcmp(r->domain, "docker.io") ? r->domain : "registry-1.docker.io";
	free(r->base);
	if (asprintf(&r->base, "%s://%s", scheme, host) < 0) {
		r->base = NULL;
		return -ENOMEM;
	}
	char *url;
	if (asprintf(&url, "%s/v2/", r->base) < 0)
		return -ENOMEM;
	struct xfer x = {.r = r, .limit = ERRBODY_MAX};
	CURLcode cc = get(r, url, NULL, false, NULL, NULL, &x);
	int rc = 0;
	if (cc != CURLE_OK)
		rc = curl_failure(r, cc, url, &x, err);
	else if (x.status == 401)
		rc = authenticate(r, x.www_auth, err);
	else if (x.status != 200)
		rc = errmsg_set(err, -EPROTO,
				"registry %s: %s answered HTTP %ld: not a registry (API v2)",
				r->domain, url, x.status);
	xfer_free(&x);
	free(url);
	return rc;
}

int registry_open(const char *domain, const char *repo, const struct registry_opts *o,
		  struct registry **out, struct errmsg *err)
{
	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errmsg_set(err, -EIO, "libcurl failed to initialise");
	struct registry *r = calloc(1, sizeof(*r));
	if (!r) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	r->domain = strdup(domain);
	r->repo = strdup(repo);
	r->curl = curl_easy_init();
	r->insecure = registry_is_insecure(o, domain);
	r->cancel = o ? o->cancel : NULL;
	if (o && o->user && o->pass) {
		r->user = strdup(o->user);
		r->pass = strdup(o->pass);
	}
	int rc = 0;
	if (!r->domain || !r->repo || !r->curl || (o && o->user && (!r->user || !r->pass)))
		rc = -ENOMEM;
	if (!rc) {
		rc = ping(r, "https", err);
		/* an insecure registry may speak plain HTTP (docker does the same) */
		if (rc && rc != -EINTR && rc != -EACCES && r->insecure)
			rc = ping(r, "http", err);
	}
	if (rc) {
		registry_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int registry_get_manifest(struct registry *r, const char *ref, char **buf, size_t *len,
			  char **media_type, char digest[DIGEST_STR_LEN], struct errmsg *err)
{
	*buf = NULL;
	*len = 0;
	*media_type = NULL;
	char *path = NULL, *what = NULL;
	bool by_digest = !strncmp(ref, "sha256:", 7);
	if (asprintf(&path, "/v2/%s/manifests/%s", r->repo, ref) < 0)
		return -ENOMEM;
	if (asprintf(&what, "manifest %s%s%s", r->repo, by_digest ? "@" : ":", ref) < 0) {
		free(path);
		return -ENOMEM;
	}
	struct xfer x = {.r = r, .limit = REGISTRY_MANIFEST_MAX};
	int rc = fetch(r, path, accept_manifests, what, &x, err);
	if (!rc)
		rc = digest_buf(x.buf ? x.buf : "", x.len, digest);
	if (!rc && by_digest && strcmp(digest, ref))
		rc =
		    errmsg_set(err, -EBADMSG, "registry %s: %s: digest mismatch: the content is %s",
			       r->domain, what, digest);
	if (!rc && x.docker_digest && !strncmp(x.docker_digest, "sha256:", 7) &&
	    strcmp(x.docker_digest, digest))
		rc = errmsg_set(
		    err, -EBADMSG,
		    "registry %s: %s: digest mismatch: Docker-Content-Digest says %.80s, "
		    "the content is %s",
		    r->domain, what, x.docker_digest, digest);
	if (!rc) {
		*buf = x.buf ? x.buf : strdup("");
		*len = x.len;
		x.buf = NULL;
		if (x.content_type) { /* drop parameters ("; charset=utf-8") */
			x.content_type[strcspn(x.content_type, "; ")] = '\0';
			*media_type = x.content_type;
			x.content_type = NULL;
		}
	}
	xfer_free(&x);
	free(path);
	free(what);
	return rc;
}

int registry_get_blob(struct registry *r, const char *digest, uint64_t max, struct lstore_writer *w,
		      registry_progress_fn progress, void *arg, struct errmsg *err)
{
	char *path = NULL, *what = NULL;
	if (asprintf(&path, "/v2/%s/blobs/%s", r->repo, digest) < 0)
		return -ENOMEM;
	if (asprintf(&what, "blob %s@%.19s", r->repo, digest) < 0) {
		free(path);
		return -ENOMEM;
	}
	struct xfer x = {.r = r, .w = w, .max = max, .progress = progress, .arg = arg};
	int rc = fetch(r, path, NULL, what, &x, err);
	xfer_free(&x);
	free(path);
	free(what);
	return rc;
}
