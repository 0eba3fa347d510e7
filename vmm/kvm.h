/* kvm: thin wrappers over the /dev/kvm ioctls hull needs for a VM.
 *
 * Contract: every function returns 0 or -errno and, where the user can act
 * on it, fills err with what failed. No state beyond struct kvm_vm. */
#ifndef HULL_KVM_H
#define HULL_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "common/errmsg.h"
#include "vmm/guest_mem.h"

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */
};

/* Open /dev/kvm (or `dev`), check the API version and the capabilities hull
 * relies on, create the VM with an in-kernel irqchip (PIC, IOAPIC, LAPICs). */
int kvm_vm_open(struct kvm_vm *k, const char *dev, struct errmsg *err);
void kvm_vm_close(struct kvm_vm *k);
int kvm_vm_set_memory(struct kvm_vm *k, const struct guest_mem *m, struct errmsg *err);
/* An eventfd that, when written, pulses interrupt line `gsi` (edge). */
int kvm_vm_irqfd(struct kvm_vm *k, unsigned gsi, int *efd);
/* An eventfd signalled when the guest writes `datamatch` (len bytes) to MMIO
 * address `addr`, without a VM exit to userspace. */
int kvm_vm_ioeventfd(struct kvm_vm *k, uint64_t addr, uint32_t len, uint64_t datamatch, int *efd);

/* True when /dev/kvm is backed by the PVM module (kernel mode emulated). */
bool kvm_host_is_pvm(void);

#endif
