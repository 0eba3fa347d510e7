/* ratelimit: token buckets for a device's I/O, as Firecracker's rate limiter
 * has them: one bucket for bytes, one for operations.
 *
 * Contract
 * - A bucket refills at `rate` tokens per second up to a capacity of one
 *   second's worth (at least 1); it starts full. rate 0: unlimited (every
 *   take succeeds, nothing is counted).
 * - tbucket_take(n) succeeds when the budget holds min(n, capacity): a
 *   request larger than the whole bucket is let through when the bucket is
 *   full and leaves a debt (negative budget) that the refill pays back
 *   before anything else passes, so the long-run rate holds for any request
 *   size. Refills keep the fractions of tokens (no drift at any polling
 *   frequency). Time is the caller's (CLOCK_MONOTONIC ns, non-decreasing).
 * - tbucket_wait_ns(n): nanoseconds until tbucket_take(n) would succeed
 *   (0: now); a device arms its timer with it.
 * - ratelimit: both buckets, taken together or not at all.
 * - Plain data, no locks, no allocation: the device's lock covers it.
 */
#ifndef HULL_VMM_RATELIMIT_H
#define HULL_VMM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct tbucket {
	uint64_t rate; /* tokens per second; 0: unlimited */
	uint64_t cap;
	int64_t budget;
	uint64_t frac; /* token fractions, in token-nanoseconds (< 1e9) */
	uint64_t last_ns;
};

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t now_ns);
bool tbucket_take(struct tbucket *b, uint64_t n, uint64_t now_ns);
uint64_t tbucket_wait_ns(struct tbucket *b, uint64_t n, uint64_t now_ns);

struct ratelimit {
	struct tbucket bytes, ops;
};

void ratelimit_init(struct ratelimit *r, uint64_t bytes_per_s, uint64_t ops_per_s, uint64_t now_ns);
bool ratelimit_on(const struct ratelimit *r);
/* One operation of n bytes: both buckets pay, or neither. */
bool ratelimit_take(struct ratelimit *r, uint64_t n, uint64_t now_ns);
uint64_t ratelimit_wait_ns(struct ratelimit *r, uint64_t n, uint64_t now_ns);

#endif
