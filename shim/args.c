#include "args.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

int shim_args_parse(int argc, char **argv, struct shim_args *a, struct errmsg *err)
{
	*a = (struct shim_args){.ns = "default", .action = SHIM_SERVE};
	bool have_action = false;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-') {
			if (have_action)
				return errmsg_set(err, -EINVAL, "unexpected argument %s", s);
			have_action = true;
			if (strcmp(s, "start") == 0)
				a->action = SHIM_START;
			else if (strcmp(s, "delete") == 0)
				a->action = SHIM_DELETE;
			else
				return errmsg_set(err, -EINVAL,
						  "unknown action %s (start or delete)", s);
			continue;
		}
		s += s[1] == '-' ? 2 : 1;
		const char *eq = strchr(s, '=');
		size_t n = eq ? (size_t)(eq - s) : strlen(s);
		if ((n == 5 && strncmp(s, "debug", 5) == 0) || (n == 1 && s[0] == 'v')) {
			bool on = !eq || strcmp(eq + 1, "true") == 0;
			if (eq && !on && strcmp(eq + 1, "false") != 0)
				return errmsg_set(err, -EINVAL, "%s: true or false", argv[i]);
			if (s[0] == 'v' && on)
				a->action = SHIM_VERSION, have_action = true;
			else if (s[0] == 'd')
				a->debug = on;
			continue;
		}
		static const struct {
			const char *name;
			size_t off;
		} flags[] = {
		    {"namespace", offsetof(struct shim_args, ns)},
		    {"id", offsetof(struct shim_args, id)},
		    {"address", offsetof(struct shim_args, address)},
		    {"publish-binary", offsetof(struct shim_args, publish_binary)},
		    {"bundle", offsetof(struct shim_args, bundle)},
		    {"socket", offsetof(struct shim_args, socket)},
		};
		size_t f = 0;
		while (f < sizeof(flags) / sizeof(flags[0]) &&
		       !(strlen(flags[f].name) == n && strncmp(flags[f].name, s, n) == 0))
			f++;
		if (f == sizeof(flags) / sizeof(flags[0]))
			return errmsg_set(err, -EINVAL, "unknown flag %s", argv[i]);
		const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val)
			return errmsg_set(err, -EINVAL, "flag %s needs a value", argv[i]);
		*(const char **)((char *)a + flags[f].off) = val;
	}
	if (a->action == SHIM_VERSION)
		return 0;
	if (!a->id || !a->id[0])
		return errmsg_set(err, -EINVAL, "-id is required");
	if (strchr(a->id, '/') || strcmp(a->id, ".") == 0 || strcmp(a->id, "..") == 0)
		return errmsg_set(err, -EINVAL, "-id %s: not a valid container id", a->id);
	return 0;
}
