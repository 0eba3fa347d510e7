#include "images/convert_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/helper_path.h"
#include "common/jail_enter.h"
#include "seccomp/filter.h"

/* 128 + SIGSYS, as hull-vmm's (the filter's handler exits with it) */
#define EXIT_SECCOMP 159
#define CONVPROC_MAGIC 0x68636e76u /* "hcnv" */

enum { MSG_PROGRESS = 1, MSG_RESULT, MSG_SECCOMP };

/* One record, child -> parent; under PIPE_BUF, so each write is whole. */
struct msg {
	uint32_t kind;
	int32_t v; /* the item, or the result */
	uint8_t out[CONVPROC_OUT_MAX];
	char text[sizeof(((struct errmsg *)0)->text)];
};
_Static_assert(sizeof(struct msg) <= 4096, "a record is written at once");

/* The request's header, parent -> child, before the caller's bytes. */
struct req_hdr {
	uint32_t magic;
	uint32_t nfds;
	uint32_t n_items;
	uint32_t out_len;
	uint32_t len; /* the caller's bytes that follow */
};

const struct convproc_helper convproc_convert = {.name = CONVPROC_NAME,
						 .what = "the converter",
						 .exe_what = "the image converter",
						 .env = CONVPROC_ENV};

char *convproc_path(void)
{
	return helper_path(CONVPROC_ENV, "images", CONVPROC_NAME);
}

static void send_msg(int fd, const struct msg *m)
{
	ssize_t n;
	while ((n = write(fd, m, sizeof(*m))) < 0 && errno == EINTR)
		;
}

/* ---- the forked child, up to the exec ---- */

/* What the forked child needs, prepared before the fork. */
struct prep {
	int *src; /* status, request, work fds..., exe: to CONVPROC_FD_STATUS.. */
	size_t n;
	pid_t parent;
	bool root;
	bool host_net;	  /* keep the host's network namespace */
	const char *name; /* argv[0], messages */
	char *const *env; /* NULL: empty */
	rlim_t nofile;	  /* 0: not set */
	rlim_t fsize;	  /* 0: not set */
	uid_t uid;
	gid_t gid;
	const char *exe;
};

/* A failure before the exec, as a result record on the status pipe. */
static _Noreturn void pre_exec_fail(int fd, int rc, const struct errmsg *err)
{
	struct msg m = {.kind = MSG_RESULT, .v = rc};
	memcpy(m.text, err->text, sizeof(m.text));
	send_msg(fd, &m);
	syscall(SYS_exit_group, 0);
	_exit(0);
}

/* System calls only from here to the exec (the parent may be threaded:
 * a lock another thread held at the fork is held forever in this copy).
 * errmsg_set() formats with vsnprintf on the failure paths only. */
static _Noreturn void pre_exec(const struct prep *p)
{
	struct errmsg err = {{0}};
	int sfd = p->src[0], rc = 0;
	/* the parent's handlers (Ctrl-C during a pull) and ignored signals
	 * are not the child's */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* every fd to its fixed number: first all of them above the targets,
	 * so that no dup2 overwrites a source not yet moved */
	int hi_base = CONVPROC_FD_STATUS + (int)p->n;
	for (size_t i = 0; i < p->n; i++) {
		int fd = fcntl(p->src[i], F_DUPFD_CLOEXEC, hi_base);
		if (fd < 0) {
			rc = errmsg_set(&err, -errno, "%s: moving fds: %s", p->name,
					strerror(errno));
			pre_exec_fail(sfd, rc, &err);
		}
		p->src[i] = fd;
		if (i == 0)
			sfd = fd;
	}
	/* not even stderr: the user's terminal is no place for what a
	 * taken-over converter would write (its messages go up the pipe) */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
		rc = errmsg_set(&err, -errno, "%s: /dev/null: %s", p->name, strerror(errno));
		pre_exec_fail(sfd, rc, &err);
	}
	for (size_t i = 0; i < p->n; i++)
		if (dup2(p->src[i], CONVPROC_FD_STATUS + (int)i) < 0) {
			rc = errmsg_set(&err, -errno, "%s: moving fds: %s", p->name,
					strerror(errno));
			pre_exec_fail(sfd, rc, &err);
		}
	sfd = CONVPROC_FD_STATUS;
	/* the executable's fd, last, goes with the exec */
	int exe_fd = CONVPROC_FD_STATUS + (int)p->n - 1;
	if (fcntl(exe_fd, F_SETFD, FD_CLOEXEC) || syscall(SYS_close_range, exe_fd + 1, ~0u, 0)) {
		rc = errmsg_set(&err, -errno, "%s: closing inherited fds: %s", p->name,
				strerror(errno));
		pre_exec_fail(sfd, rc, &err);
	}
	if (p->root && unshare((p->host_net ? 0 : CLONE_NEWNET) | CLONE_NEWIPC | CLONE_NEWUTS)) {
		rc = errmsg_set(&err, -errno, "%s: namespaces: %s", p->name, strerror(errno));
		pre_exec_fail(sfd, rc, &err);
	}
	if ((rc = jail_become(p->uid, p->gid, &err)))
		pre_exec_fail(sfd, rc, &err);
	if ((p->nofile && setrlimit(RLIMIT_NOFILE, &(struct rlimit){p->nofile, p->nofile})) ||
	    (p->fsize && (setrlimit(RLIMIT_FSIZE, &(struct rlimit){p->fsize, p->fsize}) ||
			  sigaction(SIGXFSZ, &(struct sigaction){.sa_handler = SIG_IGN}, NULL)))) {
		rc = errmsg_set(&err, -errno, "%s: resource limits: %s", p->name, strerror(errno));
		pre_exec_fail(sfd, rc, &err);
	}
	/* after the id change, which clears it; the exec keeps it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != p->parent)
		_exit(127);
	char *const argv[] = {(char *)p->name, NULL};
	char *const empty[] = {NULL};
	syscall(SYS_execveat, exe_fd, "", argv, p->env ? p->env : empty, AT_EMPTY_PATH);
	rc = errmsg_set(&err, -errno, "%s: exec %s: %s", p->name, p->exe, strerror(errno));
	pre_exec_fail(sfd, rc, &err);
}

/* ---- the parent ---- */

