/* cp_path: the pure parts of `hull cp`: its arguments and the checks on the
 * names in a tar stream that came out of a container.
 *
 * Contract
 * - cp_arg_parse(): docker's rule: "NAME:PATH" names a path in container
 *   NAME when the ':' comes before any '/'; anything else is a host path
 *   (write ./a:b for a host file named a:b). -EINVAL for an empty NAME or
 *   PATH. Fills a (malloc'd strings; cp_arg_free()).
 * - cp_split(): PATH as the directory to run tar in and the last component
 *   to copy (trailing slashes dropped; "/" is "/" and "."). malloc'd.
 * - cp_entry_rename(): an entry name from the container's tar (hostile: it
 *   may be anything) checked and moved under the destination's name: it
 *   must be `base` or `base/...` (tar was asked for base alone), relative,
 *   without "." or ".." components after base, at most PATH_MAX bytes; the
 *   base part is replaced by newbase. -EINVAL otherwise (nothing written).
 *   base "." (copying "/") keeps the names under newbase.
 * Functions return 0 or -errno; no state. */
#ifndef HULL_CLI_CP_PATH_H
#define HULL_CLI_CP_PATH_H

struct cp_arg {
	char *container; /* NULL: a host path */
	char *path;
};

int cp_arg_parse(const char *s, struct cp_arg *a);
void cp_arg_free(struct cp_arg *a);
int cp_split(const char *path, char **dir, char **base);
int cp_entry_rename(const char *entry, const char *base, const char *newbase, char **out);

#endif
