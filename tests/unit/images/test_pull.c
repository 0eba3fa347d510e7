/* pull + registry against a fake registry: a small HTTP server in a thread
 * answering canned responses, for what a real registry will not serve:
 * hostile manifests (huge, malformed, unknown media types, lying digests),
 * index selection among platforms, a redirect to another host (the token
 * must not follow), cancellation. The real registry is in tests/e2e. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "images/digest.h"
#include "images/lstore.h"
#include "images/pull.h"
#include "images/ref.h"
#include "ocitest.h"

#define MT_I "application/vnd.oci.image.index.v1+json"
#define MT_M "application/vnd.oci.image.manifest.v1+json"
#define MT_C "application/vnd.oci.image.config.v1+json"
#define MT_L "application/vnd.oci.image.layer.v1.tar"

/* ---- the fake server ---- */

#define MAX_ROUTES 16
#define MAX_LOG 64

struct route {
	char path[256];
	int status;
	/* set *cancel once this many body bytes are out (0: never), writing
	 * slowly so the client is mid-transfer */
	size_t cancel_after;
	volatile sig_atomic_t *cancel;
	char headers[512]; /* extra header lines, each ending in \r\n */
	bool no_length;	   /* no Content-Length: the body ends when the connection does */
	char *body;
	size_t len;
	size_t sent; /* body bytes the client took, last time */
};

struct server {
	int fd, tls_fd; /* plain HTTP, HTTPS (same routes) */
	int port, tls_port;
	SSL_CTX *tls;
	pthread_t thread;
	volatile int stop;
	pthread_mutex_t lock;
	struct route routes[MAX_ROUTES];
	size_t n_routes;
	/* "<host header> <path> <authorization or ->" per request */
	char log[MAX_LOG][512];
	size_t n_log;
};

static struct server srv;

static void route(const char *path, int status, const char *headers, const void *body, size_t len)
{
	pthread_mutex_lock(&srv.lock);
	struct route *r = NULL;
	for (size_t i = 0; i < srv.n_routes; i++)
		if (!strcmp(srv.routes[i].path, path))
			r = &srv.routes[i];
	if (!r) {
		assert_true(srv.n_routes < MAX_ROUTES);
		r = &srv.routes[srv.n_routes++];
	}
	free(r->body);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->status = status;
	snprintf(r->headers, sizeof(r->headers), "%s", headers ? headers : "");
	r->body = malloc(len + 1);
	memcpy(r->body, body, len);
	r->len = len;
	r->cancel_after = 0;
	r->no_length = false;
	pthread_mutex_unlock(&srv.lock);
}

static void route_json(const char *path, const char *content_type, const char *body)
{
	char h[256];
	snprintf(h, sizeof(h), "Content-Type: %s\r\n", content_type);
	route(path, 200, h, body, strlen(body));
}

static const char *header_in(const char *req, const char *name, char *out, size_t n)
{
	const char *p = strcasestr(req, name);
	out[0] = '\0';
	if (!p)
		return NULL;
	p += strlen(name);
	size_t l = strcspn(p, "\r\n");
	snprintf(out, n, "%.*s", (int)l, p);
	return out;
}

/* One connection, plain or TLS. */
struct conn {
	int fd;
	SSL *ssl;
};

static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, buf, (int)n);
		return r > 0 ? r : -1;
	}
	return read(c->fd, buf, n);
}

/* MSG_NOSIGNAL: a client that hangs up is an answer, not a SIGPIPE. */
static ssize_t conn_write(struct conn *c, const void *buf, size_t n)
{
	if (c->ssl) {
		int r = SSL_write(c->ssl, buf, (int)n);
		return r > 0 ? r : -1;
	}
	return send(c->fd, buf, n, MSG_NOSIGNAL);
}

