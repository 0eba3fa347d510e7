#include "jail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/jail_enter.h"
#include "seccomp/filter.h"

#define MAX_MNT (JAIL_MAX_PATHS + 2)
#define MAX_DIRS 256
#define CG_MAX 4
_Static_assert(CG_MAX <= CGSTATS_MAX_DIRS, "jail_cgroup_dirs() copies them all");

extern char **environ;

struct mnt {
	char *src, *dst; /* host path; JAIL_ROOT + path */
	bool dir, rw;
	bool exec;  /* no noexec */
	bool node;  /* a device node made in the jail (rdev), not a bind */
	bool dev;   /* a bound device: no nodev */
	dev_t rdev; /* node */
	int uns;    /* the idmapping user namespace (as root), or -1 */
};

struct jail {
	bool root; /* started by root: switch to `hull` */
	uid_t uid;
	gid_t gid;
	bool host_net, net_bind, proc;
	bool foreign;			 /* finished here, not by jail_enter() */
	uint64_t caps;			 /* foreign: the capabilities left across exec */
	int out;			 /* foreign: stdout and stderr */
	uint64_t fsize, as;		 /* foreign: RLIMIT_FSIZE, RLIMIT_AS (0: none) */
	const struct sock_fprog *filter; /* foreign: seccomp, its listener to *listener */
	int *listener;
	struct mnt m[MAX_MNT];
	unsigned nm;
	char *dirs[MAX_DIRS]; /* made in the tmpfs, parents first */
	unsigned ndirs;
	/* idmapping namespaces, one per owner of a bound object */
	int uns[MAX_MNT];
	uid_t uns_uid[MAX_MNT];
	gid_t uns_gid[MAX_MNT];
	unsigned nuns;
};

struct jail_cgroup {
	char *dir[CG_MAX];
	unsigned n;
};

/* ---- the child's steps, named for the parent's message ---- */

enum step {
	ST_SYNC = 1,
	ST_OPEN,
	ST_PRIVATE,
	ST_TMPFS,
	ST_MKDIR,
	ST_MOUNTPOINT,
	ST_BIND,
	ST_NODE,
	ST_PROC,
	ST_ROOT_RO,
	ST_PIVOT,
	ST_CAPS,
	ST_UID,
	ST_FDS,
	ST_LIMITS,
	ST_SECCOMP,
	ST_EXEC,
	ST_LISTENER, /* not a failure: the filter's listener is fd idx */
};

struct child_err {
	int32_t step, err, idx;
};

static const char *step_text(int step)
{
	switch (step) {
	case ST_SYNC:
		return "waiting for the runtime";
	case ST_OPEN:
		return "opening";
	case ST_PRIVATE:
		return "making the mount namespace private";
	case ST_TMPFS:
		return "mounting the jail's tmpfs on " JAIL_ROOT;
	case ST_MKDIR:
		return "making a directory for";
	case ST_MOUNTPOINT:
		return "making a mount point for";
	case ST_BIND:
		return "binding";
	case ST_NODE:
		return "making the device node";
	case ST_PROC:
		return "mounting /proc in the jail";
	case ST_ROOT_RO:
		return "making the jail's root read-only";
	case ST_PIVOT:
		return "pivot_root into the jail";
	case ST_CAPS:
		return "setting capabilities";
	case ST_UID:
		return "switching to the user " JAIL_USER;
	case ST_FDS:
		return "arranging file descriptors";
	case ST_LIMITS:
		return "setting resource limits";
	case ST_SECCOMP:
		return "loading the seccomp filter";
	case ST_EXEC:
		return "exec";
	case ST_LISTENER:
		return "handing over the seccomp listener";
	}
	return "?";
}

/* ---- planning (the runtime's process, ordinary code) ---- */

static void free_mnt(struct mnt *m)
{
	free(m->src);
	free(m->dst);
}

void jail_free(struct jail *j)
{
	if (!j)
		return;
	for (unsigned i = 0; i < j->nm; i++)
		free_mnt(&j->m[i]);
	for (unsigned i = 0; i < j->ndirs; i++)
		free(j->dirs[i]);
	for (unsigned i = 0; i < j->nuns; i++)
		close(j->uns[i]);
	free(j);
}

