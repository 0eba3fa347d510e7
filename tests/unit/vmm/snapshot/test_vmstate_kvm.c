/* vmstate against real KVM: set recognisable state in one VM, save it,
 * restore it into a second VM, read it back; and run a tiny real-mode guest
 * across a save/restore (also through a template on disk, whose RAM KVM
 * gets as a MAP_PRIVATE file mapping).
 *
 * Needs a usable /dev/kvm and FAILS without one (no silent skips: CI has
 * KVM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmm/guest_mem.h"
#include "vmm/kvm.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/snapshot/vmstate.h"

#define RAM (2u << 20)
#define CODE 0x1000u
#define DATA 0x2000u
#define PORT 0x10u
#define KVMCLOCK_GPA 0x3000u

#define MSR_IA32_TSC 0x10u
#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_CR_PAT 0x277u
#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

#define APIC_ID 0x20
#define APIC_TPR 0x80
#define APIC_SPIV 0xf0
#define APIC_LVTT 0x320
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360

struct vmx {
	struct kvm_vm k;
	struct guest_mem mem; /* own RAM (unless `snap`) */
	struct snapshot snap;
	bool from_snap;
	int vcpu;
	struct kvm_run *run;
};

static void must(int ok, const char *what)
{
	if (!ok)
		fail_msg("%s: %s", what, strerror(errno));
}

static void set_cpuid(struct vmx *v)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
	c->nent = 256;
	must(ioctl(v->k.kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0, "KVM_GET_SUPPORTED_CPUID");
	must(ioctl(v->vcpu, KVM_SET_CPUID2, c) == 0, "KVM_SET_CPUID2");
	free(c);
}

/* A VM with an in-kernel irqchip, RAM and one vCPU (with its CPUID, as
 * vcpu_create gives it). RAM from a template if snap_dir is set. */
static void vm_new(struct vmx *v, const char *snap_dir)
{
	memset(v, 0, sizeof(*v));
	struct errmsg err = {{0}};
	if (kvm_vm_open(&v->k, NULL, &err))
		fail_msg("KVM is required for this test and not usable here: %s", err.text);
	if (snap_dir) {
		struct snapshot_expect e = {.hull_version = "test", .key = "kvm-test"};
		if (snapshot_open(snap_dir, &e, &v->snap, &err))
			fail_msg("%s", err.text);
		v->from_snap = true;
		if (kvm_vm_set_memory(&v->k, &v->snap.mem, &err))
			fail_msg("%s", err.text);
	} else {
		assert_int_equal(guest_mem_init(&v->mem, RAM), 0);
		if (kvm_vm_set_memory(&v->k, &v->mem, &err))
			fail_msg("%s", err.text);
	}
	v->vcpu = ioctl(v->k.vm_fd, KVM_CREATE_VCPU, 0);
	must(v->vcpu >= 0, "KVM_CREATE_VCPU");
	v->run = mmap(NULL, (size_t)v->k.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	must(v->run != MAP_FAILED, "mmap kvm_run");
	set_cpuid(v);
}

static void vm_free(struct vmx *v)
{
	munmap(v->run, (size_t)v->k.run_size);
	close(v->vcpu);
	kvm_vm_close(&v->k);
	if (v->from_snap)
		snapshot_close(&v->snap);
	else
		guest_mem_free(&v->mem);
}

static uint8_t *ram(struct vmx *v)
{
	return v->from_snap ? v->snap.mem.r[0].host : v->mem.r[0].host;
}

static uint64_t get_msr(int vcpu, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m = {.h.nmsrs = 1, .e[0].index = index};
	assert_int_equal(ioctl(vcpu, KVM_GET_MSRS, &m), 1);
	return m.e[0].data;
}

static void set_msr(int vcpu, uint32_t index, uint64_t data)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m = {.h.nmsrs = 1, .e[0] = {.index = index, .data = data}};
	if (ioctl(vcpu, KVM_SET_MSRS, &m) != 1)
		fail_msg("KVM_SET_MSRS 0x%x", index);
}