static void serve_one(struct conn *c)
{
	char req[8192];
	size_t n = 0;
	while (n < sizeof(req) - 1) {
		ssize_t r = conn_read(c, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (req[0] == 0x16) /* a TLS ClientHello on the plain port */
			return;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[256] = "";
	sscanf(req, "GET %255s", path);
	char host[128], auth[256];
	header_in(req, "\r\nHost: ", host, sizeof(host));
	if (!header_in(req, "\r\nAuthorization: ", auth, sizeof(auth)))
		strcpy(auth, "-");
	pthread_mutex_lock(&srv.lock);
	if (srv.n_log < MAX_LOG)
		snprintf(srv.log[srv.n_log++], sizeof(srv.log[0]), "%s %s %s", host, path, auth);
	struct route *r = NULL;
	for (size_t i = 0; i < srv.n_routes; i++)
		if (!strcmp(srv.routes[i].path, path))
			r = &srv.routes[i];
	char head[1024], length[64] = "";
	if (!r || !r->no_length)
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n", r ? r->len : 0);
	int hl = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nConnection: close\r\n%s%s\r\n",
			  r ? r->status : 404, length, r ? r->headers : "");
	ssize_t w = conn_write(c, head, (size_t)hl);
	if (r)
		r->sent = 0;
	for (size_t off = 0; r && w >= 0 && off < r->len; off += (size_t)w) {
		size_t chunk = r->len - off;
		chunk = chunk > 65536 ? 65536 : chunk;
		if (r->cancel_after) {
			if (off >= r->cancel_after)
				*r->cancel = 1;
			usleep(5000);
		}
		w = conn_write(c, r->body + off, chunk);
		if (w > 0)
			r->sent += (size_t)w;
	}
	pthread_mutex_unlock(&srv.lock);
}

static void *server_main(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd p[2] = {{srv.fd, POLLIN, 0}, {srv.tls_fd, POLLIN, 0}};
		if (poll(p, 2, 50) <= 0)
			continue;
		bool tls = !(p[0].revents & POLLIN);
		struct conn c = {accept(tls ? srv.tls_fd : srv.fd, NULL, NULL), NULL};
		if (c.fd < 0)
			continue;
		if (tls) {
			c.ssl = SSL_new(srv.tls);
			SSL_set_fd(c.ssl, c.fd);
			if (SSL_accept(c.ssl) == 1)
				serve_one(&c);
			SSL_shutdown(c.ssl);
			SSL_free(c.ssl);
		} else {
			serve_one(&c);
		}
		shutdown(c.fd, SHUT_WR);
		close(c.fd);
	}
	return NULL;
}

/* ---- fixture ---- */

struct fx {
	char *root;
	char reg[64];	  /* 127.0.0.1:PORT */
	char tls_reg[64]; /* 127.0.0.1:TLS_PORT */
	const char *insecure[2];
	struct pull_opts o;
	volatile sig_atomic_t cancel;
	struct errmsg err;
};

/* A listening socket on 127.0.0.1, any port. */
static int listen_any(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* The HTTPS side: a throwaway self-signed certificate (the client reaches it
 * as an insecure registry, without verification). */
static SSL_CTX *tls_ctx(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	assert_non_null(key);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1,
				   -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static int setup(void **state)
{
	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.lock, NULL);
	srv.fd = listen_any(&srv.port);
	srv.tls_fd = listen_any(&srv.tls_port);
	srv.tls = tls_ctx();
	assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
	struct fx *f = calloc(1, sizeof(*f));
	f->root = tmpdir_new();
	snprintf(f->reg, sizeof(f->reg), "127.0.0.1:%d", srv.port);
	snprintf(f->tls_reg, sizeof(f->tls_reg), "127.0.0.1:%d", srv.tls_port);
	f->insecure[0] = f->reg;
	f->insecure[1] = f->tls_reg;
	f->o.reg.insecure = f->insecure;
	f->o.reg.n_insecure = 2;
	f->o.reg.cancel = &f->cancel;
	setenv("DOCKER_CONFIG", f->root, 1); /* no config.json there: anonymous */
	route("/v2/", 200, NULL, "{}", 2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	srv.stop = 1;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	close(srv.tls_fd);
	SSL_CTX_free(srv.tls);
	for (size_t i = 0; i < srv.n_routes; i++)
		free(srv.routes[i].body);
	pthread_mutex_destroy(&srv.lock);
	rm_rf(f->root);
	free(f->root);
	free(f);
	return 0;
}

/* Pull "<reg>/<name>"; returns the rc, the digest in out (if non-NULL). */
static int pull_from(struct fx *f, const char *reg, const char *name, char *out)
{
	char s[256];
	snprintf(s, sizeof(s), "%s/%s", reg, name);
	struct image_ref ref;
	assert_int_equal(ref_parse(s, &ref, &f->err), 0);
	char d[DIGEST_STR_LEN];
	memset(&f->err, 0, sizeof(f->err));
	int rc = pull_image(f->root, &ref, &f->o, d, &f->err);
	if (out && !rc)
		memcpy(out, d, DIGEST_STR_LEN);
	ref_free(&ref);
	return rc;
}

static int pull(struct fx *f, const char *name, char *out)
{
	return pull_from(f, f->reg, name, out);
}

static size_t stored_refs(struct fx *f)
{
	struct lstore s;
	struct lstore_entry *es;
	size_t n;
	assert_int_equal(lstore_open(f->root, &s, &f->err), 0);
	assert_int_equal(lstore_list(&s, &es, &n, &f->err), 0);
	lstore_entries_free(es, n);
	lstore_close(&s);
	return n;
}

/* A servable image under repo: config + one layer + manifest. Returns the
 * manifest JSON (malloc'd); its digest in md. arch: the config's. */
static char *image(const char *repo, const char *arch, const char *layer_mt,
		   char md[DIGEST_STR_LEN])
{
	char cfg[512], cd[DIGEST_STR_LEN], ld[DIGEST_STR_LEN], path[512];
	const char layer[] = "not really a tar, never unpacked by a pull";
	assert_int_equal(digest_buf(layer, sizeof(layer), ld), 0);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 arch, ld);
	assert_int_equal(digest_buf(cfg, strlen(cfg), cd), 0);
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, cd);
	route(path, 200, NULL, cfg, strlen(cfg));
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, ld);
	route(path, 200, NULL, layer, sizeof(layer));
	char *m;
	assert_true(asprintf(&m,
			     "{\"schemaVersion\":2,\"mediaType\":\"" MT_M "\","
			     "\"config\":{\"mediaType\":\"" MT_C
			     "\",\"digest\":\"%s\",\"size\":%zu},"
			     "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
			     cd, strlen(cfg), layer_mt, ld, sizeof(layer)) > 0);
	assert_int_equal(digest_buf(m, strlen(m), md), 0);
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, md);
	route_json(path, MT_M, m);
	return m;
}

