/* i8042: just enough of the PC keyboard controller for a guest to reset the
 * machine. Linux with `reboot=k` writes 0xFE (pulse reset line) to port 0x64;
 * that is hull's "guest is done" signal (there is no ACPI, so poweroff would
 * only halt the CPU). Reads report an idle controller (status 0: no data, input
 * buffer empty) so the kernel's wait loops end at once.
 *
 * Contract: i8042_io() is a bus handler for ports 0x60..0x64 (base 0x60,
 * length 5); `reset` is called on the vCPU thread that wrote the command. */
#ifndef HULL_I8042_H
#define HULL_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_BASE 0x60
#define I8042_LEN 5

struct i8042 {
	void (*reset)(void *ctx);
	void *ctx;
};

void i8042_io(void *dev, uint64_t off, void *data, uint32_t len, bool write);

#endif
