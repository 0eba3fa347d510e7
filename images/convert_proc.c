#include "images/convert_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/jail_enter.h"
#include "seccomp/filter.h"

/* 128 + SIGSYS, as hull-vmm's (the filter's handler exits with it) */
#define EXIT_SECCOMP 159

enum { MSG_PROGRESS = 1, MSG_RESULT, MSG_SECCOMP };

/* One record, child -> parent; under PIPE_BUF, so each write is whole. */
struct msg {
	uint32_t kind;
	int32_t v; /* the item, or the result */
	uint8_t out[CONVPROC_OUT_MAX];
	char text[sizeof(((struct errmsg *)0)->text)];
};
_Static_assert(sizeof(struct msg) <= 4096, "a record is written at once");

struct convproc {
	int fd; /* the status pipe's write end */
};

static void send_msg(int fd, const struct msg *m)
{
	ssize_t n;
	while ((n = write(fd, m, sizeof(*m))) < 0 && errno == EINTR)
		;
}

void convproc_progress(struct convproc *cp, unsigned item)
{
	struct msg m = {.kind = MSG_PROGRESS, .v = (int32_t)item};
	send_msg(cp->fd, &m);
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

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

/* Close every fd >= 3 that is not in keep[] (sorted here). */
static int close_others(int *keep, size_t n)
{
	qsort(keep, n, sizeof(*keep), cmp_int);
	unsigned from = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3)
			continue;
		if ((unsigned)keep[i] > from && syscall(SYS_close_range, from, keep[i] - 1, 0))
			return -errno;
		from = (unsigned)keep[i] + 1;
	}
	return syscall(SYS_close_range, from, ~0u, 0) ? -errno : 0;
}

/* The child's confinement, in order; then fn. Never returns. */
static _Noreturn void child(int *keep, size_t nkeep, int wfd, pid_t parent, bool root, uid_t uid,
			    gid_t gid, convproc_fn fn, void *ctx, size_t out_len)
{
	struct msg m = {.kind = MSG_RESULT};
	struct errmsg err = {{0}};
	int rc = 0;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	prctl(PR_SET_NAME, CONVPROC_NAME);
	/* the parent's handlers (Ctrl-C during a pull) are not the child's */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* not even stderr: the user's terminal is no place for what a
	 * taken-over converter would write (its messages go up the pipe) */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		rc = errmsg_set(&err, -errno, "hull-convert: /dev/null: %s", strerror(errno));
	keep[nkeep++] = wfd;
	if (!rc && (rc = close_others(keep, nkeep)))
		errmsg_set(&err, rc, "hull-convert: closing inherited fds: %s", strerror(-rc));
	if (!rc && root && unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS))
		rc = errmsg_set(&err, -errno, "hull-convert: namespaces: %s", strerror(errno));
	if (!rc)
		rc = jail_become(uid, gid, &err);
	if (!rc)
		rc = hsc_trap_init(CONVPROC_NAME, on_trap, &wfd, EXIT_SECCOMP, &err);
	if (!rc)
		rc = hsc_install(HSC_CONVERT, &err);
	struct convproc cp = {wfd};
	if (!rc)
		rc = fn(ctx, &cp, m.out, out_len, &err);
	m.v = rc;
	memcpy(m.text, err.text, sizeof(m.text));
	send_msg(wfd, &m);
	/* the system call: a sanitizer's _exit would do more */
	syscall(SYS_exit_group, 0);
	_exit(0);
}

static void describe(int ws, struct errmsg *err, pid_t pid, const char *trap)
{
	if (trap[0])
		errmsg_set(err, -EIO, "%s (pid %d)", trap, (int)pid);
	else if (WIFSIGNALED(ws))
		errmsg_set(err, -EIO,
			   "the converter " CONVPROC_NAME " (pid %d) was killed by signal %d (%s)",
			   (int)pid, WTERMSIG(ws), strsignal(WTERMSIG(ws)));
	else if (WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_SECCOMP)
		errmsg_set(err, -EIO,
			   "the converter " CONVPROC_NAME " (pid %d) was killed by its seccomp "
			   "filter (exit status %d)",
			   (int)pid, EXIT_SECCOMP);
	else
		errmsg_set(err, -EIO,
			   "the converter " CONVPROC_NAME " (pid %d) ended (status %d) without a "
			   "result",
			   (int)pid, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

int convproc_run(const int *keep, size_t nkeep, unsigned n_items, convproc_fn fn, void *ctx,
		 void *out, size_t out_len, int *item, struct errmsg *err)
{
	*item = -1;
	if (out_len > CONVPROC_OUT_MAX)
		return errmsg_set(err, -EINVAL, "convert: a result of %zu bytes", out_len);
	uid_t uid = getuid();
	gid_t gid = getgid();
	bool root = geteuid() == 0;
	if (root) {
		int rc = jail_user(&uid, &gid);
		if (rc)
			return errmsg_set(
			    err, rc,
			    rc == -EINVAL ? "the user '" JAIL_USER "' to convert images as is root"
					  : "no user '" JAIL_USER "' to convert images as "
					    "(setup.sh creates it: useradd --system "
					    "--no-create-home --shell /usr/sbin/nologin " JAIL_USER
					    ")");
	}
	int *k = calloc(nkeep + 1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	if (nkeep)
		memcpy(k, keep, nkeep * sizeof(*k));
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		free(k);
		return errmsg_set(err, -errno, "convert: pipe: %s", strerror(errno));
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(k, nkeep, p[1], parent, root, uid, gid, fn, ctx, out_len);
	}
	free(k);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return errmsg_set(err, -errno, "convert: fork: %s", strerror(errno));
	}
	/* the child's records, as hostile input: whole records only */
	struct msg m;
	bool result = false, bad = false;
	int rc = -EIO;
	char trap[sizeof(m.text)] = "";
	for (;;) {
		size_t got = 0;
		while (got < sizeof(m)) {
			ssize_t n = read(p[0], (char *)&m + got, sizeof(m) - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got < sizeof(m)) {
			bad = got > 0;
			break;
		}
		m.text[sizeof(m.text) - 1] = '\0';
		if (m.kind == MSG_PROGRESS && m.v >= 0 && (unsigned)m.v < n_items && !result) {
			*item = m.v;
		} else if (m.kind == MSG_RESULT && !result && m.v <= 0 && m.v > -4096) {
			result = true;
			rc = m.v;
			memcpy(out, m.out, out_len);
			if (rc)
				errmsg_set(err, rc, "%s", m.text[0] ? m.text : strerror(-rc));
		} else if (m.kind == MSG_SECCOMP) {
			memcpy(trap, m.text, sizeof(trap));
		} else {
			bad = true; /* not a record of ours */
			break;
		}
	}
	close(p[0]);
	if (bad) /* a child that talks nonsense is not waited for */
		kill(pid, SIGKILL);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (result && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		*item = -1;
		return rc;
	}
	describe(ws, err, pid,
		 bad && !trap[0] ? "the converter " CONVPROC_NAME
				   " sent a malformed status record; killed"
				 : trap);
	return -EIO;
}