/* p is q itself or inside directory q */
static bool under(const char *p, const char *q)
{
	size_t n = strlen(q);
	return strncmp(p, q, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* The lexical form of absolute path p[0, n): no "//", "." or "..", no
 * trailing slash ("/" stays "/"). malloc'd, NULL if out of memory. Inside
 * the jail every directory is a real one, so the monitor's lookup of the
 * original string lands where this says. */
static char *lexical(const char *p, size_t n)
{
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		while (i < n && p[i] == '/')
			i++;
		size_t e = i;
		while (e < n && p[e] != '/')
			e++;
		size_t len = e - i;
		if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the slash before it */
		} else if (len > 0 && !(len == 1 && p[i] == '.')) {
			out[o++] = '/';
			memcpy(out + o, p + i, len);
			o += len;
		}
		i = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int rc = n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return rc;
}

/* A user namespace whose mapping shows host owner (ou, og) as (u, g): the
 * idmapping of an idmapped mount. Made by a child that only waits. */
static int idmap_ns(uid_t ou, gid_t og, uid_t u, gid_t g, struct errmsg *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return errmsg_set(err, -errno, "jail: pipe: %s", strerror(errno));
	pid_t c = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (c == 0) {
		char b;
		close(p[1]);
		while (read(p[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	int fd = -1, rc = 0;
	if (c < 0) {
		rc = errmsg_set(err, -errno, "jail: a user namespace for an idmapped mount: %s",
				strerror(errno));
		close(p[1]);
		return rc;
	}
	char path[64], map[64];
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)ou, (unsigned)u);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)c);
	if (!(rc = write_file(path, map))) {
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)og, (unsigned)g);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)c);
		rc = write_file(path, map);
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)c);
	if (!rc && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		rc = -errno;
	close(p[1]);
	waitpid(c, NULL, 0);
	if (rc)
		return errmsg_set(err, rc, "jail: the idmapping namespace: %s", strerror(-rc));
	return fd;
}

static int uns_for(struct jail *j, uid_t ou, gid_t og, struct errmsg *err)
{
	for (unsigned i = 0; i < j->nuns; i++)
		if (j->uns_uid[i] == ou && j->uns_gid[i] == og)
			return j->uns[i];
	int fd = idmap_ns(ou, og, j->uid, j->gid, err);
	if (fd < 0)
		return fd;
	j->uns[j->nuns] = fd;
	j->uns_uid[j->nuns] = ou;
	j->uns_gid[j->nuns] = og;
	j->nuns++;
	return fd;
}

/* Every directory the raw path passes through, as the jail's tmpfs must
 * have it (parents first): "/a/b/../c/f" needs /a, /a/b and /a/c. */
static int add_dirs(struct jail *j, const char *raw, struct errmsg *err)
{
	for (const char *s = raw + 1; (s = strchr(s, '/')) != NULL; s++) {
		char *l = lexical(raw, (size_t)(s - raw)), *d = NULL;
		if (!l || (strcmp(l, "/") && asprintf(&d, "%s%s", JAIL_ROOT, l) < 0)) {
			free(l);
			return errmsg_set(err, -ENOMEM, "out of memory");
		}
		free(l);
		if (!d)
			continue;
		if (j->ndirs == MAX_DIRS) {
			free(d);
			return errmsg_set(err, -E2BIG, "jail: too many directories");
		}
		j->dirs[j->ndirs++] = d;
	}
	return 0;
}

static int add_mount(struct jail *j, const struct jail_path *p, bool device, struct errmsg *err)
{
	const char *path = p->path;
	bool rw = p->rw;
	if (path[0] != '/')
		return errmsg_set(err, -EINVAL, "jail: %s: not an absolute path", path);
	char *l = lexical(path, strlen(path));
	if (!l)
		return errmsg_set(err, -ENOMEM, "out of memory");
	if (!strcmp(l, "/")) {
		free(l);
		return errmsg_set(err, -EINVAL, "jail: %s: the host's root", path);
	}
	for (unsigned i = 0; i < j->nm; i++)
		if (!strcmp(j->m[i].dst + strlen(JAIL_ROOT), l)) {
			free(l);
			j->m[i].rw |= rw;
			j->m[i].exec |= p->exec;
			return 0;
		}
	struct stat st = {0};
	int rc = 0;
	if (stat(path, &st))
		rc = errmsg_set(err, -errno, "jail: %s: %s", path, strerror(errno));
	else if (device != S_ISCHR(st.st_mode) ||
		 (!device && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)))
		rc = errmsg_set(err, -EINVAL, "jail: %s: not a %s", path,
				!device ? "file or directory"
				: !strcmp(path, "/dev/net/tun")
				    ? "tun device (not a character device)"
				    : "KVM device (not a character device)");
	struct mnt *m = &j->m[j->nm];
	*m = (struct mnt){.dir = S_ISDIR(st.st_mode), .rw = rw, .exec = p->exec, .uns = -1};
	if (!rc && asprintf(&m->dst, "%s%s", JAIL_ROOT, l) < 0)
		m->dst = NULL;
	if (!rc && (!m->dst || !(m->src = strdup(path)))) {
		free(m->dst);
		rc = errmsg_set(err, -ENOMEM, "out of memory");
	}
	free(l);
	if (rc)
		return rc;
	j->nm++;
	if ((rc = add_dirs(j, path, err)))
		return rc;
	if (device && j->root) {
		m->node = true;
		m->rdev = st.st_rdev;
	} else if (device) {
		m->dev = true;
	} else if (j->root && !p->host_ids) {
		int fd = uns_for(j, st.st_uid, st.st_gid, err);
		if (fd < 0)
			return fd;
		m->uns = fd;
	}
	return 0;
}

