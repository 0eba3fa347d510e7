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

/* Unlink dir/name, adding its allocated size to *freed. */
static void unlink_counted(int dfd, const char *name, uint64_t *freed)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && unlinkat(dfd, name, 0) == 0 &&
	    freed)
		*freed += (uint64_t)st.st_blocks * 512;
}

static void remove_temps(const struct store *s, const char *hex, uint64_t *freed)
{
	DIR *d = opendir(s->dir);
	if (!d)
		return;
	size_t hl = strlen(hex);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, hex, hl) == 0 && de->d_name[hl] == '.' &&
		    strstr(de->d_name + hl, ".tmp."))
			unlink_counted(dirfd(d), de->d_name, freed);
	}
	closedir(d);
}

void store_remove_temps(const struct store *s, const char *hex)
{
	remove_temps(s, hex, NULL);
}

static void remove_entry(const struct store *s, const char *hex, uint64_t *freed)
{
	int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	char name[DIGEST_HEX_LEN + 16];
	snprintf(name, sizeof(name), "%s.ext4", hex); /* first: it commits the entry */
	unlink_counted(dfd, name, freed);
	snprintf(name, sizeof(name), "%s.config.json", hex);
	unlink_counted(dfd, name, freed);
	close(dfd);
}

int store_remove(const struct store *s, const char *hex, uint64_t *freed, struct errmsg *err)
{
	int fd;
	int rc = store_lock(s, hex, &fd, err);
	if (rc)
		return rc;
	remove_entry(s, hex, freed);
	remove_temps(s, hex, freed);
	store_unlock(fd);
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int store_sweep(const struct store *s, bool (*keep)(void *ctx, const char *hex), void *ctx,
		uint64_t *freed, struct errmsg *err)
{
	DIR *d = opendir(s->dir);
	if (!d) {
		int rc = -errno;
		return rc == -ENOENT ? 0
				     : errmsg_set(err, rc, "store %s: %s", s->dir, strerror(-rc));
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		/* each entry once: by its lock file, which every conversion makes */
		if (strlen(n) != DIGEST_HEX_LEN + 5 || strcmp(n + DIGEST_HEX_LEN, ".lock") ||
		    !is_hex(n, DIGEST_HEX_LEN))
			continue;
		char hex[DIGEST_HEX_LEN + 1];
		memcpy(hex, n, DIGEST_HEX_LEN);
		hex[DIGEST_HEX_LEN] = '\0';
		char *path = store_path(s, hex, ".lock");
		int fd = -1;
		if (!path || fileutil_lock(path, LOCK_EX | LOCK_NB, &fd)) {
			free(path);
			continue; /* being converted, or no memory: leave it */
		}
		if (!keep(ctx, hex))
			remove_entry(s, hex, freed);
		remove_temps(s, hex, freed);
		store_unlock(fd);
		free(path);
	}
	closedir(d);
	return 0;
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