static uint32_t apic_reg(const struct kvm_lapic_state *l, unsigned off)
{
	uint32_t v;
	memcpy(&v, l->regs + off, 4);
	return v;
}

static void set_apic_reg(struct kvm_lapic_state *l, unsigned off, uint32_t v)
{
	memcpy(l->regs + off, &v, 4);
}

static void save_all(struct vmx *v, struct vmstate_buf *cpu, struct vmstate_buf *vm)
{
	struct errmsg err = {{0}};
	vmstate_buf_init(cpu);
	vmstate_buf_init(vm);
	if (vmstate_vcpu_save(v->k.kvm_fd, v->vcpu, cpu, &err))
		fail_msg("%s", err.text);
	if (vmstate_vm_save(v->k.vm_fd, vm, &err))
		fail_msg("%s", err.text);
}

static void restore_all(struct vmx *v, const uint8_t *cpu, size_t cpu_len, const uint8_t *vm,
			size_t vm_len)
{
	struct errmsg err = {{0}};
	/* vCPUs first, then the VM (clock last) */
	if (vmstate_vcpu_restore(v->vcpu, cpu, cpu_len, &err))
		fail_msg("%s", err.text);
	if (vmstate_vm_restore(v->k.vm_fd, vm, vm_len, &err))
		fail_msg("%s", err.text);
}

