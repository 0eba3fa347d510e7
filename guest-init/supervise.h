/* supervise: init's side of the hcp conversation once READY is out, and the
 * supervision of the container.
 *
 * Contract
 * - One poll() loop serves everything, so no input waits behind another: the
 *   channel (STDIN, STDIN_EOF, SIGNAL), the container's stdout/stderr pipes
 *   (forwarded as STDOUT/STDERR frames of at most SUPERVISE_CHUNK bytes, in
 *   order per stream), its stdin pipe (fed from a queue, never blocking), and
 *   the signalfd (SIGCHLD: reap every child; anything else sent to init:
 *   forwarded to the container's main process).
 * - Before the container exists (supervise_wait_spec), STDIN data and
 *   STDIN_EOF are kept for the container and SIGNALs are queued (up to
 *   SUPERVISE_MAX_PENDING) and delivered right after it starts.
 * - The channel is hostile: a framing or payload error, or a frame the host
 *   must not send (a second SPEC, any guest->host type), ends the session
 *   with -EPROTO. An out-of-range signal number is logged and ignored.
 * - Stdin backpressure: the channel is not read while more than
 *   SUPERVISE_STDIN_HIGH bytes wait for the container; output keeps flowing.
 * - When the main process exits, supervise_run() keeps forwarding its pipes
 *   until EOF or for SUPERVISE_GRACE_MS (orphans may hold them open), then
 *   returns the exit code (status, or 128+signal). The caller then kills
 *   what is left (supervise_kill_all) and forwards the output still in the
 *   pipes (supervise_drain). The kill is the caller's so that everything
 *   else here can run in a unit test, where kill(-1) would be a disaster.
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
#include "log.h"

#define SUPERVISE_CHUNK 4096
#define SUPERVISE_STDIN_HIGH (256 * 1024)
#define SUPERVISE_MAX_PENDING 32
#define SUPERVISE_GRACE_MS 100

struct supervisor {
	struct chan *ch;
	int sigfd;
	const struct log *log;
	bool chan_eof; /* the host side hung up: stop reading it */

	struct bytequeue stdin_q;
	bool stdin_eof;	   /* the host sent STDIN_EOF */
	bool stdin_closed; /* our write end is gone: later STDIN data is dropped */
	int stdin_fd;

	int pending[SUPERVISE_MAX_PENDING];
	size_t npending;

	pid_t pid; /* 0 until supervise_attach() */
	int out_fd, err_fd;
	bool exited;
	int wstatus;
	int64_t deadline_ms; /* end of the grace period, CLOCK_MONOTONIC */
};

void supervise_init(struct supervisor *s, struct chan *ch, int sigfd, const struct log *l);
void supervise_free(struct supervisor *s);

/* Read frames until SPEC and decode it into *spec (free with hcp_spec_free). */
int supervise_wait_spec(struct supervisor *s, struct hcp_spec *spec, struct errmsg *err);

/* Take over a started container (its fds now belong to s) and deliver the
 * signals queued before it existed. */
void supervise_attach(struct supervisor *s, const struct container_proc *p);

/* Serve until the container's main process is gone (see above). Returns its
 * exit code (>= 0) or -errno on a fatal channel/protocol error. Either way
 * other processes may still run. */
int supervise_run(struct supervisor *s, struct errmsg *err);

/* Forward what is left in the output pipes, up to EOF (or up to what is
 * there, if writers survive). Call after supervise_kill_all(). */
int supervise_drain(struct supervisor *s, struct errmsg *err);

/* SIGKILL every process but init and reap them all. */
void supervise_kill_all(void);

/* wait(2) status -> the exit code docker reports. */
int supervise_exit_code(int wstatus);

#endif
