#include "images/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/readfile.h"
#include "images/oci_json.h"

int store_open(const char *root, struct store *s, struct errmsg *err)
{
	s->dir = NULL;
	if (!root || !*root)
		return errmsg_set(err, -EINVAL, "no store directory given");
	if (asprintf(&s->dir, "%s/rootfs", root) < 0) {
		s->dir = NULL;
		return -ENOMEM;
	}
	int rc = fileutil_mkdirs(s->dir, 0700);
	if (rc) {
		errmsg_set(err, rc, "store %s: %s", s->dir, strerror(-rc));
		store_close(s);
	}
	return rc;
}

void store_close(struct store *s)
{
	free(s->dir);
	s->dir = NULL;
}

char *store_path(const struct store *s, const char *hex, const char *suffix)
{
	char *p;
	return asprintf(&p, "%s/%s%s", s->dir, hex, suffix) < 0 ? NULL : p;
}

char *store_tmp_path(const struct store *s, const char *hex)
{
	char *p;
	return asprintf(&p, "%s/%s.ext4.tmp.%ld", s->dir, hex, (long)getpid()) < 0 ? NULL : p;
}

int store_lookup(const struct store *s, const char *hex, bool *hit, char **config,
		 size_t *config_len, struct errmsg *err)
{
	*hit = false;
	*config = NULL;
	*config_len = 0;
	char *img = store_path(s, hex, ".ext4");
	char *cfg = store_path(s, hex, ".config.json");
	int rc = 0;
	struct stat st;
	if (!img || !cfg) {
		rc = -ENOMEM;
	} else if (stat(img, &st) == 0 && S_ISREG(st.st_mode)) {
		rc = readfile(cfg, OCI_JSON_MAX, config, config_len);
		if (rc == -ENOENT) /* a damaged entry: convert again */
			rc = 0;
		else if (rc)
			errmsg_set(err, rc, "reading %s: %s", cfg, strerror(-rc));
		else
			*hit = true;
	}
	free(img);
	free(cfg);
	return rc;
}

int store_lock(const struct store *s, const char *hex, int *fd, struct errmsg *err)
{
	char *path = store_path(s, hex, ".lock");
	if (!path)
		return -ENOMEM;
	int rc = fileutil_lock(path, LOCK_EX, fd);
	if (rc)
		errmsg_set(err, rc, "locking %s: %s", path, strerror(-rc));
	free(path);
	return rc;
}

void store_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

void store_remove_temps(const struct store *s, const char *hex)
{
	DIR *d = opendir(s->dir);
	if (!d)
		return;
	size_t hl = strlen(hex);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, hex, hl) == 0 && de->d_name[hl] == '.' &&
		    strstr(de->d_name + hl, ".tmp."))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int store_commit(const struct store *s, const char *hex, const char *tmp, const char *config,
		 size_t config_len, struct errmsg *err)
{
	char *img = store_path(s, hex, ".ext4");
	char *cfg = store_path(s, hex, ".config.json");
	char *cfg_tmp = NULL;
	if (asprintf(&cfg_tmp, "%s/%s.config.json.tmp.%ld", s->dir, hex, (long)getpid()) < 0)
		cfg_tmp = NULL;
	int rc = 0;
	const char *step = "";
	if (!img || !cfg || !cfg_tmp) {
		rc = -ENOMEM;
		goto out;
	}
	step = "syncing the image";
	if ((rc = fileutil_fsync_path(tmp, O_RDONLY)))
		goto out;
	step = "writing the config";
	if ((rc = fileutil_write_sync(cfg_tmp, config, config_len)))
		goto out;
	if (rename(cfg_tmp, cfg) < 0) {
		rc = -errno;
		unlink(cfg_tmp);
		goto out;
	}
	step = "publishing the image";
	if (rename(tmp, img) < 0) {
		rc = -errno;
		goto out;
	}
	step = "syncing the store directory";
	rc = fileutil_fsync_path(s->dir, O_RDONLY | O_DIRECTORY);
out:
	if (rc)
		errmsg_set(err, rc, "store %s: %s: %s", s->dir, step, strerror(-rc));
	free(img);
	free(cfg);
	free(cfg_tmp);
	return rc;
}
