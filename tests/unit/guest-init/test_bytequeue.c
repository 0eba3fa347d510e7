/* bytequeue: FIFO order, growth and reuse of storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "guest-init/bytequeue.h"

static void test_fifo(void **state)
{
	struct bytequeue q;
	const uint8_t *p;
	size_t n;
	(void)state;

	bytequeue_init(&q);
	assert_int_equal(bytequeue_len(&q), 0);
	assert_null(bytequeue_peek(&q, &n));
	assert_int_equal(n, 0);
	assert_int_equal(bytequeue_push(&q, "hello ", 6), 0);
	assert_int_equal(bytequeue_push(&q, "world", 5), 0);
	assert_int_equal(bytequeue_push(&q, "", 0), 0);
	p = bytequeue_peek(&q, &n);
	assert_int_equal(n, 11);
	assert_memory_equal(p, "hello world", 11);
	bytequeue_pop(&q, 6);
	p = bytequeue_peek(&q, &n);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "world", 5);
	bytequeue_pop(&q, 100); /* more than queued: empties */
	assert_int_equal(bytequeue_len(&q), 0);
	bytequeue_free(&q);
}

static void test_growth_and_slide(void **state)
{
	static uint8_t big[20000];
	struct bytequeue q;
	const uint8_t *p;
	size_t n, cap;
	(void)state;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	bytequeue_init(&q);
	assert_int_equal(bytequeue_push(&q, big, sizeof(big)), 0);
	p = bytequeue_peek(&q, &n);
	assert_int_equal(n, sizeof(big));
	assert_memory_equal(p, big, sizeof(big));

	/* consume most of it, then push again: storage is reused, order kept */
	bytequeue_pop(&q, 19000);
	cap = q.cap;
	assert_int_equal(bytequeue_push(&q, big, 5000), 0);
	assert_int_equal(q.cap, cap);
	p = bytequeue_peek(&q, &n);
	assert_int_equal(n, 6000);
	assert_memory_equal(p, big + 19000, 1000);
	assert_memory_equal(p + 1000, big, 5000);

	bytequeue_clear(&q);
	assert_int_equal(bytequeue_len(&q), 0);
	assert_int_equal(bytequeue_push(&q, "x", 1), 0);
	p = bytequeue_peek(&q, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 'x');
	bytequeue_free(&q);
	assert_null(q.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fifo),
	    cmocka_unit_test(test_growth_and_slide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
