/* rootfs: containerd's rootfs mounts (its snapshot) -> the ext4 image a hull
 * VM gets as its disk. The disk is attached read-only and the guest writes
 * to a tmpfs overlay above it, so an image can be shared by every container
 * made from the same snapshot layers.
 *
 * Contract
 * - shim_rootfs_prepare(): one mount is supported (containerd's snapshot:
 *   overlay, or bind for a snapshot without parents). It is mounted at
 *   <bundle>/rootfs only while an image is written (mkfs.ext4 -d, a full
 *   copy of the tree) and unmounted again.
 *   - Shared: an overlay whose upperdir is empty (a new container: its
 *     snapshot holds nothing of its own yet) has the content of its
 *     lowerdirs alone, which containerd never changes once committed. Its
 *     image is <cache_dir>/<key>.ext4, key = SHA-256 of each lowerdir's path
 *     and identity (device, inode, change time); written once (temp +
 *     rename: concurrent shims may both write it, either copy wins, both are
 *     the same), reused without a copy after that. <key>.lower lists the
 *     lowerdirs for shim_rootfs_prune().
 *   - Private: anything else (cache_dir NULL, a bind mount, a non-empty
 *     upperdir): a copy in work_dir, removed by shim_rootfs_release().
 * - shim_rootfs_from_dir(): no rootfs mounts (ctr run --rootfs DIR, or
 *   --config: no snapshot) leave the spec's root.path, a directory: it is
 *   written into a private image in work_dir (mkfs.ext4 -d, a full copy),
 *   removed by shim_rootfs_release(). dir must be absolute and a directory.
 * - shim_rootfs_prune(): removes cached images whose lowerdirs are gone
 *   (containerd removed the image's snapshots; no container can use them
 *   then, as a container's snapshot keeps its parents), and the temp files
 *   of builds whose shim died (a build holds an flock() on its temp file
 *   until it is renamed or removed; one nobody holds is a dead shim's).
 *   Idempotent; errors are ignored (a stale image costs disk space only).
 * - Mount options are the client's (containerd's): bounded, only known
 *   flags are turned into mount flags, the rest is passed as fs data.
 * - Every image is written by mkfs.ext4 under a temp name beside it and
 *   renamed into place only when complete (the caller's, mode 0600); a
 *   failed or crashed mkfs.ext4 leaves nothing, and its own message is in
 *   err. Started by root, mkfs.ext4 runs jailed (runtime/jail.h, a foreign
 *   program: the user hull, CAP_DAC_READ_SEARCH alone, a root of /usr,
 *   /lib*, /etc/mke2fs.conf, the tree read-only and the temp file; see
 *   docs/security.md) under a seccomp filter (seccomp/policy.c HSC_MKFS);
 *   the user hull must exist. mkfs.ext4 is the one on PATH.
 * - Limits on every build (as root or not): RLIMIT_FSIZE at the image's
 *   computed size plus 1 MiB (-EFBIG past it), RLIMIT_AS at 512 MiB plus
 *   256 bytes per inode of the tree (its own allocation failure past it),
 *   and a time limit of 300 s plus a second per MiB of the tree, after
 *   which it is killed (-ETIMEDOUT); the environment variable
 *   SHIM_MKFS_TIMEOUT_ENV, whole seconds, sets another time limit (a slow
 *   disk; the tests). A seccomp violation kills it (-EPERM, the syscall
 *   named as the monitor's are: "mkfs.ext4 killed by its seccomp filter
 *   (syscall N name, thread role mkfs)").
 * - Returns 0 or -errno with err. Thread-safe (nftw's counter is locked;
 *   the jail's fork uses raw set*id calls, runtime/jail.h).
 */
#ifndef HULL_SHIM_ROOTFS_H
#define HULL_SHIM_ROOTFS_H

#include <stdbool.h>

#include "common/errmsg.h"
#include "common/sha256.h"
#include "shim/backend.h"

#define SHIM_MKFS_TIMEOUT_ENV "HULL_SHIM_MKFS_TIMEOUT"

struct shim_rootfs {
	char *image; /* the ext4 file for the VM's disk 0 */
	bool shared; /* in the cache: not removed by release */
};

int shim_rootfs_prepare(const char *id, const struct shim_mount *mounts, size_t n,
			const char *bundle, const char *work_dir, const char *cache_dir,
			struct shim_rootfs *out, struct errmsg *err);
int shim_rootfs_from_dir(const char *id, const char *dir, const char *work_dir,
			 struct shim_rootfs *out, struct errmsg *err);
/* Removes a private image; frees. A zeroed struct is fine. */
void shim_rootfs_release(struct shim_rootfs *r);
void shim_rootfs_prune(const char *cache_dir);
/* The cache key of a lowerdir list ("/a:/b"), as 64 hex digits and a NUL;
 * -ENOENT when a directory is missing, -EINVAL when the list is malformed. */
int shim_rootfs_key(const char *lower, char hex[2 * SHA256_LEN + 1]);

#endif
