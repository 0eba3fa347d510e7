#include "bus.h"

#include <errno.h>

int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_fn fn, void *ctx)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	for (unsigned i = 0; i < b->n; i++)
		if (base < b->r[i].base + b->r[i].len && b->r[i].base < base + len)
			return -EEXIST;
	if (b->n == BUS_MAX_RANGES)
		return -ENOSPC;
	b->r[b->n++] = (struct bus_range){.base = base, .len = len, .fn = fn, .ctx = ctx};
	return 0;
}

bool bus_access(const struct bus *b, uint64_t addr, void *data, uint32_t len, bool write)
{
	if (len == 0 || len > 8)
		return false;
	for (unsigned i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->r[i];
		if (addr < r->base || addr - r->base >= r->len)
			continue;
		uint64_t off = addr - r->base;
		if (len > r->len - off)
			return false;
		r->fn(r->ctx, off, data, len, write);
		return true;
	}
	return false;
}
