#include "evloop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVLOOP_MAX 64

struct handler {
	int fd;
	evloop_fn fn;
	void *ctx;
};

struct evloop {
	int epfd;
	int stopfd;
	atomic_bool stop;
	struct handler h[EVLOOP_MAX];
};

int evloop_init(struct evloop **out)
{
	struct evloop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (int i = 0; i < EVLOOP_MAX; i++)
		l->h[i].fd = -1;
	if (l->epfd < 0 || l->stopfd < 0) {
		int rc = -errno;
		evloop_free(l);
		return rc;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev) < 0) {
		int rc = -errno;
		evloop_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	free(l);
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *ctx)
{
	for (int i = 0; i < EVLOOP_MAX; i++) {
		if (l->h[i].fd != -1)
			continue;
		l->h[i] = (struct handler){.fd = fd, .fn = fn, .ctx = ctx};
		struct epoll_event ev = {.events = events, .data.ptr = &l->h[i]};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			l->h[i].fd = -1;
			return -errno;
		}
		return 0;
	}
	return -ENOSPC;
}

static struct handler *find(struct evloop *l, int fd)
{
	for (int i = 0; i < EVLOOP_MAX; i++)
		if (l->h[i].fd == fd)
			return &l->h[i];
	return NULL;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct handler *h = fd >= 0 ? find(l, fd) : NULL;
	if (!h)
		return -ENOENT;
	struct epoll_event ev = {.events = events, .data.ptr = h};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int evloop_del(struct evloop *l, int fd)
{
	struct handler *h = fd >= 0 ? find(l, fd) : NULL;
	if (!h)
		return -ENOENT;
	int rc = epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
	/* events already fetched by this epoll_wait round for fd are skipped:
	 * evloop_run() checks h->fd before calling */
	h->fd = -1;
	return rc;
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[16];
	while (!atomic_load(&l->stop)) {
		int n = epoll_wait(l->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !atomic_load(&l->stop); i++) {
			struct handler *h = evs[i].data.ptr;
			if (!h || h->fd < 0)
				continue;
			h->fn(h->ctx, h->fd, evs[i].events);
		}
	}
	return 0;
}

int evloop_poll(struct evloop *l)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->epfd, evs, 16, 0);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct handler *h = evs[i].data.ptr;
		if (h && h->fd >= 0)
			h->fn(h->ctx, h->fd, evs[i].events);
	}
	return n;
}

void evloop_stop(struct evloop *l)
{
	atomic_store(&l->stop, true);
	uint64_t one = 1;
	ssize_t r = write(l->stopfd, &one, sizeof(one));
	(void)r; /* a full counter already wakes the loop */
}
