#include "images/oci_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

#define CONTAINERD_NAME_ANNOTATION "io.containerd.image.name"

static const struct {
	const char *mt;
	enum oci_kind kind;
} media_types[] = {
    {MT_OCI_INDEX, OCI_KIND_INDEX},
    {MT_DOCKER_LIST, OCI_KIND_INDEX},
    {MT_OCI_MANIFEST, OCI_KIND_MANIFEST},
    {MT_DOCKER_MANIFEST, OCI_KIND_MANIFEST},
    {MT_OCI_CONFIG, OCI_KIND_CONFIG},
    {MT_DOCKER_CONFIG, OCI_KIND_CONFIG},
    {"application/vnd.oci.image.layer.v1.tar", OCI_KIND_LAYER_TAR},
    {"application/vnd.oci.image.layer.v1.tar+gzip", OCI_KIND_LAYER_GZIP},
    {"application/vnd.oci.image.layer.v1.tar+zstd", OCI_KIND_LAYER_ZSTD},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar", OCI_KIND_LAYER_TAR},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", OCI_KIND_LAYER_GZIP},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", OCI_KIND_LAYER_ZSTD},
    {"application/vnd.docker.image.rootfs.diff.tar", OCI_KIND_LAYER_TAR},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_KIND_LAYER_GZIP},
    {"application/vnd.docker.image.rootfs.diff.tar.zstd", OCI_KIND_LAYER_ZSTD},
};

enum oci_kind oci_media_kind(const char *mt)
{
	if (!mt)
		return OCI_KIND_UNKNOWN;
	for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (strcmp(mt, media_types[i].mt) == 0)
			return media_types[i].kind;
	return OCI_KIND_UNKNOWN;
}

const char *oci_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
#error "unknown host architecture: teach oci_host_arch() its OCI name"
#endif
}

void oci_descriptor_free(struct oci_descriptor *d)
{
	free(d->media_type);
	free(d->ref_name);
	free(d->image_name);
	free(d->os);
	free(d->arch);
	memset(d, 0, sizeof(*d));
}

void oci_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int parse(const char *buf, size_t len, const char *what, json_object **out,
		 struct errmsg *err)
{
	*out = NULL;
	if (len > OCI_JSON_MAX)
		return errmsg_set(err, -EFBIG, "%s: %zu bytes of JSON, more than the %u allowed",
				  what, len, OCI_JSON_MAX);
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o) {
		if (jerr == json_tokener_continue)
			return errmsg_set(err, -EINVAL, "%s: not valid JSON (truncated)", what);
		return errmsg_set(err, -EINVAL, "%s: not valid JSON (%s at byte %zu)", what,
				  json_tokener_error_desc(jerr), end);
	}
	for (; end < len; end++) {
		char c = buf[end];
		if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			json_object_put(o);
			return errmsg_set(
			    err, -EINVAL,
			    "%s: not valid JSON (garbage after the value at byte %zu)", what, end);
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return errmsg_set(err, -EINVAL, "%s: not a JSON object", what);
	}
	*out = o;
	return 0;
}

