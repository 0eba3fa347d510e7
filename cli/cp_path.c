#include "cp_path.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cp_arg_parse(const char *s, struct cp_arg *a)
{
	a->container = a->path = NULL;
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
	if (colon && (!slash || colon < slash)) {
		if (colon == s || !colon[1])
			return -EINVAL;
		a->container = strndup(s, (size_t)(colon - s));
		a->path = strdup(colon + 1);
	} else {
		if (!*s)
			return -EINVAL;
		a->path = strdup(s);
	}
	if (!a->path || (colon && (!slash || colon < slash) && !a->container)) {
		cp_arg_free(a);
		return -ENOMEM;
	}
	return 0;
}

void cp_arg_free(struct cp_arg *a)
{
	free(a->container);
	free(a->path);
	a->container = a->path = NULL;
}

int cp_split(const char *path, char **dir, char **base)
{
	*dir = *base = NULL;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (!n)
		return -EINVAL;
	if (n == 1 && path[0] == '/') {
		*dir = strdup("/");
		*base = strdup(".");
	} else {
		const char *last = NULL;
		for (size_t i = 0; i < n; i++)
			if (path[i] == '/')
				last = path + i;
		if (!last) {
			*dir = strdup(".");
			*base = strndup(path, n);
		} else {
			*dir = last == path ? strdup("/") : strndup(path, (size_t)(last - path));
			*base = strndup(last + 1, n - (size_t)(last + 1 - path));
		}
	}
	if (!*dir || !*base) {
		free(*dir);
		free(*base);
		*dir = *base = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* rest: "" or "/a/b[/]": every component a plain name */
static bool plain_rest(const char *rest)
{
	const char *p = rest;
	while (*p) {
		if (*p != '/')
			return false;
		while (*p == '/')
			p++;
		size_t k = strcspn(p, "/");
		if ((k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += k;
	}
	return true;
}

int cp_entry_rename(const char *entry, const char *base, const char *newbase, char **out)
{
	*out = NULL;
	size_t el = strnlen(entry, PATH_MAX + 1), bl = strlen(base);
	if (el > PATH_MAX || entry[0] == '/')
		return -EINVAL;
	const char *rest;
	if (!strcmp(base, ".")) {
		/* tar -C / -cf - . : "." and "./..." */
		if (strcmp(entry, ".") && strncmp(entry, "./", 2))
			return -EINVAL;
		rest = entry + 1;
	} else {
		if (strncmp(entry, base, bl) || (entry[bl] && entry[bl] != '/'))
			return -EINVAL;
		rest = entry + bl;
	}
	if (!plain_rest(rest))
		return -EINVAL;
	if (asprintf(out, "%s%s", newbase, rest) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	if (strlen(*out) > PATH_MAX) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}
