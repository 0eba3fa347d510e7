#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "confine.h"
#include "env.h"
#include "execpath.h"
#include "log.h"
#include "proto/hcp.h"

enum child_stage {
	STAGE_SETUP = 1,
	STAGE_CONFINE,
	STAGE_SETGROUPS,
	STAGE_SETGID,
	STAGE_SETUID,
	STAGE_CHDIR,
	STAGE_EXEC,
};

/* What the child writes to the report pipe when it cannot exec. */
struct child_report {
	int32_t stage;
	int32_t err; /* positive errno */
};

static __attribute__((noreturn)) void child_fail(int report_fd, enum child_stage stage, int err)
{
	struct child_report r = {(int32_t)stage, err < 0 ? -err : err};

	/* The parent treats a short report as a setup failure, so one attempt
	 * is enough; there is nobody else to tell. */
	if (write(report_fd, &r, sizeof(r)) < 0)
		_exit(HCP_EXIT_INIT_FAILED);
	_exit(stage == STAGE_EXEC ? execpath_exit_code(err) : HCP_EXIT_INIT_FAILED);
}

static __attribute__((noreturn)) void child_run(const struct container_cfg *cfg, int in_r,
						int out_w, int err_w, int report_fd)
{
	sigset_t none;
	uint64_t bset = 0;
	int rc;

	if (setsid() < 0)
		child_fail(report_fd, STAGE_SETUP, errno);
	/* A new session has no controlling terminal: the pty slave becomes it. */
	if (cfg->tty && ioctl(in_r, TIOCSCTTY, 0) < 0)
		child_fail(report_fd, STAGE_SETUP, errno);
	/* dup2 clears close-on-exec on the copies, which are all the container
	 * inherits. */
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		child_fail(report_fd, STAGE_SETUP, errno);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(report_fd, STAGE_SETUP, errno);
	if (cfg->conf && (rc = confine_child_pre(cfg->conf, &bset)) < 0)
		child_fail(report_fd, STAGE_CONFINE, rc);
	if (setgroups(cfg->ngroups, cfg->groups) < 0)
		child_fail(report_fd, STAGE_SETGROUPS, errno);
	if (setgid(cfg->gid) < 0)
		child_fail(report_fd, STAGE_SETGID, errno);
	if (setuid(cfg->uid) < 0)
		child_fail(report_fd, STAGE_SETUID, errno);
	if (cfg->conf && (rc = confine_child_post(cfg->conf, bset, cfg->uid)) < 0)
		child_fail(report_fd, STAGE_CONFINE, rc);
	/* After setuid, so a directory the user may not enter fails here
	 * rather than later inside the program. */
	if (chdir(cfg->cwd) < 0)
		child_fail(report_fd, STAGE_CHDIR, errno);
	umask(022);
	rc = execpath_exec(cfg->argv[0], env_get(cfg->envp, "PATH"), cfg->argv, cfg->envp,
			   execpath_execve, NULL);
	child_fail(report_fd, STAGE_EXEC, rc);
}

static void close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static int describe(const struct container_cfg *cfg, const struct child_report *r, int *exit_code,
		    struct errmsg *err)
{
	char e[128];

	log_errtext(r->err, e, sizeof(e));
	*exit_code = HCP_EXIT_INIT_FAILED;
	switch (r->stage) {
	case STAGE_CONFINE:
		return errmsg_set(err, -r->err, "ulimits, capabilities or no-new-privileges: %s",
				  e);
	case STAGE_SETGROUPS:
		return errmsg_set(err, -r->err, "setgroups: %s", e);
	case STAGE_SETGID:
		return errmsg_set(err, -r->err, "setgid %u: %s", (unsigned)cfg->gid, e);
	case STAGE_SETUID:
		return errmsg_set(err, -r->err, "setuid %u: %s", (unsigned)cfg->uid, e);
	case STAGE_CHDIR:
		return errmsg_set(err, -r->err, "chdir to cwd \"%s\": %s", cfg->cwd, e);
	case STAGE_EXEC:
		*exit_code = execpath_exit_code(r->err);
		return errmsg_set(err, -r->err, "exec \"%s\": %s", cfg->argv[0], e);
	default:
		return errmsg_set(err, -r->err, "container process setup: %s", e);
	}
}

/* A pty pair: fds[0] the master (three descriptors of it, see container.h),
 * fds[1] the slave. /dev/ptmx is the container's own devpts instance once
 * init has switched root (rootfs.c links it to pts/ptmx). */
