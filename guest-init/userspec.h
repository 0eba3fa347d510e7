/* userspec: the OCI "User" string, resolved against a rootfs's passwd and
 * group files the way docker/runc do it.
 *
 * Contract
 * - Pure logic: callers hand in the TEXT of /etc/passwd and /etc/group (read
 *   from the container's root, never the initramfs's); nothing here touches
 *   the filesystem. NSS is unusable in a static PID 1, hence this module.
 * - Accepted forms: "" (root), "user", "uid", "user:group", "uid:gid",
 *   "uid:group", "user:gid". An empty part means "not given". A part made of
 *   digits only is numeric (0 .. 4294967294); anything else is a name.
 * - A user name missing from passwd is an error; a numeric uid missing from
 *   passwd is allowed and runs with gid 0 and HOME "/" (docker behaviour).
 *   A group name missing from group is an error; a numeric gid is used as is.
 * - Groups for setgroups(): without a group part, the primary gid followed by
 *   every group that lists the user's name as a member (duplicates dropped);
 *   with a group part, only that gid (no supplementary groups).
 * - Malformed passwd/group lines (too few fields, bad numbers, empty or NIS
 *   "+"/"-" names, embedded NULs) and comments are skipped, not fatal: a
 *   hand-edited image file should not stop the container.
 * - Functions return 0 or -errno (-EINVAL for bad specs and unknown names,
 *   -ERANGE for out-of-range ids, -E2BIG for too many groups, -ENOMEM) and fill
 *   err on failure.
 */
#ifndef HULL_GUEST_INIT_USERSPEC_H
#define HULL_GUEST_INIT_USERSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"

/* Largest setgroups() list the kernel accepts (NGROUPS_MAX on Linux). */
#define USERSPEC_MAX_GROUPS 65536

/* One side ("user" or "group") of a parsed spec. The name points into the
 * spec string and is NOT NUL-terminated. */
struct userspec_part {
	bool given;
	bool numeric;
	uint32_t id; /* when numeric */
	const char *name;
	size_t name_len;
};

struct userspec {
	struct userspec_part user;
	struct userspec_part group;
};

/* Split and classify spec (NULL counts as ""). */
int userspec_parse(const char *spec, struct userspec *out, struct errmsg *err);

struct user_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* for setgroups(); never empty after a successful resolve */
	size_t ngroups;
	char *home; /* passwd home directory, "/" when unknown or empty */
};

/* Resolve spec against the given file texts (NULL/0 = file missing). On
 * success *out owns malloc'd memory: release it with user_ids_free(). */
int userspec_resolve(const char *spec, const char *passwd, size_t passwd_len, const char *group,
		     size_t group_len, struct user_ids *out, struct errmsg *err);
void user_ids_free(struct user_ids *u);

#endif
