/* containerd's snapshot -> an ext4 image for the VM (rootfs.h). */
#include "shim/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileutil.h"
#include "common/jail_enter.h"
#include "common/readfile.h"
#include "common/sha256.h"
#include "runtime/jail.h"
#include "seccomp/filter.h"

#define LOWER_MAX (64 * 1024) /* a lowerdir= list: containerd's is ~100 bytes a layer */

static int mount_tree(const char *id, const struct shim_mount *m, const char *target,
		      struct errmsg *err)
{
	char data[4096] = "";
	unsigned long flags = 0;
	size_t len = 0;
	for (size_t i = 0; i < m->n_options; i++) {
		const char *o = m->options[i];
		if (strcmp(o, "ro") == 0) {
			flags |= MS_RDONLY;
		} else if (strcmp(o, "rw") == 0) {
		} else if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
			flags |= MS_BIND | (o[0] == 'r' ? MS_REC : 0);
		} else {
			int w = snprintf(data + len, sizeof(data) - len, "%s%s", len ? "," : "", o);
			if (w < 0 || (size_t)w >= sizeof(data) - len)
				return errmsg_set(err, -E2BIG,
						  "task %s: rootfs mount options too long", id);
			len += (size_t)w;
		}
	}
	const char *type = strcmp(m->type, "bind") == 0 ? NULL : m->type;
	if (!type)
		flags |= MS_BIND;
	if (mount(m->source, target, type, flags, len ? data : NULL) < 0)
		return errmsg_set(err, -errno, "task %s: mounting the rootfs (%s %s) at %s: %s", id,
				  m->type, m->source, target, strerror(errno));
	return 0;
}

static uint64_t tree_bytes, tree_inodes;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER; /* nftw has no context */

static int count_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)type;
	(void)ftw;
	tree_bytes += (uint64_t)st->st_size + 4096;
	tree_inodes++;
	return 0;
}

/* The mkfs.ext4 on PATH (as execlp would find it), into out. */
static int find_mkfs(char *out, size_t size)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t l = strcspn(path, ":");
		if (l && (size_t)snprintf(out, size, "%.*s/mkfs.ext4", (int)l, path) < size &&
		    out[0] == '/' && access(out, X_OK) == 0)
			return 0;
		path += l + (path[l] == ':');
	}
	return -ENOENT;
}

/* mkfs.ext4's error text for a message: what fd has now (non-blocking),
 * printable, bounded, appended at text[*n]. */
static void take_text(int fd, char *text, size_t size, size_t *n)
{
	char buf[512];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (ssize_t i = 0; i < r && *n + 1 < size; i++) {
			char c = buf[i] == '\n' ? ' ' : buf[i];
			text[(*n)++] = c >= 0x20 && c < 0x7f ? c : '?';
		}
	}
	while (*n && text[*n - 1] == ' ')
		(*n)--;
	text[*n] = '\0';
}

/* What the jailed mkfs.ext4 may spend (mkfs_limits_for()). */
struct mkfs_limits {
	uint64_t fsize;	  /* RLIMIT_FSIZE: the image's size plus slack */
	uint64_t as;	  /* RLIMIT_AS */
	uint64_t time_ns; /* killed after that */
};

/* Started by root: mkfs.ext4 in a jail (runtime/jail.h, a foreign program):
 * its own mount, PID, IPC, UTS and network namespaces, a root holding only
 * /usr and /lib* (read-only, its program and libraries), /etc/mke2fs.conf,
 * the tree (read-only) and the output file (the only thing it can write),
 * the user `hull`, no_new_privs. One capability left, CAP_DAC_READ_SEARCH, in
 * the ambient set so that it survives the exec: the tree is an image's, with
 * files of any owner and mode (a root-only 0600 /etc/shadow), and the image
 * must hold them all; it lets the copy read any file and search any
 * directory, nothing else (no write, no owner change, no device, no mount).
 * Under the HSC_MKFS seccomp filter (seccomp/policy.c), its violations
 * reported on *listener, and lim's file size and address space limits.
 * By anyone else: that user's own process, as before, minus a jail it could
 * not build without a user namespace (which would show foreign owners as
 * nobody and copy them so), and minus the filter (*listener -1): the
 * limits only. The pid, or -errno with err. */
