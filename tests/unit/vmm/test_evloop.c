/* evloop: evloop_poll() serves what is ready now, once, and never waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/evloop.h"

struct seen {
	int fd;
	unsigned calls;
};

static void on_ready(void *ctx, int fd, uint32_t events)
{
	struct seen *s = ctx;
	assert_int_equal(fd, s->fd);
	assert_true(events & EPOLLIN);
	uint64_t v;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	s->calls++;
}

static void test_poll_serves_ready_once(void **state)
{
	(void)state;
	struct evloop *l;
	assert_int_equal(evloop_init(&l), 0);
	struct seen s = {.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
	assert_true(s.fd >= 0);
	assert_int_equal(evloop_add(l, s.fd, EPOLLIN, on_ready, &s), 0);

	/* nothing ready: returns at once */
	assert_int_equal(evloop_poll(l), 0);
	assert_int_equal(s.calls, 0);

	uint64_t one = 1;
	assert_int_equal(write(s.fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(evloop_poll(l), 1);
	assert_int_equal(s.calls, 1);
	/* the handler drained it: nothing more */
	assert_int_equal(evloop_poll(l), 0);
	assert_int_equal(s.calls, 1);

	assert_int_equal(evloop_del(l, s.fd), 0);
	close(s.fd);
	evloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_poll_serves_ready_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
