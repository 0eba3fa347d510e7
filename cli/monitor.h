/* monitor: the hull process that runs one container's VM, as the rest of
 * hull sees it.
 *
 * Contract
 * - monitor_create() registers the container under the runtime root
 *   (runtime.h) with this process as its monitor, status created.
 * - monitor_detach() (hull run -d) forks the monitor: it starts a new
 *   session, its stdin/stdout go to /dev/null and its stderr to the parent
 *   until the container started (so start errors reach the user), /dev/null
 *   after. The parent waits for the start and returns the exit status hull
 *   run -d ends with: 0 after printing the id, or the start failure's
 *   status (the container's 125/126/127, else 125) after relaying its
 *   messages and reaping the monitor; then nothing of it runs any more.
 * - monitor_listen() serves <dir>/monitor.sock; monitor_fd() becomes
 *   readable when monitor_dispatch() has work (a request, the start, a stop
 *   deadline); both run on the caller's control thread, which is where the
 *   ops are called. Requests are one line, answered with "ok\n" or
 *   "error TEXT\n":
 *     stop SECS   the stop signal now; SIGKILL after SECS (-1: the
 *                 container's stop timeout); the VM is halted 5 s after that
 *                 if it still runs
 *     kill SIG    signal SIG now
 *   A signal before the container runs halts the VM instead (its status is
 *   then 128+SIG), as hull run does with its own signals.
 * - monitor_started() and monitor_output() may be called on any thread:
 *   the start is recorded on the control thread (status running), output
 *   is appended to the container log (ctrlog.h).
 * - monitor_finish() records the end (status exited, exit code, finish
 *   time; error when hull failed it), removes the directory with --rm,
 *   closes the socket and frees the monitor.
 * - Clients: monitor_call() sends one request to a container's monitor,
 *   monitor_wait() waits until its process is gone. */
#ifndef HULL_CLI_MONITOR_H
#define HULL_CLI_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/runtime.h"
#include "common/errmsg.h"

#define MONITOR_HALT_GRACE_S 5

struct monitor_ops {
	/* forward signo to the container: 0, or -EAGAIN when it does not run */
	int (*signal)(void *ctx, int signo);
	/* stop the VM now; the container counts as killed by signo */
	void (*halt)(void *ctx, int signo);
};

struct monitor_info {
	const char *name; /* NULL: generated */
	const char *image, *digest;
	char *const *cmd;
	size_t n_cmd;
	int stop_signal;
	int stop_timeout;
	bool auto_remove;
};

struct monitor;

int monitor_create(const struct monitor_info *in, struct monitor **out, struct errmsg *err);
/* True in the parent (*status set, *m released), false in the monitor. */
bool monitor_detach(struct monitor **m, int *status);
/* The container as registered (its id, directory, socket paths). */
const struct runtime_state *monitor_state(const struct monitor *m);
int monitor_listen(struct monitor *m, const struct monitor_ops *ops, void *ctx,
		   struct errmsg *err);
int monitor_fd(const struct monitor *m);
void monitor_dispatch(struct monitor *m);
void monitor_started(struct monitor *m);
void monitor_output(struct monitor *m, int stream, const uint8_t *buf, size_t n);
/* status: the container's exit status; started: whether it ever ran. */
void monitor_finish(struct monitor *m, bool started, int status, const char *error);

/* Send req ("stop 10", "kill 9") to s's monitor; 0, or -errno with err. */
int monitor_call(const struct runtime_state *s, const char *req, struct errmsg *err);
/* Wait until s's monitor process has exited (timeout_ms < 0: no limit).
 * Returns 0, or -ETIMEDOUT. */
int monitor_wait(const struct runtime_state *s, int timeout_ms);

#endif
