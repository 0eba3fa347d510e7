#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *template_root(const char *store_root)
{
	const char *env = getenv("HULL_TEMPLATE_DIR");
	char *s;
	if (env && env[0])
		return strdup(env);
	return asprintf(&s, "%s/templates", store_root) < 0 ? NULL : s;
}
