#include "vcpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/cpuid.h"
#include "vmm/vmm.h"

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 1ull
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 4u
#define APIC_MODE_EXTINT 7u

static int set_cpuid(struct vcpu *v, struct kvm_vm *k, unsigned count, bool pvm)
{
	unsigned nent = 256;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	c->nent = nent;
	int rc = 0;
	if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		rc = -errno;
		goto out;
	}
	cpuid_adjust(c->entries, c->nent, v->id, count, pvm);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		rc = -errno;
out:
	free(c);
	return rc;
}

static int set_lapic_lints(struct vcpu *v)
{
	struct kvm_lapic_state l;
	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	uint32_t lvt0, lvt1;
	memcpy(&lvt0, &l.regs[APIC_LVT0], 4);
	memcpy(&lvt1, &l.regs[APIC_LVT1], 4);
	lvt0 = (lvt0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
	lvt1 = (lvt1 & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(&l.regs[APIC_LVT0], &lvt0, 4);
	memcpy(&l.regs[APIC_LVT1], &lvt1, 4);
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

static int set_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m = {.hdr.nmsrs = 1,
	       .e[0] = {.index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING}};
	int n = ioctl(v->fd, KVM_SET_MSRS, &m);
	return n == 1 ? 0 : -EIO;
}

int vcpu_create(struct vcpu *v, struct kvm_vm *k, unsigned id, unsigned count, bool pvm,
		const struct vcpu_env *env, struct errmsg *err)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->env = env;
	v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		int e = errno;
		return errmsg_set(err, -e, "KVM_CREATE_VCPU %u: %s", id, strerror(e));
	}
	v->run_size = k->run_size;
	v->run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int e = errno;
		v->run = NULL;
		vcpu_destroy(v);
		return errmsg_set(err, -e, "mmap of vCPU %u run area: %s", id, strerror(e));
	}
	int rc = set_cpuid(v, k, count, pvm);
	if (rc) {
		vcpu_destroy(v);
		return errmsg_set(err, rc, "KVM_SET_CPUID2 on vCPU %u: %s", id, strerror(-rc));
	}
	rc = set_msrs(v);
	if (rc) {
		vcpu_destroy(v);
		return errmsg_set(err, rc, "KVM_SET_MSRS on vCPU %u failed", id);
	}
	rc = set_lapic_lints(v);
	if (rc) {
		vcpu_destroy(v);
		return errmsg_set(err, rc, "LAPIC setup of vCPU %u: %s", id, strerror(-rc));
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void seg_from_gdt(struct kvm_segment *s, uint16_t sel, uint64_t desc)
{
	*s = (struct kvm_segment){
	    .selector = sel,
	    .base = (uint32_t)(((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000)),
	    .type = (desc >> 40) & 0xf,
	    .s = (desc >> 44) & 1,
	    .dpl = (desc >> 45) & 3,
	    .present = (desc >> 47) & 1,
	    .avl = (desc >> 52) & 1,
	    .l = (desc >> 53) & 1,
	    .db = (desc >> 54) & 1,
	    .g = (desc >> 55) & 1,
	};
	uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
}

int vcpu_set_pvh_entry(struct vcpu *v, struct guest_mem *mem, uint32_t entry, uint32_t ebx,
		       struct errmsg *err)
{
	/* null, flat 32-bit code, flat data, a minimal TSS (VMX insists on a
	 * usable TR even though the guest never uses it before loading its own). */
	static const uint64_t gdt[4] = {
	    0,
	    0x00cf9b000000ffffull,
	    0x00cf93000000ffffull,
	    0x00008b0000000067ull,
	};
	uint64_t *g = guest_mem_ptr(mem, BOOT_GDT_ADDR, sizeof(gdt));
	if (!g)
		return errmsg_set(err, -ENOMEM, "no guest RAM for the boot GDT");
	memcpy(g, gdt, sizeof(gdt));

	struct kvm_sregs s;
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return errmsg_set(err, -errno, "KVM_GET_SREGS: %s", strerror(errno));
	seg_from_gdt(&s.cs, 0x08, gdt[1]);
	seg_from_gdt(&s.ds, 0x10, gdt[2]);
	s.es = s.fs = s.gs = s.ss = s.ds;
	seg_from_gdt(&s.tr, 0x18, gdt[3]);
	s.gdt.base = BOOT_GDT_ADDR;
	s.gdt.limit = sizeof(gdt) - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x11; /* PE | ET */
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return errmsg_set(err, -errno, "KVM_SET_SREGS: %s", strerror(errno));

	struct kvm_regs r = {.rflags = 0x2, .rip = entry, .rbx = ebx};
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return errmsg_set(err, -errno, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signal_setup(void)
{
	struct sigaction sa = {.sa_handler = kick_handler};
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sa.sa_flags = SA_RESTART;
	return sigaction(VCPU_PROFILE_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->run || !v->started)
		return;
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

static void stop_with(struct vcpu *v, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void stop_with(struct vcpu *v, int reason, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	v->env->stop(v->env->ctx, reason, why);
}

/* A vCPU that stopped for good (an internal error, a triple fault): its
 * registers say where. pre goes before them, post after. */
static void report_regs(struct vcpu *v, int reason, const char *pre, const char *post)
{
	struct kvm_regs r = {0};
	struct kvm_sregs s = {0};
	ioctl(v->fd, KVM_GET_REGS, &r);
	ioctl(v->fd, KVM_GET_SREGS, &s);
	stop_with(v, reason,
		  "vCPU %u%s at rip 0x%llx cs 0x%x cr0 0x%llx cr3 0x%llx idt 0x%llx/%u%s", v->id,
		  pre, (unsigned long long)r.rip, s.cs.selector, (unsigned long long)s.cr0,
		  (unsigned long long)s.cr3, (unsigned long long)s.idt.base, s.idt.limit, post);
}

static void report_internal_error(struct vcpu *v)
{
	char pre[64];
	snprintf(pre, sizeof(pre), ": KVM internal error (suberror %u)", v->run->internal.suberror);
	report_regs(v, VMM_STOP_ERROR, pre, ": the host could not emulate a guest instruction");
}

static void park(struct vcpu *v)
{
	struct vcpu_pause *p = v->env->pause;
	/* Finish the exit we returned from (a PIO/MMIO read result is only
	 * written back into guest registers on the next KVM_RUN). */
	v->run->immediate_exit = 1;
	ioctl(v->fd, KVM_RUN, 0);
	v->run->immediate_exit = 0;
	pthread_mutex_lock(&p->lock);
	p->parked++;
	pthread_cond_broadcast(&p->cond);
	while (p->requested && !atomic_load(v->env->stopping))
		pthread_cond_wait(&p->cond, &p->lock);
	p->parked--;
	pthread_mutex_unlock(&p->lock);
}

static void profile_flush(struct vcpu *v)
{
	if (v->nprof)
		fdio_write_all(v->env->profile_fd, v->prof, v->nprof * sizeof(v->prof[0]));
	v->nprof = 0;
}

/* One sample: where the guest was when the timer's signal took the vCPU
 * out of KVM_RUN (a kick for a pause or a stop adds one too: harmless). */
static void profile_sample(struct vcpu *v)
{
	struct kvm_regs r;
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		return;
	v->prof[v->nprof++] = r.rip;
	if (v->nprof == VCPU_PROFILE_BLOCK)
		profile_flush(v);
}

int vcpu_profile_start(struct vcpu *v)
{
	if (v->env->profile_fd <= 0)
		return 0;
	struct sigevent se = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = VCPU_PROFILE_SIGNAL};
	se._sigev_un._tid = (pid_t)syscall(SYS_gettid); /* glibc 2.36 names no accessor */
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &se, &t) < 0)
		return -errno;
	struct itimerspec it = {.it_interval = {0, 1000000000 / VCPU_PROFILE_HZ},
				.it_value = {0, 1000000000 / VCPU_PROFILE_HZ}};
	if (timer_settime(t, 0, &it, NULL) < 0) {
		int e = errno;
		timer_delete(t);
		return -e;
	}
	return 0; /* the timer lives as long as the process */
}

void *vcpu_run(void *arg)
{
	struct vcpu *v = arg;
	const struct vcpu_env *env = v->env;
	struct kvm_run *run = v->run;

	/* Only this thread takes the kick signal; everything else stays with
	 * whoever owns the process's signal handling. */
	sigset_t set;
	sigfillset(&set);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	sigdelset(&set, VCPU_PROFILE_SIGNAL);
	sigdelset(&set, SIGSYS); /* a seccomp trap must reach its handler */
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	while (!atomic_load(env->stopping)) {
		if (env->pause && __atomic_load_n(&env->pause->requested, __ATOMIC_ACQUIRE)) {
			park(v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				if (env->profile_fd > 0)
					profile_sample(v);
				continue;
			}
			stop_with(v, VMM_STOP_ERROR, "vCPU %u: KVM_RUN: %s", v->id,
				  strerror(errno));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			bool out = run->io.direction == KVM_EXIT_IO_OUT;
			/* data_offset/size/count come from KVM, not the guest,
			 * and lie inside the run page. */
			for (uint32_t i = 0; i < run->io.count; i++) {
				uint8_t *d = data + (size_t)i * run->io.size;
				if (!bus_access(env->pio, run->io.port, d, run->io.size, out) &&
				    !out)
					memset(d, 0xff, run->io.size); /* floating bus */
			}
			break;
		}
		case KVM_EXIT_MMIO:
			if (!bus_access(env->mmio, run->mmio.phys_addr, run->mmio.data,
					run->mmio.len, run->mmio.is_write) &&
			    !run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_SHUTDOWN:
			/* a fault while delivering a double fault: the CPU
			 * shuts down (the guest kernel is broken or was
			 * overwritten); the registers say where */
			report_regs(v, VMM_STOP_TRIPLE_FAULT, "", "");
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				stop_with(v, VMM_STOP_RESET, "guest reset");
			else
				stop_with(v, VMM_STOP_SHUTDOWN, "vCPU %u: system event %u", v->id,
					  run->system_event.type);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			report_internal_error(v);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			stop_with(
			    v, VMM_STOP_ERROR, "vCPU %u: VM entry failed (reason 0x%llx)", v->id,
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_HLT:
			/* the in-kernel LAPIC handles HLT; an exit here means the
			 * CPU halted with interrupts off for good */
			stop_with(v, VMM_STOP_SHUTDOWN, "vCPU %u halted", v->id);
			break;
		case KVM_EXIT_INTR:
			break;
		default:
			stop_with(v, VMM_STOP_ERROR, "vCPU %u: unexpected KVM exit %u", v->id,
				  run->exit_reason);
			break;
		}
	}
	if (env->profile_fd > 0)
		profile_flush(v);
	if (env->debug) {
		struct kvm_regs r = {0};
		struct kvm_sregs sr = {0};
		struct kvm_mp_state mp = {0};
		ioctl(v->fd, KVM_GET_REGS, &r);
		ioctl(v->fd, KVM_GET_SREGS, &sr);
		ioctl(v->fd, KVM_GET_MP_STATE, &mp);
		fprintf(stderr,
			"hull: vmm: vCPU %u at stop: mp_state %u rip 0x%llx cs 0x%x/0x%llx cr0 "
			"0x%llx\n",
			v->id, mp.mp_state, (unsigned long long)r.rip, sr.cs.selector,
			(unsigned long long)sr.cs.base, (unsigned long long)sr.cr0);
	}
	return NULL;
}
