#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define UPPER ROOTFS_RW "/upper"
#define WORK ROOTFS_RW "/work"

int rootfs_mount_dev(struct errmsg *err)
{
	if (mount("devtmpfs", ROOTFS_DEV, "devtmpfs", MS_NOSUID, "mode=0755") < 0)
		return log_syserr(err, errno, "mount devtmpfs on " ROOTFS_DEV);
	return 0;
}

int rootfs_prepare_upper(struct errmsg *err)
{
	if (mount("tmpfs", ROOTFS_RW, "tmpfs", 0, "mode=0755") < 0)
		return log_syserr(err, errno, "mount tmpfs on " ROOTFS_RW);
	if (mkdir(UPPER, 0755) < 0)
		return log_syserr(err, errno, "mkdir " UPPER);
	if (mkdir(WORK, 0755) < 0)
		return log_syserr(err, errno, "mkdir " WORK);
	return 0;
}

/* A mount inside the new root. Targets are relative to ROOTFS_NEWROOT. */
struct api_mount {
	const char *source;
	const char *target;
	const char *fstype;
	unsigned long flags;
	const char *data;
	bool optional;
};

static const struct api_mount api_mounts[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", false},
    /* A private devpts instance, so the container's ptys are its own;
     * gid 5 is "tty" in every mainstream image. */
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
     "newinstance,ptmxmode=0666,mode=0620,gid=5", true},
    {"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", true},
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true},
};

struct api_link {
	const char *target;
	const char *path; /* relative to ROOTFS_NEWROOT */
};

static const struct api_link api_links[] = {
    {"/proc/self/fd", "/dev/fd"},
    {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"},
    {"/proc/self/fd/2", "/dev/stderr"},
};

/* 1 = mounted, 0 = optional mount skipped, or -errno. */
static int mount_api(const struct api_mount *m, const struct log *l, struct errmsg *err)
{
	char target[256];

	snprintf(target, sizeof(target), ROOTFS_NEWROOT "%s", m->target);
	/* The mountpoint may be missing from a minimal image; the overlay's
	 * upper layer makes creating it possible. */
	if (mkdir(target, 0755) < 0 && errno != EEXIST) {
		if (m->optional) {
			log_msg(l, "mkdir %s: %m (skipped)", m->target);
			return 0;
		}
		return log_syserr(err, errno, "mkdir %s", m->target);
	}
	if (mount(m->source, target, m->fstype, m->flags, m->data) < 0) {
		if (m->optional) {
			log_msg(l, "mount %s on %s: %m (skipped)", m->fstype, m->target);
			return 0;
		}
		return log_syserr(err, errno, "mount %s on %s", m->fstype, m->target);
	}
	return 1;
}

/* The host attaches the image to the disk only once it knows the container
 * (a VM restored from a template booted with an empty disk), then tells the
 * kernel its new capacity; the kernel learns it asynchronously, so wait for it
 * rather than mount a zero-sized disk. */
static int wait_capacity(const char *device, struct errmsg *err)
{
	for (int i = 0; i < ROOTFS_DEVICE_WAIT_MS / 5; i++) {
		int fd = open(device, O_RDONLY | O_CLOEXEC);
		uint64_t bytes = 0;
		if (fd >= 0) {
			int rc = ioctl(fd, BLKGETSIZE64, &bytes);
			close(fd);
			if (rc == 0 && bytes > 0)
				return 0;
		}
		struct timespec ts = {.tv_nsec = 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return errmsg_set(err, -ENODEV, "image disk %s: still empty after %d ms", device,
			  ROOTFS_DEVICE_WAIT_MS);
}

int rootfs_assemble(const char *device, const struct log *l, struct errmsg *err)
{
	const char *ovl = "lowerdir=" ROOTFS_LOWER ",upperdir=" UPPER ",workdir=" WORK;
	bool have_pts = false;
	int rc = wait_capacity(device, err);
	if (rc < 0)
		return rc;

	if (mount(device, ROOTFS_LOWER, "ext4", MS_RDONLY, NULL) < 0) {
		int ext4_err = errno;

		/* When both fail, ext4's error is the telling one: images are ext4
		 * unless built as erofs, and a missing device or an I/O error
		 * fails both alike. */
		if (mount(device, ROOTFS_LOWER, "erofs", MS_RDONLY, NULL) < 0)
			return log_syserr(err, ext4_err, "mount image %s (ext4, erofs)", device);
	}
	log_debug(l, "image %s mounted", device);
	if (mount("overlay", ROOTFS_NEWROOT, "overlay", 0, ovl) < 0)
		return log_syserr(err, errno, "mount overlay on " ROOTFS_NEWROOT);
	log_debug(l, "overlay mounted");

	for (size_t i = 0; i < sizeof(api_mounts) / sizeof(api_mounts[0]); i++) {
		rc = mount_api(&api_mounts[i], l, err);
		if (rc < 0)
			return rc;
		if (rc > 0 && strcmp(api_mounts[i].fstype, "devpts") == 0)
			have_pts = true;
		log_debug(l, "%s mounted", api_mounts[i].target);
	}

	/* Links in devtmpfs, which init owns: failures are cosmetic. */
	for (size_t i = 0; i < sizeof(api_links) / sizeof(api_links[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), ROOTFS_NEWROOT "%s", api_links[i].path);
		if (symlink(api_links[i].target, path) < 0 && errno != EEXIST)
			log_msg(l, "symlink %s: %m", api_links[i].path);
	}
	/* The ptmx node devtmpfs provides belongs to the initial devpts
	 * instance; the container must get ptys from its own. */
	if (have_pts) {
		if ((unlink(ROOTFS_NEWROOT "/dev/ptmx") < 0 && errno != ENOENT) ||
		    symlink("pts/ptmx", ROOTFS_NEWROOT "/dev/ptmx") < 0)
			log_msg(l, "symlink /dev/ptmx: %m");
	}
	return 0;
}

int rootfs_switch(struct errmsg *err)
{
	if (chdir(ROOTFS_NEWROOT) < 0)
		return log_syserr(err, errno, "chdir " ROOTFS_NEWROOT);
	if (mount(ROOTFS_NEWROOT, "/", NULL, MS_MOVE, NULL) < 0)
		return log_syserr(err, errno, "move " ROOTFS_NEWROOT " to /");
	if (chroot(".") < 0)
		return log_syserr(err, errno, "chroot");
	if (chdir("/") < 0)
		return log_syserr(err, errno, "chdir /");
	return 0;
}