static pid_t spawn_mkfs(const char *exe, char *const argv[], const char *dir, const char *tmp,
			int in, int out, const struct mkfs_limits *lim, int *listener,
			struct errmsg *err)
{
	*listener = -1;
	if (geteuid() != 0) {
		pid_t pid = fork();
		if (pid < 0)
			return errmsg_set(err, -errno, "mkfs.ext4: fork: %s", strerror(errno));
		if (pid == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) ||
			    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
			    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}) ||
			    setrlimit(RLIMIT_FSIZE, &(struct rlimit){lim->fsize, lim->fsize}) ||
			    setrlimit(RLIMIT_AS, &(struct rlimit){lim->as, lim->as}) ||
			    dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
			    syscall(SYS_close_range, 3, ~0u, 0))
				_exit(127);
			execv(exe, argv);
			_exit(127);
		}
		return pid;
	}
	struct jail_path p[6];
	unsigned n = 0;
	p[n++] = (struct jail_path){.path = "/usr", .exec = true, .host_ids = true};
	if (access("/lib", F_OK) == 0)
		p[n++] = (struct jail_path){.path = "/lib", .exec = true, .host_ids = true};
	if (access("/lib64", F_OK) == 0)
		p[n++] = (struct jail_path){.path = "/lib64", .exec = true, .host_ids = true};
	/* the host's defaults (features, inode size): the image as before */
	if (access("/etc/mke2fs.conf", R_OK) == 0)
		p[n++] = (struct jail_path){.path = "/etc/mke2fs.conf", .host_ids = true};
	p[n++] = (struct jail_path){.path = dir, .host_ids = true};
	p[n++] = (struct jail_path){.path = tmp, .rw = true, .host_ids = true};
	/* its PID namespace's init: pid 1 */
	struct sock_fprog prog;
	int rc = hsc_export(HSC_MKFS, 1, &prog, err);
	if (rc)
		return rc;
	struct jail_foreign f = {.caps = 1ull << CAP_DAC_READ_SEARCH,
				 .out = out,
				 .fsize = lim->fsize,
				 .as = lim->as,
				 .filter = &prog,
				 .listener = listener};
	struct jail_spec js = {.paths = p, .npaths = n, .foreign = &f};
	struct jail *j;
	rc = jail_prepare(&j, &js, err);
	pid_t pid = rc;
	if (!rc) {
		pid = jail_spawn(j, NULL, exe, argv, in, NULL, 0, err);
		jail_free(j);
	}
	hsc_prog_free(&prog);
	return pid;
}

/* Wait for mkfs.ext4 (pid) to end, its output into text, within the time
 * limit; a seccomp notification on listener (>= 0) is a violation. The
 * program is killed on a violation or at the deadline and always reaped.
 * 0 with *st its wait status, or -EPERM (violation, *nr the syscall) or
 * -ETIMEDOUT. */
