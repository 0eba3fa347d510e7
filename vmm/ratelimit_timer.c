#include "ratelimit_timer.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/clock.h"

void ratelimit_timer_init(struct ratelimit_timer *t)
{
	*t = (struct ratelimit_timer){.fd = -1};
}

int ratelimit_timer_open(struct ratelimit_timer *t, struct evloop *loop, evloop_fn fn, void *ctx,
			 const char *what, struct errmsg *err)
{
	if (t->fd >= 0)
		return errmsg_set(err, -EALREADY, "%s: limits are set already", what);
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return errmsg_set(err, -errno, "%s: timerfd: %s", what, strerror(errno));
	int rc = evloop_add(loop, fd, EPOLLIN, fn, ctx);
	if (rc) {
		close(fd);
		return errmsg_set(err, rc, "%s: event loop: %s", what, strerror(-rc));
	}
	t->fd = fd;
	t->loop = loop;
	return 0;
}

void ratelimit_timer_close(struct ratelimit_timer *t)
{
	if (t->fd < 0)
		return;
	evloop_del(t->loop, t->fd);
	close(t->fd);
	t->fd = -1;
}

void ratelimit_timer_arm(struct ratelimit_timer *t, uint64_t ns)
{
	if (ns == 0)
		ns = 1; /* 0 would disarm it */
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(ns / 1000000000ull),
					      .tv_nsec = (long)(ns % 1000000000ull)}};
	timerfd_settime(t->fd, 0, &its, NULL);
}

bool ratelimit_timer_ack(int fd)
{
	uint64_t n;
	return read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n);
}

bool ratelimit_timer_admit(struct ratelimit_timer *t, struct ratelimit *r, uint64_t n)
{
	uint64_t now = clock_now_ns();
	if (ratelimit_take(r, n, now))
		return true;
	ratelimit_timer_arm(t, ratelimit_wait_ns(r, n, now));
	return false;
}
