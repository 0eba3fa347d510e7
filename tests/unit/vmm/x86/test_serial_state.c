/* serial_save/serial_restore: the UART's registers and rx queue survive a
 * snapshot, and hostile blobs are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/x86/serial.h"
#include "serial_regs.h"

static struct serial *mk(void)
{
	struct serial *s;
	assert_int_equal(serial_init(&s, NULL, NULL, on_irq, NULL), 0);
	return s;
}

/* Every register the guest can read, without side effects on rx. */
static void regs(struct serial *s, uint8_t r[10])
{
	r[0] = rd(s, 1); /* IER */
	r[1] = rd(s, 3); /* LCR */
	r[2] = rd(s, 4); /* MCR */
	r[3] = rd(s, 5); /* LSR */
	r[4] = rd(s, 7); /* SCR */
	uint8_t lcr = rd(s, 3);
	wr(s, 3, lcr | 0x80);
	r[5] = rd(s, 0); /* DLL */
	r[6] = rd(s, 1); /* DLM */
	wr(s, 3, lcr);
	r[7] = rd(s, 2); /* IIR (may ack THRI: read on both sides alike) */
	r[8] = rd(s, 6); /* MSR (clears deltas: likewise) */
}

static void test_round_trip(void **st)
{
	(void)st;
	struct serial *a = mk();
	wr(a, 3, 0x80); /* DLAB */
	wr(a, 0, 0x03);
	wr(a, 1, 0x00);
	wr(a, 3, 0x1b); /* 8 bits, even parity */
	wr(a, 2, 0xc1); /* FIFO on */
	wr(a, 4, 0x0b); /* DTR RTS OUT2 */
	wr(a, 7, 0x42);
	wr(a, 1, 0x01); /* RDI */
	/* an rx queue that wraps in the ring: push, consume some, push more */
	uint8_t big[5000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(serial_input(a, big, 4000), 0);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(rd(a, 0), (uint8_t)(i * 7));
	assert_int_equal(serial_input(a, big + 4000, 1000), 0);

	struct vmstate_buf b;
	vmstate_buf_init(&b);
	assert_int_equal(serial_save(a, &b), 0);
	assert_int_equal(b.err, 0);

	struct serial *c = mk();
	irqs = 0;
	struct errmsg err = {{0}};
	if (serial_restore(c, b.data, b.len, &err))
		fail_msg("%s", err.text);
	assert_int_equal(irqs, 0); /* restore raises nothing */

	uint8_t ra[10] = {0}, rc[10] = {0};
	regs(a, ra);
	regs(c, rc);
	assert_memory_equal(ra, rc, sizeof(ra));
	assert_int_equal(rc[7] & 0x0f, 0x04); /* RDI pending: data waits */
	/* the rest of the queue, in order, then empty */
	for (int i = 3000; i < 5000; i++)
		assert_int_equal(rd(c, 0), (uint8_t)(i * 7));
	assert_int_equal(rd(c, 5) & 0x01, 0);
	/* and the restored UART keeps working */
	assert_int_equal(serial_input(c, (const uint8_t *)"z", 1), 0);
	assert_int_equal(rd(c, 0), 'z');
	vmstate_buf_free(&b);
	serial_free(a);
	serial_free(c);
}

static void test_empty_queue(void **st)
{
	(void)st;
	struct serial *a = mk(), *c = mk();
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	assert_int_equal(serial_save(a, &b), 0);
	assert_int_equal(serial_restore(c, b.data, b.len, NULL), 0);
	assert_int_equal(rd(c, 5) & 0x01, 0);
	assert_int_equal(serial_input(c, (const uint8_t *)"ab", 2), 0);
	assert_int_equal(rd(c, 0), 'a');
	assert_int_equal(rd(c, 0), 'b');
	vmstate_buf_free(&b);
	serial_free(a);
	serial_free(c);
}

static void test_refuses_hostile(void **st)
{
	(void)st;
	struct serial *a = mk(), *c = mk();
	assert_int_equal(serial_input(a, (const uint8_t *)"hello", 5), 0);
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	assert_int_equal(serial_save(a, &b), 0);
	struct errmsg err;
	/* every truncation */
	for (size_t cut = 0; cut < b.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b.data, cut);
		assert_int_equal(serial_restore(c, copy, cut, &err), -EINVAL);
		free(copy);
	}
	/* c is untouched by the failures */
	assert_int_equal(rd(c, 5) & 0x01, 0);

	/* unknown section */
	struct vmstate_buf x;
	vmstate_buf_init(&x);
	vmstate_buf_append(&x, b.data, b.len);
	vmstate_put(&x, VMSTATE_TAG('N', 'O', 'P', 'E'), "", 0);
	assert_int_equal(serial_restore(c, x.data, x.len, &err), -EINVAL);
	vmstate_buf_free(&x);

	/* register values no guest write can produce (IER high bits) */
	vmstate_buf_init(&x);
	vmstate_buf_append(&x, b.data, b.len);
	x.data[VMSTATE_HDR_LEN] = 0xff; /* first register byte: IER */
	assert_int_equal(serial_restore(c, x.data, x.len, &err), -EINVAL);
	vmstate_buf_free(&x);

	/* an rx queue over the limit */
	vmstate_buf_init(&x);
	uint8_t r[9] = {0};
	vmstate_put(&x, VMSTATE_TAG('U', 'A', 'R', 'T'), r, sizeof(r));
	uint8_t *huge = calloc(1, SERIAL_RX_MAX + 1);
	vmstate_put(&x, VMSTATE_TAG('U', 'R', 'X', 'Q'), huge, SERIAL_RX_MAX + 1);
	free(huge);
	assert_int_equal(serial_restore(c, x.data, x.len, &err), -EINVAL);
	vmstate_buf_free(&x);

	vmstate_buf_free(&b);
	serial_free(a);
	serial_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_empty_queue),
	    cmocka_unit_test(test_refuses_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
