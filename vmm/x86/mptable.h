/* mptable: the Intel MultiProcessor Specification 1.4 table, which is how a
 * guest without ACPI learns its CPUs, its I/O APIC and how ISA interrupts are
 * wired.
 *
 * Contract: mptable_write() builds the floating pointer and the configuration
 * table for `ncpus` CPUs (APIC ids 0..ncpus-1), one I/O APIC (id ncpus) with
 * MPTABLE_IRQS pins wired 1:1 to ISA IRQs, and LINT0=ExtINT, LINT1=NMI, at
 * guest-physical `gpa`. Returns the bytes written, or -ENOSPC when they do
 * not fit in `room` bytes, or -EINVAL for ncpus outside 1..MPTABLE_MAX_CPUS. */
#ifndef HULL_MPTABLE_H
#define HULL_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MPTABLE_MAX_CPUS 32
#define MPTABLE_IRQS 24
#define MPTABLE_IOAPIC_ADDR 0xfec00000u
#define MPTABLE_LAPIC_ADDR 0xfee00000u

long mptable_write(uint8_t *dst, size_t room, uint64_t gpa, unsigned ncpus);

#endif
