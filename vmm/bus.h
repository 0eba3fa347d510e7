/* bus: dispatch of guest port-I/O and MMIO accesses to device models.
 *
 * Contract: ranges are registered before any vCPU runs and never change
 * afterwards, so lookups need no lock. Ranges may not overlap. A device's
 * handler gets the offset inside its range and an access of 1..8 bytes; the
 * access lies entirely inside the range (accesses that straddle a range end
 * are treated as unclaimed). Handlers run on vCPU threads and do their own
 * locking. */
#ifndef HULL_BUS_H
#define HULL_BUS_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*bus_fn)(void *ctx, uint64_t off, void *data, uint32_t len, bool write);

#define BUS_MAX_RANGES 32

struct bus_range {
	uint64_t base, len;
	bus_fn fn;
	void *ctx;
};

struct bus {
	struct bus_range r[BUS_MAX_RANGES];
	unsigned n;
};

/* Returns 0, -EINVAL (empty or wrapping range), -EEXIST (overlap), -ENOSPC. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_fn fn, void *ctx);
/* Returns true if a device claimed the access. */
bool bus_access(const struct bus *b, uint64_t addr, void *data, uint32_t len, bool write);

#endif
