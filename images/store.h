/* store: the on-disk cache of converted root filesystems.
 *
 * Layout of <root>/rootfs/ (created 0700 with its parents if missing):
 *   <hex>.ext4               the image; its presence commits the entry
 *   <hex>.config.json        the verified image config blob
 *   <hex>.lock               flock()ed while converting <hex>
 *   <hex>.*.tmp.<pid>        in-progress files
 * <hex> is the manifest digest's 64 hex digits.
 *
 * Contract
 * - store_lookup() is read-only and needs no lock: an entry is only ever
 *   published by rename(), config first, image last.
 * - A converter takes store_lock(), looks up again (another process may have
 *   finished meanwhile), removes leftover temp files of <hex> (under the
 *   lock they can only be debris of a crashed run), writes the image to
 *   store_tmp_path(), then store_commit()s and unlocks. */
#ifndef HULL_IMAGES_STORE_H
#define HULL_IMAGES_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

struct store {
	char *dir; /* <root>/rootfs */
};

int store_open(const char *root, struct store *s, struct errmsg *err);
void store_close(struct store *s);

/* malloc'd "<dir>/<hex><suffix>" */
char *store_path(const struct store *s, const char *hex, const char *suffix);

/* If <hex> is cached: *hit = true and *config (malloc'd, NUL-terminated)
 * holds the config blob. A missing entry is not an error. */
int store_lookup(const struct store *s, const char *hex, bool *hit, char **config,
		 size_t *config_len, struct errmsg *err);

/* Block until this process holds the conversion lock of <hex>; *fd is
 * then released with store_unlock(). */
int store_lock(const struct store *s, const char *hex, int *fd, struct errmsg *err);
void store_unlock(int fd);

/* Remove the entry <hex> (image and config) under its lock; *freed grows
 * by the disk space released. A missing entry is not an error. */
int store_remove(const struct store *s, const char *hex, uint64_t *freed, struct errmsg *err);

/* For `image prune`: every entry whose hex keep() refuses is removed, and
 * temp debris of every entry; entries being converted right now (lock
 * taken) are left alone. *freed grows by the space released. */
int store_sweep(const struct store *s, bool (*keep)(void *ctx, const char *hex), void *ctx,
		uint64_t *freed, struct errmsg *err);

/* Remove <hex>'s temp files (call with the lock held). */
void store_remove_temps(const struct store *s, const char *hex);

/* malloc'd "<dir>/<hex>.ext4.tmp.<pid>" */
char *store_tmp_path(const struct store *s, const char *hex);

/* fsync the image at tmp, write the config next to it, rename both into
 * place and fsync the directory. On failure tmp is left for the caller. */
int store_commit(const struct store *s, const char *hex, const char *tmp, const char *config,
		 size_t config_len, struct errmsg *err);

#endif
