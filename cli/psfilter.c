#include "psfilter.h"

#include <errno.h>
#include <string.h>

enum { K_NAME, K_ID, K_LABEL, K_STATUS, K_N };

static const char *const keys[K_N] = {"name", "id", "label", "status"};
/* docker's states; the first four are hull's (runtime_status_name) */
static const char *const states[] = {"created", "running",    "exited",	 "dead",
				     "paused",	"restarting", "removing"};

int psfilter_add(struct psfilter *p, const char *arg, struct errmsg *err)
{
	const char *eq = strchr(arg, '=');
	size_t kl = eq ? (size_t)(eq - arg) : strlen(arg);
	int k = 0;
	while (k < K_N && (strlen(keys[k]) != kl || strncmp(keys[k], arg, kl)))
		k++;
	if (k == K_N)
		return errmsg_set(err, -EINVAL,
				  "--filter %s: unknown filter (name=, id=, label=, status=)", arg);
	if (!eq || !eq[1])
		return errmsg_set(err, -EINVAL, "--filter %s: expected %s=VALUE", arg, keys[k]);
	if (k == K_STATUS) {
		size_t i = 0;
		while (i < sizeof(states) / sizeof(states[0]) && strcmp(states[i], eq + 1))
			i++;
		if (i == sizeof(states) / sizeof(states[0]))
			return errmsg_set(err, -EINVAL,
					  "--filter %s: invalid status (created, running, "
					  "exited, dead, paused, restarting, removing)",
					  arg);
	}
	if (p->n == PSFILTER_MAX)
		return errmsg_set(err, -E2BIG, "--filter: more than %d filters", PSFILTER_MAX);
	p->f[p->n].key = k;
	p->f[p->n++].value = eq + 1;
	return 0;
}

bool psfilter_has_status(const struct psfilter *p)
{
	for (int i = 0; i < p->n; i++)
		if (p->f[i].key == K_STATUS)
			return true;
	return false;
}

static bool one(int key, const char *v, const struct runtime_state *s, enum runtime_status eff)
{
	switch (key) {
	case K_NAME:
		return strstr(s->name, v) != NULL;
	case K_ID:
		return !strncmp(s->id, v, strlen(v));
	case K_LABEL: {
		const char *eq = strchr(v, '=');
		size_t kl = eq ? (size_t)(eq - v) : strlen(v);
		for (size_t i = 0; i < s->cfg.n_labels; i++) {
			const char *l = s->cfg.labels[i];
			if (strncmp(l, v, kl) || l[kl] != '=')
				continue;
			if (!eq || !strcmp(l + kl + 1, eq + 1))
				return true;
		}
		return false;
	}
	default:
		return !strcmp(runtime_status_name(eff), v);
	}
}

bool psfilter_match(const struct psfilter *p, const struct runtime_state *s,
		    enum runtime_status eff)
{
	for (int k = 0; k < K_N; k++) {
		bool given = false, any = false;
		for (int i = 0; i < p->n; i++) {
			if (p->f[i].key != k)
				continue;
			given = true;
			bool m = one(k, p->f[i].value, s, eff);
			if (k == K_LABEL && !m)
				return false; /* docker requires every label */
			any = any || m;
		}
		if (given && !any)
			return false;
	}
	return true;
}
