#include "execcfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/readfile.h"
#include "env.h"
#include "log.h"

#define ETC_FILE_MAX (4u * 1024 * 1024)

static int read_etc(const char *path, char **buf, size_t *len, struct errmsg *err)
{
	/* image files are not trusted to be reasonable: bounded, regular files only */
	int rc = readfile(path, ETC_FILE_MAX, buf, len);

	/* No passwd/group in the image is normal for scratch images. */
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return log_syserr(err, rc, "read %s", path);
	return 0;
}

int execcfg_resolve_user(const char *spec, struct user_ids *ids, struct errmsg *err)
{
	char *pw = NULL, *gr = NULL;
	size_t pwlen = 0, grlen = 0;
	int rc;

	rc = read_etc("/etc/passwd", &pw, &pwlen, err);
	if (rc == 0)
		rc = read_etc("/etc/group", &gr, &grlen, err);
	if (rc == 0)
		rc = userspec_resolve(spec, pw, pwlen, gr, grlen, ids, err);
	free(pw);
	free(gr);
	return rc;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* base ++ over, where an entry of over replaces base's entry of the same key. */
static int merge_env(char *const *base, char *const *over, size_t nover, char ***out)
{
	size_t nbase = 0, n = 0;
	char **env;

	while (base && base[nbase])
		nbase++;
	env = calloc(nbase + nover + 1, sizeof(char *));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < nbase + nover; i++) {
		const char *kv = i < nbase ? base[i] : over[i - nbase];
		size_t j, kl = key_len(kv);

		if (i >= nbase && !strchr(kv, '='))
			continue;
		for (j = 0; j < n; j++)
			if (key_len(env[j]) == kl && strncmp(env[j], kv, kl) == 0)
				break;
		char *c = strdup(kv);
		if (!c) {
			env_free(env);
			return -ENOMEM;
		}
		if (j < n)
			free(env[j]);
		else
			n++;
		env[j] = c;
	}
	*out = env;
	return 0;
}

int execcfg_build(const struct execcfg_base *b, const struct hcp_spec *x, struct execcfg *out,
		  struct errmsg *err)
{
	const struct user_ids *ids = b->ids;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (x->user) {
		rc = execcfg_resolve_user(x->user, &out->ids, err);
		if (rc < 0)
			return rc;
		out->own_ids = true;
		ids = &out->ids;
	}
	rc = merge_env(b->envp, x->envp, x->envc, &out->env);
	if (rc < 0) {
		execcfg_free(out);
		return errmsg_set(err, rc, "out of memory building the environment");
	}
	out->cfg = (struct container_cfg){
	    .argv = x->argv,
	    .envp = out->env,
	    .cwd = x->cwd ? x->cwd : b->cwd,
	    .uid = ids->uid,
	    .gid = ids->gid,
	    .groups = ids->groups,
	    .ngroups = ids->ngroups,
	    .tty = x->tty,
	    .rows = x->rows,
	    .cols = x->cols,
	    .conf = b->conf,
	};
	if (x->n_ulimits) {
		if (b->conf)
			out->conf = *b->conf;
		out->conf.ulimits = x->ulimits;
		out->conf.n_ulimits = x->n_ulimits;
		out->cfg.conf = &out->conf;
	}
	/* The child's chdir would fail too, but as a bare "chdir" error. */
	rc = stat(out->cfg.cwd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (rc) {
		rc = log_syserr(err, rc, "working directory \"%s\"", out->cfg.cwd);
		execcfg_free(out);
		return rc;
	}
	return 0;
}

void execcfg_free(struct execcfg *e)
{
	env_free(e->env);
	if (e->own_ids)
		user_ids_free(&e->ids);
	memset(e, 0, sizeof(*e));
}
