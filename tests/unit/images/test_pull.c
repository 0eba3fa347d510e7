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
	char *body;
	size_t len;
};

struct server {
	int fd;
	int port;
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

static void serve_one(int c)
{
	char req[8192];
	size_t n = 0;
	while (n < sizeof(req) - 1) {
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (req[0] == 0x16) /* a TLS ClientHello: plain HTTP only here */
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
	char head[1024];
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n",
			  r ? r->status : 404, r ? r->len : 0, r ? r->headers : "");
	ssize_t w = write(c, head, (size_t)hl);
	for (size_t off = 0; r && w >= 0 && off < r->len; off += (size_t)w) {
		size_t chunk = r->len - off;
		if (r->cancel_after) {
			chunk = chunk > 65536 ? 65536 : chunk;
			if (off >= r->cancel_after)
				*r->cancel = 1;
			usleep(5000);
		}
		w = write(c, r->body + off, chunk);
	}
	pthread_mutex_unlock(&srv.lock);
}

static void *server_main(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd p = {srv.fd, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c);
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

/* ---- fixture ---- */

struct fx {
	char *root;
	char reg[64]; /* 127.0.0.1:PORT */
	const char *insecure[1];
	struct pull_opts o;
	volatile sig_atomic_t cancel;
	struct errmsg err;
};

static int setup(void **state)
{
	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.lock, NULL);
	srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv.fd, 16), 0);
	assert_int_equal(getsockname(srv.fd, (struct sockaddr *)&a, &al), 0);
	srv.port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
	struct fx *f = calloc(1, sizeof(*f));
	f->root = tmpdir_new();
	snprintf(f->reg, sizeof(f->reg), "127.0.0.1:%d", srv.port);
	f->insecure[0] = f->reg;
	f->o.reg.insecure = f->insecure;
	f->o.reg.n_insecure = 1;
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
	for (size_t i = 0; i < srv.n_routes; i++)
		free(srv.routes[i].body);
	pthread_mutex_destroy(&srv.lock);
	rm_rf(f->root);
	free(f->root);
	free(f);
	return 0;
}

/* Pull "<reg>/<name>"; returns the rc, the digest in out (if non-NULL). */
static int pull(struct fx *f, const char *name, char *out)
{
	char s[256];
	snprintf(s, sizeof(s), "%s/%s", f->reg, name);
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
	assert_int_equal(pull(f, "x:pb", NULL), -ENOSPC);
	assert_non_null(strstr(f->err.text, "MiB free"));
	for (size_t i = 0; i < srv.n_log; i++)
		assert_null(strstr(srv.log[i], "/blobs/"));
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
	const char *lay = strstr(m, "\"layers\"");
	char ld[DIGEST_STR_LEN], path[256];
	memcpy(ld, strstr(lay, "sha256:"), DIGEST_STR_LEN - 1);
	ld[DIGEST_STR_LEN - 1] = '\0';
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
	route_json("/v2/z/w/manifests/1", MT_M, m);
	const char *lay = strstr(m, "\"layers\"");
	char ld[DIGEST_STR_LEN], path[256], loc[256];
	memcpy(ld, strstr(lay, "sha256:"), DIGEST_STR_LEN - 1);
	ld[DIGEST_STR_LEN - 1] = '\0';
	const char layer[] = "not really a tar, never unpacked by a pull";
	route("/storage/layer", 200, NULL, layer, sizeof(layer));
	snprintf(path, sizeof(path), "/v2/z/w/blobs/%s", ld);
	snprintf(loc, sizeof(loc), "Location: http://localhost:%d/storage/layer\r\n", srv.port);
	route(path, 307, loc, "", 0);
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
	char *layer = malloc(big);
	for (size_t i = 0; i < big; i++)
		layer[i] = (char)(i * 7919 % 251);
	char ld[DIGEST_STR_LEN], cfg[512], cd[DIGEST_STR_LEN], path[256], *m2;
	assert_int_equal(digest_buf(layer, big, ld), 0);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
		 "\"layers\",\"diff_ids\":[\"%s\"]}}",
		 ld);
	assert_int_equal(digest_buf(cfg, strlen(cfg), cd), 0);
	snprintf(path, sizeof(path), "/v2/c/blobs/%s", cd);
	route(path, 200, NULL, cfg, strlen(cfg));
	assert_true(asprintf(&m2,
			     "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_C
			     "\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
			     "\"" MT_L "\",\"digest\":\"%s\",\"size\":%zu}]}",
			     cd, strlen(cfg), ld, big) > 0);
	route_json("/v2/c/manifests/big", MT_M, m2);
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
	free(m2);
	free(layer);

	route("/v2/", 404, NULL, "nope", 4);
	assert_int_equal(pull(f, "c:1", NULL), -EPROTO);
	assert_non_null(strstr(f->err.text, "not a registry"));
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
