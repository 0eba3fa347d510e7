#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *join(const char *a, const char *b)
{
	char *s;
	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

char *paths_data_file(const char *name)
{
	const char *env = getenv("HULL_DATADIR");
	if (env && env[0])
		return join(env, name);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	char *s;
	return asprintf(&s, "%s/../share/hull/%s", exe, name) < 0 ? NULL : s;
}

char *paths_store_root(const char *cli_root)
{
	if (cli_root && cli_root[0])
		return strdup(cli_root);
	const char *env = getenv("HULL_ROOT");
	if (env && env[0])
		return strdup(env);
	if (geteuid() == 0)
		return strdup("/var/lib/hull");
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && xdg[0])
		return join(xdg, "hull");
	const char *home = getenv("HOME");
	char *s;
	return asprintf(&s, "%s/.local/share/hull", home ? home : "/tmp") < 0 ? NULL : s;
}
