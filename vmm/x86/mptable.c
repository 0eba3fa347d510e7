#include "mptable.h"

#include <errno.h>
#include <string.h>

/* Entry layouts from the MP spec 1.4, chapter 4. */
struct mpf {
	char sig[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t rev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_hdr {
	char sig[4];
	uint16_t length;
	uint8_t rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t count;
	uint32_t lapic;
	uint16_t reserved;
	uint8_t ext_checksum;
	uint8_t reserved2;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature_sig;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf) == 16, "mpf");
_Static_assert(sizeof(struct mpc_hdr) == 44, "mpc");
_Static_assert(sizeof(struct mpc_cpu) == 20, "cpu");
_Static_assert(sizeof(struct mpc_bus) == 8, "bus");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "ioapic");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "intsrc");

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

long mptable_write(uint8_t *dst, size_t room, uint64_t gpa, unsigned ncpus)
{
	if (ncpus < 1 || ncpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	size_t need = sizeof(struct mpf) + sizeof(struct mpc_hdr) + ncpus * sizeof(struct mpc_cpu) +
		      sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
		      (MPTABLE_IRQS + 2) * sizeof(struct mpc_intsrc);
	if (need > room)
		return -ENOSPC;
	memset(dst, 0, need);

	struct mpf *f = (struct mpf *)dst;
	memcpy(f->sig, "_MP_", 4);
	f->physptr = (uint32_t)(gpa + sizeof(*f));
	f->length = 1;
	f->rev = 4;

	uint8_t *p = dst + sizeof(*f);
	struct mpc_hdr *h = (struct mpc_hdr *)p;
	memcpy(h->sig, "PCMP", 4);
	h->rev = 4;
	memcpy(h->oem, "HULL    ", 8);
	memcpy(h->product, "MICROVM     ", 12);
	h->lapic = MPTABLE_LAPIC_ADDR;
	p += sizeof(*h);
	uint16_t count = 0;

	for (unsigned i = 0; i < ncpus; i++) {
		struct mpc_cpu c = {
		    .type = MP_PROCESSOR,
		    .apicid = (uint8_t)i,
		    .apicver = 0x14,
		    .cpuflag = 1 /* enabled */ | (i == 0 ? 2 /* boot processor */ : 0),
		    .cpufeature_sig = 0x600,
		    .featureflag = 0x201, /* FPU, APIC */
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
		count++;
	}
	struct mpc_bus bus = {.type = MP_BUS, .busid = 0};
	memcpy(bus.bustype, "ISA   ", 6);
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	count++;
	uint8_t ioapic_id = (uint8_t)ncpus;
	struct mpc_ioapic io = {.type = MP_IOAPIC,
				.apicid = ioapic_id,
				.apicver = 0x11,
				.flags = 1,
				.apicaddr = MPTABLE_IOAPIC_ADDR};
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	count++;
	for (unsigned irq = 0; irq < MPTABLE_IRQS; irq++) {
		struct mpc_intsrc s = {.type = MP_INTSRC,
				       .irqtype = MP_INT,
				       .irqflag = 0,
				       .srcbus = 0,
				       .srcbusirq = (uint8_t)irq,
				       .dstapic = ioapic_id,
				       .dstirq = (uint8_t)irq};
		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
		count++;
	}
	struct mpc_intsrc l0 = {
	    .type = MP_LINTSRC, .irqtype = MP_EXTINT, .dstapic = 0xff, .dstirq = 0};
	struct mpc_intsrc l1 = {
	    .type = MP_LINTSRC, .irqtype = MP_NMI, .dstapic = 0xff, .dstirq = 1};
	memcpy(p, &l0, sizeof(l0));
	p += sizeof(l0);
	memcpy(p, &l1, sizeof(l1));
	p += sizeof(l1);
	count += 2;

	h->count = count;
	h->length = (uint16_t)(p - (uint8_t *)h);
	h->checksum = checksum((uint8_t *)h, h->length);
	f->checksum = checksum((uint8_t *)f, sizeof(*f));
	return (long)(p - dst);
}