static int wait_mkfs(pid_t pid, int out, int listener, uint64_t limit_ns, char *text, size_t size,
		     int *st, int *nr)
{
	size_t n = 0;
	text[0] = '\0';
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), rc = pfd < 0 ? -errno : 0;
	uint64_t deadline = clock_now_ns() + limit_ns;
	bool out_open = true;
	while (!rc) {
		struct pollfd p[3] = {{.fd = pfd, .events = POLLIN},
				      {.fd = out_open ? out : -1, .events = POLLIN},
				      {.fd = listener, .events = POLLIN}};
		uint64_t now = clock_now_ns();
		if (now >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		uint64_t left_ms = (deadline - now) / 1000000 + 1;
		int r = poll(p, 3, left_ms > 60000 ? 60000 : (int)left_ms);
		if (r < 0 && errno != EINTR) {
			rc = -errno; /* no way to keep the limits: ended */
			break;
		}
		if (r <= 0)
			continue;
		if (p[2].revents & POLLIN) {
			struct hsc_notif notif;
			if (hsc_notif_recv(listener, &notif) == 0) {
				*nr = notif.nr;
				rc = -EPERM;
				break;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			take_text(out, text, size, &n);
			out_open = !(p[1].revents & POLLHUP) || (p[1].revents & POLLIN);
		}
		if (p[0].revents & POLLIN)
			break;
	}
	if (rc)
		kill(pid, SIGKILL);
	while (waitpid(pid, st, 0) < 0 && errno == EINTR)
		;
	take_text(out, text, size, &n);
	if (pfd >= 0)
		close(pfd);
	return rc;
}

#define MKFS_TIME_BASE_S 300	    /* plus a second per MiB of the tree */
#define MKFS_FSIZE_SLACK (1u << 20) /* past the image's size */
#define MKFS_AS_BASE (512ull << 20) /* plus MKFS_AS_INODE per inode */
#define MKFS_AS_INODE 256

/* The limits of a build of a tree of bytes and inodes into an image of
 * image_bytes (rootfs.h says why each). */
static struct mkfs_limits mkfs_limits_for(uint64_t bytes, uint64_t inodes, uint64_t image_bytes)
{
	struct mkfs_limits l = {
	    .fsize = image_bytes + MKFS_FSIZE_SLACK,
	    .as = MKFS_AS_BASE + inodes * MKFS_AS_INODE,
	    .time_ns = (MKFS_TIME_BASE_S + bytes / (1u << 20)) * 1000000000ull,
	};
	const char *e = getenv(SHIM_MKFS_TIMEOUT_ENV);
	char *end;
	unsigned long long s = e && *e ? strtoull(e, &end, 10) : 0;
	if (s > 0 && s < 1000000 && *end == '\0')
		l.time_ns = s * 1000000000ull;
	return l;
}

/* A new temp file from template tmpl (…XXXXXX) into tmp, flock()ed for as
 * long as the fd is open: a temp file nobody holds a lock on is a dead
 * shim's (shim_rootfs_prune() removes it). A sweep may take the fresh file
 * between mkostemp and flock: then it is gone (no links) and another is
 * made. The fd, or -errno. */
static int locked_temp(const char *tmpl, char *tmp, size_t size)
{
	for (int tries = 0; tries < 8; tries++) {
		snprintf(tmp, size, "%s", tmpl);
		int fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return -errno;
		struct stat st;
		if (flock(fd, LOCK_EX) == 0 && fstat(fd, &st) == 0 && st.st_nlink > 0)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

/* The error for a build that ended with wait status st (not 0) or rc from
 * wait_mkfs(), its output text; fd is the output file. */
static int mkfs_failed(int rc, int st, int nr, int fd, const struct mkfs_limits *lim,
		       uint64_t bytes, const char *dir, const char *image, const char *text,
		       struct errmsg *err)
{
	const char *sep = text[0] ? ": " : "";
	if (rc == -EPERM) {
		char v[HSC_REPORT_MAX];
		hsc_violation_text(v, sizeof(v), "mkfs.ext4", nr, HSC_MKFS);
		return errmsg_set(err, -EPERM, "mkfs.ext4 -d %s %s: %s%s%s", dir, image, v, sep,
				  text);
	}
	if (rc == -ETIMEDOUT)
		return errmsg_set(err, -ETIMEDOUT,
				  "mkfs.ext4 -d %s %s: killed at its time limit of %llu s (for a "
				  "tree of %llu MiB; " SHIM_MKFS_TIMEOUT_ENV " sets another)%s%s",
				  dir, image, (unsigned long long)(lim->time_ns / 1000000000ull),
				  (unsigned long long)(bytes >> 20), sep, text);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		return errmsg_set(err, -EPERM,
				  "mkfs.ext4 -d %s %s: mkfs.ext4 killed by its seccomp filter "
				  "(SIGSYS: a call of another syscall ABI)%s%s",
				  dir, image, sep, text);
	/* past RLIMIT_FSIZE: SIGXFSZ, or EFBIG where the signal is ignored
	 * (the jail's PID 1 ignores it) */
	struct stat sb;
	if ((WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ) ||
	    (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size >= lim->fsize) ||
	    strstr(text, strerror(EFBIG)))
		return errmsg_set(err, -EFBIG,
				  "mkfs.ext4 -d %s %s: stopped at its file size limit of %llu "
				  "bytes (the image's size and 1 MiB)%s%s",
				  dir, image, (unsigned long long)lim->fsize, sep, text);
	return errmsg_set(err, -EIO, "mkfs.ext4 -d %s %s failed (status %d)%s%s", dir, image,
			  WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), sep, text);
}

/* mkfs.ext4 -d dir into a temp file beside image, renamed to image (owned
 * by the caller, 0600) once complete; on any failure nothing is left. */
static int run_mkfs(const char *dir, const char *image, struct errmsg *err)
{
	pthread_mutex_lock(&count_lock);
	tree_bytes = tree_inodes = 0;
	int rc = nftw(dir, count_one, 32, FTW_PHYS | FTW_MOUNT);
	uint64_t bytes = tree_bytes, inodes = tree_inodes;
	pthread_mutex_unlock(&count_lock);
	if (rc < 0)
		return errmsg_set(err, -errno, "rootfs %s: %s", dir, strerror(errno));
	/* room for metadata; the file is sparse (the guest writes elsewhere) */
	uint64_t kib = (bytes + bytes / 2) / 1024 + 32768;
	struct mkfs_limits lim = mkfs_limits_for(bytes, inodes, kib * 1024);
	char size[32], nino[32], exe[PATH_MAX], tmpl[PATH_MAX], tmp[PATH_MAX];
	snprintf(size, sizeof(size), "%lluk", (unsigned long long)kib);
	snprintf(nino, sizeof(nino), "%llu", (unsigned long long)(inodes * 2 + 1024));
	if (find_mkfs(exe, sizeof(exe)))
		return errmsg_set(err, -ENOENT, "mkfs.ext4: not found on PATH (e2fsprogs)");
	const char *slash = strrchr(image, '/');
	if (!slash || snprintf(tmpl, sizeof(tmpl), "%.*s/.%s.XXXXXX", (int)(slash - image), image,
			       slash + 1) >= (int)sizeof(tmpl))
		return errmsg_set(err, -EINVAL, "image %s: not an absolute path, or too long",
				  image);
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int fd = locked_temp(tmpl, tmp, sizeof(tmp));
	if (fd < 0)
		return errmsg_set(err, fd, "%s: %s", tmpl, strerror(-fd));
	int in = -1, pp[2] = {-1, -1}, listener = -1;
	pid_t pid = -1;
	/* as root, the jailed mkfs (the user hull) writes it: hull's until
	 * done */
	uid_t ju;
	gid_t jg;
	if (uid == 0 && (rc = jail_user(&ju, &jg)))
		errmsg_set(err, rc, "mkfs.ext4: no user '" JAIL_USER "' to run it as%s",
			   rc == -EINVAL ? " (it is root)" : " (setup.sh creates it)");
	else if (uid == 0 && fchown(fd, ju, jg))
		rc = errmsg_set(err, -errno, "%s: chown: %s", tmp, strerror(errno));
	else if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(pp, O_CLOEXEC) ||
		 fcntl(pp[0], F_SETFL, O_NONBLOCK))
		rc = errmsg_set(err, -errno, "mkfs.ext4: /dev/null or pipe: %s", strerror(errno));
	char *const argv[] = {"mkfs.ext4", "-q", "-F",	      "-O", "^has_journal", "-N",
			      nino,	   "-d", (char *)dir, tmp,  size,	    NULL};
	if (!rc && (pid = spawn_mkfs(exe, argv, dir, tmp, in, pp[1], &lim, &listener, err)) < 0)
		rc = (int)pid;
	if (pp[1] >= 0)
		close(pp[1]);
	if (!rc) {
		char text[sizeof(err->text) / 2];
		int st = 0, nr = -1;
		rc = wait_mkfs(pid, pp[0], listener, lim.time_ns, text, sizeof(text), &st, &nr);
		if (rc || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = mkfs_failed(rc, st, nr, fd, &lim, bytes, dir, image, text, err);
	}
	if (listener >= 0)
		close(listener);
	if (pp[0] >= 0)
		close(pp[0]);
	if (in >= 0)
		close(in);
	/* the caller's again, for the monitor's jail to map (runtime/jail.h) */
	if (!rc && (fchown(fd, uid, gid) || fchmod(fd, 0600)))
		rc = errmsg_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, image))
		rc = errmsg_set(err, -errno, "%s: %s", image, strerror(errno));
	if (rc)
		unlink(tmp);
	close(fd); /* the lock last: a sweep meanwhile would take a live temp */
	return rc;
}

