/* evloop: the device/event thread's loop (epoll).
 *
 * Contract: handlers are registered before evloop_run() starts or from
 * handlers themselves; they run on the loop thread, one at a time.
 * evloop_stop() may be called from any thread and makes evloop_run() return
 * after the handler in progress. */
#ifndef HULL_EVLOOP_H
#define HULL_EVLOOP_H

#include <stdint.h>

struct evloop;
typedef void (*evloop_fn)(void *ctx, int fd, uint32_t events);

int evloop_init(struct evloop **out);
void evloop_free(struct evloop *l);
/* events: EPOLLIN etc. Returns 0 or -errno. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *ctx);
/* Change the events fd is watched for, or stop watching it (from the loop
 * thread, or before evloop_run()). Both return 0 or -errno (-ENOENT: not
 * registered). The caller still owns and closes fd, after evloop_del(). */
int evloop_mod(struct evloop *l, int fd, uint32_t events);
int evloop_del(struct evloop *l, int fd);
int evloop_run(struct evloop *l);
/* Serve the handlers whose fds are ready now, once each, without waiting
 * (for tests and fuzz harnesses, which drive the loop step by step on their
 * own thread). Returns the number of events served or -errno. */
int evloop_poll(struct evloop *l);
void evloop_stop(struct evloop *l);

#endif
