/* rootfs: from the initramfs to the container's root filesystem.
 *
 * Contract
 * - The image is a read-only block device (ext4/ext2, else erofs). It is the
 *   lower layer of an overlay whose upper layer is a tmpfs, so the container
 *   sees a writable root while the image on the host stays untouched.
 * - The directories below are shipped in the initramfs (see
 *   guest-init/meson.build); nothing here creates them.
 * - Inside the new root it mounts /proc, /sys, /dev (devtmpfs), /dev/pts
 *   (a private devpts instance), /dev/shm, /sys/fs/cgroup (cgroup2), and makes
 *   /dev/ptmx, /dev/fd, /dev/std{in,out,err} symlinks, creating missing
 *   mountpoints in the overlay. /proc, /sys and /dev are required; devpts,
 *   /dev/shm and cgroup2 failures are logged and tolerated, since most
 *   containers run without them.
 * - rootfs_switch() makes the new root "/" the initramfs way (MS_MOVE +
 *   chroot): pivot_root(2) refuses to move the initramfs.
 * - Functions return 0 or -errno and fill err on failure.
 */
#ifndef HULL_GUEST_INIT_ROOTFS_H
#define HULL_GUEST_INIT_ROOTFS_H

#include "common/errmsg.h"
#include "log.h"

#define ROOTFS_DEV "/dev"
#define ROOTFS_LOWER "/lower"	  /* the image, read-only */
#define ROOTFS_RW "/rw"		  /* tmpfs holding the overlay's upper and work dirs */
#define ROOTFS_NEWROOT "/newroot" /* the overlay, later "/" */

/* devtmpfs on the initramfs's /dev: the serial ports and the disk are there. */
int rootfs_mount_dev(struct errmsg *err);
/* The tmpfs for the writable layer. Needs no spec, so init does it while
 * the host is still sending the SPEC. */
int rootfs_prepare_upper(struct errmsg *err);
/* How long rootfs_assemble() waits for the image disk to get a capacity. */
#define ROOTFS_DEVICE_WAIT_MS 5000
/* Wait until device has a non-zero capacity, then mount it read-only, the
 * overlay at ROOTFS_NEWROOT, and the API filesystems inside it. */
int rootfs_assemble(const char *device, const struct log *l, struct errmsg *err);
/* Make ROOTFS_NEWROOT the root directory of init (and of its children). */
int rootfs_switch(struct errmsg *err);

#endif
