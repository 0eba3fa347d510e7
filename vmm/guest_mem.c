#include "guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static int map_region(struct guest_mem_region *r, uint64_t gpa, uint64_t size)
{
	/* MAP_NORESERVE + no MAP_POPULATE: the guest pays for pages it touches,
	 * and start-up does not pay for pages at all. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	/* the guest's memory is the guest's secrets: never in a core dump */
	madvise(p, size, MADV_DONTDUMP);
	r->gpa = gpa;
	r->size = size;
	r->host = p;
	return 0;
}

int guest_mem_init(struct guest_mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	if (size == 0 || (size & 0xfff))
		return -EINVAL;
	uint64_t low = size < GUEST_MEM_LOW_LIMIT ? size : GUEST_MEM_LOW_LIMIT;
	int rc = map_region(&m->r[0], 0, low);
	if (rc)
		return rc;
	m->nr = 1;
	if (size > low) {
		rc = map_region(&m->r[1], GUEST_MEM_HIGH_BASE, size - low);
		if (rc) {
			guest_mem_free(m);
			return rc;
		}
		m->nr = 2;
	}
	m->total = size;
	return 0;
}

void guest_mem_wrap(struct guest_mem *m, void *host, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->r[0] = (struct guest_mem_region){.gpa = 0, .size = size, .host = host};
	m->nr = 1;
	m->total = size;
}

void guest_mem_free(struct guest_mem *m)
{
	for (unsigned i = 0; i < m->nr; i++)
		munmap(m->r[i].host, m->r[i].size);
	memset(m, 0, sizeof(*m));
}