/* The digest of the (only) layer of manifest m. */
static void layer_of(const char *m, char ld[DIGEST_STR_LEN])
{
	const char *lay = strstr(m, "\"layers\"");
	memcpy(ld, strstr(lay, "sha256:"), DIGEST_STR_LEN - 1);
	ld[DIGEST_STR_LEN - 1] = '\0';
}

/* Serve repo's image m (by tag "1") with its layer redirected (307) to
 * /storage/layer on scheme://host:port, where the layer is. */
static void serve_redirected(const char *repo, const char *m, const char *scheme, const char *host,
			     int port)
{
	char ld[DIGEST_STR_LEN], path[256], loc[256];
	snprintf(path, sizeof(path), "/v2/%s/manifests/1", repo);
	route_json(path, MT_M, m);
	layer_of(m, ld);
	const char layer[] = "not really a tar, never unpacked by a pull";
	route("/storage/layer", 200, NULL, layer, sizeof(layer));
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, ld);
	snprintf(loc, sizeof(loc), "Location: %s://%s:%d/storage/layer\r\n", scheme, host, port);
	route(path, 307, loc, "", 0);
}

/* A layer of big bytes (content in *layer, malloc'd), its config and a manifest
 * served at /v2/<repo>/manifests/<tag>; the layer's digest in ld. */
static void big_image(const char *repo, const char *tag, size_t big, char **layer,
		      char ld[DIGEST_STR_LEN])
{
	*layer = malloc(big);
	for (size_t i = 0; i < big; i++)
		(*layer)[i] = (char)(i * 7919 % 251);
	char cfg[512], cd[DIGEST_STR_LEN], path[256], *m;
	assert_int_equal(digest_buf(*layer, big, ld), 0);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
		 "\"layers\",\"diff_ids\":[\"%s\"]}}",
		 ld);
	assert_int_equal(digest_buf(cfg, strlen(cfg), cd), 0);
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, cd);
	route(path, 200, NULL, cfg, strlen(cfg));
	assert_true(asprintf(&m,
			     "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_C
			     "\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
			     "\"" MT_L "\",\"digest\":\"%s\",\"size\":%zu}]}",
			     cd, strlen(cfg), ld, big) > 0);
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, tag);
	route_json(path, MT_M, m);
	free(m);
}

static void test_simple(void **state)
{
	struct fx *f = *state;
	char md[DIGEST_STR_LEN], got[DIGEST_STR_LEN];
	char *m = image("a/b", "amd64", MT_L, md);
	route_json("/v2/a/b/manifests/v1", MT_M, m);
	assert_int_equal(pull(f, "a/b:v1", got), 0);
	assert_string_equal(got, md);
	assert_int_equal(stored_refs(f), 1);
	/* again: blobs are there, only the manifest is fetched */
	size_t before = srv.n_log;
	assert_int_equal(pull(f, "a/b:v1", got), 0);
	for (size_t i = before; i < srv.n_log; i++)
		assert_null(strstr(srv.log[i], "/blobs/"));
	free(m);
}