/* Member `key` of obj, or NULL if absent or JSON null. */
static json_object *member(json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (!obj || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v; /* NULL for JSON null */
}

/* A string member: *out = NULL if absent/null when !required. */
static int get_string(json_object *obj, const char *key, bool required, const char *what,
		      const char *ctx, char **out, struct errmsg *err)
{
	*out = NULL;
	json_object *v = member(obj, key);
	if (!v) {
		if (required)
			return errmsg_set(err, -EINVAL, "%s: %s%s is missing", what, ctx, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return errmsg_set(err, -EINVAL, "%s: %s%s is not a string", what, ctx, key);
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n)
		return errmsg_set(err, -EINVAL, "%s: %s%s contains a NUL character", what, ctx,
				  key);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int check_schema(json_object *o, const char *what, struct errmsg *err)
{
	json_object *v = member(o, "schemaVersion");
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) != 2)
		return errmsg_set(err, -EINVAL, "%s: unsupported schemaVersion (want 2)", what);
	return 0;
}

/* Fill d from a descriptor object; ctx is e.g. "manifests[3]." */
static int get_descriptor(json_object *o, const char *what, const char *ctx,
			  struct oci_descriptor *d, struct errmsg *err)
{
	memset(d, 0, sizeof(*d));
	char field[96];
	int rc;
	if (!json_object_is_type(o, json_type_object))
		return errmsg_set(err, -EINVAL, "%s: %s is not an object", what, ctx);
	snprintf(field, sizeof(field), "%s.", ctx);
	rc = get_string(o, "mediaType", false, what, field, &d->media_type, err);
	if (rc)
		goto fail;
	char *digest = NULL;
	rc = get_string(o, "digest", true, what, field, &digest, err);
	if (rc)
		goto fail;
	char dwhat[256];
	snprintf(dwhat, sizeof(dwhat), "%s: %sdigest", what, field);
	rc = digest_parse(digest, NULL, dwhat, err);
	if (!rc)
		memcpy(d->digest, digest, DIGEST_STR_LEN);
	free(digest);
	if (rc)
		goto fail;
	json_object *sz = member(o, "size");
	if (!sz || !json_object_is_type(sz, json_type_int) || json_object_get_int64(sz) < 0) {
		rc = errmsg_set(err, -EINVAL, "%s: %ssize is missing or not a non-negative integer",
				what, field);
		goto fail;
	}
	d->size = (uint64_t)json_object_get_int64(sz);
	json_object *ann = member(o, "annotations");
	if (ann) {
		if (!json_object_is_type(ann, json_type_object)) {
			rc = errmsg_set(err, -EINVAL, "%s: %sannotations is not an object", what,
					field);
			goto fail;
		}
		snprintf(field, sizeof(field), "%s.annotations.", ctx);
		rc =
		    get_string(ann, OCI_REF_NAME_ANNOTATION, false, what, field, &d->ref_name, err);
		if (!rc)
			rc = get_string(ann, CONTAINERD_NAME_ANNOTATION, false, what, field,
					&d->image_name, err);
		if (rc)
			goto fail;
	}
	json_object *plat = member(o, "platform");
	if (plat) {
		if (!json_object_is_type(plat, json_type_object)) {
			rc =
			    errmsg_set(err, -EINVAL, "%s: %s.platform is not an object", what, ctx);
			goto fail;
		}
		snprintf(field, sizeof(field), "%s.platform.", ctx);
		rc = get_string(plat, "os", false, what, field, &d->os, err);
		if (!rc)
			rc = get_string(plat, "architecture", false, what, field, &d->arch, err);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	oci_descriptor_free(d);
	return rc;
}

bool oci_json_is_index(const char *buf, size_t len)
{
	json_object *o;
	if (parse(buf, len, "", &o, NULL))
		return false;
	bool r = json_object_object_get_ex(o, "manifests", NULL);
	json_object_put(o);
	return r;
}

static bool platform_matches(const struct oci_descriptor *d)
{
	return d->os && d->arch && strcmp(d->os, "linux") == 0 &&
	       strcmp(d->arch, oci_host_arch()) == 0;
}

/* A short human name for an index entry in error messages. */
static void entry_name(const struct oci_descriptor *d, char *buf, size_t n)
{
	if (d->ref_name)
		snprintf(buf, n, "'%s'", d->ref_name);
	else if (d->image_name)
		snprintf(buf, n, "'%s'", d->image_name);
	else if (d->os || d->arch)
		snprintf(buf, n, "%s/%s (%.19s)", d->os ? d->os : "?", d->arch ? d->arch : "?",
			 d->digest);
	else
		snprintf(buf, n, "unnamed %.19s", d->digest);
}

static void list_entries(const struct oci_descriptor *v, size_t n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && off + 1 < len; i++) {
		char name[160];
		entry_name(&v[i], name, sizeof(name));
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", name);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

int oci_index_entries(const char *buf, size_t len, const char *what, struct oci_descriptor **out,
		      size_t *n_out, struct errmsg *err)
{
	*out = NULL;
	*n_out = 0;
	json_object *o;
	int rc = parse(buf, len, what, &o, err);
	if (rc)
		return rc;
	json_object *arr = member(o, "manifests");
	size_t n = 0;
	struct oci_descriptor *all = NULL;
	if ((rc = check_schema(o, what, err)))
		goto out;
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		rc = errmsg_set(err, -EINVAL, "%s: manifests is missing or not an array", what);
		goto out;
	}
	n = json_object_array_length(arr);
	if (n > 4096) {
		rc = errmsg_set(err, -EINVAL, "%s: lists %zu manifests, too many", what, n);
		goto out;
	}
	all = n ? calloc(n, sizeof(*all)) : NULL;
	if (n && !all) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char ctx[32];
		snprintf(ctx, sizeof(ctx), "manifests[%zu]", i);
		rc = get_descriptor(json_object_array_get_idx(arr, i), what, ctx, &all[i], err);
		if (rc) {
			for (size_t j = 0; j < i; j++)
				oci_descriptor_free(&all[j]);
			free(all);
			goto out;
		}
	}
	*out = all;
	*n_out = n;
out:
	json_object_put(o);
	return rc;
}

int oci_index_select(const char *buf, size_t len, const char *what, bool top_level,
		     const char *ref_name, struct oci_descriptor *out, struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	struct oci_descriptor *all = NULL;
	size_t n = 0;
	int rc = oci_index_entries(buf, len, what, &all, &n, err);
	if (rc)
		return rc;
	if (n == 0) {
		rc = errmsg_set(err, -ENOENT, "%s: lists no images", what);
		goto out;
	}

	/* Narrow down in place: keep[] marks the candidates. */
	bool *keep = calloc(n, sizeof(*keep));
	if (!keep) {
		rc = -ENOMEM;
		goto out;
	}
	size_t nk = 0;
	char names[512];
	for (size_t i = 0; i < n; i++) {
		keep[i] = true;
		if (top_level && ref_name)
			keep[i] = (all[i].ref_name && strcmp(all[i].ref_name, ref_name) == 0) ||
				  (all[i].image_name && strcmp(all[i].image_name, ref_name) == 0);
		nk += keep[i];
	}
	if (nk == 0) {
		list_entries(all, n, names, sizeof(names));
		rc = errmsg_set(err, -ENOENT, "%s: no image named '%s' (available: %s)", what,
				ref_name, names);
		goto out_keep;
	}
	if (top_level && !ref_name && nk > 1) {
		size_t nl = 0;
		for (size_t i = 0; i < n; i++)
			nl += keep[i] && all[i].ref_name && strcmp(all[i].ref_name, "latest") == 0;
		if (nl) {
			for (size_t i = 0; i < n; i++)
				keep[i] = keep[i] && all[i].ref_name &&
					  strcmp(all[i].ref_name, "latest") == 0;
			nk = nl;
		}
	}
	if (nk > 1 || !top_level) {
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			np += keep[i] && platform_matches(&all[i]);
		if (np) {
			for (size_t i = 0; i < n; i++)
				keep[i] = keep[i] && platform_matches(&all[i]);
			nk = np;
		} else if (!top_level && !(n == 1 && !all[0].os && !all[0].arch)) {
			list_entries(all, n, names, sizeof(names));
			rc = errmsg_set(err, -ENOENT, "%s: no image for linux/%s (available: %s)",
					what, oci_host_arch(), names);
			goto out_keep;
		}
	}
	if (nk > 1 && top_level) {
		list_entries(all, n, names, sizeof(names));
		rc = errmsg_set(err, -EINVAL,
				"%s: lists %zu images and none is named 'latest'; name one of: %s",
				what, n, names);
		goto out_keep;
	}
	/* Exactly one left (or, in a nested index, several variants of the
	 * host platform: take the first). */
	for (size_t i = 0; i < n; i++) {
		if (keep[i]) {
			*out = all[i];
			memset(&all[i], 0, sizeof(all[i]));
			break;
		}
	}
	rc = 0;
out_keep:
	free(keep);
out:
	for (size_t i = 0; i < n && all; i++)
		oci_descriptor_free(&all[i]);
	free(all);
	return rc;
}

void oci_manifest_free(struct oci_manifest *m)
{
	oci_descriptor_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		oci_descriptor_free(&m->layers[i]);
	free(m->layers);
	free(m->layer_kinds);
	memset(m, 0, sizeof(*m));
}

int oci_manifest_parse(const char *buf, size_t len, const char *what, struct oci_manifest *m,
		       struct errmsg *err)
{
	memset(m, 0, sizeof(*m));
	json_object *o;
	int rc = parse(buf, len, what, &o, err);
	if (rc)
		return rc;
	if ((rc = check_schema(o, what, err)))
		goto out;
	char *mt = NULL;
	if ((rc = get_string(o, "mediaType", false, what, "", &mt, err)))
		goto out;
	if (mt && oci_media_kind(mt) != OCI_KIND_MANIFEST) {
		rc = errmsg_set(err, -EINVAL, "%s: not an image manifest (mediaType '%.100s')",
				what, mt);
		free(mt);
		goto out;
	}
	free(mt);
	json_object *cfg = member(o, "config");
	if (!cfg) {
		rc = errmsg_set(err, -EINVAL, "%s: config is missing (not an image manifest?)",
				what);
		goto out;
	}
	if ((rc = get_descriptor(cfg, what, "config", &m->config, err)))
		goto out;
	if (oci_media_kind(m->config.media_type) != OCI_KIND_CONFIG) {
		rc = errmsg_set(err, -EINVAL,
				"%s: not a container image (config mediaType '%.100s')", what,
				m->config.media_type ? m->config.media_type : "(none)");
		goto out;
	}
	json_object *layers = member(o, "layers");
	if (!layers || !json_object_is_type(layers, json_type_array)) {
		rc = errmsg_set(err, -EINVAL, "%s: layers is missing or not an array", what);
		goto out;
	}
	size_t n = json_object_array_length(layers);
	if (n > OCI_MAX_LAYERS) {
		rc = errmsg_set(err, -EINVAL, "%s: %zu layers, more than %d", what, n,
				OCI_MAX_LAYERS);
		goto out;
	}
	if (n) {
		m->layers = calloc(n, sizeof(*m->layers));
		m->layer_kinds = calloc(n, sizeof(*m->layer_kinds));
		if (!m->layers || !m->layer_kinds) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char ctx[32];
		snprintf(ctx, sizeof(ctx), "layers[%zu]", i);
		rc = get_descriptor(json_object_array_get_idx(layers, i), what, ctx, &m->layers[i],
				    err);
		if (rc)
			goto out;
		m->n_layers = i + 1;
		enum oci_kind k = oci_media_kind(m->layers[i].media_type);
		if (k != OCI_KIND_LAYER_TAR && k != OCI_KIND_LAYER_GZIP &&
		    k != OCI_KIND_LAYER_ZSTD) {
			rc = errmsg_set(
			    err, -EINVAL, "%s: %s.mediaType: unsupported layer type '%.100s'", what,
			    ctx, m->layers[i].media_type ? m->layers[i].media_type : "(none)");
			goto out;
		}
		m->layer_kinds[i] = k;
	}
	rc = 0;
out:
	if (rc)
		oci_manifest_free(m);
	json_object_put(o);
	return rc;
}

/* A string array member (Entrypoint, Cmd, Env, diff_ids). A bare string is
 * taken as a one-element array (Docker accepts that for Entrypoint/Cmd).
 * *present is false for absent/null. */
static int get_strv(json_object *obj, const char *key, const char *what, const char *ctx,
		    char ***out, size_t *n_out, bool *present, struct errmsg *err)
{
	*out = NULL;
	*n_out = 0;
	if (present)
		*present = false;
	json_object *v = member(obj, key);
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		char **a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		int rc = get_string(obj, key, true, what, ctx, &a[0], err);
		if (rc) {
			free(a);
			return rc;
		}
		*out = a;
		*n_out = 1;
		if (present)
			*present = true;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return errmsg_set(err, -EINVAL, "%s: %s%s is not an array of strings", what, ctx,
				  key);
	size_t n = json_object_array_length(v);
	char **a = n ? calloc(n, sizeof(*a)) : NULL;
	if (n && !a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		const char *s = e ? json_object_get_string(e) : NULL;
		if (!e || !json_object_is_type(e, json_type_string) ||
		    strlen(s) != (size_t)json_object_get_string_len(e)) {
			oci_strv_free(a, i);
			return errmsg_set(err, -EINVAL, "%s: %s%s[%zu] is not a string", what, ctx,
					  key, i);
		}
		a[i] = strdup(s);
		if (!a[i]) {
			oci_strv_free(a, i);
			return -ENOMEM;
		}
	}
	*out = a;
	*n_out = n;
	if (present)
		*present = true;
	return 0;
}

void image_config_free(struct image_config *c)
{
	oci_strv_free(c->entrypoint, c->n_entrypoint);
	oci_strv_free(c->cmd, c->n_cmd);
	oci_strv_free(c->env, c->n_env);
	free(c->working_dir);
	free(c->user);
	free(c->stop_signal);
	memset(c, 0, sizeof(*c));
}

int oci_config_parse(const char *buf, size_t len, const char *what, struct image_config *c,
		     char ***diff_ids, size_t *n_diff_ids, struct errmsg *err)
{
	memset(c, 0, sizeof(*c));
	if (diff_ids) {
		*diff_ids = NULL;
		*n_diff_ids = 0;
	}
	json_object *o;
	int rc = parse(buf, len, what, &o, err);
	if (rc)
		return rc;
	char *os = NULL, *arch = NULL;
	char **ids = NULL;
	size_t nids = 0;
	if ((rc = get_string(o, "os", false, what, "", &os, err)) ||
	    (rc = get_string(o, "architecture", false, what, "", &arch, err)))
		goto out;
	if ((os && strcmp(os, "linux") != 0) || (arch && strcmp(arch, oci_host_arch()) != 0)) {
		rc = errmsg_set(err, -ENOEXEC, "%s: image is for %s/%s, this host runs linux/%s",
				what, os ? os : "?", arch ? arch : "?", oci_host_arch());
		goto out;
	}
	json_object *cfg = member(o, "config");
	if (cfg) {
		if (!json_object_is_type(cfg, json_type_object)) {
			rc = errmsg_set(err, -EINVAL, "%s: config is not an object", what);
			goto out;
		}
		const char *ctx = "config.";
		if ((rc = get_strv(cfg, "Entrypoint", what, ctx, &c->entrypoint, &c->n_entrypoint,
				   &c->has_entrypoint, err)) ||
		    (rc = get_strv(cfg, "Cmd", what, ctx, &c->cmd, &c->n_cmd, &c->has_cmd, err)) ||
		    (rc = get_strv(cfg, "Env", what, ctx, &c->env, &c->n_env, NULL, err)) ||
		    (rc = get_string(cfg, "WorkingDir", false, what, ctx, &c->working_dir, err)) ||
		    (rc = get_string(cfg, "User", false, what, ctx, &c->user, err)) ||
		    (rc = get_string(cfg, "StopSignal", false, what, ctx, &c->stop_signal, err)))
			goto out;
		/* Docker writes "" for unset strings: treat as absent. */
		char **strs[] = {&c->working_dir, &c->user, &c->stop_signal};
		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
			if (*strs[i] && !**strs[i]) {
				free(*strs[i]);
				*strs[i] = NULL;
			}
		}
		for (size_t i = 0; i < c->n_env; i++) {
			if (!strchr(c->env[i], '=') || c->env[i][0] == '=') {
				rc = errmsg_set(err, -EINVAL,
						"%s: config.Env[%zu] '%.80s' is not KEY=VALUE",
						what, i, c->env[i]);
				goto out;
			}
		}
	}
	json_object *rootfs = member(o, "rootfs");
	if (!rootfs || !json_object_is_type(rootfs, json_type_object)) {
		rc = errmsg_set(err, -EINVAL, "%s: rootfs is missing or not an object", what);
		goto out;
	}
	char *type = NULL;
	if ((rc = get_string(rootfs, "type", true, what, "rootfs.", &type, err)))
		goto out;
	bool layers = strcmp(type, "layers") == 0;
	free(type);
	if (!layers) {
		rc = errmsg_set(err, -EINVAL, "%s: rootfs.type is not 'layers'", what);
		goto out;
	}
	bool present;
	if ((rc = get_strv(rootfs, "diff_ids", what, "rootfs.", &ids, &nids, &present, err)))
		goto out;
	if (!present) {
		rc = errmsg_set(err, -EINVAL, "%s: rootfs.diff_ids is missing", what);
		goto out;
	}
	for (size_t i = 0; i < nids; i++) {
		char w[256];
		snprintf(w, sizeof(w), "%s: rootfs.diff_ids[%zu]", what, i);
		if ((rc = digest_parse(ids[i], NULL, w, err)))
			goto out;
	}
	if (diff_ids) {
		*diff_ids = ids;
		*n_diff_ids = nids;
		ids = NULL;
		nids = 0;
	}
	rc = 0;
out:
	oci_strv_free(ids, nids);
	free(os);
	free(arch);
	if (rc)
		image_config_free(c);
	json_object_put(o);
	return rc;
}
