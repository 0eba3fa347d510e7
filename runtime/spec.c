#include "spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct strv {
	char **v;
	size_t n;
};

static int strv_push(struct strv *s, const char *str)
{
	char *c = strdup(str);
	char **nv = c ? realloc(s->v, (s->n + 2) * sizeof(char *)) : NULL;
	if (!nv) {
		free(c);
		return -ENOMEM;
	}
	nv[s->n++] = c;
	nv[s->n] = NULL;
	s->v = nv;
	return 0;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Index of the entry with the same key, or -1. */
static long env_find(const struct strv *env, const char *kv)
{
	size_t kl = key_len(kv);
	for (size_t i = 0; i < env->n; i++)
		if (key_len(env->v[i]) == kl && strncmp(env->v[i], kv, kl) == 0)
			return (long)i;
	return -1;
}

static int env_set(struct strv *env, const char *kv)
{
	long i = env_find(env, kv);
	if (i < 0)
		return strv_push(env, kv);
	char *c = strdup(kv);
	if (!c)
		return -ENOMEM;
	free(env->v[i]);
	env->v[i] = c;
	return 0;
}

static void env_unset(struct strv *env, const char *key)
{
	long i = env_find(env, key);
	if (i < 0)
		return;
	free(env->v[i]);
	memmove(&env->v[i], &env->v[i + 1], (env->n - (size_t)i) * sizeof(char *));
	env->n--;
}

static int apply_env_override(struct strv *env, const char *e, const struct spec_overrides *o,
			      struct errmsg *err)
{
	if (e[0] == '=' || e[0] == '\0')
		return errmsg_set(err, -EINVAL, "-e %s: the variable name is empty", e);
	if (strchr(e, '='))
		return env_set(env, e);
	const char *v = o->host_getenv ? o->host_getenv(e) : getenv(e);
	if (!v) {
		env_unset(env, e);
		return 0;
	}
	size_t n = strlen(e) + strlen(v) + 2;
	char *kv = malloc(n);
	if (!kv)
		return -ENOMEM;
	snprintf(kv, n, "%s=%s", e, v);
	int rc = env_set(env, kv);
	free(kv);
	return rc;
}

int spec_build(const struct spec_image *img, const struct spec_overrides *o, struct hcp_spec *out,
	       struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	struct strv argv = {0}, env = {0};
	int rc = 0;

	if (o->entrypoint) {
		if (o->entrypoint[0])
			rc = strv_push(&argv, o->entrypoint);
	} else {
		for (size_t i = 0; !rc && i < img->n_entrypoint; i++)
			rc = strv_push(&argv, img->entrypoint[i]);
	}
	if (o->n_args) {
		for (size_t i = 0; !rc && i < o->n_args; i++)
			rc = strv_push(&argv, o->args[i]);
	} else if (!o->entrypoint) {
		for (size_t i = 0; !rc && i < img->n_cmd; i++)
			rc = strv_push(&argv, img->cmd[i]);
	}
	if (!rc && argv.n == 0)
		rc = errmsg_set(
		    err, -EINVAL,
		    "no command: the image has no Entrypoint or Cmd, and none was given");

	for (size_t i = 0; !rc && i < img->n_env; i++)
		rc = env_set(&env, img->env[i]);
	for (size_t i = 0; !rc && i < o->n_env; i++)
		rc = apply_env_override(&env, o->env[i], o, err);
	if (!rc && o->tty && env_find(&env, "TERM") < 0)
		rc = strv_push(&env, "TERM=xterm");
	out->tty = o->tty;

	const char *cwd = o->workdir				      ? o->workdir
			  : (img->working_dir && img->working_dir[0]) ? img->working_dir
								      : "/";
	if (!rc && cwd[0] != '/')
		rc = errmsg_set(err, -EINVAL,
				"working directory \"%s\" is invalid: it must be an absolute path",
				cwd);
	const char *user = o->user ? o->user : img->user;

	if (!rc) {
		out->cwd = strdup(cwd);
		out->rootfs = strdup(o->rootfs ? o->rootfs : "/dev/vda");
		out->user = user && user[0] ? strdup(user) : NULL;
		out->hostname = o->hostname ? strdup(o->hostname) : NULL;
		if (!out->cwd || !out->rootfs || (user && user[0] && !out->user) ||
		    (o->hostname && !out->hostname))
			rc = -ENOMEM;
	}
	if (!rc && !env.v) {
		env.v = calloc(1, sizeof(char *));
		if (!env.v)
			rc = -ENOMEM;
	}
	if (rc) {
		strv_free(&argv);
		strv_free(&env);
		hcp_spec_free(out);
		if (rc == -ENOMEM)
			errmsg_set(err, rc, "out of memory");
		return rc;
	}
	out->argv = argv.v;
	out->argc = argv.n;
	out->envp = env.v;
	out->envc = env.n;
	return 0;
}
