#include "template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/digest.h"

#ifndef HULL_VERSION
#define HULL_VERSION "unknown"
#endif

static int file_id(const char *path, char *out, size_t n, struct errmsg *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errmsg_set(err, -errno, "%s: %s", path, strerror(errno));
	snprintf(out, n, "%llx:%llu:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	return 0;
}

int template_key(const char *kernel, const char *initrd, unsigned cpus, uint64_t mem_bytes,
		 bool pvm, char **key, struct errmsg *err)
{
	char k[128], i[128];
	int rc = file_id(kernel, k, sizeof(k), err);
	if (!rc)
		rc = file_id(initrd, i, sizeof(i), err);
	if (rc)
		return rc;
	if (asprintf(key, "hull %s; kernel %s; initrd %s; cpus %u; mem %llu; disks 1ro; pvm %d",
		     HULL_VERSION, k, i, cpus, (unsigned long long)mem_bytes, pvm ? 1 : 0) < 0)
		return errmsg_set(err, -ENOMEM, "out of memory");
	return 0;
}

char *template_root(const char *store_root)
{
	const char *env = getenv("HULL_TEMPLATE_DIR");
	char *s;
	if (env && env[0])
		return strdup(env);
	return asprintf(&s, "%s/templates", store_root) < 0 ? NULL : s;
}

char *template_dir(const char *root, const char *key)
{
	char d[DIGEST_STR_LEN];
	if (digest_buf(key, strlen(key), d))
		return NULL;
	char *s;
	/* "sha256:" prefix skipped; 128 bits of name are plenty for a cache */
	return asprintf(&s, "%s/%.32s", root, d + 7) < 0 ? NULL : s;
}