static void test_index_selection(void **state)
{
	struct fx *f = *state;
	char amd[DIGEST_STR_LEN], arm[DIGEST_STR_LEN], got[DIGEST_STR_LEN], id[DIGEST_STR_LEN];
	char *ma = image("r/i", "amd64", MT_L, amd);
	char *mr = image("r/i", "arm64", MT_L, arm);
	char *idx;
	/* arm64 first, an amd64 for windows, then linux/amd64: the last wins */
	assert_true(asprintf(&idx,
			     "{\"schemaVersion\":2,\"manifests\":["
			     "{\"mediaType\":\"" MT_M "\",\"digest\":\"%s\",\"size\":%zu,"
			     "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
			     "{\"mediaType\":\"" MT_M "\",\"digest\":\"%s\",\"size\":%zu,"
			     "\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
			     "{\"mediaType\":\"" MT_M "\",\"digest\":\"%s\",\"size\":%zu,"
			     "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
			     arm, strlen(mr), arm, strlen(mr), amd, strlen(ma)) > 0);
	/* served as a Docker manifest list, Content-Type with a parameter */
	route_json("/v2/r/i/manifests/multi",
		   "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8", idx);
	assert_int_equal(pull(f, "r/i:multi", got), 0);
	assert_int_equal(digest_buf(idx, strlen(idx), id), 0);
	assert_string_equal(got, id);
	struct lstore s;
	assert_int_equal(lstore_open(f->root, &s, &f->err), 0);
	assert_true(lstore_has_blob(&s, amd));
	assert_false(lstore_has_blob(&s, arm));
	struct lstore_entry e;
	char name[128];
	snprintf(name, sizeof(name), "%s/r/i:multi", f->reg);
	assert_int_equal(lstore_resolve(&s, name, &e, &f->err), 0);
	assert_string_equal(e.digest, id);
	assert_string_equal(e.media_type,
			    "application/vnd.docker.distribution.manifest.list.v2+json");
	lstore_entry_free(&e);
	lstore_close(&s);
	free(idx);

	/* no linux/amd64: the platforms offered are named */
	assert_true(asprintf(&idx,
			     "{\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"%s\","
			     "\"size\":%zu,\"platform\":{\"os\":\"linux\",\"architecture\":"
			     "\"arm64\"}}]}",
			     arm, strlen(mr)) > 0);
	route_json("/v2/r/i/manifests/armonly", "application/json", idx);
	assert_int_equal(pull(f, "r/i:armonly", NULL), -ENOENT);
	assert_non_null(strstr(f->err.text, "no image for linux/amd64"));
	assert_non_null(strstr(f->err.text, "linux/arm64"));
	assert_non_null(strstr(f->err.text, "r/i:armonly"));
	free(idx);

	/* the index's size for the entry does not match the manifest */
	assert_true(asprintf(&idx,
			     "{\"mediaType\":\"" MT_I "\",\"manifests\":[{\"mediaType\":\"" MT_M
			     "\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"os\":\"linux\","
			     "\"architecture\":\"amd64\"}}]}",
			     amd, strlen(ma) + 1) > 0);
	route_json("/v2/r/i/manifests/badsize", MT_I, idx);
	assert_int_equal(pull(f, "r/i:badsize", NULL), -EBADMSG);
	assert_non_null(strstr(f->err.text, "the index says"));
	free(idx);
	assert_int_equal(stored_refs(f), 1);
	free(ma);
	free(mr);
}