int jail_helper_uid(uid_t *uid)
{
	gid_t gid;
	if (geteuid() != 0) {
		*uid = getuid();
		return 0;
	}
	return jail_user(uid, &gid);
}

int jail_prepare(struct jail **out, const struct jail_spec *spec, struct errmsg *err)
{
	*out = NULL;
	if (spec->npaths > JAIL_MAX_PATHS)
		return errmsg_set(err, -E2BIG, "jail: %u paths (at most %d)", spec->npaths,
				  JAIL_MAX_PATHS);
	struct jail *j = calloc(1, sizeof(*j));
	if (!j)
		return errmsg_set(err, -ENOMEM, "out of memory");
	j->root = geteuid() == 0;
	j->host_net = spec->host_net;
	j->net_bind = spec->net_bind;
	j->proc = spec->proc;
	if (spec->foreign) {
		j->foreign = true;
		j->caps = spec->foreign->caps;
		j->out = spec->foreign->out;
		j->fsize = spec->foreign->fsize;
		j->as = spec->foreign->as;
		j->filter = spec->foreign->filter;
		j->listener = spec->foreign->listener;
		if (j->listener)
			*j->listener = -1;
		if (j->filter && !j->listener) {
			jail_free(j);
			return errmsg_set(err, -EINVAL, "jail: a seccomp filter needs a listener");
		}
	}
	int rc = 0;
	if (j->root) {
		int urc = jail_user(&j->uid, &j->gid);
		if (urc == -EINVAL) {
			jail_free(j);
			return errmsg_set(err, -EINVAL, "jail: the user '%s' is root", JAIL_USER);
		}
		if (urc) {
			jail_free(j);
			return errmsg_set(err, -ENOENT,
					  "jail: no user '%s' to run the VM monitor as (setup.sh "
					  "creates it: useradd --system --no-create-home --shell "
					  "/usr/sbin/nologin %s)",
					  JAIL_USER, JAIL_USER);
		}
	} else {
		j->uid = getuid();
		j->gid = getgid();
	}
	/* a path inside another listed directory is reached through that
	 * one's mount: binding it again would make its mount point in the
	 * host's directory */
	for (unsigned i = 0; i < spec->npaths && !rc; i++) {
		bool inside = false;
		char *li = lexical(spec->paths[i].path, strlen(spec->paths[i].path));
		for (unsigned k = 0; li && k < spec->npaths && !inside; k++) {
			struct stat st;
			char *lk = lexical(spec->paths[k].path, strlen(spec->paths[k].path));
			inside = lk && strcmp(li, lk) && under(li, lk) &&
				 stat(spec->paths[k].path, &st) == 0 && S_ISDIR(st.st_mode);
			free(lk);
		}
		free(li);
		if (!inside)
			rc = add_mount(j, &spec->paths[i], false, err);
	}
	if (!rc && spec->kvm_dev)
		rc =
		    add_mount(j, &(struct jail_path){.path = spec->kvm_dev, .rw = true}, true, err);
	if (!rc && spec->tun)
		rc = add_mount(j, &(struct jail_path){.path = "/dev/net/tun", .rw = true}, true,
			       err);
	if (rc) {
		jail_free(j);
		return rc;
	}
	*out = j;
	return 0;
}

/* ---- the child, between clone and exec: async-signal-safe only ---- */

static _Noreturn void child_fail(int efd, int step, int idx)
{
	struct child_err e = {step, errno, idx};
	if (write(efd, &e, sizeof(e)) < 0) {
		/* nothing left to tell it with */
	}
	_exit(127);
}