static void test_state_round_trip(void **state)
{
	(void)state;
	struct vmx a, b;
	vm_new(&a, NULL);

	/* recognisable state in VM a */
	struct kvm_regs regs = {0};
	__u64 *gp = &regs.rax; /* rax..r15 are consecutive */
	for (int i = 0; i < 16; i++)
		gp[i] = 0x1111111111111111ull * (uint64_t)(i + 1) ^ 0x0123456789abcdefull;
	regs.rip = 0x123456;
	regs.rflags = 0x202;
	must(ioctl(a.vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");

	struct kvm_sregs sregs;
	must(ioctl(a.vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
	struct kvm_segment flat = {.base = 0,
				   .limit = 0xffffffff,
				   .selector = 0x8,
				   .type = 0xb,
				   .present = 1,
				   .dpl = 0,
				   .db = 1,
				   .s = 1,
				   .g = 1};
	sregs.cs = flat;
	flat.type = 0x3;
	flat.selector = 0x10;
	sregs.ds = sregs.es = sregs.ss = flat;
	sregs.fs = flat;
	sregs.fs.base = 0x7000;
	sregs.gs = flat;
	sregs.gs.base = 0x8000;
	sregs.gdt.base = 0x500;
	sregs.gdt.limit = 0x1f;
	sregs.idt.base = 0x600;
	sregs.idt.limit = 0xff;
	sregs.cr0 = 0x11;
	sregs.cr3 = 0x5000;
	sregs.cr2 = 0xdead000;
	must(ioctl(a.vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS");

	struct kvm_lapic_state lapic;
	must(ioctl(a.vcpu, KVM_GET_LAPIC, &lapic) == 0, "KVM_GET_LAPIC");
	set_apic_reg(&lapic, APIC_SPIV, 0x1ff);
	set_apic_reg(&lapic, APIC_TPR, 0x20);
	set_apic_reg(&lapic, APIC_LVT0, 0x700);
	set_apic_reg(&lapic, APIC_LVT1, 0x400);
	set_apic_reg(&lapic, APIC_LVTT, (2u << 17) | 0xec); /* TSC-deadline mode */
	must(ioctl(a.vcpu, KVM_SET_LAPIC, &lapic) == 0, "KVM_SET_LAPIC");

	/* PVM hosts cannot offset the guest TSC (guest user mode reads the
	 * host's natively): KVM accepts the write and ignores it. Find out
	 * which kind of host this is. */
	const uint64_t tsc_want = 0x1000000000ull;
	set_msr(a.vcpu, MSR_IA32_TSC, tsc_want);
	uint64_t tsc = get_msr(a.vcpu, MSR_IA32_TSC);
	bool tsc_writable = tsc - tsc_want < (1ull << 34); /* a few seconds */
	print_message("guest TSC writes %s on this host\n",
		      tsc_writable ? "take effect" : "are ignored (PVM): TSC not restorable");
	set_msr(a.vcpu, MSR_STAR, 0x0023001000000000ull);
	set_msr(a.vcpu, MSR_LSTAR, 0xffffffff81400040ull);
	set_msr(a.vcpu, MSR_IA32_SYSENTER_CS, 0x10);
	set_msr(a.vcpu, MSR_IA32_CR_PAT, 0x0007040600070406ull);
	set_msr(a.vcpu, MSR_KVM_SYSTEM_TIME_NEW, KVMCLOCK_GPA | 1);
	/* armed far in the future: it must survive the restore (written
	 * before the LAPIC, KVM would drop it) */
	const uint64_t deadline = tsc + (1ull << 44);
	set_msr(a.vcpu, MSR_IA32_TSC_DEADLINE, deadline);
	assert_int_equal(get_msr(a.vcpu, MSR_IA32_TSC_DEADLINE), deadline);

	struct kvm_vcpu_events ev;
	must(ioctl(a.vcpu, KVM_GET_VCPU_EVENTS, &ev) == 0, "KVM_GET_VCPU_EVENTS");
	ev.nmi.masked = 1;
	must(ioctl(a.vcpu, KVM_SET_VCPU_EVENTS, &ev) == 0, "KVM_SET_VCPU_EVENTS");

	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_HALTED};
	must(ioctl(a.vcpu, KVM_SET_MP_STATE, &mp) == 0, "KVM_SET_MP_STATE");

	struct kvm_irqchip io = {.chip_id = KVM_IRQCHIP_IOAPIC};
	must(ioctl(a.k.vm_fd, KVM_GET_IRQCHIP, &io) == 0, "KVM_GET_IRQCHIP");
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		io.chip.ioapic.redirtbl[i].bits =
		    (1ull << 16) | (uint64_t)(0x40 + i) | ((uint64_t)(i % 2) << 56);
	must(ioctl(a.k.vm_fd, KVM_SET_IRQCHIP, &io) == 0, "KVM_SET_IRQCHIP");
	struct kvm_irqchip pic = {.chip_id = KVM_IRQCHIP_PIC_MASTER};
	must(ioctl(a.k.vm_fd, KVM_GET_IRQCHIP, &pic) == 0, "KVM_GET_IRQCHIP");
	pic.chip.pic.imr = 0xfa;
	pic.chip.pic.irq_base = 0x30;
	must(ioctl(a.k.vm_fd, KVM_SET_IRQCHIP, &pic) == 0, "KVM_SET_IRQCHIP");
	struct kvm_clock_data clk = {.clock = 10000000000ull};
	must(ioctl(a.k.vm_fd, KVM_SET_CLOCK, &clk) == 0, "KVM_SET_CLOCK");

	struct vmstate_buf cpu, vm;
	save_all(&a, &cpu, &vm);
	print_message("vCPU state blob: %zu bytes, VM state blob: %zu bytes\n", cpu.len, vm.len);

	vm_new(&b, NULL);
	restore_all(&b, cpu.data, cpu.len, vm.data, vm.len);

	struct kvm_regs r2;
	must(ioctl(b.vcpu, KVM_GET_REGS, &r2) == 0, "KVM_GET_REGS");
	assert_memory_equal(&r2, &regs, sizeof(regs));

	struct kvm_sregs s2;
	must(ioctl(b.vcpu, KVM_GET_SREGS, &s2) == 0, "KVM_GET_SREGS");
	assert_memory_equal(&s2.cs, &sregs.cs, sizeof(s2.cs));
	assert_memory_equal(&s2.ds, &sregs.ds, sizeof(s2.ds));
	assert_int_equal(s2.fs.base, 0x7000);
	assert_int_equal(s2.gs.base, 0x8000);
	assert_int_equal(s2.gdt.base, 0x500);
	assert_int_equal(s2.gdt.limit, 0x1f);
	assert_int_equal(s2.idt.base, 0x600);
	assert_int_equal(s2.idt.limit, 0xff);
	assert_int_equal(s2.cr0, sregs.cr0);
	assert_int_equal(s2.cr2, 0xdead000);
	assert_int_equal(s2.cr3, 0x5000);
	assert_int_equal(s2.cr4, sregs.cr4);
	assert_int_equal(s2.efer, sregs.efer);
	assert_int_equal(s2.apic_base, sregs.apic_base);

	struct kvm_lapic_state l2;
	must(ioctl(b.vcpu, KVM_GET_LAPIC, &l2) == 0, "KVM_GET_LAPIC");
	unsigned offs[] = {APIC_ID, APIC_SPIV, APIC_TPR, APIC_LVT0, APIC_LVT1, APIC_LVTT};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		assert_int_equal(apic_reg(&l2, offs[i]), apic_reg(&lapic, offs[i]));

	/* either way the clone's TSC is where the original's is */
	uint64_t tsc2 = get_msr(b.vcpu, MSR_IA32_TSC);
	assert_true(tsc2 >= tsc && tsc2 - tsc < (1ull << 36)); /* < ~30 s of ticks */
	assert_int_equal(get_msr(b.vcpu, MSR_STAR), 0x0023001000000000ull);
	assert_int_equal(get_msr(b.vcpu, MSR_LSTAR), 0xffffffff81400040ull);
	assert_int_equal(get_msr(b.vcpu, MSR_IA32_SYSENTER_CS), 0x10);
	assert_int_equal(get_msr(b.vcpu, MSR_IA32_CR_PAT), 0x0007040600070406ull);
	assert_int_equal(get_msr(b.vcpu, MSR_KVM_SYSTEM_TIME_NEW), KVMCLOCK_GPA | 1);
	assert_int_equal(get_msr(b.vcpu, MSR_IA32_TSC_DEADLINE), deadline);

	struct kvm_vcpu_events e2;
	must(ioctl(b.vcpu, KVM_GET_VCPU_EVENTS, &e2) == 0, "KVM_GET_VCPU_EVENTS");
	assert_int_equal(e2.nmi.masked, 1);
	struct kvm_mp_state mp2;
	must(ioctl(b.vcpu, KVM_GET_MP_STATE, &mp2) == 0, "KVM_GET_MP_STATE");
	assert_int_equal(mp2.mp_state, KVM_MP_STATE_HALTED);

	struct kvm_irqchip io2 = {.chip_id = KVM_IRQCHIP_IOAPIC};
	must(ioctl(b.k.vm_fd, KVM_GET_IRQCHIP, &io2) == 0, "KVM_GET_IRQCHIP");
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		assert_int_equal(io2.chip.ioapic.redirtbl[i].bits, io.chip.ioapic.redirtbl[i].bits);
	struct kvm_irqchip pic2 = {.chip_id = KVM_IRQCHIP_PIC_MASTER};
	must(ioctl(b.k.vm_fd, KVM_GET_IRQCHIP, &pic2) == 0, "KVM_GET_IRQCHIP");
	assert_int_equal(pic2.chip.pic.imr, 0xfa);
	assert_int_equal(pic2.chip.pic.irq_base, 0x30);
	struct kvm_clock_data c2 = {0};
	must(ioctl(b.k.vm_fd, KVM_GET_CLOCK, &c2) == 0, "KVM_GET_CLOCK");
	/* resumed where it was saved, not advanced by the wall time since */
	assert_true(c2.clock >= 10000000000ull && c2.clock < 10000000000ull + 30000000000ull);

	/* a blob restores into the same VM again (idempotent) */
	restore_all(&b, cpu.data, cpu.len, vm.data, vm.len);

	vmstate_buf_free(&cpu);
	vmstate_buf_free(&vm);
	vm_free(&a);
	vm_free(&b);
}

/* Real mode at CODE: inc ax; mov [DATA], ax; out PORT, al; jmp CODE */
static const uint8_t guest_code[] = {0x40, 0xa3, DATA & 0xff, DATA >> 8, 0xe6, PORT, 0xeb, 0xf8};

static void boot_real_mode(struct vmx *v)
{
	memcpy(ram(v) + CODE, guest_code, sizeof(guest_code));
	struct kvm_sregs s;
	must(ioctl(v->vcpu, KVM_GET_SREGS, &s) == 0, "KVM_GET_SREGS");
	s.cs.base = 0;
	s.cs.selector = 0;
	must(ioctl(v->vcpu, KVM_SET_SREGS, &s) == 0, "KVM_SET_SREGS");
	struct kvm_regs r = {.rip = CODE, .rflags = 0x2};
	must(ioctl(v->vcpu, KVM_SET_REGS, &r) == 0, "KVM_SET_REGS");
}

/* Run to the next OUT and return the byte written. */
static uint8_t run_to_out(struct vmx *v)
{
	for (int i = 0; i < 100; i++) {
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			fail_msg("KVM_RUN: %s", strerror(errno));
		}
		if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == PORT &&
		    v->run->io.direction == KVM_EXIT_IO_OUT)
			return *((uint8_t *)v->run + v->run->io.data_offset);
		fail_msg("unexpected exit %u", v->run->exit_reason);
	}
	fail_msg("no OUT");
	return 0;
}

/* What the VMM must do before saving after a PIO/MMIO exit: re-enter once
 * with immediate_exit so KVM completes the instruction. */
static void complete_io(struct vmx *v)
{
	v->run->immediate_exit = 1;
	int rc = ioctl(v->vcpu, KVM_RUN, 0);
	assert_true(rc < 0 && errno == EINTR);
	v->run->immediate_exit = 0;
}

static void test_run_continues_after_restore(void **state)
{
	(void)state;
	struct vmx a, b;
	vm_new(&a, NULL);
	boot_real_mode(&a);
	assert_int_equal(run_to_out(&a), 1);
	assert_int_equal(run_to_out(&a), 2);
	complete_io(&a);

	struct vmstate_buf cpu, vm;
	save_all(&a, &cpu, &vm);
	vm_new(&b, NULL);
	memcpy(ram(&b), ram(&a), RAM);
	restore_all(&b, cpu.data, cpu.len, vm.data, vm.len);
	/* the clone continues where the original was, and so does the
	 * original: they are independent */
	assert_int_equal(run_to_out(&b), 3);
	assert_int_equal(run_to_out(&b), 4);
	assert_int_equal(run_to_out(&a), 3);
	assert_int_equal(ram(&b)[DATA], 4);
	assert_int_equal(ram(&a)[DATA], 3);

	/* KVM also takes the VM state before the vCPUs' */
	struct vmx c;
	vm_new(&c, NULL);
	memcpy(ram(&c), ram(&b), RAM);
	ram(&c)[DATA] = 2; /* as saved */
	struct errmsg err = {{0}};
	if (vmstate_vm_restore(c.k.vm_fd, vm.data, vm.len, &err) ||
	    vmstate_vcpu_restore(c.vcpu, cpu.data, cpu.len, &err))
		fail_msg("%s", err.text);
	assert_int_equal(run_to_out(&c), 3);
	vm_free(&c);

	vmstate_buf_free(&cpu);
	vmstate_buf_free(&vm);
	vm_free(&a);
	vm_free(&b);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void test_restore_from_template(void **state)
{
	(void)state;
	char root[] = "/tmp/hull-test-kvmsnap-XXXXXX";
	assert_non_null(mkdtemp(root));
	char dir[64];
	snprintf(dir, sizeof(dir), "%s/tpl", root);

	struct vmx a;
	vm_new(&a, NULL);
	boot_real_mode(&a);
	assert_int_equal(run_to_out(&a), 1);
	complete_io(&a);
	struct vmstate_buf cpu, vm;
	save_all(&a, &cpu, &vm);
	struct snapshot_section secs[2] = {{.id = 1, .data = cpu.data, .len = cpu.len},
					   {.id = 2, .data = vm.data, .len = vm.len}};
	struct snapshot_desc d = {
	    .hull_version = "test", .key = "kvm-test", .sections = secs, .nsections = 2};
	struct errmsg err = {{0}};
	if (snapshot_write(dir, &d, &a.mem, &err))
		fail_msg("%s", err.text);
	vm_free(&a);
	vmstate_buf_free(&cpu);
	vmstate_buf_free(&vm);

	/* two clones from the template, each running on its private copy */
	for (int clone = 0; clone < 2; clone++) {
		struct vmx b;
		vm_new(&b, dir);
		const uint8_t *c, *m;
		size_t cl, ml;
		assert_int_equal(snapshot_section(&b.snap, 1, &c, &cl), 0);
		assert_int_equal(snapshot_section(&b.snap, 2, &m, &ml), 0);
		restore_all(&b, c, cl, m, ml);
		assert_int_equal(run_to_out(&b), 2);
		assert_int_equal(run_to_out(&b), 3);
		assert_int_equal(ram(&b)[DATA], 3);
		vm_free(&b);
	}
	/* the template still holds the saved RAM */
	char mem[96];
	snprintf(mem, sizeof(mem), "%s/mem", dir);
	int fd = open(mem, O_RDONLY);
	uint8_t byte = 0;
	assert_int_equal(pread(fd, &byte, 1, DATA), 1);
	assert_int_equal(byte, 1);
	close(fd);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_xsave_blob_present(void **state)
{
	(void)state;
	/* whether this host gave us XSAVE (informational) and that a blob
	 * with every optional section restores */
	struct vmx a, b;
	vm_new(&a, NULL);
	int xs = ioctl(a.k.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE);
	int xs2 = ioctl(a.k.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	int xcrs = ioctl(a.k.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS);
	print_message("KVM_CAP_XSAVE=%d XSAVE2=%d XCRS=%d\n", xs, xs2, xcrs);
	struct vmstate_buf cpu, vm;
	save_all(&a, &cpu, &vm);
	struct vmstate_reader r;
	vmstate_reader_init(&r, cpu.data, cpu.len);
	uint32_t tag, len;
	const uint8_t *p;
	bool have_xsave = false;
	unsigned msrs = 0;
	while (vmstate_next(&r, &tag, &p, &len) > 0) {
		if (tag == VMSTATE_TAG('X', 'S', 'A', 'V'))
			have_xsave = true;
		if (tag == VMSTATE_TAG('M', 'S', 'R', 'S'))
			msrs = vmstate_le32(p);
	}
	assert_int_equal(have_xsave, xs > 0);
	print_message("MSRs saved: %u\n", msrs);
	assert_true(msrs > 0);
	vm_new(&b, NULL);
	restore_all(&b, cpu.data, cpu.len, vm.data, vm.len);
	vmstate_buf_free(&cpu);
	vmstate_buf_free(&vm);
	vm_free(&a);
	vm_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_round_trip),
	    cmocka_unit_test(test_run_continues_after_restore),
	    cmocka_unit_test(test_restore_from_template),
	    cmocka_unit_test(test_xsave_blob_present),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
