/* session: the one event loop that runs a container process's hcp
 * conversation, for a container (its VM, its supervisor, guest-init's
 * control connection) and for an exec session (a connection to guest-init's
 * exec port) alike. Internal to the runtime; runtime.h is the API.
 *
 * Contract
 * - The owner fills the fields below, then session_run() polls: the VM's
 *   events and console (container), guest-init's connection (accepted from
 *   listen_fd, or given as q.fd), stdin (io->in_fd while the process takes
 *   input), the front end's event_fd, the supervisor's socket, and the stop
 *   and stdin-retry timers. It acts on control events (control.h): READY
 *   saves the template when the VM booted cold, attaches the image disk and
 *   sends the spec; STARTED is recorded by the supervisor; OUTPUT goes to
 *   io->output() and the container log; ERROR to io->diag().
 * - session_run(s, true) returns once the process started or the session
 *   ended; session_run(s, false) once it ended: the VM stopped (container),
 *   or the connection ended or failed (exec). Returns 0 or a poll error.
 * - A container whose guest never says READY (guest-init never came up: a
 *   broken kernel or initramfs, a guest stuck in boot) is given up after
 *   ready_timeout seconds: the VM is stopped and ready_expired set, so the
 *   owner reports it (runtime.c: exit status 125).
 * - Stdin: chunks of up to SESSION_CHUNK bytes as STDIN frames, then
 *   STDIN_EOF at end of file (or a read error). A container's session with
 *   stdin open and no io->in_fd reads hull attach's writer through the
 *   supervisor instead (supervisor_stdin_fd()), whose end is not the
 *   container's: no STDIN_EOF then. A chunk the transport
 *   refuses (full) is kept and retried every SESSION_RETRY_MS, and stdin is
 *   not read meanwhile.
 * - Everything runs on the caller's thread; no locks, no global state.
 */
#ifndef HULL_RUNTIME_SESSION_H
#define HULL_RUNTIME_SESSION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/control.h"
#include "runtime/outq.h"
#include "runtime/runtime.h"
#include "runtime/stop.h"
#include "runtime/supervisor.h"
#include "runtime/vmhost.h"

#define SESSION_CHUNK (16 * 1024)
#define SESSION_RETRY_MS 5
#define SESSION_CONSOLE_TAIL 8192
/* Seconds from the VM's spawn to guest-init's READY before the run gives up
 * (rt_config.ready_timeout 0): generous, because a cold boot on a loaded
 * host that emulates guest kernel mode was seen to take over ten minutes
 * (eight engineers booting VMs on two cores). */
#define SESSION_READY_TIMEOUT_S 1200

struct rt_session {
	struct control ctl;
	struct outq q;	/* frames to the guest; q.fd: the connection, -1 before it */
	int listen_fd;	/* container: guest-init connects here; exec: -1 */
	bool conn_done; /* the connection ended (exec: the session ended) */
	const struct rt_io *io;
	/* stdin */
	bool in_open, in_done, eof_sent;
	size_t in_len;
	uint8_t in_buf[SESSION_CHUNK];
	/* the stop sequence (rt_session_stop) */
	struct stop_seq stop;
	int stop_signo;
	unsigned stop_timeout;
	/* container only */
	const struct vmhost_ops *vm;
	void *vmh;
	bool vm_stopped;
	struct vmhost_event stopped;
	bool save_template; /* the VM booted cold: save a template at READY */
	const char *rootfs; /* attached as disk 0 at READY */
	struct supervisor *sup;
	int killed_by; /* the VM was stopped for this signal before an exit status */
	bool echo_console;
	char con[SESSION_CONSOLE_TAIL]; /* the console's last bytes */
	size_t con_pos;
	bool con_wrapped;
	struct rt_timings t;
	/* READY watchdog (container only): at ready_deadline (CLOCK_MONOTONIC
	 * ns, set when session_run first runs) without READY, the VM is stopped
	 * and ready_expired set; ready_timeout 0: no watchdog */
	unsigned ready_timeout;
	uint64_t ready_deadline;
	bool ready_expired;
};

/* listen_fd, q and vm fields unset (-1, NULL). */
void session_init(struct rt_session *s, const struct rt_io *io);
int session_run(struct rt_session *s, bool until_started);
/* Free what the session owns (the connection, the queue; not vm/sup). */
void session_free(struct rt_session *s);
/* "hull: ..." through io->diag. */
__attribute__((format(printf, 2, 3))) void session_diag(struct rt_session *s, const char *fmt, ...);
/* After the VM stopped without an exit status: the console's last bytes. */
void session_console_dump(struct rt_session *s);
/* The guest kernel's last panic line in the console's tail, its text after
 * "Kernel panic - not syncing: " up to the end of the line, into out (cap
 * bytes, NUL-terminated, control characters as '?'): 1, or 0 when the tail
 * has none. Guest bytes: data for a message, never trusted further. */
int session_console_panic(const struct rt_session *s, char *out, size_t cap);
/* The VM is to stop now; the process counts as killed by signo. */
void session_halt(struct rt_session *s, int signo);

#endif