static void test_hostile_manifests(void **state)
{
	struct fx *f = *state;
	/* huge */
	size_t big = (4u << 20) + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	char h[512];
	snprintf(h, sizeof(h), "Content-Type: %s\r\n", MT_M);
	route("/v2/x/manifests/huge", 200, h, huge, big);
	free(huge);
	assert_int_equal(pull(f, "x:huge", NULL), -EFBIG);
	assert_non_null(strstr(f->err.text, "larger than"));

	/* malformed JSON */
	route_json("/v2/x/manifests/bad", MT_M, "{\"schemaVersion\":2,");
	assert_int_equal(pull(f, "x:bad", NULL), -EINVAL);
	assert_non_null(strstr(f->err.text, "not valid JSON"));
	assert_non_null(strstr(f->err.text, "x:bad"));

	/* unknown media types */
	route_json("/v2/x/manifests/s1",
		   "application/vnd.docker.distribution.manifest.v1+prettyjws",
		   "{\"schemaVersion\":1}");
	assert_int_equal(pull(f, "x:s1", NULL), -EPROTONOSUPPORT);
	assert_non_null(strstr(f->err.text, "schema 1"));
	route_json("/v2/x/manifests/odd", "application/vnd.example.thing+json",
		   "{\"mediaType\":\"application/vnd.example.thing+json\"}");
	assert_int_equal(pull(f, "x:odd", NULL), -EPROTONOSUPPORT);
	assert_non_null(strstr(f->err.text, "vnd.example.thing"));
	char md[DIGEST_STR_LEN];
	char *m = image("x", "amd64", "application/vnd.example.layer", md);
	route_json("/v2/x/manifests/oddlayer", MT_M, m);
	assert_int_equal(pull(f, "x:oddlayer", NULL), -EINVAL);
	assert_non_null(strstr(f->err.text, "unsupported layer type"));
	free(m);

	/* a layer announced at a petabyte: refused before any download */
	char *pb;
	assert_true(asprintf(&pb,
			     "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_C
			     "\",\"digest\":\"sha256:%064d\",\"size\":10},\"layers\":[{"
			     "\"mediaType\":\"" MT_L "\",\"digest\":\"sha256:%064d\","
			     "\"size\":1125899906842624}]}",
			     2, 3) > 0);
	route_json("/v2/x/manifests/pb", MT_M, pb);
	srv.n_log = 0;
	assert_int_equal(pull(f, "x:pb", NULL), -E2BIG); /* over the 16 GiB limit */
	assert_non_null(strstr(f->err.text, "image size limit of 16 GiB"));
	for (size_t i = 0; i < srv.n_log; i++)
		assert_null(strstr(srv.log[i], "/blobs/"));
	/* allowed by the limit, it still has to fit on the disk */
	struct image_limits lim = {2ull << 50, IMAGE_MAX_ENTRIES_DEFAULT};
	f->o.limits = &lim;
	srv.n_log = 0;
	assert_int_equal(pull(f, "x:pb", NULL), -ENOSPC);
	assert_non_null(strstr(f->err.text, "MiB free"));
	for (size_t i = 0; i < srv.n_log; i++)
		assert_null(strstr(srv.log[i], "/blobs/"));
	f->o.limits = NULL;
	free(pb);

	/* a config for another platform in a plain manifest */
	m = image("x", "s390x", MT_L, md);
	route_json("/v2/x/manifests/s390x", MT_M, m);
	assert_int_equal(pull(f, "x:s390x", NULL), -ENOEXEC);
	assert_non_null(strstr(f->err.text, "linux/s390x"));
	free(m);

	/* the registry lies about the digest */
	m = image("x", "amd64", MT_L, md);
	snprintf(h, sizeof(h), "Content-Type: %s\r\nDocker-Content-Digest: sha256:%064d\r\n", MT_M,
		 0);
	route("/v2/x/manifests/lie", 200, h, m, strlen(m));
	assert_int_equal(pull(f, "x:lie", NULL), -EBADMSG);
	assert_non_null(strstr(f->err.text, "Docker-Content-Digest"));
	/* by digest, but other content comes back */
	char path[256], ref[256];
	snprintf(path, sizeof(path), "/v2/x/manifests/sha256:%064d", 1);
	route_json(path, MT_M, m);
	snprintf(ref, sizeof(ref), "x@sha256:%064d", 1);
	assert_int_equal(pull(f, ref, NULL), -EBADMSG);
	assert_non_null(strstr(f->err.text, "digest mismatch"));
	free(m);

	assert_int_equal(stored_refs(f), 0);
}

static void test_blob_mismatch_and_status(void **state)
{
	struct fx *f = *state;
	char md[DIGEST_STR_LEN];
	char *m = image("y", "amd64", MT_L, md);
	route_json("/v2/y/manifests/1", MT_M, m);
	/* replace the layer's content: same size, other bytes */
	char ld[DIGEST_STR_LEN], path[256];
	layer_of(m, ld);
	snprintf(path, sizeof(path), "/v2/y/blobs/%s", ld);
	const char other[] = "NOT really a tar, never unpacked by a pull";
	route(path, 200, NULL, other, sizeof(other));
	assert_int_equal(pull(f, "y:1", NULL), -EBADMSG);
	assert_non_null(strstr(f->err.text, "digest mismatch"));
	/* a registry error with its JSON reason */
	const char *e = "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to "
			"registry\"}]}";
	route(path, 404, "Content-Type: application/json\r\n", e, strlen(e));
	assert_int_equal(pull(f, "y:1", NULL), -ENOENT);
	assert_non_null(strstr(f->err.text, "BLOB_UNKNOWN: blob unknown to registry"));
	assert_int_equal(stored_refs(f), 0);
	free(m);
}

/* Bearer auth; the blob is redirected to "localhost" (another host to
 * libcurl): the token goes to the registry only. */