static void describe(const struct convproc_helper *h, int ws, struct errmsg *err, pid_t pid,
		     const char *trap)
{
	if (trap[0])
		errmsg_set(err, -EIO, "%s (pid %d)", trap, (int)pid);
	else if (WIFSIGNALED(ws))
		errmsg_set(err, -EIO, "%s %s (pid %d) was killed by signal %d (%s)", h->what,
			   h->name, (int)pid, WTERMSIG(ws), strsignal(WTERMSIG(ws)));
	else if (WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_SECCOMP)
		errmsg_set(err, -EIO,
			   "%s %s (pid %d) was killed by its seccomp filter (exit status %d)",
			   h->what, h->name, (int)pid, EXIT_SECCOMP);
	else
		errmsg_set(err, -EIO, "%s %s (pid %d) ended (status %d) without a result", h->what,
			   h->name, (int)pid, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

/* The request in a sealed memfd, at offset 0. */
static int request_fd(const struct req_hdr *h, const void *req, size_t len, struct errmsg *err)
{
	int fd = memfd_create("hull-helper-request", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return errmsg_set(err, -errno, "helper request: memfd: %s", strerror(errno));
	int rc = 0;
	if (write(fd, h, sizeof(*h)) != (ssize_t)sizeof(*h) ||
	    (len && write(fd, req, len) != (ssize_t)len))
		rc = errmsg_set(err, errno ? -errno : -EIO, "helper request: writing: %s",
				strerror(errno ? errno : EIO));
	if (!rc &&
	    (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) ||
	     lseek(fd, 0, SEEK_SET) != 0))
		rc = errmsg_set(err, -errno, "helper request: sealing: %s", strerror(errno));
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Read the child's records until EOF (hostile: whole, known records only).
 * Returns whether a malformed one came; *cancelled when h->cancel became
 * non-zero first (the caller kills the child). */
static bool read_records(const struct convproc_helper *h, int fd, unsigned n_items, void *out,
			 size_t out_len, int *item, bool *result, int *rc, char trap[],
			 bool *cancelled, struct errmsg *err)
{
	struct msg m;
	for (;;) {
		size_t got = 0;
		while (got < sizeof(m)) {
			if (h->cancel && *h->cancel) {
				*cancelled = true;
				return false;
			}
			/* a cancel flag set by another thread wakes no read: look
			 * at it ten times a second */
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (h->cancel && poll(&pfd, 1, 100) == 0)
				continue;
			ssize_t n = read(fd, (char *)&m + got, sizeof(m) - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got < sizeof(m))
			return got > 0;
		m.text[sizeof(m.text) - 1] = '\0';
		if (m.kind == MSG_PROGRESS && m.v >= 0 && (unsigned)m.v < n_items && !*result) {
			*item = m.v;
			uint64_t done;
			memcpy(&done, m.out, sizeof(done));
			if (h->progress)
				h->progress(h->arg, (unsigned)m.v, done);
		} else if (m.kind == MSG_RESULT && !*result && m.v <= 0 && m.v > -4096) {
			*result = true;
			*rc = m.v;
			if (out_len)
				memcpy(out, m.out, out_len);
			if (*rc)
				errmsg_set(err, *rc, "%s", m.text[0] ? m.text : strerror(-*rc));
		} else if (m.kind == MSG_SECCOMP) {
			memcpy(trap, m.text, sizeof(m.text));
		} else {
			return true; /* not a record of ours */
		}
	}
}

static int jail_ids(const struct convproc_helper *h, bool root, uid_t *uid, gid_t *gid,
		    struct errmsg *err)
{
	*uid = getuid();
	*gid = getgid();
	if (!root)
		return 0;
	int rc = jail_user(uid, gid);
	if (rc)
		return errmsg_set(err, rc,
				  rc == -EINVAL
				      ? "the user '" JAIL_USER "' to run %s as is root"
				      : "no user '" JAIL_USER "' to run %s as "
					"(setup.sh creates it: useradd --system "
					"--no-create-home --shell /usr/sbin/nologin " JAIL_USER ")",
				  h->name);
	return 0;
}

int convproc_run(const char *exe, const void *req, size_t req_len, const int *fds, size_t nfds,
		 unsigned n_items, void *out, size_t out_len, int *item, struct errmsg *err)
{
	return convproc_spawn(&convproc_convert, exe, req, req_len, fds, nfds, n_items, out,
			      out_len, item, err);
}

int convproc_spawn(const struct convproc_helper *h, const char *exe, const void *req,
		   size_t req_len, const int *fds, size_t nfds, unsigned n_items, void *out,
		   size_t out_len, int *item, struct errmsg *err)
{
	*item = -1;
	if (out_len > CONVPROC_OUT_MAX || req_len > CONVPROC_REQ_MAX || nfds > CONVPROC_FDS_MAX ||
	    n_items > CONVPROC_ITEMS_MAX)
		return errmsg_set(err, -EINVAL, "%s: a request beyond its limits", h->name);
	if (h->cancel && *h->cancel)
		return errmsg_set(err, -EINTR, "%s: interrupted", h->name);
	struct prep p = {
	    .parent = getpid(), .root = geteuid() == 0, .host_net = h->host_net, .name = h->name};
	int rc = jail_ids(h, p.root, &p.uid, &p.gid, err);
	if (rc)
		return rc;
	char *path = exe ? strdup(exe) : helper_path(h->env, "images", h->name);
	if (!path)
		return -ENOMEM;
	p.exe = path;
	struct req_hdr hdr = {CONVPROC_MAGIC, (uint32_t)nfds, n_items, (uint32_t)out_len,
			      (uint32_t)req_len};
	int st[2] = {-1, -1}, rfd = -1;
	int xfd = open(path, O_RDONLY | O_CLOEXEC);
	if (xfd < 0) {
		rc = errmsg_set(err, -errno, "%s %s: %s (build hull, or set %s)", h->exe_what, path,
				strerror(errno), h->env);
		goto out;
	}
	if ((rc = rfd = request_fd(&hdr, req, req_len, err)) < 0)
		goto out;
	if (pipe2(st, O_CLOEXEC)) {
		rc = errmsg_set(err, -errno, "%s: pipe: %s", h->name, strerror(errno));
		goto out;
	}
	p.n = nfds + 3;
	if (h->nofile_extra)
		p.nofile = CONVPROC_FD_WORK + nfds + h->nofile_extra;
	p.fsize = h->fsize;
	p.src = calloc(p.n, sizeof(*p.src));
	if (!p.src) {
		rc = -ENOMEM;
		goto out;
	}
	p.src[0] = st[1];
	p.src[1] = rfd;
	if (nfds)
		memcpy(p.src + 2, fds, nfds * sizeof(*fds));
	p.src[p.n - 1] = xfd;
	pid_t pid = fork();
	if (pid == 0)
		pre_exec(&p);
	close(st[1]);
	st[1] = -1;
	if (pid < 0) {
		rc = errmsg_set(err, -errno, "%s: fork: %s", h->name, strerror(errno));
		goto out;
	}
	bool result = false, cancelled = false;
	char trap[sizeof(((struct msg *)0)->text)] = "";
	rc = -EIO;
	bool bad = read_records(h, st[0], n_items, out, out_len, item, &result, &rc, trap,
				&cancelled, err);
	if (bad || cancelled) /* a child that talks nonsense is not waited for */
		kill(pid, SIGKILL);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (result && !bad && !cancelled && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		*item = -1;
		goto out;
	}
	/* Ctrl-C reaches the child too (one process group): it may have died
	 * of it before the parent's handler set the flag was seen */
	if (cancelled || (h->cancel && *h->cancel)) {
		rc = errmsg_set(err, -EINTR, "%s: interrupted", h->name);
		goto out;
	}
	if (bad && !trap[0])
		snprintf(trap, sizeof(trap), "%s %s sent a malformed status record; killed",
			 h->what, h->name);
	describe(h, ws, err, pid, trap);
	rc = -EIO;
out:
	for (int i = 0; i < 2; i++)
		if (st[i] >= 0)
			close(st[i]);
	if (rfd >= 0)
		close(rfd);
	if (xfd >= 0)
		close(xfd);
	free(p.src);
	free(path);
	return rc;
}

/* ---- the exec'd child ---- */

void convproc_progress(struct convproc *cp, unsigned item)
{
	convproc_progress_bytes(cp, item, 0);
}

void convproc_progress_bytes(struct convproc *cp, unsigned item, uint64_t done)
{
	struct msg m = {.kind = MSG_PROGRESS, .v = (int32_t)item};
	memcpy(m.out, &done, sizeof(done));
	send_msg(cp->fd, &m);
}

_Noreturn void convproc_child_exit(struct convproc *cp, int rc, const void *out, size_t out_len,
				   const struct errmsg *err)
{
	struct msg m = {.kind = MSG_RESULT, .v = rc};
	if (out)
		memcpy(m.out, out, out_len < cp->out_len ? out_len : cp->out_len);
	if (err)
		memcpy(m.text, err->text, sizeof(m.text));
	send_msg(cp->fd, &m);
	/* the system call: a sanitizer's _exit would do more */
	syscall(SYS_exit_group, 0);
	_exit(0);
}

/* The seccomp trap's report (async-signal-safe: a write of a prepared
 * record). */
static struct msg trap_msg;
static void on_trap(void *ctx, const char *text)
{
	int fd = *(int *)ctx;
	size_t n = strlen(text);
	if (n >= sizeof(trap_msg.text))
		n = sizeof(trap_msg.text) - 1;
	trap_msg.kind = MSG_SECCOMP;
	memcpy(trap_msg.text, text, n);
	trap_msg.text[n] = '\0';
	ssize_t w = write(fd, &trap_msg, sizeof(trap_msg));
	(void)w;
}

static int read_request(struct convproc *cp, const char *name, void **req, size_t *len,
			struct errmsg *err)
{
	size_t cap = sizeof(struct req_hdr) + CONVPROC_REQ_MAX + 1, got = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(CONVPROC_FD_REQ, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			free(buf);
			return errmsg_set(err, rc, "%s: reading the request: %s", name,
					  strerror(-rc));
		}
		if (n == 0 || (got += (size_t)n) == cap)
			break;
	}
	close(CONVPROC_FD_REQ);
	struct req_hdr h;
	if (got < sizeof(h)) {
		free(buf);
		return errmsg_set(err, -EBADMSG, "%s: a request of %zu bytes", name, got);
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != CONVPROC_MAGIC || h.out_len > CONVPROC_OUT_MAX ||
	    h.nfds > CONVPROC_FDS_MAX || h.n_items > CONVPROC_ITEMS_MAX ||
	    h.len > CONVPROC_REQ_MAX || got != sizeof(h) + h.len) {
		free(buf);
		return errmsg_set(err, -EBADMSG, "%s: a malformed request header", name);
	}
	memmove(buf, buf + sizeof(h), h.len);
	cp->nfds = h.nfds;
	cp->out_len = h.out_len;
	*req = buf;
	*len = h.len;
	return 0;
}

int convproc_child_begin(struct convproc *cp, void **req, size_t *len, struct errmsg *err)
{
	return convproc_child_begin_as(cp, CONVPROC_NAME, HSC_CONVERT, req, len, err);
}

int convproc_child_begin_as(struct convproc *cp, const char *name, int role, void **req,
			    size_t *len, struct errmsg *err)
{
	*cp = (struct convproc){.fd = CONVPROC_FD_STATUS};
	*req = NULL;
	*len = 0;
	/* nobody of its own uid (the helpers' jail user) may read its memory */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return errmsg_set(err, -errno, "%s: PR_SET_DUMPABLE: %s", name, strerror(errno));
	int rc = 0;
	if (role >= 0) {
		rc = hsc_trap_init(name, on_trap, &cp->fd, EXIT_SECCOMP, err);
		if (!rc)
			rc = hsc_install((enum hsc_role)role, err);
	}
	if (!rc)
		rc = read_request(cp, name, req, len, err);
	/* exactly the work fds the header names, nothing above them */
	for (size_t i = 0; !rc && i <= cp->nfds; i++) {
		bool open = fcntl(CONVPROC_FD_WORK + (int)i, F_GETFD) >= 0;
		if (open != (i < cp->nfds))
			rc = errmsg_set(err, -EBADF, "%s: fd %d is %s", name,
					CONVPROC_FD_WORK + (int)i,
					open ? "open beyond the request's" : "not open");
	}
	if (rc) {
		free(*req);
		*req = NULL;
	}
	return rc;
}

int convproc_sized_memfd(const char *name, size_t size, struct errmsg *err)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)size) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		return errmsg_set(err, rc, "memfd: %s", strerror(-rc));
	}
	return fd;
}
