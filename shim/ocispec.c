#include "ocispec.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/readfile.h"
#include "runtime/spec_flags.h"
#include "runtime/state.h"
#include "runtime/state_config.h"

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, key, &v) && !json_object_is_type(v, json_type_null))
		return v;
	return NULL;
}

static int dup_string(json_object *v, char **out, const char *what, const char *path,
		      struct errmsg *err)
{
	if (!json_object_is_type(v, json_type_string))
		return errmsg_set(err, -EINVAL, "%s: %s: not a string", what, path);
	const char *str = json_object_get_string(v);
	if (strlen(str) != (size_t)json_object_get_string_len(v))
		return errmsg_set(err, -EINVAL, "%s: %s: contains a NUL byte", what, path);
	*out = strdup(str);
	return *out ? 0 : errmsg_set(err, -ENOMEM, "%s: out of memory", what);
}

/* An array of strings (absent: empty). */
static int string_array(json_object *v, char ***out, size_t *n, const char *what, const char *path,
			struct errmsg *err)
{
	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return errmsg_set(err, -EINVAL, "%s: %s: not an array", what, path);
	size_t len = json_object_array_length(v);
	*out = calloc(len + 1, sizeof(char *));
	if (!*out)
		return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < len; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		int rc = dup_string(json_object_array_get_idx(v, i), &(*out)[i], what, p, err);
		if (rc < 0)
			return rc;
		*n = i + 1;
	}
	return 0;
}

static int get_u32(json_object *v, uint32_t *out, const char *what, const char *path,
		   struct errmsg *err)
{
	if (!v)
		return 0;
	int64_t x = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || x < 0 || x > UINT32_MAX)
		return errmsg_set(err, -EINVAL, "%s: %s: not a 32-bit unsigned number", what, path);
	*out = (uint32_t)x;
	return 0;
}

static int get_u64(json_object *v, uint64_t *out, const char *what, const char *path,
		   struct errmsg *err)
{
	if (!json_object_is_type(v, json_type_int))
		return errmsg_set(err, -EINVAL, "%s: %s: not a number", what, path);
	/* json-c keeps numbers above INT64_MAX as uint64 */
	*out = json_object_get_uint64(v);
	if (json_object_get_int64(v) < 0)
		return errmsg_set(err, -EINVAL, "%s: %s: negative", what, path);
	return 0;
}

/* process.rlimits, as hull run's --ulimit values (spec_rlimit) */
static int parse_rlimits(json_object *rl, struct shim_spec *s, const char *what, const char *pre,
			 struct errmsg *err)
{
	char path[64];
	if (rl && !json_object_is_type(rl, json_type_array))
		return errmsg_set(err, -EINVAL, "%s: %srlimits: not an array", what, pre);
	size_t n = rl ? json_object_array_length(rl) : 0;
	if (n > HCP_MAX_ULIMITS)
		return errmsg_set(err, -EINVAL, "%s: %srlimits: %zu entries; at most %d", what, pre,
				  n, HCP_MAX_ULIMITS);
	if (n && !(s->ulimits = calloc(n, sizeof(*s->ulimits))))
		return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(rl, i);
		json_object *ty = field(r, "type"), *hard = field(r, "hard"),
			    *soft = field(r, "soft");
		snprintf(path, sizeof(path), "%srlimits[%zu]", pre, i);
		if (!ty || !json_object_is_type(ty, json_type_string))
			return errmsg_set(err, -EINVAL, "%s: %s.type: missing or not a string",
					  what, path);
		if (!hard || !soft)
			return errmsg_set(err, -EINVAL, "%s: %s: needs hard and soft", what, path);
		uint64_t h, so;
		struct errmsg e;
		int rc = get_u64(hard, &h, what, path, err);
		if (rc == 0)
			rc = get_u64(soft, &so, what, path, err);
		if (rc < 0)
			return rc;
		if (spec_rlimit(json_object_get_string(ty), so, h, &s->ulimits[i], &e) < 0)
			return errmsg_set(err, -EINVAL, "%s: %s: %s", what, path, e.text);
		for (size_t j = 0; j < i; j++)
			if (s->ulimits[j].resource == s->ulimits[i].resource)
				return errmsg_set(err, -EINVAL, "%s: %s: a second %s", what, path,
						  json_object_get_string(ty));
		s->n_ulimits = i + 1;
	}
	return 0;
}