/* Mount m at <bundle>/rootfs, write it into image, unmount. */
static int copy_tree(const char *id, const struct shim_mount *m, const char *bundle,
		     const char *image, struct errmsg *err)
{
	char target[PATH_MAX];
	if (snprintf(target, sizeof(target), "%s/rootfs", bundle) >= (int)sizeof(target))
		return errmsg_set(err, -ENAMETOOLONG, "task %s: bundle path too long", id);
	mkdir(target, 0711);
	int rc = mount_tree(id, m, target, err);
	if (rc < 0)
		return rc;
	/* a failed mkfs leaves nothing (run_mkfs); a failed unmount leaves a
	 * complete image, which the shim's cleanup removes with the bundle
	 * (private) or which is valid (shared) */
	rc = run_mkfs(target, image, err);
	if (umount2(target, MNT_DETACH) < 0 && rc == 0)
		rc = errmsg_set(err, -errno, "unmounting %s: %s", target, strerror(errno));
	return rc;
}

static const char *option(const struct shim_mount *m, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < m->n_options; i++)
		if (strncmp(m->options[i], key, kl) == 0 && m->options[i][kl] == '=')
			return m->options[i] + kl + 1;
	return NULL;
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

int shim_rootfs_key(const char *lower, char hex[2 * SHA256_LEN + 1])
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, "hull-shim-rootfs 1\n", 19);
	const char *p = lower;
	size_t n = 0;
	while (*p) {
		size_t l = strcspn(p, ":");
		char dir[PATH_MAX];
		if (l == 0 || l >= sizeof(dir) || p[0] != '/')
			return -EINVAL;
		memcpy(dir, p, l);
		dir[l] = '\0';
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return -ENOENT;
		char id[PATH_MAX + 128];
		int w = snprintf(id, sizeof(id), "%s\n%llu %llu %lld.%09ld\n", dir,
				 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
				 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		sha256_update(&h, id, (size_t)w);
		n++;
		p += l;
		if (*p == ':')
			p++;
	}
	if (!n)
		return -EINVAL;
	uint8_t d[SHA256_LEN];
	sha256_final(&h, d);
	for (size_t i = 0; i < SHA256_LEN; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	return 0;
}

static int shared_image(const char *id, const struct shim_mount *m, const char *bundle,
			const char *cache_dir, const char *lower, struct shim_rootfs *out,
			struct errmsg *err)
{
	char key[2 * SHA256_LEN + 1];
	int rc = shim_rootfs_key(lower, key);
	if (rc < 0)
		return errmsg_set(err, rc, "task %s: rootfs lowerdir=%s: %s", id, lower,
				  rc == -ENOENT ? "a layer directory is missing" : "malformed");
	if (asprintf(&out->image, "%s/%s.ext4", cache_dir, key) < 0) {
		out->image = NULL;
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	out->shared = true;
	if (access(out->image, R_OK) == 0)
		return 0; /* made before: no copy */
	if ((rc = fileutil_mkdirs(cache_dir, 0700)) < 0)
		return errmsg_set(err, rc, "%s: %s", cache_dir, strerror(-rc));
	char list[PATH_MAX];
	snprintf(list, sizeof(list), "%s/%s.lower", cache_dir, key);
	/* the list first: an image is never in the cache without it */
	if ((rc = fileutil_write_sync(list, lower, strlen(lower))) < 0)
		return errmsg_set(err, rc, "%s: %s", list, strerror(-rc));
	/* temp + rename (run_mkfs): concurrent shims may both write it */
	return copy_tree(id, m, bundle, out->image, err);
}

int shim_rootfs_prepare(const char *id, const struct shim_mount *mounts, size_t n,
			const char *bundle, const char *work_dir, const char *cache_dir,
			struct shim_rootfs *out, struct errmsg *err)
{
	*out = (struct shim_rootfs){0};
	if (n != 1)
		return errmsg_set(
		    err, -EINVAL,
		    "task %s: %zu rootfs mounts; one (containerd's snapshot) is supported", id, n);
	const struct shim_mount *m = &mounts[0];
	const char *lower = option(m, "lowerdir"), *upper = option(m, "upperdir");
	if (cache_dir && strcmp(m->type, "overlay") == 0 && lower && strlen(lower) < LOWER_MAX &&
	    (!upper || dir_empty(upper))) {
		int rc = shared_image(id, m, bundle, cache_dir, lower, out, err);
		if (rc < 0)
			shim_rootfs_release(out);
		return rc;
	}
	if (asprintf(&out->image, "%s/hull-rootfs.ext4", work_dir) < 0) {
		out->image = NULL;
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	int rc = copy_tree(id, m, bundle, out->image, err);
	if (rc < 0) {
		free(out->image);
		out->image = NULL;
	}
	return rc;
}

int shim_rootfs_from_dir(const char *id, const char *dir, const char *work_dir,
			 struct shim_rootfs *out, struct errmsg *err)
{
	*out = (struct shim_rootfs){0};
	struct stat st;
	if (dir[0] != '/')
		return errmsg_set(err, -EINVAL, "task %s: root.path %s: not absolute", id, dir);
	if (stat(dir, &st) < 0)
		return errmsg_set(err, -errno, "task %s: root.path %s: %s", id, dir,
				  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return errmsg_set(err, -ENOTDIR, "task %s: root.path %s: not a directory", id, dir);
	if (asprintf(&out->image, "%s/hull-rootfs.ext4", work_dir) < 0) {
		out->image = NULL;
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	int rc = run_mkfs(dir, out->image, err);
	if (rc < 0)
		shim_rootfs_release(out);
	return rc;
}

void shim_rootfs_release(struct shim_rootfs *r)
{
	if (r->image && !r->shared)
		unlink(r->image);
	free(r->image);
	*r = (struct shim_rootfs){0};
}

/* A temp file of run_mkfs() (".<image>.XXXXXX", <image> ending .ext4)
 * that no live shim holds locked: its shim died (SIGKILL) mid-build. */
static void sweep_temp(int dfd, const char *name)
{
	size_t l = strlen(name);
	if (name[0] != '.' || l < 13 || name[l - 7] != '.' || memcmp(name + l - 12, ".ext4", 5))
		return;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat a, b;
	if (fd < 0)
		return;
	/* the same file still under that name: not one a sweep took and
	 * another build made since */
	if (fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		unlinkat(dfd, name, 0);
	close(fd);
}

void shim_rootfs_prune(const char *cache_dir)
{
	DIR *d = opendir(cache_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		sweep_temp(dirfd(d), e->d_name);
		size_t l = strlen(e->d_name);
		if (l != 2 * SHA256_LEN + 6 || strcmp(e->d_name + 2 * SHA256_LEN, ".lower") != 0)
			continue;
		char path[PATH_MAX], image[PATH_MAX], *lower = NULL, key[2 * SHA256_LEN + 1];
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", cache_dir, e->d_name);
		snprintf(image, sizeof(image), "%s/%.*s.ext4", cache_dir, 2 * SHA256_LEN,
			 e->d_name);
		if (readfile(path, LOWER_MAX, &lower, &len) < 0)
			continue;
		/* gone, or replaced by other directories of the same names */
		bool stale =
		    shim_rootfs_key(lower, key) < 0 || strncmp(key, e->d_name, 2 * SHA256_LEN);
		free(lower);
		if (stale) {
			unlink(image);
			unlink(path);
		}
	}
	closedir(d);
}
