/* container: start the container's main process.
 *
 * Contract
 * - The child (vfork'd: see container.c) runs, in this order: setsid(); stdin from a pipe, stdout
 * and stderr to two other pipes (with cfg->tty: the slave of a new pty from /dev/ptmx as stdin,
 * stdout, stderr and controlling terminal, sized rows x cols when both are non-zero, owned by
 * the container's uid); an empty signal mask; with conf: rlimits and the capability bounding
 * set (confine.h); setgroups, setgid, setuid; with conf: capabilities, no_new_privs; chdir(cwd);
 * umask 022; execve with args[0] looked up in the container's PATH (execpath). Signal dispositions
 * need no reset: init never installs handlers (it only blocks signals and reads a signalfd).
 * - container_start() returns only after the child exec'd or failed: setup
 *   failures travel back over a close-on-exec pipe. On success *p holds the
 *   pid and init's ends of the pipes (close-on-exec, non-blocking). With a
 *   tty, stdin_fd, stdout_fd and tty_fd are three descriptors of the pty
 *   master (closing one leaves the others usable), stderr_fd is -1. On
 *   failure it returns -errno, sets *exit_code to 125 (setup), 126 (cannot
 *   execute) or 127 (not found), fills err with the reason, and has reaped the
 *   child and closed every fd it opened.
 * - The caller must have fds 0-2 open (so the pipes land on fds >= 3) and
 *   every other fd of init close-on-exec.
 */
#ifndef HULL_GUEST_INIT_CONTAINER_H
#define HULL_GUEST_INIT_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"
#include "confine.h"

struct container_cfg {
	char *const *argv;
	char *const *envp; /* also supplies the PATH searched for argv[0] */
	const char *cwd;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	bool tty;
	uint16_t rows, cols;
	const struct confine *conf; /* NULL: none (init's limits and capabilities) */
};

struct container_proc {
	pid_t pid;
	int stdin_fd; /* write end of the container's stdin */
	int stdout_fd;
	int stderr_fd;
	int tty_fd; /* the pty master for window size changes, or -1 */
};

int container_start(const struct container_cfg *cfg, struct container_proc *p, int *exit_code,
		    struct errmsg *err);

#endif