static int parse_process(json_object *p, struct shim_spec *s, const char *what, const char *pre,
			 struct errmsg *err)
{
	char path[64];
	if (!p || !json_object_is_type(p, json_type_object))
		return errmsg_set(err, -EINVAL, "%s: %sprocess: missing or not an object", what,
				  pre);
	snprintf(path, sizeof(path), "%sargs", pre);
	int rc = string_array(field(p, "args"), &s->args, &s->n_args, what, path, err);
	if (rc < 0)
		return rc;
	if (s->n_args == 0)
		return errmsg_set(err, -EINVAL, "%s: %sargs: no command to run", what, pre);
	snprintf(path, sizeof(path), "%senv", pre);
	rc = string_array(field(p, "env"), &s->env, &s->n_env, what, path, err);
	if (rc < 0)
		return rc;
	json_object *cwd = field(p, "cwd");
	if (cwd) {
		snprintf(path, sizeof(path), "%scwd", pre);
		rc = dup_string(cwd, &s->cwd, what, path, err);
		if (rc < 0)
			return rc;
		if (s->cwd[0] != '/')
			return errmsg_set(err, -EINVAL, "%s: %s: %s is not absolute", what, path,
					  s->cwd);
	} else if (!(s->cwd = strdup("/"))) {
		return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
	}
	json_object *t = field(p, "terminal");
	if (t && !json_object_is_type(t, json_type_boolean))
		return errmsg_set(err, -EINVAL, "%s: %sterminal: not a boolean", what, pre);
	s->terminal = t && json_object_get_boolean(t);
	json_object *user = field(p, "user");
	snprintf(path, sizeof(path), "%suser.uid", pre);
	if ((rc = get_u32(field(user, "uid"), &s->uid, what, path, err)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%suser.gid", pre);
	if ((rc = get_u32(field(user, "gid"), &s->gid, what, path, err)) < 0)
		return rc;
	return parse_rlimits(field(p, "rlimits"), s, what, pre, err);
}

static bool is_bind(json_object *m)
{
	json_object *ty = field(m, "type");
	if (ty && json_object_is_type(ty, json_type_string) &&
	    strcmp(json_object_get_string(ty), "bind") == 0)
		return true;
	json_object *opts = field(m, "options");
	for (size_t i = 0; opts && json_object_is_type(opts, json_type_array) &&
			   i < json_object_array_length(opts);
	     i++) {
		const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
		if (o && (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0))
			return true;
	}
	return false;
}

static int parse_mounts(json_object *ms, struct shim_spec *s, const char *what, struct errmsg *err)
{
	if (!ms)
		return 0;
	if (!json_object_is_type(ms, json_type_array))
		return errmsg_set(err, -EINVAL, "%s: mounts: not an array", what);
	size_t n = json_object_array_length(ms);
	if (n && !(s->binds = calloc(n, sizeof(*s->binds))))
		return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(ms, i);
		char path[64];
		if (!json_object_is_type(m, json_type_object))
			return errmsg_set(err, -EINVAL, "%s: mounts[%zu]: not an object", what, i);
		if (!is_bind(m))
			continue;
		struct shim_spec_bind *b = &s->binds[s->n_binds++];
		json_object *src = field(m, "source"), *dst = field(m, "destination");
		snprintf(path, sizeof(path), "mounts[%zu]", i);
		if (!src || !dst)
			return errmsg_set(err, -EINVAL,
					  "%s: %s: a bind needs source and destination", what,
					  path);
		int rc = dup_string(src, &b->source, what, path, err);
		if (rc == 0)
			rc = dup_string(dst, &b->destination, what, path, err);
		if (rc < 0)
			return rc;
		if (b->source[0] != '/' || b->destination[0] != '/')
			return errmsg_set(err, -EINVAL, "%s: %s: paths must be absolute", what,
					  path);
		json_object *opts = field(m, "options");
		char **o;
		size_t no;
		rc = string_array(opts, &o, &no, what, path, err);
		for (size_t k = 0; k < no; k++) {
			b->readonly |= strcmp(o[k], "ro") == 0;
			free(o[k]);
		}
		free(o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_annotations(json_object *a, struct shim_spec *s, const char *what,
			     struct errmsg *err)
{
	if (!a)
		return 0;
	if (!json_object_is_type(a, json_type_object))
		return errmsg_set(err, -EINVAL, "%s: annotations: not an object", what);
	size_t n = (size_t)json_object_object_length(a);
	if (n > RUNTIME_MAX_LABELS)
		return errmsg_set(err, -EINVAL, "%s: annotations: %zu of them; at most %d", what, n,
				  RUNTIME_MAX_LABELS);
	if (n && !(s->annotations = calloc(n + 1, sizeof(char *))))
		return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
	json_object_object_foreach(a, key, val)
	{
		char path[64];
		snprintf(path, sizeof(path), "annotations[%.40s]", key);
		if (!*key || strchr(key, '='))
			return errmsg_set(err, -EINVAL, "%s: %s: a key is not empty and has no '='",
					  what, path);
		char *v;
		int rc = dup_string(val, &v, what, path, err);
		if (rc < 0)
			return rc;
		rc = asprintf(&s->annotations[s->n_annotations], "%s=%s", key, v);
		free(v);
		if (rc < 0) {
			s->annotations[s->n_annotations] = NULL;
			return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
		}
		s->n_annotations++;
	}
	return 0;
}

const char *shim_spec_annotation(const struct shim_spec *s, const char *key)
{
	/* kept in the labels' form: the state's lookup of a label */
	const struct runtime_config c = {.labels = s->annotations, .n_labels = s->n_annotations};
	return runtime_config_label(&c, key);
}

static int get_i64(json_object *v, int64_t *out, const char *what, const char *path,
		   struct errmsg *err)
{
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return errmsg_set(err, -EINVAL, "%s: %s: not a number", what, path);
	*out = json_object_get_int64(v);
	return 0;
}

/* linux.resources: memory.limit, cpu.quota/cpu.period (what ctr run
 * --memory-limit and --cpus set, and the CRI from a pod's limits). */
static int parse_resources(json_object *res, struct shim_spec *s, const char *what,
			   struct errmsg *err)
{
	int64_t mem = 0, quota = 0;
	uint64_t period = 0;
	json_object *m = field(res, "memory"), *c = field(res, "cpu");
	int rc = get_i64(field(m, "limit"), &mem, what, "linux.resources.memory.limit", err);
	if (rc == 0)
		rc = get_i64(field(c, "quota"), &quota, what, "linux.resources.cpu.quota", err);
	if (rc == 0 && field(c, "period"))
		rc = get_u64(field(c, "period"), &period, what, "linux.resources.cpu.period", err);
	if (rc < 0)
		return rc;
	s->mem_limit = mem > 0 ? (uint64_t)mem : 0; /* -1: unlimited */
	if (quota > 0) {
		if (!period)
			period = 100000; /* the kernel's default, as runc assumes */
		/* in 1/1000 CPU, rounded up; quota < 2^63, period >= 1 */
		unsigned __int128 m = ((unsigned __int128)quota * 1000 + period - 1) / period;
		s->cpu_milli = m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
	}
	return 0;
}

static int parse(const char *json, size_t len, const char *what, json_object **out,
		 struct errmsg *err)
{
	if (len > SHIM_SPEC_MAX)
		return errmsg_set(err, -EFBIG, "%s: larger than %u bytes", what, SHIM_SPEC_MAX);
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || je != json_tokener_success || used != len) {
		json_object_put(o);
		return errmsg_set(err, -EINVAL, "%s: not valid JSON", what);
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return errmsg_set(err, -EINVAL, "%s: not a JSON object", what);
	}
	*out = o;
	return 0;
}

int shim_spec_parse(const char *json, size_t len, struct shim_spec *s, struct errmsg *err)
{
	const char *what = "config.json";
	*s = (struct shim_spec){0};
	json_object *o;
	int rc = parse(json, len, what, &o, err);
	if (rc < 0)
		return rc;
	rc = parse_process(field(o, "process"), s, what, "process.", err);
	json_object *h = field(o, "hostname"), *root = field(field(o, "root"), "path");
	if (rc == 0 && h)
		rc = dup_string(h, &s->hostname, what, "hostname", err);
	if (rc == 0 && root)
		rc = dup_string(root, &s->root_path, what, "root.path", err);
	if (rc == 0)
		rc = parse_mounts(field(o, "mounts"), s, what, err);
	if (rc == 0)
		rc = parse_annotations(field(o, "annotations"), s, what, err);
	if (rc == 0)
		rc = parse_resources(field(field(o, "linux"), "resources"), s, what, err);
	json_object_put(o);
	if (rc < 0)
		shim_spec_free(s);
	return rc;
}

int shim_process_parse(const char *json, size_t len, struct shim_spec *s, struct errmsg *err)
{
	*s = (struct shim_spec){0};
	json_object *o;
	int rc = parse(json, len, "exec process", &o, err);
	if (rc < 0)
		return rc;
	rc = parse_process(o, s, "exec process", "", err);
	json_object_put(o);
	if (rc < 0)
		shim_spec_free(s);
	return rc;
}

int shim_spec_load(const char *bundle, struct shim_spec *s, struct errmsg *err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path))
		return errmsg_set(err, -ENAMETOOLONG, "bundle %s: path too long", bundle);
	char *buf;
	size_t len;
	int rc = readfile(path, SHIM_SPEC_MAX, &buf, &len);
	if (rc < 0)
		return errmsg_set(err, rc, "%s: %s", path, strerror(-rc));
	rc = shim_spec_parse(buf, len, s, err);
	free(buf);
	return rc;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void shim_spec_free(struct shim_spec *s)
{
	free_strv(s->args, s->n_args);
	free_strv(s->env, s->n_env);
	free(s->cwd);
	free(s->ulimits);
	free(s->hostname);
	free(s->root_path);
	for (size_t i = 0; i < s->n_binds; i++) {
		free(s->binds[i].source);
		free(s->binds[i].destination);
	}
	free(s->binds);
	free_strv(s->annotations, s->n_annotations);
	*s = (struct shim_spec){0};
}