static void test_token_and_redirect(void **state)
{
	struct fx *f = *state;
	char hdr[256];
	snprintf(
	    hdr, sizeof(hdr),
	    "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\"\r\n",
	    srv.port);
	route("/v2/", 401, hdr, "{}", 2);
	route_json("/token?service=fake&scope=repository%3Az%2Fw%3Apull", "application/json",
		   "{\"token\":\"sekrit\"}");
	char md[DIGEST_STR_LEN];
	char *m = image("z/w", "amd64", MT_L, md);
	serve_redirected("z/w", m, "http", "localhost", srv.port);
	srv.n_log = 0;
	assert_int_equal(pull(f, "z/w:1", NULL), 0);
	bool saw_manifest = false, saw_storage = false;
	for (size_t i = 0; i < srv.n_log; i++) {
		if (strstr(srv.log[i], "/manifests/1")) {
			assert_non_null(strstr(srv.log[i], "Bearer sekrit"));
			saw_manifest = true;
		}
		if (strstr(srv.log[i], "/storage/layer")) {
			assert_non_null(strstr(srv.log[i], "localhost:"));
			assert_null(strstr(srv.log[i], "sekrit"));
			assert_non_null(strstr(srv.log[i], " -"));
			saw_storage = true;
		}
	}
	assert_true(saw_manifest);
	assert_true(saw_storage);
	free(m);

	/* a token server that refuses */
	route("/token?service=fake&scope=repository%3Az%2Fw%3Apull", 401, NULL, "", 0);
	assert_int_equal(pull(f, "z/w:1", NULL), -EACCES);
	assert_non_null(strstr(f->err.text, "refused"));
	/* a challenge hull cannot answer */
	route("/v2/", 401, "WWW-Authenticate: Negotiate\r\n", "{}", 2);
	assert_int_equal(pull(f, "z/w:1", NULL), -EINVAL);
	assert_non_null(strstr(f->err.text, "neither Bearer nor Basic"));
	/* Basic without credentials */
	route("/v2/", 401, "WWW-Authenticate: Basic realm=\"r\"\r\n", "{}", 2);
	assert_int_equal(pull(f, "z/w:1", NULL), -EACCES);
	assert_non_null(strstr(f->err.text, "user name and password"));
}

static void test_cancel_and_not_a_registry(void **state)
{
	struct fx *f = *state;
	char md[DIGEST_STR_LEN];
	char *m = image("c", "amd64", MT_L, md);
	route_json("/v2/c/manifests/1", MT_M, m);
	f->cancel = 1;
	assert_int_equal(pull(f, "c:1", NULL), -EINTR);
	assert_non_null(strstr(f->err.text, "interrupted"));
	f->cancel = 0;

	/* interrupted in the middle of a layer: the writer's temp file goes,
	 * nothing is tagged, and the next pull works */
	size_t big = 4u << 20;
	char *layer, ld[DIGEST_STR_LEN], path[256];
	big_image("c", "big", big, &layer, ld);
	snprintf(path, sizeof(path), "/v2/c/blobs/%s", ld);
	route(path, 200, NULL, layer, big);
	srv.routes[srv.n_routes - 1].cancel_after = big / 2;
	srv.routes[srv.n_routes - 1].cancel = &f->cancel;
	assert_int_equal(pull(f, "c:big", NULL), -EINTR);
	char blobs[4096];
	snprintf(blobs, sizeof(blobs), "%s/oci/blobs/sha256", f->root);
	DIR *d = opendir(blobs);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, ".tmp."));
	closedir(d);
	assert_int_equal(stored_refs(f), 0);
	f->cancel = 0;
	srv.routes[srv.n_routes - 1].cancel_after = 0;
	assert_int_equal(pull(f, "c:big", NULL), 0);
	assert_int_equal(stored_refs(f), 1);
	free(layer);

	route("/v2/", 404, NULL, "nope", 4);
	assert_int_equal(pull(f, "c:1", NULL), -EPROTO);
	assert_non_null(strstr(f->err.text, "not a registry"));
	assert_int_equal(stored_refs(f), 1);
	free(m);
}

/* No .tmp.* debris in the store's blob directory. */
static void assert_no_temp_blobs(struct fx *f)
{
	char blobs[4096];
	snprintf(blobs, sizeof(blobs), "%s/oci/blobs/sha256", f->root);
	DIR *d = opendir(blobs);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, ".tmp."));
	closedir(d);
}

/* Compressed sizes are capped: the manifest's claim against the image size
 * limit before any download, the bytes that arrive against the claim, and
 * an error answer's body at 16 KiB. Nothing is tagged or left behind. */