static void child_mounts(const struct jail *j, int efd)
{
	int src[MAX_MNT];
	/* the sources first: the tmpfs below may hide them (a path under
	 * /tmp) */
	for (unsigned i = 0; i < j->nm; i++) {
		src[i] = -1;
		if (!j->m[i].node && (src[i] = open(j->m[i].src, O_PATH | O_CLOEXEC)) < 0)
			child_fail(efd, ST_OPEN, (int)i);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		child_fail(efd, ST_PRIVATE, -1);
	unsigned long fl = MS_NOSUID | MS_NOEXEC | (j->root ? 0 : MS_NODEV);
	if (mount("tmpfs", JAIL_ROOT, "tmpfs", fl, "mode=0755,size=64k,nr_inodes=512"))
		child_fail(efd, ST_TMPFS, -1);
	for (unsigned i = 0; i < j->ndirs; i++)
		if (mkdir(j->dirs[i], 0755) && errno != EEXIST)
			child_fail(efd, ST_MKDIR, -1 - (int)i);
	for (unsigned i = 0; i < j->nm; i++) {
		const struct mnt *m = &j->m[i];
		if (m->node) {
			if (mknod(m->dst, S_IFCHR | 0600, m->rdev) || chown(m->dst, j->uid, j->gid))
				child_fail(efd, ST_NODE, (int)i);
			continue;
		}
		int mp =
		    m->dir ? mkdir(m->dst, 0755) : open(m->dst, O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (mp < 0)
			child_fail(efd, ST_MOUNTPOINT, (int)i);
		if (!m->dir)
			close(mp);
		int t = (int)syscall(SYS_open_tree, src[i], "",
				     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (t < 0)
			child_fail(efd, ST_BIND, (int)i);
		struct mount_attr a = {
		    .attr_set = MOUNT_ATTR_NOSUID | (m->dev ? 0 : MOUNT_ATTR_NODEV) |
				(m->dev || m->exec ? 0 : MOUNT_ATTR_NOEXEC) |
				(m->rw ? 0 : MOUNT_ATTR_RDONLY) |
				(m->uns >= 0 ? MOUNT_ATTR_IDMAP : 0),
		    .userns_fd = m->uns >= 0 ? (uint64_t)m->uns : 0,
		};
		if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &a, sizeof(a)) ||
		    syscall(SYS_move_mount, t, "", AT_FDCWD, m->dst, MOVE_MOUNT_F_EMPTY_PATH))
			child_fail(efd, ST_BIND, (int)i);
		close(t);
		close(src[i]);
	}
	/* a proc of the helper's own PID namespace, its own process only
	 * (subset=pid: no /proc/sys, no system files) */
	if (j->proc && ((mkdir(JAIL_ROOT "/proc", 0555) && errno != EEXIST) ||
			mount("proc", JAIL_ROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			      "subset=pid,hidepid=invisible")))
		child_fail(efd, ST_PROC, -1);
	if (mount(NULL, JAIL_ROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | fl, NULL))
		child_fail(efd, ST_ROOT_RO, -1);
}

/* Leave only the capabilities jail_enter() needs (keep), or a foreign
 * program's, in the ambient set so that they survive the exec of a binary
 * without file capabilities. */
static void child_caps(const struct jail *j, int efd)
{
	uint64_t keep = j->foreign ? j->caps
				   : (1ull << CAP_SYS_ADMIN) | (1ull << CAP_SETPCAP) |
					 (j->net_bind ? 1ull << CAP_NET_BIND_SERVICE : 0);
	for (int cap = 0; cap < 64; cap++)
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) &&
		    errno != EINVAL)
			child_fail(efd, ST_CAPS, cap);
	if (j->root) {
		/* keep the permitted set across the uid change */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
			child_fail(efd, ST_CAPS, -1);
		if (jail_set_ids(j->uid, j->gid))
			child_fail(efd, ST_UID, -1);
	}
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {{0}};
	for (int i = 0; i < 2; i++) {
		uint32_t v = (uint32_t)(keep >> (32 * i));
		d[i] = (struct __user_cap_data_struct){v, v, v};
	}
	if (syscall(SYS_capset, &h, d))
		child_fail(efd, ST_CAPS, -1);
	for (int cap = 0; cap < 64; cap++)
		if ((keep & (1ull << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0))
			child_fail(efd, ST_CAPS, cap);
}

struct child_args {
	const struct jail *j;
	int sync, efd, exe, in;
	const int *fds;
	unsigned nfds;
	char *const *argv;
};