static int open_pty(const struct container_cfg *cfg, int master[3], int *slave, struct errmsg *err)
{
	int unlock = 0;

	master[0] = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (master[0] < 0)
		return log_syserr(err, errno, "open /dev/ptmx");
	if (ioctl(master[0], TIOCSPTLCK, &unlock) < 0)
		return log_syserr(err, errno, "unlock pty");
	/* TIOCGPTPEER: the slave without a path lookup through /dev/pts. */
	*slave = ioctl(master[0], TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return log_syserr(err, errno, "open pty slave");
	/* Like a login: the user owns its terminal (tty(1), mesg, reopening). */
	if (fchown(*slave, cfg->uid, (gid_t)-1) < 0)
		return log_syserr(err, errno, "chown pty slave");
	if (cfg->rows && cfg->cols) {
		struct winsize ws = {.ws_row = cfg->rows, .ws_col = cfg->cols};

		if (ioctl(master[0], TIOCSWINSZ, &ws) < 0)
			return log_syserr(err, errno, "set pty size");
	}
	for (int i = 1; i < 3; i++) {
		master[i] = fcntl(master[0], F_DUPFD_CLOEXEC, 3);
		if (master[i] < 0)
			return log_syserr(err, errno, "dup pty master");
	}
	return 0;
}

int container_start(const struct container_cfg *cfg, struct container_proc *p, int *exit_code,
		    struct errmsg *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
	int master[3] = {-1, -1, -1};
	struct child_report r;
	ssize_t n;
	pid_t pid;
	int rc;

	*exit_code = HCP_EXIT_INIT_FAILED;
	p->pid = -1;
	p->stdin_fd = p->stdout_fd = p->stderr_fd = p->tty_fd = -1;
	if (pipe2(rep, O_CLOEXEC) < 0) {
		rc = log_syserr(err, errno, "pipe");
		goto fail;
	}
	if (cfg->tty) {
		/* the child's three ends are the slave, in[0]; close_pair() sees
		 * each descriptor once */
		rc = open_pty(cfg, master, &in[0], err);
		in[1] = master[0];
		out[0] = master[1];
		errp[0] = master[2];
		if (rc < 0)
			goto fail;
	} else if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		   pipe2(errp, O_CLOEXEC) < 0) {
		rc = log_syserr(err, errno, "pipe");
		goto fail;
	} else if (fcntl(in[1], F_SETFL, O_NONBLOCK) < 0 ||
		   fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 ||
		   fcntl(errp[0], F_SETFL, O_NONBLOCK) < 0) {
		/* init must never block on the container: it also has to serve the
		 * host and reap. The child's ends stay blocking, as programs expect. */
		rc = log_syserr(err, errno, "fcntl");
		goto fail;
	}
	/* vfork, not fork: it skips copying init's page tables and the
	 * copy-on-write faults that follow, ~150 ms in this guest. It is safe
	 * here because the child only makes system calls into its own stack
	 * frames before execve or _exit, and init installs no signal handlers
	 * that could run in the child on shared memory. */
	pid = vfork();
	if (pid < 0) {
		rc = log_syserr(err, errno, "vfork");
		goto fail;
	}
	if (pid == 0) {
		if (cfg->tty)
			child_run(cfg, in[0], in[0], in[0], rep[1]);
		child_run(cfg, in[0], out[1], errp[1], rep[1]);
	}

	close(in[0]);
	if (!cfg->tty) {
		close(out[1]);
		close(errp[1]);
	}
	close(rep[1]);
	in[0] = out[1] = errp[1] = rep[1] = -1;
	do {
		n = read(rep[0], &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	close(rep[0]);
	rep[0] = -1;
	if (n == 0) {
		p->pid = pid;
		p->stdin_fd = in[1];
		p->stdout_fd = out[0];
		p->stderr_fd = cfg->tty ? -1 : errp[0];
		p->tty_fd = cfg->tty ? errp[0] : -1;
		return 0;
	}
	if (n != (ssize_t)sizeof(r)) {
		r.stage = STAGE_SETUP;
		r.err = n < 0 ? errno : EPROTO;
	}
	rc = describe(cfg, &r, exit_code, err);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
fail:
	close_pair(in);
	close_pair(out);
	close_pair(errp);
	close_pair(rep);
	return rc < 0 ? rc : -EIO;
}