static void test_size_caps(void **state)
{
	struct fx *f = *state;
	char ld[DIGEST_STR_LEN], path[256], *layer;
	size_t big = 4u << 20;
	big_image("s", "big", big, &layer, ld);
	snprintf(path, sizeof(path), "/v2/s/blobs/%s", ld);
	route(path, 200, NULL, layer, big);

	/* a 4 MiB layer under a 1 MiB cap: refused from the manifest */
	struct image_limits lim = image_limits_default();
	lim.max_bytes = 1u << 20;
	f->o.limits = &lim;
	srv.n_log = 0;
	assert_int_equal(pull(f, "s:big", NULL), -E2BIG);
	print_message("%s\n", f->err.text);
	assert_non_null(strstr(f->err.text, "s:big"));
	assert_non_null(strstr(f->err.text, "layer 1/1"));
	assert_non_null(strstr(f->err.text, "image size limit of 1 MiB"));
	for (size_t i = 0; i < srv.n_log; i++)
		assert_null(strstr(srv.log[i], "/blobs/"));
	assert_int_equal(stored_refs(f), 0);
	/* under a 4 MiB cap it fits */
	lim.max_bytes = big;
	assert_int_equal(pull(f, "s:big", NULL), 0);
	assert_int_equal(stored_refs(f), 1);
	f->o.limits = NULL;

	/* the registry sends more than the manifest's size for a layer: the
	 * announced length is refused before the body streams */
	char ld2[DIGEST_STR_LEN], *small;
	big_image("s", "liar", 100, &small, ld2);
	snprintf(path, sizeof(path), "/v2/s/blobs/%s", ld2);
	route(path, 200, NULL, layer, big);
	assert_int_equal(pull(f, "s:liar", NULL), -EFBIG);
	print_message("%s\n", f->err.text);
	assert_non_null(strstr(f->err.text, "s:liar"));
	assert_non_null(strstr(f->err.text, "layer 1/1"));
	assert_non_null(strstr(f->err.text, "larger than 100 bytes"));
	assert_int_equal(stored_refs(f), 1);
	assert_no_temp_blobs(f);
	/* the same without a Content-Length (the body ends when the connection
	 * closes): cut off once it passes the manifest's size */
	srv.routes[srv.n_routes - 1].no_length = true;
	assert_int_equal(pull(f, "s:liar", NULL), -EFBIG);
	print_message("%s\n", f->err.text);
	assert_non_null(strstr(f->err.text, "larger than 100 bytes"));
	assert_int_equal(stored_refs(f), 1);
	assert_no_temp_blobs(f);

	/* an error answer with an endless body: read up to 16 KiB, no more */
	size_t flood = 64u << 20;
	char *junk = malloc(flood);
	memset(junk, 'x', flood);
	route(path, 404, NULL, junk, flood);
	free(junk);
	assert_int_equal(pull(f, "s:liar", NULL), -ENOENT);
	print_message("error body: %zu of %zu bytes sent\n", srv.routes[srv.n_routes - 1].sent,
		      flood);
	assert_true(srv.routes[srv.n_routes - 1].sent < flood / 2);
	assert_int_equal(stored_refs(f), 1);
	free(layer);
	free(small);
}

/* The docker config's credentials for the registry, in f->root (which is
 * $DOCKER_CONFIG): user "u", password "p". */
static void docker_config(struct fx *f)
{
	char p[4200], json[256];
	snprintf(p, sizeof(p), "%s/config.json", f->root);
	snprintf(json, sizeof(json),
		 "{\"auths\":{\"%s\":{\"auth\":\"dTpw\"},\"%s\":{\"auth\":\"dTpw\"}}}", f->reg,
		 f->tls_reg);
	write_file(p, json, strlen(json));
}

/* The log line of the first request for path (NULL if none). */
static const char *logged(const char *path)
{
	for (size_t i = 0; i < srv.n_log; i++)
		if (strstr(srv.log[i], path))
			return srv.log[i];
	return NULL;
}

/* /v2/ (and path, if not NULL) answer 401 with a Bearer realm at
 * http://<host>:<port>/token; the request log starts afresh. */
static void challenge_realm(const char *host, const char *path)
{
	char hdr[256];
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Bearer realm=\"http://%s:%d/token\",service=\"fake\"\r\n", host,
		 srv.port);
	route("/v2/", 401, hdr, "{}", 2);
	if (path)
		route(path, 401, hdr, "{}", 2);
	srv.n_log = 0;
}

/* A Bearer realm over plain HTTP on another host never gets the docker
 * config's password; on the plain-HTTP registry's own host it does (the user
 * let that host have plain HTTP). */
