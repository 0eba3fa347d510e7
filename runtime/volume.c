#include "volume.h"

#include <errno.h>
#include <limits.h>
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

int volume_parse(const char *arg, struct volume_arg *out, struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(arg);
	bool ro = false;
	if (len > 3 && (strcmp(arg + len - 3, ":ro") == 0 || strcmp(arg + len - 3, ":rw") == 0)) {
		ro = arg[len - 2] == 'r' && arg[len - 1] == 'o';
		len -= 3;
	}
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
	char *real = realpath(host, NULL);
	if (!real) {
		rc = errmsg_set(err, -errno, "-v %s: host directory \"%s\": %s", arg, host,
				strerror(errno));
		goto fail;
	}
	struct stat st;
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = errmsg_set(err, -ENOTDIR, "-v %s: host path \"%s\" is not a directory", arg,
				host);
		free(real);
		goto fail;
	}
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
