#include "confine.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "fsutil.h"

void confine_from_spec(const struct hcp_spec *spec, struct confine *c)
{
	*c = (struct confine){
	    .ulimits = spec->ulimits,
	    .n_ulimits = spec->n_ulimits,
	    .has_caps = spec->has_caps,
	    .caps = spec->caps,
	    .no_new_privs = spec->no_new_privs,
	};
}

int confine_mounts(const struct hcp_spec *spec, const struct log *l, struct errmsg *err)
{
	if (spec->shm_size) {
		char data[48];
		snprintf(data, sizeof(data), "mode=1777,size=%llu",
			 (unsigned long long)spec->shm_size);
		if (mount("shm", "/dev/shm", "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, data) < 0)
			return log_syserr(err, errno, "--shm-size: remount /dev/shm (%s)", data);
		log_debug(l, "/dev/shm: %s", data);
	}
	for (size_t i = 0; i < spec->n_tmpfs; i++) {
		struct hcp_tmpfs t;
		const char *why;
		if (hcp_tmpfs_parse(spec->tmpfs[i], &t, &why) < 0)
			return errmsg_set(err, -EINVAL, "--tmpfs %s: %s", spec->tmpfs[i], why);
		int rc = fsutil_mkdir_p(t.path, 0755);
		if (rc < 0)
			return log_syserr(err, rc, "--tmpfs %s: mkdir", t.path);
		if (mount("tmpfs", t.path, "tmpfs", t.flags, t.data) < 0)
			return log_syserr(err, errno, "--tmpfs %s: mount (%s)", t.path, t.data);
		log_debug(l, "tmpfs %s (%s)", t.path, t.data);
	}
	return 0;
}

int confine_read_only(const struct log *l, struct errmsg *err)
{
	/* the overlay's superblock: the writable layer stays in the tmpfs
	 * below, out of the container's reach */
	if (mount("none", "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return log_syserr(err, errno, "--read-only: remount / read-only");
	log_debug(l, "root filesystem read-only");
	return 0;
}

int confine_child_pre(const struct confine *c, uint64_t *bset)
{
	*bset = 0;
	for (size_t i = 0; i < c->n_ulimits; i++) {
		struct rlimit r = {(rlim_t)c->ulimits[i].soft, (rlim_t)c->ulimits[i].hard};
		if (setrlimit((int)c->ulimits[i].resource, &r) < 0)
			return -errno;
	}
	if (!c->has_caps)
		return 0;
	for (unsigned cap = 0; cap < 64; cap++) {
		/* EINVAL: past the kernel's last capability */
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			return errno == EINVAL ? 0 : -errno;
		if (c->caps & (1ull << cap))
			*bset |= 1ull << cap;
		else if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

int confine_child_post(const struct confine *c, uint64_t bset, uid_t uid)
{
	if (c->has_caps && uid == 0) {
		struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct d[2];
		for (int i = 0; i < 2; i++) {
			uint32_t m = (uint32_t)(bset >> (32 * i));
			d[i] = (struct __user_cap_data_struct){m, m, m};
		}
		if (syscall(SYS_capset, &h, d) < 0)
			return -errno;
	}
	if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