static void test_plain_http_realm(void **state)
{
	struct fx *f = *state;
	docker_config(f);
	char md[DIGEST_STR_LEN];
	char *m = image("p/q", "amd64", MT_L, md);
	route_json("/v2/p/q/manifests/1", MT_M, m);
	route_json("/token?service=fake&scope=repository%3Ap%2Fq%3Apull", "application/json",
		   "{\"token\":\"sekrit\"}");

	/* "localhost" is another host than "127.0.0.1" */
	challenge_realm("localhost", NULL);
	assert_int_equal(pull(f, "p/q:1", NULL), 0);
	const char *l = logged("/token?");
	assert_non_null(l);
	print_message("token request: %s\n", l ? l : "(none)");
	assert_non_null(strstr(l, "localhost:"));
	assert_null(strstr(l, "Basic"));
	assert_non_null(strstr(l, " -"));
	assert_non_null(strstr(logged("/manifests/1"), "Bearer sekrit"));
	/* the token server wants credentials: the error says they were kept */
	route("/token?service=fake&scope=repository%3Ap%2Fq%3Apull", 401, NULL, "", 0);
	char realm[128];
	snprintf(realm, sizeof(realm), "token realm http://localhost:%d/token: ", srv.port);
	assert_int_equal(pull(f, "p/q:1", NULL), -EACCES);
	print_message("%s\n", f->err.text);
	assert_non_null(strstr(f->err.text, "credentials for 127.0.0.1:"));
	assert_non_null(strstr(f->err.text, "were not sent"));
	assert_non_null(strstr(f->err.text, realm));
	assert_non_null(strstr(f->err.text, "plain HTTP on another host than the registry"));
	assert_null(strstr(logged("/token?"), "Basic"));

	/* an anonymous token that the registry then refuses: the error names
	 * the realm and why the credentials stayed home, too */
	route_json("/token?service=fake&scope=repository%3Ap%2Fq%3Apull", "application/json",
		   "{\"token\":\"anon\"}");
	challenge_realm("localhost", "/v2/p/q/manifests/1");
	assert_int_equal(pull(f, "p/q:1", NULL), -EACCES);
	print_message("%s\n", f->err.text);
	assert_non_null(strstr(f->err.text, "access denied"));
	assert_non_null(strstr(f->err.text, realm));
	assert_non_null(strstr(f->err.text, "plain HTTP on another host than the registry"));
	for (size_t i = 0; i < srv.n_log; i++)
		assert_null(strstr(srv.log[i], "Basic"));
	route_json("/v2/p/q/manifests/1", MT_M, m);

	/* an HTTPS registry whose realm is plain HTTP, even on its own host:
	 * nothing is sent either */
	route_json("/token?service=fake&scope=repository%3Ap%2Fq%3Apull", "application/json",
		   "{\"token\":\"sekrit\"}");
	challenge_realm("127.0.0.1", NULL);
	assert_int_equal(pull_from(f, f->tls_reg, "p/q:1", NULL), 0);
	assert_non_null(strstr(logged("/token?"), " -"));
	route("/token?service=fake&scope=repository%3Ap%2Fq%3Apull", 401, NULL, "", 0);
	assert_int_equal(pull_from(f, f->tls_reg, "p/q:1", NULL), -EACCES);
	print_message("%s\n", f->err.text);
	assert_non_null(strstr(f->err.text, "the registry is reached over HTTPS"));

	/* the registry's own host over plain HTTP: sent, as before */
	route_json("/token?service=fake&scope=repository%3Ap%2Fq%3Apull", "application/json",
		   "{\"token\":\"sekrit\"}");
	challenge_realm("127.0.0.1", NULL);
	assert_int_equal(pull(f, "p/q:1", NULL), 0);
	assert_non_null(strstr(logged("/token?"), "Basic dTpw"));
	free(m);
}

/* A registry reached over HTTPS that redirects a blob to plain HTTP: the
 * redirect is refused, nothing is fetched over HTTP, nothing is tagged. */
static void test_https_downgrade(void **state)
{
	struct fx *f = *state;
	char md[DIGEST_STR_LEN];
	char *m = image("h", "amd64", MT_L, md);
	/* HTTPS to HTTP is refused */
	serve_redirected("h", m, "http", "127.0.0.1", srv.port);
	srv.n_log = 0;
	assert_int_equal(pull_from(f, f->tls_reg, "h:1", NULL), -EPROTO);
	print_message("%s\n", f->err.text);
	assert_non_null(strstr(f->err.text, "h:1"));
	assert_non_null(strstr(f->err.text, "layer 1/1"));
	assert_non_null(strstr(f->err.text, "HTTPS to plain HTTP"));
	assert_non_null(strstr(f->err.text, "/storage/layer"));
	assert_null(logged("/storage/layer"));
	assert_int_equal(stored_refs(f), 0);
	assert_no_temp_blobs(f);
	/* HTTPS to HTTPS is fine */
	serve_redirected("h", m, "https", "127.0.0.1", srv.tls_port);
	if (pull_from(f, f->tls_reg, "h:1", NULL))
		fail_msg("%s", f->err.text);
	assert_non_null(logged("/storage/layer"));
	assert_int_equal(stored_refs(f), 1);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_simple, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_selection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_manifests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_mismatch_and_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_and_redirect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_and_not_a_registry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_caps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plain_http_realm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_https_downgrade, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
