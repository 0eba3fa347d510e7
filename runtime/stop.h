/* stop: stopping a container the way `docker stop` does.
 *
 * Contract
 * - The stop sequence: send the stop signal; if the container has not exited
 *   after the stop timeout, send SIGKILL (which nothing survives). A timeout
 *   of 0 kills right after the signal.
 * - The stop signal is `--stop-signal`, else the image's StopSignal, else
 *   SIGTERM; stop_signal_parse() reads docker's spellings: "SIGTERM",
 *   "TERM", any case, or a number 1..64.
 * - Two forms of the same sequence: struct stop_seq is a timer for callers
 *   with their own event loop (hull run), stop_run() is the blocking one for
 *   callers that only wait (`hull stop`), over caller-supplied operations.
 * - Pure logic apart from what the operations do; no global state.
 */
#ifndef HULL_RUNTIME_STOP_H
#define HULL_RUNTIME_STOP_H

#include <stdbool.h>
#include <stdint.h>

#define STOP_DEFAULT_TIMEOUT_S 10
#define STOP_MAX_TIMEOUT_S 86400

/* Returns 0 and *signo, or -EINVAL. */
int stop_signal_parse(const char *s, int *signo);
/* Seconds, 0..STOP_MAX_TIMEOUT_S. Returns 0 or -EINVAL. */
int stop_timeout_parse(const char *s, unsigned *seconds);
/* The stop signal: cli_value if given, else image_value if it parses,
 * else SIGTERM. Returns 0, or -EINVAL when cli_value does not parse. */
int stop_signal_pick(const char *cli_value, const char *image_value, int *signo);

struct stop_seq {
	bool armed;  /* the stop signal went out */
	bool killed; /* SIGKILL went out */
	uint64_t deadline_ns;
};

/* The stop signal was sent at now_ns: start the timer (once; later calls
 * keep the first deadline). */
void stop_arm(struct stop_seq *q, uint64_t now_ns, unsigned timeout_s);
/* Milliseconds until SIGKILL is due (rounded up), or -1 when no timer runs. */
int stop_timeout_ms(const struct stop_seq *q, uint64_t now_ns);
/* True exactly once, when the deadline has passed: send SIGKILL now. */
bool stop_kill_due(struct stop_seq *q, uint64_t now_ns);

struct stop_ops {
	int (*signal)(void *ctx, int signo); /* 0 or -errno */
	/* 0: the container exited; -ETIMEDOUT: not within timeout_ms; -errno */
	int (*wait_exit)(void *ctx, int timeout_ms);
};

/* The whole sequence. Returns 0 when the container exited after the stop
 * signal, 1 when it had to be killed, or -errno from an operation. */
int stop_run(const struct stop_ops *ops, void *ctx, int signo, unsigned timeout_s);

#endif
