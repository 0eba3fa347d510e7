/* hcp_tmpfs_parse: docker's --tmpfs PATH[:OPTS] (see hcp.h). Both ends use
 * it: hull to refuse a bad value before booting, guest-init to mount. */
#include "hcp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

static const struct {
	const char *name;
	unsigned long set, clear;
} tmpfs_flags[] = {
    {"ro", MS_RDONLY, 0},   {"rw", 0, MS_RDONLY},     {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC}, {"nosuid", MS_NOSUID, 0}, {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0}, {"dev", 0, MS_NODEV},
};

/* digits, then for size/nr_inodes an optional k, m or g */
static bool value_ok(const char *v, size_t n, bool suffix, bool octal)
{
	size_t d = 0;
	while (d < n && v[d] >= '0' && v[d] <= (octal ? '7' : '9'))
		d++;
	if (d == 0 || d > 19)
		return false;
	if (octal && (d > 5 || (d == 5 && v[0] != '0')))
		return false; /* at most 07777 */
	if (d == n)
		return true;
	return suffix && d + 1 == n && strchr("kmgKMG", v[d]);
}

static bool path_ok(const char *p, size_t n)
{
	if (n == 0 || n > 1024 || p[0] != '/')
		return false;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1, k;
		for (k = j; k < n && p[k] != '/'; k++)
			;
		size_t len = k - j;
		if ((len == 1 && p[j] == '.') || (len == 2 && p[j] == '.' && p[j + 1] == '.'))
			return false;
		i = k;
	}
	return !memchr(p, ',', n);
}

static int add_data(struct hcp_tmpfs *out, const char *opt, size_t n)
{
	size_t used = strlen(out->data);
	if (used + n + 2 > sizeof(out->data))
		return -EINVAL;
	snprintf(out->data + used, sizeof(out->data) - used, "%s%.*s", used ? "," : "", (int)n,
		 opt);
	return 0;
}

int hcp_tmpfs_parse(const char *spec, struct hcp_tmpfs *out, const char **why)
{
	const char *colon = strchr(spec, ':');
	size_t plen = colon ? (size_t)(colon - spec) : strlen(spec);
	memset(out, 0, sizeof(*out));
	out->flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
	if (!path_ok(spec, plen)) {
		*why = "the path must be absolute, without . or .. components or commas";
		return -EINVAL;
	}
	while (plen > 1 && spec[plen - 1] == '/')
		plen--;
	memcpy(out->path, spec, plen);
	const char *o = colon ? colon + 1 : "";
	if (colon && !*o) {
		*why = "empty options after ':'";
		return -EINVAL;
	}
	while (*o) {
		size_t n = strcspn(o, ",");
		bool known = false;
		for (size_t i = 0; i < sizeof(tmpfs_flags) / sizeof(tmpfs_flags[0]); i++)
			if (strlen(tmpfs_flags[i].name) == n &&
			    !strncmp(o, tmpfs_flags[i].name, n)) {
				out->flags =
				    (out->flags | tmpfs_flags[i].set) & ~tmpfs_flags[i].clear;
				known = true;
			}
		const char *eq = memchr(o, '=', n);
		size_t kl = eq ? (size_t)(eq - o) : 0, vl = eq ? n - kl - 1 : 0;
		bool sized = eq && ((kl == 4 && !strncmp(o, "size", 4)) ||
				    (kl == 9 && !strncmp(o, "nr_inodes", 9)));
		bool ids = eq && ((kl == 3 && !strncmp(o, "uid", 3)) ||
				  (kl == 3 && !strncmp(o, "gid", 3)));
		bool mode = eq && kl == 4 && !strncmp(o, "mode", 4);
		if (!known && (sized || ids || mode)) {
			if (!value_ok(eq + 1, vl, sized, mode)) {
				*why = mode ? "mode= takes an octal number up to 7777"
					    : "expected a number (size and nr_inodes: with an "
					      "optional k, m or g)";
				return -EINVAL;
			}
			if (add_data(out, o, n)) {
				*why = "too many options";
				return -EINVAL;
			}
			known = true;
		}
		if (!known) {
			*why = "unknown option (known: ro, rw, exec, noexec, suid, nosuid, dev, "
			       "nodev, size=, mode=, uid=, gid=, nr_inodes=)";
			return -EINVAL;
		}
		o += n;
		if (*o == ',' && !*++o) {
			*why = "empty option";
			return -EINVAL;
		}
	}
	return 0;
}
