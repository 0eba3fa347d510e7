/* vcpu: one virtual CPU and the thread that runs it.
 *
 * Contract
 * - vcpu_create() makes the KVM vCPU, gives it its CPUID table (cpuid.h), the
 *   MSRs Linux expects from firmware, and LAPIC LINT0=ExtINT / LINT1=NMI.
 *   Application processors stay in KVM's wait-for-SIPI state; the guest's boot
 *   CPU wakes them.
 * - vcpu_set_pvh_entry() puts the boot CPU at a PVH entry: 32-bit protected
 *   mode, flat segments, paging off, EBX = start info (the PVH boot ABI).
 * - vcpu_run() is the thread body: it runs KVM_RUN until the VM stops,
 *   dispatching port and MMIO exits to the buses and reporting terminal exits
 *   through `stop`. When env->pause->requested is set (then kicked), the
 *   thread completes any port/MMIO access KVM still has in flight (one
 *   KVM_RUN with immediate_exit, as the KVM API requires before state is
 *   read), counts itself in env->pause->parked and waits until the request
 *   is withdrawn or the VM stops. vcpu_kick() makes a running vCPU leave KVM_RUN (it sets
 *   immediate_exit and signals the thread with VCPU_KICK_SIGNAL).
 */
#ifndef HULL_VCPU_H
#define HULL_VCPU_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/bus.h"
#include "vmm/guest_mem.h"
#include "vmm/kvm.h"

#define VCPU_KICK_SIGNAL (SIGRTMIN + 1)
/* The profiler's timer signal: SA_RESTART, so that the device work a vCPU
 * thread does between two KVM_RUNs is not interrupted 1000 times a second
 * (KVM_RUN itself returns EINTR whatever the flag). */
#define VCPU_PROFILE_SIGNAL (SIGRTMIN + 2)

/* Parking all vCPUs at a consistent point (for saving a snapshot). */
struct vcpu_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool requested;
	unsigned parked;
};

struct vcpu_env {
	struct vcpu_pause *pause;
	const struct bus *pio;
	const struct bus *mmio;
	atomic_bool *stopping;
	/* reason: enum vmm_stop_reason; why: text for errors (may be NULL) */
	void (*stop)(void *ctx, int reason, const char *why);
	void *ctx;
	bool debug;
	int profile_fd; /* > 0: vcpu_profile_start() samples RIPs there */
};

#define VCPU_PROFILE_HZ 1000
#define VCPU_PROFILE_BLOCK 64 /* samples per write */

struct vcpu {
	unsigned id;
	int fd;
	struct kvm_run *run;
	int run_size;
	pthread_t thread;
	bool started;
	const struct vcpu_env *env;
	/* the profile's samples not yet written (env->profile_fd > 0) */
	uint64_t prof[VCPU_PROFILE_BLOCK];
	unsigned nprof;
};

int vcpu_create(struct vcpu *v, struct kvm_vm *k, unsigned id, unsigned count, bool pvm,
		const struct vcpu_env *env, struct errmsg *err);
void vcpu_destroy(struct vcpu *v);
/* Writes the boot GDT into guest RAM and sets the registers. */
int vcpu_set_pvh_entry(struct vcpu *v, struct guest_mem *mem, uint32_t entry, uint32_t ebx,
		       struct errmsg *err);
void *vcpu_run(void *vcpu);
void vcpu_kick(struct vcpu *v);
/* With env->profile_fd > 0: a CLOCK_MONOTONIC timer that sends this thread
 * VCPU_PROFILE_SIGNAL VCPU_PROFILE_HZ times a second, so that KVM_RUN returns
 * EINTR and vcpu_run() records the guest's RIP (KVM_GET_REGS) in blocks of
 * VCPU_PROFILE_BLOCK u64s (write(2)). Call it on the vCPU's own thread
 * before its seccomp filter (timer_create is not in the vCPU role's list).
 * 0 or -errno. */
int vcpu_profile_start(struct vcpu *v);
/* Install the no-op handler for VCPU_KICK_SIGNAL and VCPU_PROFILE_SIGNAL
 * (process-wide, idempotent). */
int vcpu_signal_setup(void);

#endif
