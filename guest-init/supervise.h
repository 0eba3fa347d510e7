/* supervise: init's side of the hcp conversations once READY is out, and the
 * supervision of the container and of exec'd processes.
 *
 * Contract
 * - A session bridges one process to one hcp channel: the main session
 *   (the container's main process, over the control channel) and up to
 *   SUPERVISE_MAX_EXEC exec sessions (one accepted connection each on the
 *   exec listener, see proto/hcp.h "Exec sessions").
 * - One poll() loop serves everything, so no input waits behind another: every
 *   session's channel (STDIN, STDIN_EOF, SIGNAL, RESIZE), its process's
 *   stdout/stderr (forwarded as STDOUT/STDERR frames of at most
 *   SUPERVISE_CHUNK bytes, in order per stream, up to SUPERVISE_READ bytes
 *   per read; a pty's output is STDOUT),
 *   its stdin (fed from a queue, never blocking), the exec listener, and the
 *   signalfd (SIGCHLD: reap every child; anything else sent to init:
 *   forwarded to the container's main process).
 * - Before the container exists (supervise_wait_spec), STDIN data and
 *   STDIN_EOF are kept for the container, SIGNALs are queued (up to
 *   SUPERVISE_MAX_PENDING) and the last RESIZE is kept; all are delivered
 *   right after it starts.
 * - The control channel is hostile: a framing or payload error, or a frame
 *   the host must not send (a second SPEC, any guest->host type), ends the
 *   whole run with -EPROTO. The same on an exec connection ends only that
 *   session (its process is killed). An out-of-range signal number is logged
 *   and ignored.
 * - Stdin backpressure: a channel is not read while more than
 *   SUPERVISE_STDIN_HIGH bytes wait for its process; output keeps flowing.
 * - When a session's process exits, its pipes are forwarded until EOF or for
 *   SUPERVISE_GRACE_MS (orphans may hold them open). An exec session then
 *   sends EXIT and closes. The main one makes supervise_run() return the exit
 *   code (status, or 128+signal), after telling MAIN_SIGNAL sessions the same
 *   code. The caller then kills what is left (supervise_kill_all) and forwards
 *   the main output still in the pipes (supervise_drain). The kill is the
 *   caller's so that everything else here can run in a unit test, where
 *   kill(-1) would be a disaster.
 * - An exec session whose host hangs up has its process group SIGKILLed.
 * - Functions return 0 (or the exit code) or -errno with err filled.
 */
#ifndef HULL_GUEST_INIT_SUPERVISE_H
#define HULL_GUEST_INIT_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bytequeue.h"
#include "chan.h"
#include "common/errmsg.h"
#include "container.h"
#include "execcfg.h"
#include "log.h"

/* Container output in bulk: on a PVM host each guest system call, each
 * context switch and each vsock packet is emulated kernel work, so the
 * bytes per read(2) are what counts. A pipe whose read filled a whole
 * SUPERVISE_CHUNK (its default capacity: a writer in bulk) is grown once to
 * SUPERVISE_PIPE_SIZE, so the writer blocks (and wakes init) less often, and
 * init takes up to SUPERVISE_READ bytes per read, forwarded as frames of at
 * most SUPERVISE_CHUNK bytes in one writev (chan_send_split). Containers
 * that print little never pay for the resize. */
#define SUPERVISE_CHUNK HCP_MAX_PAYLOAD
#define SUPERVISE_READ (4 * SUPERVISE_CHUNK)
#define SUPERVISE_PIPE_SIZE SUPERVISE_READ
#define SUPERVISE_STDIN_HIGH (256 * 1024)
#define SUPERVISE_MAX_PENDING 32
#define SUPERVISE_GRACE_MS 100
#define SUPERVISE_MAX_EXEC 16

enum session_kind {
	SESSION_MAIN,
	SESSION_NEW,   /* exec connection, nothing received yet */
	SESSION_EXEC,  /* runs an exec'd process */
	SESSION_WATCH, /* MAIN_SIGNAL: signals the main process, waits for its exit */
};

struct session {
	enum session_kind kind;
	struct chan *ch;
	struct chan own_ch; /* exec connections: ch points here */
	bool chan_eof;	    /* the host side hung up: stop reading it */

	struct bytequeue stdin_q;
	bool stdin_eof;	   /* the host sent STDIN_EOF */
	bool stdin_closed; /* our write end is gone: later STDIN data is dropped */
	int stdin_fd;

	int pending[SUPERVISE_MAX_PENDING];
	size_t npending;
	bool has_winsize; /* a RESIZE came before the process existed */
	uint16_t rows, cols;

	pid_t pid; /* 0 until attached */
	int out_fd, err_fd, tty_fd;
	bool out_grown, err_grown; /* the pipe was (or need not be) grown */
	bool exited;
	int wstatus;
	int64_t deadline_ms; /* end of the grace period, CLOCK_MONOTONIC */
};

struct supervisor {
	int sigfd;
	const struct log *log;
	struct session main;
	int listen_fd; /* exec connections, or -1 */
	const struct execcfg_base *exec_base;
	struct session *exec[SUPERVISE_MAX_EXEC];
	/* the host sent SIGNAL (main session) or MAIN_SIGNAL: --restart
	 * policies do not restart the container then */
	bool host_signalled;
};

void supervise_init(struct supervisor *s, struct chan *ch, int sigfd, const struct log *l);
/* Closes every fd s owns (not the control channel) and ends exec sessions. */
void supervise_free(struct supervisor *s);

/* Read frames until SPEC and decode it into *spec (free with hcp_spec_free). */
int supervise_wait_spec(struct supervisor *s, struct hcp_spec *spec, struct errmsg *err);

/* Take over a started container (its fds now belong to s) and deliver the
 * signals and the window size that came before it existed. */
void supervise_attach(struct supervisor *s, const struct container_proc *p);

/* --restart: after supervise_run(), supervise_kill_all() and
 * supervise_drain(), take over the main process started anew (the main
 * session's old fds are closed; stdin already ended stays ended). */
void supervise_restart(struct supervisor *s, const struct container_proc *p);

/* Serve exec sessions from listen_fd (a listening stream socket, made
 * non-blocking and owned by s from now on), running processes as base says
 * (base must outlive s). */
void supervise_listen_exec(struct supervisor *s, int listen_fd, const struct execcfg_base *base);

/* Serve until the container's main process is gone (see above). Returns its
 * exit code (>= 0) or -errno on a fatal channel/protocol error. Either way
 * other processes may still run. */
int supervise_run(struct supervisor *s, struct errmsg *err);

/* Forward what is left in the main output pipes, up to EOF (or up to what is
 * there, if writers survive). Call after supervise_kill_all(). */
int supervise_drain(struct supervisor *s, struct errmsg *err);

/* SIGKILL every process but init and reap them all. */
void supervise_kill_all(void);

/* wait(2) status -> the exit code docker reports. */
int supervise_exit_code(int wstatus);

#endif
