/* ratelimit_timer: the wake-up of a device that a token bucket
 * (vmm/ratelimit.h) throttles: one timerfd on the device's event loop.
 *
 * Contract
 * - A device that a bucket refuses gives the work back (the chain to its
 *   ring, the frame to its backlog), arms the timer for when the bucket will
 *   hold enough (ratelimit_timer_admit) and waits; the handler (the fn given
 *   at open, on the loop thread) acknowledges the expiry with
 *   ratelimit_timer_ack() and serves the queue again. No polling, no spin:
 *   until the timer fires the device does nothing for that queue.
 * - open: before the guest runs (timerfd_create is not allowed under the
 *   monitor's seccomp filters); arm/admit: on the loop thread (the devices
 *   role may call timerfd_settime; vCPU threads may not). One-shot; arming
 *   again replaces the previous deadline.
 * - close: deregisters from the loop and closes the fd; idempotent, also on
 *   a timer never opened (after ratelimit_timer_init).
 * - Not thread-safe itself: the device's lock covers the bucket and the arm.
 */
#ifndef HULL_VMM_RATELIMIT_TIMER_H
#define HULL_VMM_RATELIMIT_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/evloop.h"
#include "vmm/ratelimit.h"

struct ratelimit_timer {
	int fd; /* -1: not open */
	struct evloop *loop;
};

void ratelimit_timer_init(struct ratelimit_timer *t);
/* what names the device in err ("disk", "network"). 0 or -errno. */
int ratelimit_timer_open(struct ratelimit_timer *t, struct evloop *loop, evloop_fn fn, void *ctx,
			 const char *what, struct errmsg *err);
void ratelimit_timer_close(struct ratelimit_timer *t);
/* Fire once, in ns nanoseconds (at least 1). */
void ratelimit_timer_arm(struct ratelimit_timer *t, uint64_t ns);
/* In the handler: true when the timer expired (false: a spurious wake-up). */
bool ratelimit_timer_ack(int fd);
/* One operation of n bytes against r at CLOCK_MONOTONIC now: true when r
 * lets it through (and charged it); false when it must wait, with t armed
 * for the moment it may pass. */
bool ratelimit_timer_admit(struct ratelimit_timer *t, struct ratelimit *r, uint64_t n);

#endif
