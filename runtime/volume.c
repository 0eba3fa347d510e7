#include "volume.h"
#include "common/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static bool has_dot_component(const char *p)
{
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		c += n;
	}
	return false;
}

/* The OPTS of HOSTDIR:GUESTDIR:OPTS, o[0, n): ro, rw, comma-separated;
 * passthrough-owners is known, to be refused saying why. */
static int parse_opts(const char *arg, const char *o, size_t n, struct volume_arg *v,
		      struct errmsg *err)
{
	while (n > 0) {
		size_t k = strcspn(o, ",");
		k = k < n ? k : n;
		if (k == 2 && !strncmp(o, "ro", 2))
			v->read_only = true;
		else if (k == 2 && !strncmp(o, "rw", 2))
			v->read_only = false;
		else if (k == 18 && !strncmp(o, "passthrough-owners", 18))
			return errmsg_set(err, -EPERM, "-v %s: " VOLUME_NO_PASSTHROUGH, arg);
		else
			return errmsg_set(err, -EINVAL, "-v %s: option \"%.*s\": expected ro or rw",
					  arg, (int)k, o);
		o += k;
		n -= k;
		if (n > 0) {
			o++;
			n--;
		}
	}
	return 0;
}

/* When open() of the absolute path abs failed with ELOOP: name the first
 * component that is a symlink. */
static int symlink_error(const char *arg, const char *abs, struct errmsg *err)
{
	char *p = strdup(abs);
	if (!p)
		return errmsg_set(err, -ENOMEM, "out of memory");
	for (char *c = p + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char save = *c;
		*c = '\0';
		struct stat st;
		char target[256];
		ssize_t n;
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) &&
		    (n = readlink(p, target, sizeof(target) - 1)) >= 0) {
			target[n] = '\0';
			int rc = errmsg_set(
			    err, -ELOOP,
			    "-v %s: \"%s\" is a symlink (to %s): hull follows no symlink in a "
			    "volume's host path (one a container planted in a volume could "
			    "redirect the next run's -v); give the directory's real path",
			    arg, p, target);
			free(p);
			return rc;
		}
		*c = save;
		if (!save)
			break;
	}
	free(p);
	return errmsg_set(err, -ELOOP, "-v %s: the host path holds a symlink (hull follows none)",
			  arg);
}

/* HOSTDIR, opened without following any symlink, as its canonical absolute
 * path (*out, malloc'd). */
static int resolve_host(const char *arg, const char *host, char **out, struct errmsg *err)
{
	char *abs = NULL;
	if (host[0] == '/') {
		abs = strdup(host);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (cwd && asprintf(&abs, "%s/%s", cwd, host) < 0)
			abs = NULL;
		free(cwd);
	}
	if (!abs)
		return errmsg_set(err, -ENOMEM, "-v %s: %s", arg, strerror(errno));
	int fd =
	    fileutil_openat2(AT_FDCWD, abs, O_PATH, 0, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	int rc = 0;
	struct stat st;
	if (fd == -ELOOP)
		rc = symlink_error(arg, abs, err);
	else if (fd < 0)
		rc = errmsg_set(err, fd, "-v %s: host directory \"%s\": %s", arg, host,
				strerror(-fd));
	else if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		rc = errmsg_set(err, -ENOTDIR, "-v %s: host path \"%s\" is not a directory", arg,
				host);
	free(abs);
	if (!rc) {
		/* the directory just checked, by name ("..", "." resolved) */
		char proc[32], buf[PATH_MAX];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(proc, buf, sizeof(buf) - 1);
		if (n < 0)
			rc = errmsg_set(err, -errno, "-v %s: %s: %s", arg, proc, strerror(errno));
		else if ((buf[n] = '\0', !(*out = strdup(buf))))
			rc = errmsg_set(err, -ENOMEM, "out of memory");
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int volume_parse(const char *arg, struct volume_arg *out, struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(arg);
	/* HOSTDIR:GUESTDIR:OPTS when the last field is not a path (GUESTDIR
	 * is absolute) and another ':' precedes it */
	const char *last = memrchr(arg, ':', len);
	if (last && last[1] != '/' && last != arg && memrchr(arg, ':', (size_t)(last - arg))) {
		int rc = parse_opts(arg, last + 1, len - (size_t)(last - arg) - 1, out, err);
		if (rc)
			return rc;
		len = (size_t)(last - arg);
	}
	bool ro = out->read_only;
	const char *colon = memrchr(arg, ':', len);
	if (!colon || colon == arg)
		return errmsg_set(err, -EINVAL, "-v %s: expected HOSTDIR:GUESTDIR[:ro|:rw]", arg);
	char *host = strndup(arg, (size_t)(colon - arg));
	char *guest = strndup(colon + 1, len - (size_t)(colon - arg) - 1);
	int rc = 0;
	if (!host || !guest) {
		rc = errmsg_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	size_t gl = strlen(guest);
	while (gl > 1 && guest[gl - 1] == '/')
		guest[--gl] = '\0';
	if (guest[0] != '/') {
		rc = errmsg_set(err, -EINVAL, "-v %s: the container path \"%s\" must be absolute",
				arg, guest);
		goto fail;
	}
	if (strcmp(guest, "/") == 0 || has_dot_component(guest)) {
		rc = errmsg_set(err, -EINVAL,
				"-v %s: the container path \"%s\" must not be / or hold . or ..",
				arg, guest);
		goto fail;
	}
	char *real = NULL;
	if ((rc = resolve_host(arg, host, &real, err)))
		goto fail;
	free(host);
	*out = (struct volume_arg){.host = real, .guest = guest, .read_only = ro};
	return 0;
fail:
	free(host);
	free(guest);
	return rc;
}

void volume_arg_free(struct volume_arg *v)
{
	free(v->host);
	free(v->guest);
	memset(v, 0, sizeof(*v));
}

int volume_apply(const struct volume_arg *v, size_t n, struct vmm_volume vols[VMM_MAX_VOLUMES],
		 struct hcp_spec *spec, struct errmsg *err)
{
	if (n == 0)
		return 0;
	if (n > VMM_MAX_VOLUMES)
		return errmsg_set(err, -EINVAL, "-v: at most %d volumes", VMM_MAX_VOLUMES);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[i].guest, v[j].guest) == 0)
				return errmsg_set(err, -EINVAL,
						  "-v: two volumes at the container path %s",
						  v[i].guest);
	spec->volumes = calloc(n, sizeof(*spec->volumes));
	if (!spec->volumes)
		return errmsg_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct hcp_volume *hv = &spec->volumes[i];
		if (asprintf(&hv->tag, VMM_VOLUME_TAG, (unsigned)i) < 0) {
			hv->tag = NULL;
			return errmsg_set(err, -ENOMEM, "out of memory");
		}
		spec->nvolumes++;
		hv->path = strdup(v[i].guest);
		hv->read_only = v[i].read_only;
		if (!hv->path)
			return errmsg_set(err, -ENOMEM, "out of memory");
		vols[i] = (struct vmm_volume){.host_dir = v[i].host, .read_only = v[i].read_only};
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl); /* best effort: EMFILE reaches the guest */
	}
	return 0;
}
