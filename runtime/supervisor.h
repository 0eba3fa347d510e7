/* supervisor: the hull process that runs one container's VM and holds its
 * hcp session, as the rest of hull sees it (the foreground `hull run`
 * process, or its forked child with -d). Its pid is recorded as the state's
 * monitor_pid and its control socket is monitor.sock: names users and
 * scripts already read. "Monitor" now means the VM monitor, hull-vmm.
 *
 * Contract
 * - supervisor_create() registers the container under the runtime root
 *   (runtime/state.h) with this process as its supervisor, status created,
 *   or (info.claim, hull start) takes over an existing one that does not
 *   run; its log goes on where the last run left it.
 * - supervisor_detach() (hull run -d) forks the supervisor: it starts a new
 *   session, its stdin/stdout go to /dev/null and its stderr to the parent
 *   until the container started (so start errors reach the user), /dev/null
 *   after. The parent waits for the start and returns the exit status hull
 *   run -d ends with: 0 after printing the id, or the start failure's
 *   status (the container's 125/126/127, else 125) after relaying its
 *   messages and reaping the supervisor; then nothing of it runs any more.
 * - supervisor_listen() serves <dir>/monitor.sock; supervisor_fd() becomes
 *   readable when supervisor_dispatch() has work (a request, a stop
 *   deadline); both run on the session's thread (runtime/session.h), which
 *   is where the ops are called. Requests are one line, answered with "ok\n" or
 *   "error TEXT\n":
 *     stop SECS   the stop signal now; SIGKILL after SECS (-1: the
 *                 container's stop timeout); the VM is halted 5 s after that
 *                 if it still runs
 *     kill SIG    signal SIG now
 *     attach      (no argument) take the container's stdin: after "ok\n"
 *                 the connection carries runtime/attach_conn.h's frames
 *                 (stdin bytes, window sizes) until the client closes it.
 *                 One writer at a time: refused ("error ...") while another
 *                 client holds it, for a container not run with -i, and
 *                 for one whose stdin is its foreground hull run's own
 *                 (supervisor_stdin_attachable() not called). Bytes after
 *                 the request line are refused, not taken as frames.
 *     stats       "ok " and the container's stats line (runtime/ctrstats.h),
 *                 from ops->stats
 *   A signal before the container runs halts the VM instead (its status is
 *   then 128+SIG), as hull run does with its own signals. A request line is
 *   read as its bytes arrive, from the event loop (never a blocking read: a
 *   client descheduled between connect and write is answered when it
 *   writes); up to 8 clients wait at once, a ninth drops the oldest. Replies
 *   and client requests use MSG_NOSIGNAL: a peer gone away costs neither
 *   side its life (a detached supervisor also ignores SIGPIPE).
 * - The attached writer: supervisor_stdin_fd() is its connection (-1: none),
 *   which the session polls only while it can take stdin;
 *   supervisor_stdin_read() then reads it (a RESIZE goes to ops->resize; a
 *   hangup or a bad frame drops the writer, and the container's stdin stays
 *   open for the next one).
 * - supervisor_started() records the start at once (status running; with
 *   -d the waiting parent learns it), supervisor_output() appends to the
 *   container log (ctrlog.h); both on the session's thread.
 * - supervisor_finish() records the end (status exited, exit code, finish
 *   time; error when hull failed it), removes the directory with --rm,
 *   closes the socket and frees the supervisor.
 * - Clients: supervisor_call() sends one request to a container's supervisor,
 *   supervisor_wait() waits until its process is gone. */
#ifndef HULL_RUNTIME_SUPERVISOR_H
#define HULL_RUNTIME_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/ctrlog.h"
#include "runtime/ctrstats.h"
#include "runtime/state.h"
#include "common/errmsg.h"

#define SUPERVISOR_HALT_GRACE_S 5

struct supervisor_ops {
	/* forward signo to the container: 0, or -EAGAIN when it does not run */
	int (*signal)(void *ctx, int signo);
	/* stop the VM now; the container counts as killed by signo */
	void (*halt)(void *ctx, int signo);
	/* the attached client's terminal size (a TTY container) */
	void (*resize)(void *ctx, uint16_t rows, uint16_t cols);
	/* one sample of the VM's figures: 0, or -errno (the VM ended) */
	int (*stats)(void *ctx, struct ctrstats *out);
};

struct supervisor_info {
	const char *name; /* NULL: generated */
	const char *image, *digest;
	char *const *cmd;
	size_t n_cmd;
	int stop_signal;
	int stop_timeout;
	bool auto_remove;
	const struct ctrlog_opts *log; /* the log's cap; NULL: the defaults */
	/* what inspect and ps show of its configuration (copied); may be NULL */
	const struct runtime_config *config;
	char *const *args; /* the front end's arguments (runtime_state.args) */
	size_t n_args;
	/* hull start: take over this existing container (name, id or prefix;
	 * runtime_claim()) instead of registering a new one; the fields above
	 * are then the record's, not these */
	const char *claim;
};

struct supervisor;

int supervisor_create(const struct supervisor_info *in, struct supervisor **out,
		      struct errmsg *err);
/* hull create: register the container with no supervisor (monitor_pid 0,
 * status created; hull start claims it later) and an empty log. Fills s
 * (free with runtime_state_free()). in->claim must be NULL. */
int supervisor_register(const struct supervisor_info *in, struct runtime_state *s,
			struct errmsg *err);
/* True in the parent (*status set, *m released), false in the supervisor. */
bool supervisor_detach(struct supervisor **m, int *status);
/* The container as registered (its id, directory, socket paths). */
const struct runtime_state *supervisor_state(const struct supervisor *m);
int supervisor_listen(struct supervisor *m, const struct supervisor_ops *ops, void *ctx,
		      struct errmsg *err);
int supervisor_fd(const struct supervisor *m);
/* The container's stdin is open and no process of its own feeds it (hull
 * run -d -i; hull start of such a container): attach requests may take it. */
void supervisor_stdin_attachable(struct supervisor *m);
int supervisor_stdin_fd(const struct supervisor *m);
/* Up to cap stdin bytes from the attached writer into buf: n > 0, or 0 (none
 * now, a resize, or the writer went away). */
size_t supervisor_stdin_read(struct supervisor *m, uint8_t *buf, size_t cap);
void supervisor_dispatch(struct supervisor *m);
void supervisor_started(struct supervisor *m);
void supervisor_output(struct supervisor *m, int stream, const uint8_t *buf, size_t n);
/* status: the container's exit status; started: whether it ever ran. */
void supervisor_finish(struct supervisor *m, bool started, int status, const char *error);

/* Send req ("stop 10", "kill 9") to s's supervisor; 0, or -errno with err. */
int supervisor_call(const struct runtime_state *s, const char *req, struct errmsg *err);
/* Attach to s's stdin (the "attach" request): *fd is the connection to
 * write attach_conn frames to (blocking), closed by the caller. 0, or
 * -errno with err (the supervisor's refusal in its words). */
int supervisor_attach(const struct runtime_state *s, int *fd, struct errmsg *err);
/* Ask s's supervisor for one stats sample ("stats"), parsed strictly
 * (ctrstats_parse). 0, or -errno with err. */
int supervisor_stats(const struct runtime_state *s, struct ctrstats *out, struct errmsg *err);
/* Wait until s's supervisor process has exited (timeout_ms < 0: no limit).
 * Returns 0, or -ETIMEDOUT. */
int supervisor_wait(const struct runtime_state *s, int timeout_ms);

#endif
