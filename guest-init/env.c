#include "env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *lookup(char *const *env, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < n && env[i]; i++)
		if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
			return env[i] + klen + 1;
	return NULL;
}

const char *env_get(char *const *env, const char *key)
{
	return env ? lookup(env, (size_t)-1, key) : NULL;
}

static char *join(const char *key, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", key, value) < 0)
		return NULL;
	return s;
}

void env_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}

int env_build(char *const *spec_env, size_t n, const char *home, const char *hostname,
	      const char *glibc_tunables, char ***out)
{
	struct {
		const char *key;
		const char *value;
	} defaults[] = {
	    {"PATH", ENV_DEFAULT_PATH},
	    {"HOME", home && *home ? home : "/"},
	    {"HOSTNAME", hostname && *hostname ? hostname : NULL},
	    {"GLIBC_TUNABLES", glibc_tunables && *glibc_tunables ? glibc_tunables : NULL},
	};
	size_t nd = sizeof(defaults) / sizeof(defaults[0]);
	size_t k = 0;
	char **env;

	*out = NULL;
	if (!spec_env)
		n = 0;
	env = calloc(n + nd + 1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		env[k] = strdup(spec_env[i]);
		if (!env[k])
			goto nomem;
		k++;
	}
	for (size_t i = 0; i < nd; i++) {
		if (!defaults[i].value || lookup(spec_env, n, defaults[i].key))
			continue;
		env[k] = join(defaults[i].key, defaults[i].value);
		if (!env[k])
			goto nomem;
		k++;
	}
	*out = env;
	return 0;
nomem:
	env_free(env);
	return -ENOMEM;
}
