/* fileutil: the few durable-file helpers the on-disk stores share.
 *
 * Contract: every function returns 0 or -errno and reports nothing itself.
 * - fileutil_mkdirs(): mkdir -p; directories it creates get `mode`. An
 *   existing non-directory on the way is -ENOTDIR.
 * - fileutil_fsync_path(): open path with flags (O_RDONLY, or
 *   O_RDONLY|O_DIRECTORY for a directory) and fsync it.
 * - fileutil_write_sync(): create or truncate path (mode 0644), write all of
 *   buf, fsync, close. The caller renames it into place.
 * - fileutil_lock(): open (creating, 0600) path and flock() it with op
 *   (LOCK_EX or LOCK_SH), waiting as long as it takes; *fd is the lock,
 *   released by close().
 * - fileutil_dir_disk_bytes(): the disk space (allocated blocks) of the
 *   regular files directly in a directory; 0 when it cannot be read.
 * - fileutil_openat2(): openat2(2) with flags | O_CLOEXEC, mode and resolve
 *   (RESOLVE_*), retried while the kernel says EAGAIN (a rename elsewhere
 *   raced the RESOLVE_* lookup); the fd, or -errno (ELOOP: a symlink where
 *   resolve forbids one). Every caller that must not follow a symlink,
 *   planted by a guest or a container, opens through it. */
#ifndef HULL_FILEUTIL_H
#define HULL_FILEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int fileutil_mkdirs(const char *path, mode_t mode);
int fileutil_fsync_path(const char *path, int flags);
int fileutil_write_sync(const char *path, const void *buf, size_t len);
int fileutil_lock(const char *path, int op, int *fd);
uint64_t fileutil_dir_disk_bytes(const char *path);
int fileutil_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

#endif
