/* guest_mem: the guest's physical RAM as seen from the VMM.
 *
 * Contract
 * - RAM is at most two regions: [0, low_size) and, for guests larger than
 *   the 32-bit MMIO hole, [4 GiB, 4 GiB + high_size). Each is one host
 *   mapping (anonymous, MAP_NORESERVE: pages appear when first touched).
 * - guest_mem_ptr() is the only way device code turns a guest-physical
 *   address into a host pointer. It returns NULL unless the whole range
 *   [gpa, gpa+len) lies inside one region, with overflow checked, so a
 *   hostile guest cannot make the VMM touch memory outside guest RAM.
 *   len 0 is allowed (returns a pointer to gpa if gpa is inside or at the end
 *   of a region).
 */
#ifndef HULL_GUEST_MEM_H
#define HULL_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_HIGH_BASE (1ull << 32)
/* Top of low RAM: everything from here to 4 GiB is the MMIO hole (devices,
 * LAPIC/IOAPIC). */
#define GUEST_MEM_LOW_LIMIT 0xc0000000ull

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct guest_mem_region r[2];
	unsigned nr;
	uint64_t total; /* bytes of RAM */
};

/* Map `size` bytes of RAM (a multiple of 4 KiB, > 0). Returns 0, -EINVAL,
 * or -ENOMEM. */
int guest_mem_init(struct guest_mem *m, uint64_t size);
/* Wrap existing host memory as a single low region (unit tests, snapshots). */
void guest_mem_wrap(struct guest_mem *m, void *host, uint64_t size);
void guest_mem_free(struct guest_mem *m);

static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr; i++) {
		const struct guest_mem_region *r = &m->r[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off > r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

#endif
