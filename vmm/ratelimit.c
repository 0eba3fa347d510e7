#include "ratelimit.h"

#define NS 1000000000ull

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t now_ns)
{
	/* one second's worth, capped far from int64 overflow */
	uint64_t cap = rate < 1 ? 1 : rate > (1ull << 50) ? 1ull << 50 : rate;
	*b = (struct tbucket){.rate = rate, .cap = cap, .budget = (int64_t)cap, .last_ns = now_ns};
}

static void refill(struct tbucket *b, uint64_t now_ns)
{
	if (now_ns <= b->last_ns)
		return;
	unsigned __int128 acc = (unsigned __int128)(now_ns - b->last_ns) * b->rate + b->frac;
	b->last_ns = now_ns;
	unsigned __int128 add = acc / NS;
	b->frac = (uint64_t)(acc % NS);
	if (add >= (unsigned __int128)((int64_t)b->cap - b->budget)) {
		b->budget = (int64_t)b->cap;
		b->frac = 0; /* a full bucket keeps no change */
	} else {
		b->budget += (int64_t)add;
	}
}

static int64_t need(const struct tbucket *b, uint64_t n)
{
	return (int64_t)(n < b->cap ? n : b->cap);
}

bool tbucket_take(struct tbucket *b, uint64_t n, uint64_t now_ns)
{
	if (!b->rate)
		return true;
	refill(b, now_ns);
	if (b->budget < need(b, n))
		return false;
	/* the debt of an oversized request is bounded by the request */
	uint64_t cost = n > (1ull << 62) ? 1ull << 62 : n;
	b->budget -= (int64_t)cost;
	return true;
}

uint64_t tbucket_wait_ns(struct tbucket *b, uint64_t n, uint64_t now_ns)
{
	if (!b->rate)
		return 0;
	refill(b, now_ns);
	int64_t missing = need(b, n) - b->budget;
	if (missing <= 0)
		return 0;
	unsigned __int128 t = (unsigned __int128)missing * NS - b->frac;
	t = (t + b->rate - 1) / b->rate;
	return t > (unsigned __int128)UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

void ratelimit_init(struct ratelimit *r, uint64_t bytes_per_s, uint64_t ops_per_s, uint64_t now_ns)
{
	tbucket_init(&r->bytes, bytes_per_s, now_ns);
	tbucket_init(&r->ops, ops_per_s, now_ns);
}

bool ratelimit_on(const struct ratelimit *r)
{
	return r->bytes.rate || r->ops.rate;
}

bool ratelimit_take(struct ratelimit *r, uint64_t n, uint64_t now_ns)
{
	if (tbucket_wait_ns(&r->bytes, n, now_ns) || tbucket_wait_ns(&r->ops, 1, now_ns))
		return false;
	tbucket_take(&r->bytes, n, now_ns);
	tbucket_take(&r->ops, 1, now_ns);
	return true;
}

uint64_t ratelimit_wait_ns(struct ratelimit *r, uint64_t n, uint64_t now_ns)
{
	uint64_t a = tbucket_wait_ns(&r->bytes, n, now_ns), b = tbucket_wait_ns(&r->ops, 1, now_ns);
	return a > b ? a : b;
}
