/* serial: the 16550A register file as Linux's 8250 driver uses it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86/serial.h"
#include "serial_regs.h"

static uint8_t out[256];
static size_t out_len;

static void on_out(void *ctx, const uint8_t *b, size_t n)
{
	(void)ctx;
	memcpy(out + out_len, b, n);
	out_len += n;
}

static struct serial *mk(void)
{
	struct serial *s;
	out_len = 0;
	irqs = 0;
	assert_int_equal(serial_init(&s, on_out, NULL, on_irq, NULL), 0);
	return s;
}

static void test_tx_and_lsr(void **st)
{
	(void)st;
	struct serial *s = mk();
	assert_int_equal(rd(s, 5) & 0x60, 0x60); /* THRE|TEMT */
	wr(s, 0, 'h');
	wr(s, 0, 'i');
	assert_int_equal(out_len, 2);
	assert_memory_equal(out, "hi", 2);
	assert_int_equal(irqs, 0); /* no interrupts enabled */
	serial_free(s);
}

static void test_dlab(void **st)
{
	(void)st;
	struct serial *s = mk();
	wr(s, 3, 0x80);
	wr(s, 0, 0x01);
	wr(s, 1, 0x02);
	assert_int_equal(rd(s, 0), 0x01);
	assert_int_equal(rd(s, 1), 0x02);
	assert_int_equal(out_len, 0); /* divisor writes are not data */
	wr(s, 3, 0x03);
	assert_int_equal(rd(s, 1), 0); /* IER untouched */
	serial_free(s);
}

static void test_loopback_probe(void **st)
{
	(void)st;
	struct serial *s = mk();
	/* what serial8250 autoconfig checks */
	wr(s, 4, 0x10 | 0x0a);
	assert_int_equal(rd(s, 6) & 0xf0, 0x90);
	wr(s, 0, 'x'); /* loops back, not out */
	assert_int_equal(out_len, 0);
	assert_true(rd(s, 5) & 1);
	assert_int_equal(rd(s, 0), 'x');
	assert_false(rd(s, 5) & 1);
	wr(s, 4, 0x08);
	serial_free(s);
}

static void test_thri(void **st)
{
	(void)st;
	struct serial *s = mk();
	wr(s, 2, 0x01);			  /* FIFO on */
	assert_int_equal(rd(s, 2), 0xc1); /* no interrupt, FIFO bits */
	wr(s, 1, 0x02);			  /* enable THRI with THR empty: pending at once */
	assert_int_equal(irqs, 1);
	assert_int_equal(rd(s, 2) & 0x0f, 0x02);
	assert_int_equal(rd(s, 2) & 0x0f, 0x01); /* reading IIR acknowledged it */
	wr(s, 0, 'a');				 /* transmit: THRE again */
	assert_int_equal(irqs, 2);
	assert_int_equal(rd(s, 2) & 0x0f, 0x02);
	serial_free(s);
}

static void test_rx(void **st)
{
	(void)st;
	struct serial *s = mk();
	wr(s, 1, 0x01); /* RDI */
	assert_int_equal(irqs, 0);
	assert_int_equal(serial_input(s, (const uint8_t *)"abc", 3), 0);
	assert_int_equal(irqs, 1);
	assert_int_equal(serial_input(s, (const uint8_t *)"d", 1), 0);
	assert_int_equal(irqs, 1); /* still pending: no new edge */
	assert_int_equal(rd(s, 2) & 0x0f, 0x04);
	char got[4];
	for (int i = 0; i < 4; i++) {
		assert_true(rd(s, 5) & 1);
		got[i] = (char)rd(s, 0);
	}
	assert_memory_equal(got, "abcd", 4);
	assert_false(rd(s, 5) & 1);
	assert_int_equal(rd(s, 2) & 0x0f, 0x01);
	assert_int_equal(rd(s, 0), 0); /* empty reads 0 */
	/* FCR clears the receive FIFO */
	serial_input(s, (const uint8_t *)"zz", 2);
	wr(s, 2, 0x03);
	assert_false(rd(s, 5) & 1);
	serial_free(s);
}

static void test_rx_bounded_and_growing(void **st)
{
	(void)st;
	struct serial *s = mk();
	static uint8_t big[SERIAL_RX_MAX];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	/* grow in uneven steps, wrapping the ring */
	assert_int_equal(serial_input(s, big, 3000), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rd(s, 0), (uint8_t)i);
	assert_int_equal(serial_input(s, big + 3000, 10000), 0);
	for (int i = 1000; i < 13000; i++)
		assert_int_equal(rd(s, 0), (uint8_t)i);
	assert_int_equal(serial_input(s, big, sizeof(big)), 0);
	assert_int_equal(serial_input(s, big, 1), -ENOBUFS);
	serial_free(s);
}

static void test_odd_width(void **st)
{
	(void)st;
	struct serial *s = mk();
	uint32_t v = 0xffffffff;
	serial_io(s, 0, &v, 4, false);
	assert_int_equal(v, 0);
	v = 'q';
	serial_io(s, 0, &v, 2, true);
	assert_int_equal(out_len, 0);
	serial_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tx_and_lsr),
	    cmocka_unit_test(test_dlab),
	    cmocka_unit_test(test_loopback_probe),
	    cmocka_unit_test(test_thri),
	    cmocka_unit_test(test_rx),
	    cmocka_unit_test(test_rx_bounded_and_growing),
	    cmocka_unit_test(test_odd_width),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