static _Noreturn void child(const struct child_args *a)
{
	char go = 0;
	/* the runtime maps our ids and puts us in the cgroup first */
	while (read(a->sync, &go, 1) < 0 && errno == EINTR)
		;
	if (go != 'g')
		_exit(127);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_mounts(a->j, a->efd);
	/* a foreign program cannot call jail_enter(): into the root now,
	 * while this process still has CAP_SYS_ADMIN */
	if (a->j->foreign && jail_pivot(JAIL_ROOT))
		child_fail(a->efd, ST_PIVOT, -1);
	child_caps(a->j, a->efd);
	/* the uid change cleared the parent-death signal: again, then make
	 * sure the parent did not go in between (it holds the sync pipe's
	 * other end until we exec) */
	struct pollfd p = {.fd = a->sync, .events = POLLIN};
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || poll(&p, 1, 0) != 0)
		_exit(127);
	if (setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}))
		child_fail(a->efd, ST_CAPS, -1);
	if (a->j->foreign) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			child_fail(a->efd, ST_CAPS, -1);
		/* exec keeps what the caller ignores (SIGPIPE): not ours to pass on */
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
	}
	setsid();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* out of the way first: an fd may be 3 or 4 already (and dup2 onto
	 * itself would keep O_CLOEXEC) */
	int tmp[4], out = -1;
	for (unsigned i = 0; i < a->nfds; i++)
		if ((tmp[i] = fcntl(a->fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
			child_fail(a->efd, ST_FDS, (int)i);
	if (a->j->foreign && (out = fcntl(a->j->out, F_DUPFD_CLOEXEC, 10)) < 0)
		child_fail(a->efd, ST_FDS, -1);
	if (dup2(a->in, 0) < 0 || (out >= 0 && (dup2(out, 1) < 0 || dup2(out, 2) < 0)))
		child_fail(a->efd, ST_FDS, -1);
	for (unsigned i = 0; i < a->nfds; i++)
		if (dup2(tmp[i], 3 + (int)i) < 0)
			child_fail(a->efd, ST_FDS, (int)i);
	/* the rest close at exec: the error pipe stays until then */
	if (syscall(SYS_close_range, 3 + a->nfds, ~0u, CLOSE_RANGE_CLOEXEC))
		child_fail(a->efd, ST_FDS, -1);
	if ((a->j->fsize && setrlimit(RLIMIT_FSIZE, &(struct rlimit){a->j->fsize, a->j->fsize})) ||
	    (a->j->as && setrlimit(RLIMIT_AS, &(struct rlimit){a->j->as, a->j->as})))
		child_fail(a->efd, ST_LIMITS, -1);
	if (a->j->filter) {
		/* last: from here on every call but read, write and the exec
		 * is a violation; the listener (close-on-exec) goes to the
		 * parent, which lets the exec through */
		int l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				     SECCOMP_FILTER_FLAG_NEW_LISTENER, a->j->filter);
		if (l < 0)
			child_fail(a->efd, ST_SECCOMP, -1);
		struct child_err e = {ST_LISTENER, 0, l};
		char ack = 0;
		if (write(a->efd, &e, sizeof(e)) != (ssize_t)sizeof(e))
			_exit(127);
		while (read(a->sync, &ack, 1) < 0 && errno == EINTR)
			;
		if (ack != 'a')
			_exit(127);
	}
	syscall(SYS_execveat, a->exe, "", a->argv, environ, AT_EMPTY_PATH);
	child_fail(a->efd, ST_EXEC, -1);
}

static int child_error(const struct jail *j, const char *path, const struct child_err *e,
		       struct errmsg *err)
{
	const char *what = "";
	char num[32] = "";
	if (e->idx >= 0 && (unsigned)e->idx < j->nm &&
	    (e->step == ST_OPEN || e->step == ST_MOUNTPOINT || e->step == ST_BIND ||
	     e->step == ST_NODE))
		what = j->m[e->idx].src;
	else if (e->step == ST_MKDIR && e->idx < 0 && (unsigned)(-1 - e->idx) < j->ndirs)
		what = j->dirs[-1 - e->idx];
	else if (e->step == ST_EXEC)
		what = path;
	else if (e->idx >= 0)
		snprintf(num, sizeof(num), "%d", e->idx);
	return errmsg_set(err, -(e->err ? e->err : EIO), "jail for %s: %s %s%s: %s", path,
			  step_text(e->step), what, num, strerror(e->err));
}

int jail_cgroup_dirs(const struct jail_cgroup *cg, struct cgstats_dirs *out)
{
	out->n = 0;
	if (!cg)
		return -ENOENT;
	for (unsigned i = 0; i < cg->n && i < CGSTATS_MAX_DIRS; i++) {
		if (strlen(cg->dir[i]) >= CGSTATS_PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(out->dir[i], cg->dir[i], strlen(cg->dir[i]) + 1);
		out->n = i + 1;
	}
	return 0;
}

static int cgroup_join(struct jail_cgroup *cg, pid_t pid, struct errmsg *err);

/* The child's seccomp listener (its fd nr) into *lfd, then its exec let
 * through: the child's next call, after the ack on sync, is execveat of
 * exe (the same fd number in the child), and nothing else may be. */
static int take_listener(pid_t pid, int nr, int sync, int exe, int *lfd, const char *path,
			 struct errmsg *err)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return errmsg_set(err, -errno, "jail for %s: pidfd_open: %s", path,
				  strerror(errno));
	*lfd = (int)syscall(SYS_pidfd_getfd, pfd, nr, 0);
	int e = errno;
	close(pfd);
	if (*lfd < 0)
		return errmsg_set(err, -e, "jail for %s: taking the seccomp listener: %s", path,
				  strerror(e));
	if (fcntl(*lfd, F_SETFD, FD_CLOEXEC) || write(sync, "a", 1) != 1)
		return errmsg_set(err, -errno, "jail for %s: %s", path, strerror(errno));
	/* the child is on its way: a bound only for a wedged kernel */
	struct pollfd p = {.fd = *lfd, .events = POLLIN};
	int r;
	while ((r = poll(&p, 1, 30000)) < 0 && errno == EINTR)
		;
	struct hsc_notif n = {0};
	int rc = r == 1 && (p.revents & POLLIN) ? hsc_notif_recv(*lfd, &n) : -ETIMEDOUT;
	if (rc)
		return errmsg_set(err, rc, "jail for %s: waiting for its exec: %s", path,
				  strerror(-rc));
	if (n.nr != __NR_execveat || n.args[0] != (uint64_t)exe || n.args[4] != AT_EMPTY_PATH)
		return errmsg_set(err, -EPERM, "jail for %s: syscall %d before the exec", path,
				  n.nr);
	if ((rc = hsc_notif_continue(*lfd, n.id)))
		return errmsg_set(err, rc, "jail for %s: letting its exec through: %s", path,
				  strerror(-rc));
	return 0;
}

pid_t jail_spawn(const struct jail *j, struct jail_cgroup *cg, const char *path, char *const argv[],
		 int in, const int *fds, unsigned nfds, struct errmsg *err)
{
	int sync[2] = {-1, -1}, ep[2] = {-1, -1}, rc = 0;
	pid_t pid = -1;
	if (nfds > 4)
		return errmsg_set(err, -EINVAL, "jail: %u fds (at most 4)", nfds);
	int exe = open(path, O_PATH | O_CLOEXEC);
	if (exe < 0)
		return errmsg_set(err, -errno, "%s: %s", path, strerror(errno));
	if (pipe2(sync, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		rc = errmsg_set(err, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
			      (j->host_net ? 0 : CLONE_NEWNET) | (j->root ? 0 : CLONE_NEWUSER);
	struct child_args a = {j, sync[0], ep[1], exe, in, fds, nfds, argv};
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0) {
		close(sync[1]);
		close(ep[0]);
		child(&a);
	}
	if (pid < 0) {
		rc = errmsg_set(err, -errno, "jail for %s: clone: %s%s", path, strerror(errno),
				errno == EPERM || errno == ENOSPC
				    ? " (user namespaces are needed to run VMs without root)"
				    : "");
		goto out;
	}
	close(sync[0]);
	close(ep[1]);
	sync[0] = ep[1] = -1;
	if (!j->root) {
		char p[64], map[64];
		snprintf(p, sizeof(p), "/proc/%d/setgroups", (int)pid);
		if (!(rc = write_file(p, "deny"))) {
			snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)j->uid, (unsigned)j->uid);
			snprintf(p, sizeof(p), "/proc/%d/uid_map", (int)pid);
			rc = write_file(p, map);
		}
		if (!rc) {
			snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)j->gid, (unsigned)j->gid);
			snprintf(p, sizeof(p), "/proc/%d/gid_map", (int)pid);
			rc = write_file(p, map);
		}
		if (rc)
			errmsg_set(err, rc, "jail for %s: mapping the user namespace: %s", path,
				   strerror(-rc));
	}
	if (!rc && cg)
		rc = cgroup_join(cg, pid, err);
	if (!rc && write(sync[1], "g", 1) != 1)
		rc = errmsg_set(err, -errno, "jail for %s: %s", path, strerror(errno));
	int lfd = -1;
	while (!rc) {
		struct child_err e;
		ssize_t n;
		while ((n = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof(e) && e.step == ST_LISTENER && j->filter && lfd < 0) {
			rc = take_listener(pid, e.idx, sync[1], exe, &lfd, path, err);
			continue;
		}
		if (n == (ssize_t)sizeof(e))
			rc = child_error(j, path, &e, err);
		else if (n != 0)
			rc = errmsg_set(err, -EIO, "jail for %s: the child failed", path);
		else if (j->filter && lfd < 0)
			rc = errmsg_set(err, -EIO, "jail for %s: exec'd without its filter", path);
		break;
	}
	if (rc) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (lfd >= 0)
			close(lfd);
	} else if (j->listener) {
		*j->listener = lfd;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (sync[i] >= 0)
			close(sync[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	close(exe);
	return rc ? rc : pid;
}

/* ---- the cgroup ---- */

struct cg_ctl {
	const char *name;
	char base[512]; /* where this process's cgroup of that controller is */
	bool v2;
};

/* The directory of this process's cgroup for controller c (v1), or its v2
 * cgroup if c is only there. 0 or -ENOENT. */
static int cg_find(struct cg_ctl *c)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024], v1mnt[256] = "", v1root[256] = "", v2mnt[256] = "";
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char root[256], mnt[256], fstype[32], opts[512];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %255s %255s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, opts) != 2)
			continue;
		if (!strcmp(fstype, "cgroup2") && !v2mnt[0]) {
			snprintf(v2mnt, sizeof(v2mnt), "%s", mnt);
		} else if (!strcmp(fstype, "cgroup") && !v1mnt[0]) {
			char *save = NULL;
			for (char *t = strtok_r(opts, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if (!strcmp(t, c->name)) {
					snprintf(v1mnt, sizeof(v1mnt), "%s", mnt);
					snprintf(v1root, sizeof(v1root), "%s", root);
				}
		}
	}
	fclose(f);
	if (!v1mnt[0] && v2mnt[0]) {
		/* v2 only if the controller is there */
		char p[300], ctl[256] = "";
		snprintf(p, sizeof(p), "%s/cgroup.controllers", v2mnt);
		FILE *cf = fopen(p, "re");
		if (cf) {
			if (!fgets(ctl, sizeof(ctl), cf))
				ctl[0] = '\0';
			fclose(cf);
		}
		bool has = false;
		char *save = NULL;
		for (char *t = strtok_r(ctl, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
			has |= !strcmp(t, c->name);
		if (!has)
			return -ENOENT;
		c->v2 = true;
	} else if (!v1mnt[0]) {
		return -ENOENT;
	}
	/* this process's place in that hierarchy */
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	int rc = -ENOENT;
	while (rc && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		line[strcspn(line, "\n")] = '\0';
		char *path = c2 + 1;
		path[strcspn(path, "\n")] = '\0';
		bool match = false;
		if (c->v2) {
			match = !strcmp(line, "0") && c1[1] == '\0';
		} else {
			char *save = NULL;
			for (char *t = strtok_r(c1 + 1, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				match |= !strcmp(t, c->name);
		}
		if (!match)
			continue;
		const char *mnt = c->v2 ? v2mnt : v1mnt;
		/* the mount shows the hierarchy from its root down */
		if (!c->v2 && strcmp(v1root, "/") && under(path, v1root))
			path += strlen(v1root);
		if (!strcmp(path, "/"))
			path = "";
		snprintf(c->base, sizeof(c->base), "%s%s", mnt, path);
		rc = 0;
	}
	fclose(f);
	return rc;
}

static int cg_write(const char *dir, const char *file, const char *val, struct errmsg *err)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int rc = write_file(p, val);
	if (rc)
		return errmsg_set(err, rc, "cgroup: writing %s to %s: %s", val, p, strerror(-rc));
	return 0;
}

static int cg_limits(const struct cg_ctl *c, const char *dir, const struct jail_limits *l,
		     struct errmsg *err)
{
	char v[64];
	if (!strcmp(c->name, "memory") && l->mem_bytes) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->mem_bytes);
		return cg_write(dir, c->v2 ? "memory.max" : "memory.limit_in_bytes", v, err);
	}
	if (!strcmp(c->name, "pids") && l->pids) {
		snprintf(v, sizeof(v), "%u", l->pids);
		return cg_write(dir, "pids.max", v, err);
	}
	if (!strcmp(c->name, "cpu") && l->cpu_milli) {
		/* docker's --cpus: quota per 100 ms period */
		unsigned long long q = (unsigned long long)l->cpu_milli * 100;
		if (c->v2) {
			snprintf(v, sizeof(v), "%llu 100000", q);
			return cg_write(dir, "cpu.max", v, err);
		}
		int rc = cg_write(dir, "cpu.cfs_period_us", "100000", err);
		snprintf(v, sizeof(v), "%llu", q);
		return rc ? rc : cg_write(dir, "cpu.cfs_quota_us", v, err);
	}
	return 0;
}

/* The cgroups of hull processes that died without removing theirs (a
 * SIGKILL cannot be cleaned up after): empty once their helpers died with
 * them, so removable by the next one. */
static void cg_sweep(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int pid;
		unsigned long long t;
		char p[800];
		if (sscanf(e->d_name, "hull-%d-%llu", &pid, &t) != 2 || pid <= 0 ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(p, sizeof(p), "%s/%s", base, e->d_name);
		rmdir(p); /* still busy: its helpers are still on their way out */
	}
	closedir(d);
}

int jail_cgroup_create(struct jail_cgroup **out, const struct jail_limits *l, const char **why,
		       struct errmsg *err)
{
	*out = NULL;
	*why = NULL;
	if (geteuid() != 0) {
		*why = "an ordinary user's VM gets no cgroup of its own (none is delegated)";
		return 0;
	}
	struct jail_cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg)
		return errmsg_set(err, -ENOMEM, "out of memory");
	char name[64];
	snprintf(name, sizeof(name), "hull-%d-%llu", (int)getpid(),
		 (unsigned long long)clock_now_ns());
	/* cpuacct only counts (Stats reads it: cgstats.h): a v1 hierarchy of
	 * its own where the host has one, nothing in v2 (cpu.stat is in every
	 * cgroup there) */
	static const char *const ctls[CG_MAX] = {"memory", "pids", "cpu", "cpuacct"};
	int rc = 0;
	for (unsigned i = 0; i < CG_MAX && !rc; i++) {
		struct cg_ctl c = {.name = ctls[i]};
		bool optional = !strcmp(c.name, "cpuacct");
		if ((rc = cg_find(&c)) && optional) {
			rc = 0;
			continue;
		}
		if (rc) {
			rc = errmsg_set(err, rc, "cgroup: no %s controller (v1 or v2) for the VM",
					c.name);
			break;
		}
		cg_sweep(c.base);
		char *dir = NULL;
		if (asprintf(&dir, "%s/%s", c.base, name) < 0) {
			rc = errmsg_set(err, -ENOMEM, "out of memory");
			break;
		}
		bool dup = false; /* v2: one directory for every controller */
		for (unsigned k = 0; k < cg->n; k++)
			dup |= !strcmp(cg->dir[k], dir);
		if (!dup) {
			if (mkdir(dir, 0755)) {
				rc = errmsg_set(err, -errno, "cgroup %s: %s", dir, strerror(errno));
				free(dir);
				break;
			}
			cg->dir[cg->n++] = dir;
		}
		if (c.v2 && !dup) {
			/* the controllers must be on for the new cgroup */
			char sub[600];
			snprintf(sub, sizeof(sub), "+%s", c.name);
			cg_write(c.base, "cgroup.subtree_control", sub, NULL);
		}
		rc = cg_limits(&c, dir, l, err);
		if (dup)
			free(dir);
	}
	if (rc) {
		jail_cgroup_remove(cg);
		return rc;
	}
	*out = cg;
	return 0;
}

static int cgroup_join(struct jail_cgroup *cg, pid_t pid, struct errmsg *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (unsigned i = 0; i < cg->n; i++) {
		int rc = cg_write(cg->dir[i], "cgroup.procs", v, err);
		if (rc)
			return rc;
	}
	return 0;
}

void jail_cgroup_remove(struct jail_cgroup *cg)
{
	if (!cg)
		return;
	for (unsigned i = 0; i < cg->n; i++) {
		/* its processes were reaped: empty, so rmdir works (a moment
		 * of retry for the kernel's bookkeeping of exiting tasks) */
		for (int t = 0; t < 100 && rmdir(cg->dir[i]) && errno == EBUSY; t++)
			nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
		free(cg->dir[i]);
	}
	free(cg);
}
