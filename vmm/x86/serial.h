/* serial: a 16550A UART (the 8250 family Linux drives as ttyS*).
 *
 * Contract
 * - serial_io() is the bus handler for the 8 port registers; it runs on vCPU
 *   threads. Bytes the guest transmits go to `out` (called without the UART
 *   lock held, on the vCPU thread, in order).
 * - serial_input() queues host->guest bytes (thread-safe); the guest sees them
 *   as received data with a receive interrupt. The queue is bounded
 *   (SERIAL_RX_MAX); beyond that it returns -ENOBUFS and takes nothing.
 * - The interrupt line is edge-triggered: `irq` is called whenever the UART
 *   goes from "no interrupt pending" to "interrupt pending".
 * - Modelled: DLAB/divisor latch, IER, IIR with FIFO bits, FCR, LCR, MCR with
 *   loopback (Linux probes it), LSR, MSR, scratch. Not modelled: line errors,
 *   baud timing (transmission is instant).
 * - serial_save() appends the UART's state (registers and the rx queue) to
 *   a vmstate buffer; serial_restore() loads such a blob into a UART,
 *   checking it like untrusted input (unknown sections, wrong lengths, an rx
 *   queue over SERIAL_RX_MAX are -EINVAL and leave the UART unchanged). It
 *   raises no interrupt: a pending edge was already delivered to the
 *   interrupt controller, whose state is restored separately. */
#ifndef HULL_SERIAL_H
#define HULL_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/snapshot/vmstate.h"

#define SERIAL_RX_MAX (1u << 20)

struct serial;

typedef void (*serial_out_fn)(void *ctx, const uint8_t *buf, size_t n);

int serial_init(struct serial **out, serial_out_fn out_fn, void *out_ctx, void (*irq)(void *),
		void *irq_ctx);
void serial_free(struct serial *s);
void serial_io(void *s, uint64_t off, void *data, uint32_t len, bool write);
int serial_input(struct serial *s, const uint8_t *buf, size_t n);
int serial_save(struct serial *s, struct vmstate_buf *out);
int serial_restore(struct serial *s, const uint8_t *buf, size_t len, struct errmsg *err);

#endif
