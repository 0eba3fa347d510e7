#include "jail_enter.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The bounding set empty: first, as it needs CAP_SETPCAP, which goes with
 * the rest. */
static int drop_bounding(struct errmsg *err)
{
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return errmsg_set(err, -errno, "jail: dropping capability %d: %s", cap,
					  strerror(errno));
	return 0;
}

/* The ambient, inheritable, permitted and effective sets empty; then
 * no_new_privs and no core dumps. */
static int drop_rest(struct errmsg *err)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return errmsg_set(err, -errno, "jail: clearing ambient capabilities: %s",
				  strerror(errno));
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {{0}};
	if (syscall(SYS_capset, &h, d))
		return errmsg_set(err, -errno, "jail: capset: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return errmsg_set(err, -errno, "jail: no_new_privs: %s", strerror(errno));
	if (setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}))
		return errmsg_set(err, -errno, "jail: RLIMIT_CORE: %s", strerror(errno));
	return 0;
}

int jail_pivot(const char *root)
{
	/* pivot_root(".", "."): the old root ends up stacked on the new one,
	 * and the detach below takes it away; no directory for it needed */
	if (chdir(root) || syscall(SYS_pivot_root, ".", "."))
		return -errno;
	if (umount2(".", MNT_DETACH) || chdir("/"))
		return -errno;
	return 0;
}

int jail_enter(const char *root, struct errmsg *err)
{
	int rc = jail_pivot(root);
	if (rc)
		return errmsg_set(err, rc,
				  "jail: pivot_root into %s and detaching the host's root: %s",
				  root, strerror(-rc));
	rc = drop_bounding(err);
	return rc ? rc : drop_rest(err);
}

int jail_user(uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	int rc = getpwnam_r(JAIL_USER, &pw, buf, sizeof(buf), &res);
	if (rc || !res)
		return rc ? -rc : -ENOENT;
	if (pw.pw_uid == 0 || pw.pw_gid == 0)
		return -EINVAL;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int jail_set_ids(uid_t uid, gid_t gid)
{
	/* after fork this thread is the process's only one: the kernel's
	 * per-thread credentials are the process's (see the header) */
	if (syscall(SYS_setgroups, 0, NULL) || syscall(SYS_setresgid, gid, gid, gid) ||
	    syscall(SYS_setresuid, uid, uid, uid))
		return -errno;
	return 0;
}

int jail_become(uid_t uid, gid_t gid, struct errmsg *err)
{
	if (geteuid() == 0) {
		int rc = drop_bounding(err);
		if (rc)
			return rc;
		/* no PR_SET_KEEPCAPS: leaving uid 0 empties the permitted and
		 * effective sets by itself */
		if ((rc = jail_set_ids(uid, gid)))
			return errmsg_set(err, rc, "jail: switching to uid %u gid %u: %s",
					  (unsigned)uid, (unsigned)gid, strerror(-rc));
	}
	return drop_rest(err);
}
