/* cpuid: the CPUID table a guest vCPU gets.
 *
 * Contract: cpuid_adjust() rewrites, in place, the entries KVM reports as
 * supported (KVM_GET_SUPPORTED_CPUID) into what vCPU `index` of `count`
 * should see. Pure logic on the array: no ioctls, unit-tested.
 * On PVM hosts (pvm=true) it also hides the features whose instructions the
 * host's CPL0 emulator cannot execute (see kernel-config/README.md); on
 * VMX/SVM hosts those stay visible so containers keep AVX & co. */
#ifndef HULL_CPUID_H
#define HULL_CPUID_H

#include <stdbool.h>
#include <linux/kvm.h>

void cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned n, unsigned index, unsigned count, bool pvm);

#endif
