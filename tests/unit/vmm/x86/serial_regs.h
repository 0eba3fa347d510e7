/* Register access helpers shared by the UART tests: byte-wide reads and
 * writes through the bus handler, and an interrupt counter. */
#ifndef HULL_TEST_SERIAL_REGS_H
#define HULL_TEST_SERIAL_REGS_H

#include <stdint.h>

#include "vmm/x86/serial.h"

static int irqs;

static inline void on_irq(void *ctx)
{
	(void)ctx;
	irqs++;
}

static inline uint8_t rd(struct serial *s, unsigned off)
{
	uint8_t v = 0xee;
	serial_io(s, off, &v, 1, false);
	return v;
}

static inline void wr(struct serial *s, unsigned off, uint8_t v)
{
	serial_io(s, off, &v, 1, true);
}

#endif
