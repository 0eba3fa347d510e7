#include "cpuid.h"

#define BIT(n) (1u << (n))

/* leaf 1 ECX */
#define F1C_CX16 BIT(13)
#define F1C_POPCNT BIT(23)
#define F1C_TSC_DEADLINE BIT(24)
#define F1C_XSAVE BIT(26)
#define F1C_OSXSAVE BIT(27)
#define F1C_AVX BIT(28)
#define F1C_HYPERVISOR BIT(31)
/* leaf 7 EBX */
#define F7B_SMAP BIT(20)
/* leaf 0x80000008 EBX */
#define F88B_XSAVEERPTR BIT(2)
/* leaf 0x40000001 EAX: KVM paravirtual features that need no hypercall
 * (kvm-clock, no-op port-0x80 delay, async PF, steal time, PV EOI, the
 * clock-stable bit); QEMU's default set. */
#define KVM_PV_NO_HYPERCALL (BIT(0) | BIT(1) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(24))

void cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned n, unsigned index, unsigned count, bool pvm)
{
	for (unsigned i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *c = &e[i];
		switch (c->function) {
		case 1:
			/* APIC id and logical processor count */
			c->ebx = (c->ebx & 0x0000ffffu) | (index << 24) | ((count & 0xff) << 16);
			/* KVM emulates the TSC-deadline timer itself; it only accepts
			 * the MSR when the guest's CPUID has the bit. The kernel
			 * needs it here: LAPIC timer calibration fails when kernel
			 * mode is emulated (kernel-config/README.md, B8). */
			c->ecx |= F1C_TSC_DEADLINE | F1C_HYPERVISOR;
			if (pvm)
				c->ecx &=
				    ~(F1C_XSAVE | F1C_OSXSAVE | F1C_AVX | F1C_CX16 | F1C_POPCNT);
			break;
		case 7:
			if (pvm && c->index == 0)
				c->ebx &= ~F7B_SMAP;
			break;
		case 0xb:
		case 0x1f:
			c->edx = index; /* x2APIC id */
			break;
		case 0xd:
			if (pvm)
				c->eax = c->ebx = c->ecx = c->edx = 0;
			break;
		case 0x40000001:
			/* VMCALL never completes on PVM hosts (kernel-config/README.md,
			 * B4): PV IPIs, PV spinlock kicks and sched-yield would hang
			 * the guest (SMP bring-up stalls in __send_ipi_mask). */
			if (pvm)
				c->eax &= KVM_PV_NO_HYPERCALL;
			break;
		case 0x80000008:
			/* Without this bit the kernel turns on an FXSAVE-leak
			 * workaround on AMD that runs FNCLEX/EMMS/FILD, which the
			 * PVM emulator lacks. Harmless elsewhere: the bit only
			 * says FXSAVE saves the error pointers. */
			if (pvm)
				c->ebx |= F88B_XSAVEERPTR;
			break;
		}
	}
}
