#include "helper_path.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *helper_path(const char *env_name, const char *subdir, const char *name)
{
	const char *env = getenv(env_name);
	char exe[PATH_MAX], *s;
	if (env && env[0])
		return strdup(env);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return asprintf(&s, "/usr/libexec/hull/%s", name) < 0 ? NULL : s;
	exe[n] = '\0';
	char *dir = dirname(exe);
	/* a build tree: build/cli/hull next to build/monitor/hull-vmm */
	if (asprintf(&s, "%s/../%s/%s", dir, subdir, name) < 0)
		return NULL;
	if (access(s, X_OK) == 0)
		return s;
	free(s);
	/* installed: <prefix>/bin/hull, <prefix>/libexec/hull/hull-vmm */
	return asprintf(&s, "%s/../libexec/hull/%s", dir, name) < 0 ? NULL : s;
}
