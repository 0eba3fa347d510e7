#include "vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

/* ---- KVM vCPU state ---- */

#define TAG_MP_STATE VMSTATE_TAG('M', 'P', 'S', 'T')
#define TAG_REGS VMSTATE_TAG('R', 'E', 'G', 'S')
#define TAG_SREGS VMSTATE_TAG('S', 'R', 'E', 'G')
#define TAG_FPU VMSTATE_TAG('F', 'P', 'U', ' ')
#define TAG_XSAVE VMSTATE_TAG('X', 'S', 'A', 'V')
#define TAG_XCRS VMSTATE_TAG('X', 'C', 'R', 'S')
#define TAG_DEBUGREGS VMSTATE_TAG('D', 'B', 'G', 'R')
#define TAG_LAPIC VMSTATE_TAG('L', 'A', 'P', 'I')
#define TAG_EVENTS VMSTATE_TAG('E', 'V', 'N', 'T')
#define TAG_MSRS VMSTATE_TAG('M', 'S', 'R', 'S')

#define MSR_IA32_TSC 0x10u
#define MSR_IA32_TSC_DEADLINE 0x6e0u
/* KVM_GET/SET_MSRS take at most this many entries per call (MAX_IO_MSRS is
 * 256 in KVM; stay well below). */
#define MSR_CHUNK 64u
/* Most MSRs a vCPU blob may carry: KVM reports a few dozen to a few hundred. */
#define MSR_MAX 4096u
/* The XSAVE area KVM reports is 4 KiB, or more with AMX (KVM_CAP_XSAVE2).
 * Restore copies the blob into a zeroed buffer this large, so KVM_SET_XSAVE
 * (which reads as many bytes as *this* host's XSAVE layout has) never reads
 * past our buffer even if a blob is short. */
#define XSAVE_MAX (64u * 1024)
#define MSR_ENTRY_LEN 16u /* index u32, reserved u32, data u64 */

static int ioctl_err(struct errmsg *err, const char *what)
{
	int e = errno;
	return errmsg_set(err, -e, "%s: %s", what, strerror(e));
}

static int get_put(int fd, unsigned long req, const char *what, void *obj, size_t size,
		   uint32_t tag, struct vmstate_buf *out, struct errmsg *err)
{
	if (ioctl(fd, req, obj) < 0)
		return ioctl_err(err, what);
	int rc = vmstate_put(out, tag, obj, size);
	return rc ? errmsg_set(err, rc, "%s: out of memory", what) : 0;
}

static int msr_index_list(int kvm_fd, struct kvm_msr_list **out, struct errmsg *err)
{
	struct kvm_msr_list probe = {.nmsrs = 0};
	/* E2BIG with nmsrs set to the count is the expected answer. */
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return ioctl_err(err, "KVM_GET_MSR_INDEX_LIST");
	for (int tries = 0; tries < 4; tries++) {
		uint32_t n = probe.nmsrs;
		if (n > MSR_MAX)
			return errmsg_set(err, -E2BIG, "KVM_GET_MSR_INDEX_LIST: %u MSRs", n);
		struct kvm_msr_list *l = calloc(1, sizeof(*l) + (size_t)n * sizeof(uint32_t));
		if (!l)
			return errmsg_set(err, -ENOMEM, "MSR list: out of memory");
		l->nmsrs = n;
		if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l) == 0) {
			*out = l;
			return 0;
		}
		int e = errno;
		probe.nmsrs = l->nmsrs;
		free(l);
		if (e != E2BIG)
			return errmsg_set(err, -e, "KVM_GET_MSR_INDEX_LIST: %s", strerror(e));
	}
	return errmsg_set(err, -EAGAIN, "KVM_GET_MSR_INDEX_LIST: list keeps changing");
}

/* Read every MSR of the list that KVM lets us read. KVM_GET_MSRS returns
 * how many entries it processed and stops at the first one it cannot read
 * (some indices in the list fail on some hosts or CPU models): keep the
 * good prefix, skip the failing index, continue after it. */
static int save_msrs(int kvm_fd, int vcpu_fd, struct vmstate_buf *out, struct errmsg *err)
{
	struct kvm_msr_list *list = NULL;
	int rc = msr_index_list(kvm_fd, &list, err);
	if (rc)
		return rc;
	struct kvm_msrs *m = calloc(1, sizeof(*m) + MSR_CHUNK * sizeof(struct kvm_msr_entry));
	uint8_t *payload = malloc(4 + (size_t)list->nmsrs * MSR_ENTRY_LEN);
	if (!m || !payload) {
		rc = errmsg_set(err, -ENOMEM, "MSRs: out of memory");
		goto out;
	}
	uint32_t saved = 0;
	uint32_t i = 0;
	while (i < list->nmsrs) {
		uint32_t n = list->nmsrs - i < MSR_CHUNK ? list->nmsrs - i : MSR_CHUNK;
		memset(m, 0, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
		m->nmsrs = n;
		for (uint32_t k = 0; k < n; k++)
			m->entries[k].index = list->indices[i + k];
		int got = ioctl(vcpu_fd, KVM_GET_MSRS, m);
		if (got < 0) {
			rc = ioctl_err(err, "KVM_GET_MSRS");
			goto out;
		}
		if ((uint32_t)got > n)
			got = (int)n;
		for (int k = 0; k < got; k++) {
			uint8_t *e = payload + 4 + (size_t)saved * MSR_ENTRY_LEN;
			vmstate_st32(e, m->entries[k].index);
			vmstate_st32(e + 4, 0);
			vmstate_st64(e + 8, m->entries[k].data);
			saved++;
		}
		/* got < n: entry `got` is unreadable here, skip it */
		i += (uint32_t)got + ((uint32_t)got < n ? 1 : 0);
	}
	vmstate_st32(payload, saved);
	rc = vmstate_put(out, TAG_MSRS, payload, 4 + (size_t)saved * MSR_ENTRY_LEN);
	if (rc)
		errmsg_set(err, rc, "MSRs: out of memory");
out:
	free(payload);
	free(m);
	free(list);
	return rc;
}

int vmstate_vcpu_save(int kvm_fd, int vcpu_fd, struct vmstate_buf *out, struct errmsg *err)
{
	/* Save order (as Firecracker does): MP_STATE first, because
	 * KVM_GET_MP_STATE processes pending INIT/SIPI events and may change
	 * the other state; VCPU_EVENTS last, after everything that may queue
	 * or clear an event. */
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events ev;
	int rc;

	memset(&mp, 0, sizeof(mp));
	memset(&regs, 0, sizeof(regs));
	memset(&sregs, 0, sizeof(sregs));
	memset(&fpu, 0, sizeof(fpu));
	memset(&xcrs, 0, sizeof(xcrs));
	memset(&dbg, 0, sizeof(dbg));
	memset(&lapic, 0, sizeof(lapic));
	memset(&ev, 0, sizeof(ev));

	if ((rc = get_put(vcpu_fd, KVM_GET_MP_STATE, "KVM_GET_MP_STATE", &mp, sizeof(mp),
			  TAG_MP_STATE, out, err)))
		return rc;
	if ((rc = get_put(vcpu_fd, KVM_GET_REGS, "KVM_GET_REGS", &regs, sizeof(regs), TAG_REGS, out,
			  err)))
		return rc;
	if ((rc = get_put(vcpu_fd, KVM_GET_SREGS, "KVM_GET_SREGS", &sregs, sizeof(sregs), TAG_SREGS,
			  out, err)))
		return rc;
	/* The legacy FPU image is small and works everywhere; XSAVE, when the
	 * host has it, is a superset and is restored after it. */
	if ((rc = get_put(vcpu_fd, KVM_GET_FPU, "KVM_GET_FPU", &fpu, sizeof(fpu), TAG_FPU, out,
			  err)))
		return rc;
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
		int size2 = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
		size_t size = sizeof(struct kvm_xsave);
		if (size2 > (int)size)
			size = (size_t)size2;
		if (size > XSAVE_MAX)
			return errmsg_set(err, -E2BIG, "XSAVE area of %zu bytes", size);
		void *x = calloc(1, size);
		if (!x)
			return errmsg_set(err, -ENOMEM, "XSAVE: out of memory");
		if (size2 > 0)
			rc = get_put(vcpu_fd, KVM_GET_XSAVE2, "KVM_GET_XSAVE2", x, size, TAG_XSAVE,
				     out, err);
		else
			rc = get_put(vcpu_fd, KVM_GET_XSAVE, "KVM_GET_XSAVE", x, size, TAG_XSAVE,
				     out, err);
		free(x);
		if (rc)
			return rc;
	}
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
	    (rc = get_put(vcpu_fd, KVM_GET_XCRS, "KVM_GET_XCRS", &xcrs, sizeof(xcrs), TAG_XCRS, out,
			  err)))
		return rc;
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0 &&
	    (rc = get_put(vcpu_fd, KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS", &dbg, sizeof(dbg),
			  TAG_DEBUGREGS, out, err)))
		return rc;
	if ((rc = get_put(vcpu_fd, KVM_GET_LAPIC, "KVM_GET_LAPIC", &lapic, sizeof(lapic), TAG_LAPIC,
			  out, err)))
		return rc;
	if ((rc = save_msrs(kvm_fd, vcpu_fd, out, err)))
		return rc;
	return get_put(vcpu_fd, KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS", &ev, sizeof(ev),
		       TAG_EVENTS, out, err);
}

/* The decoded vCPU blob: pointers into it, lengths checked. */
struct vcpu_blob {
	const uint8_t *sec[10];
	uint32_t len[10];
};

enum { S_MP, S_REGS, S_SREGS, S_FPU, S_XSAVE, S_XCRS, S_DBG, S_LAPIC, S_EVENTS, S_MSRS, S_N };

static const struct {
	uint32_t tag;
	size_t size; /* exact payload size; 0: variable, checked by its decoder */
	bool required;
	const char *name;
} vcpu_secs[S_N] = {
    [S_MP] = {TAG_MP_STATE, sizeof(struct kvm_mp_state), true, "MP state"},
    [S_REGS] = {TAG_REGS, sizeof(struct kvm_regs), true, "registers"},
    [S_SREGS] = {TAG_SREGS, sizeof(struct kvm_sregs), true, "system registers"},
    [S_FPU] = {TAG_FPU, sizeof(struct kvm_fpu), true, "FPU"},
    [S_XSAVE] = {TAG_XSAVE, 0, false, "XSAVE"},
    [S_XCRS] = {TAG_XCRS, sizeof(struct kvm_xcrs), false, "XCRs"},
    [S_DBG] = {TAG_DEBUGREGS, sizeof(struct kvm_debugregs), false, "debug registers"},
    [S_LAPIC] = {TAG_LAPIC, sizeof(struct kvm_lapic_state), true, "LAPIC"},
    [S_EVENTS] = {TAG_EVENTS, sizeof(struct kvm_vcpu_events), true, "events"},
    [S_MSRS] = {TAG_MSRS, 0, true, "MSRs"},
};

static int parse_vcpu_blob(const uint8_t *buf, size_t len, struct vcpu_blob *b, struct errmsg *err)
{
	memset(b, 0, sizeof(*b));
	struct vmstate_reader r;
	vmstate_reader_init(&r, buf, len);
	uint32_t tag, plen;
	const uint8_t *p;
	int rc;
	char tn[12];
	while ((rc = vmstate_next(&r, &tag, &p, &plen)) > 0) {
		int s = -1;
		for (int i = 0; i < S_N; i++)
			if (vcpu_secs[i].tag == tag)
				s = i;
		if (s < 0)
			return errmsg_set(err, -EINVAL, "vCPU state: unknown section %s",
					  vmstate_tag_name(tag, tn));
		if (b->sec[s])
			return errmsg_set(err, -EINVAL, "vCPU state: %s saved twice",
					  vcpu_secs[s].name);
		if (vcpu_secs[s].size && plen != vcpu_secs[s].size)
			return errmsg_set(err, -EINVAL, "vCPU state: %s is %u bytes, expected %zu",
					  vcpu_secs[s].name, plen, vcpu_secs[s].size);
		b->sec[s] = p;
		b->len[s] = plen;
	}
	if (rc < 0)
		return errmsg_set(err, -EINVAL, "vCPU state: truncated");
	for (int i = 0; i < S_N; i++)
		if (vcpu_secs[i].required && !b->sec[i])
			return errmsg_set(err, -EINVAL, "vCPU state: no %s", vcpu_secs[i].name);
	if (b->sec[S_XSAVE] &&
	    (b->len[S_XSAVE] < sizeof(struct kvm_xsave) || b->len[S_XSAVE] > XSAVE_MAX))
		return errmsg_set(err, -EINVAL, "vCPU state: XSAVE area of %u bytes",
				  b->len[S_XSAVE]);
	uint32_t n = b->len[S_MSRS] >= 4 ? vmstate_le32(b->sec[S_MSRS]) : 0;
	if (b->len[S_MSRS] < 4 || n > MSR_MAX || b->len[S_MSRS] != 4 + (uint64_t)n * MSR_ENTRY_LEN)
		return errmsg_set(err, -EINVAL, "vCPU state: MSR list of %u bytes is malformed",
				  b->len[S_MSRS]);
	return 0;
}

static int set_from(int fd, unsigned long req, const char *what, const uint8_t *p, size_t size,
		    struct errmsg *err)
{
	/* copy out: the blob has no alignment guarantees */
	void *obj = malloc(size);
	if (!obj)
		return errmsg_set(err, -ENOMEM, "%s: out of memory", what);
	memcpy(obj, p, size);
	int rc = ioctl(fd, req, obj) < 0 ? ioctl_err(err, what) : 0;
	free(obj);
	return rc;
}

/* Write MSRs in order; an entry KVM refuses is accepted only if the vCPU
 * already holds exactly that value (e.g. a read-only feature MSR). */
static int set_msr_list(int vcpu_fd, const struct kvm_msr_entry *e, uint32_t n, struct errmsg *err)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + MSR_CHUNK * sizeof(*e));
	if (!m)
		return errmsg_set(err, -ENOMEM, "MSRs: out of memory");
	int rc = 0;
	uint32_t i = 0;
	while (i < n) {
		uint32_t c = n - i < MSR_CHUNK ? n - i : MSR_CHUNK;
		m->nmsrs = c;
		memcpy(m->entries, e + i, c * sizeof(*e));
		int done = ioctl(vcpu_fd, KVM_SET_MSRS, m);
		if (done < 0) {
			rc = ioctl_err(err, "KVM_SET_MSRS");
			break;
		}
		if ((uint32_t)done >= c) {
			i += c;
			continue;
		}
		const struct kvm_msr_entry *bad = &e[i + (uint32_t)done];
		struct {
			struct kvm_msrs h;
			struct kvm_msr_entry e[1];
		} cur = {.h.nmsrs = 1, .e[0].index = bad->index};
		if (ioctl(vcpu_fd, KVM_GET_MSRS, &cur) != 1 || cur.e[0].data != bad->data) {
			rc = errmsg_set(err, -EIO, "KVM_SET_MSRS: MSR 0x%x refused value 0x%llx",
					bad->index, (unsigned long long)bad->data);
			break;
		}
		i += (uint32_t)done + 1;
	}
	free(m);
	return rc;
}

/* Restore order, and why (cf. QEMU's kvm_arch_put_registers and
 * Firecracker's vCPU restore_state):
 *  1. SREGS first: CR0/CR4/EFER define the mode that later state is checked
 *     against, and SREGS carries the APIC base (enable bit, x2APIC mode)
 *     that KVM_SET_LAPIC interprets the register page with.
 *  2. REGS, FPU, then XSAVE (a superset of the FPU image, so it wins), XCRS,
 *     DEBUGREGS: plain register state.
 *  3. MSRs, with MSR_IA32_TSC first: the kvmclock/steal-time/PV-EOI MSRs
 *     point KVM at guest memory (so the memory slots must already exist),
 *     and the TSC must be in place before anything derived from it.
 *  4. LAPIC after SREGS (APIC base) and after the MSRs.
 *  5. MSR_IA32_TSC_DEADLINE after the LAPIC: KVM drops a deadline written
 *     while the LVT timer is not (yet) in TSC-deadline mode (seen here: it
 *     reads back 0), and a guest idling on its deadline timer would never
 *     wake up. After the TSC, so the deadline is relative to the restored
 *     TSC.
 *  6. MP_STATE late: it depends on the LAPIC (INIT/SIPI states) and nothing
 *     after it may reset it.
 *  7. VCPU_EVENTS last: KVM_SET_SREGS/KVM_SET_LAPIC can queue or drop
 *     pending interrupts; the saved events (pending exception, NMI,
 *     interrupt shadow) must be what the vCPU resumes with.
 * KVM_SET_TSC_KHZ is not needed: templates are only restored on the host
 * (CPU signature) that made them, where the TSC rate is the same. */
int vmstate_vcpu_restore(int vcpu_fd, const uint8_t *buf, size_t len, struct errmsg *err)
{
	struct vcpu_blob b;
	int rc = parse_vcpu_blob(buf, len, &b, err);
	if (rc)
		return rc;

	/* MSR entries: TSC first, TSC_DEADLINE held back for step 5. */
	uint32_t n = vmstate_le32(b.sec[S_MSRS]);
	struct kvm_msr_entry *e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return errmsg_set(err, -ENOMEM, "MSRs: out of memory");
	struct kvm_msr_entry deadline = {0};
	bool have_deadline = false;
	uint32_t ne = 0;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = b.sec[S_MSRS] + 4 + (size_t)i * MSR_ENTRY_LEN;
		struct kvm_msr_entry x = {.index = vmstate_le32(s), .data = vmstate_le64(s + 8)};
		if (x.index == MSR_IA32_TSC_DEADLINE) {
			deadline = x;
			have_deadline = true;
		} else if (x.index == MSR_IA32_TSC) {
			memmove(e + 1, e, ne * sizeof(*e));
			e[0] = x;
			ne++;
		} else {
			e[ne++] = x;
		}
	}

	if ((rc = set_from(vcpu_fd, KVM_SET_SREGS, "KVM_SET_SREGS", b.sec[S_SREGS],
			   sizeof(struct kvm_sregs), err)))
		goto out;
	if ((rc = set_from(vcpu_fd, KVM_SET_REGS, "KVM_SET_REGS", b.sec[S_REGS],
			   sizeof(struct kvm_regs), err)))
		goto out;
	if ((rc = set_from(vcpu_fd, KVM_SET_FPU, "KVM_SET_FPU", b.sec[S_FPU],
			   sizeof(struct kvm_fpu), err)))
		goto out;
	if (b.sec[S_XSAVE]) {
		uint8_t *x = calloc(1, XSAVE_MAX);
		if (!x) {
			rc = errmsg_set(err, -ENOMEM, "XSAVE: out of memory");
			goto out;
		}
		memcpy(x, b.sec[S_XSAVE], b.len[S_XSAVE]);
		rc = ioctl(vcpu_fd, KVM_SET_XSAVE, x) < 0 ? ioctl_err(err, "KVM_SET_XSAVE") : 0;
		free(x);
		if (rc)
			goto out;
	}
	if (b.sec[S_XCRS] && (rc = set_from(vcpu_fd, KVM_SET_XCRS, "KVM_SET_XCRS", b.sec[S_XCRS],
					    sizeof(struct kvm_xcrs), err)))
		goto out;
	if (b.sec[S_DBG] && (rc = set_from(vcpu_fd, KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS",
					   b.sec[S_DBG], sizeof(struct kvm_debugregs), err)))
		goto out;
	if ((rc = set_msr_list(vcpu_fd, e, ne, err)))
		goto out;
	if ((rc = set_from(vcpu_fd, KVM_SET_LAPIC, "KVM_SET_LAPIC", b.sec[S_LAPIC],
			   sizeof(struct kvm_lapic_state), err)))
		goto out;
	if (have_deadline && (rc = set_msr_list(vcpu_fd, &deadline, 1, err)))
		goto out;
	if ((rc = set_from(vcpu_fd, KVM_SET_MP_STATE, "KVM_SET_MP_STATE", b.sec[S_MP],
			   sizeof(struct kvm_mp_state), err)))
		goto out;

	/* KVM_GET_VCPU_EVENTS does not flag the NMI-pending and SIPI-vector
	 * fields valid, but they are filled in: ask KVM to restore them too
	 * (as QEMU does), so a pending NMI or an AP's SIPI vector survives. */
	struct kvm_vcpu_events ev;
	memcpy(&ev, b.sec[S_EVENTS], sizeof(ev));
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if (ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		rc = ioctl_err(err, "KVM_SET_VCPU_EVENTS");
out:
	free(e);
	return rc;
}

/* ---- KVM VM state ---- */

#define TAG_PIC_MASTER VMSTATE_TAG('P', 'I', 'C', 'M')
#define TAG_PIC_SLAVE VMSTATE_TAG('P', 'I', 'C', 'S')
#define TAG_IOAPIC VMSTATE_TAG('I', 'O', 'A', 'P')
#define TAG_CLOCK VMSTATE_TAG('C', 'L', 'C', 'K')

static const struct {
	uint32_t tag;
	uint32_t chip;
	const char *name;
} chips[3] = {
    {TAG_PIC_MASTER, KVM_IRQCHIP_PIC_MASTER, "PIC master"},
    {TAG_PIC_SLAVE, KVM_IRQCHIP_PIC_SLAVE, "PIC slave"},
    {TAG_IOAPIC, KVM_IRQCHIP_IOAPIC, "IOAPIC"},
};

int vmstate_vm_save(int vm_fd, struct vmstate_buf *out, struct errmsg *err)
{
	int rc;
	for (int i = 0; i < 3; i++) {
		struct kvm_irqchip c;
		memset(&c, 0, sizeof(c));
		c.chip_id = chips[i].chip;
		if ((rc = get_put(vm_fd, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", &c, sizeof(c),
				  chips[i].tag, out, err)))
			return rc;
	}
	struct kvm_clock_data clk;
	memset(&clk, 0, sizeof(clk));
	return get_put(vm_fd, KVM_GET_CLOCK, "KVM_GET_CLOCK", &clk, sizeof(clk), TAG_CLOCK, out,
		       err);
}

int vmstate_vm_restore(int vm_fd, const uint8_t *buf, size_t len, struct errmsg *err)
{
	const uint8_t *sec[4] = {0};
	struct vmstate_reader r;
	vmstate_reader_init(&r, buf, len);
	uint32_t tag, plen;
	const uint8_t *p;
	int rc;
	char tn[12];
	while ((rc = vmstate_next(&r, &tag, &p, &plen)) > 0) {
		int s = -1;
		size_t want = sizeof(struct kvm_irqchip);
		for (int i = 0; i < 3; i++)
			if (chips[i].tag == tag)
				s = i;
		if (tag == TAG_CLOCK) {
			s = 3;
			want = sizeof(struct kvm_clock_data);
		}
		if (s < 0)
			return errmsg_set(err, -EINVAL, "VM state: unknown section %s",
					  vmstate_tag_name(tag, tn));
		if (sec[s])
			return errmsg_set(err, -EINVAL, "VM state: section %s twice",
					  vmstate_tag_name(tag, tn));
		if (plen != want)
			return errmsg_set(err, -EINVAL,
					  "VM state: section %s is %u bytes, expected %zu",
					  vmstate_tag_name(tag, tn), plen, want);
		sec[s] = p;
	}
	if (rc < 0)
		return errmsg_set(err, -EINVAL, "VM state: truncated");
	for (int i = 0; i < 4; i++)
		if (!sec[i])
			return errmsg_set(err, -EINVAL, "VM state: no %s",
					  i < 3 ? chips[i].name : "clock");

	for (int i = 0; i < 3; i++) {
		struct kvm_irqchip c;
		memcpy(&c, sec[i], sizeof(c));
		if (c.chip_id != chips[i].chip)
			return errmsg_set(err, -EINVAL, "VM state: %s section holds chip %u",
					  chips[i].name, c.chip_id);
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &c) < 0)
			return ioctl_err(err, "KVM_SET_IRQCHIP");
	}

	/* The clock goes back exactly where it was saved, flags 0:
	 * - KVM_CLOCK_TSC_STABLE is an output (the host uses a master clock);
	 *   kernels before 5.16 reject KVM_SET_CLOCK with any flag set.
	 * - KVM_CLOCK_REALTIME would advance the guest clock by the wall time
	 *   elapsed since the save. A template is restored hours or days
	 *   later, many times: every clone should start from the same guest
	 *   time rather than jump its monotonic clock (and fire every pending
	 *   timer) by days. The guest's wall clock is stale after a restore and
	 *   must be set from the host by whoever resumes it.
	 * Restored after the vCPUs (whose TSC writes it must not precede). */
	struct kvm_clock_data clk;
	memcpy(&clk, sec[3], sizeof(clk));
	struct kvm_clock_data set;
	memset(&set, 0, sizeof(set));
	set.clock = clk.clock;
	if (ioctl(vm_fd, KVM_SET_CLOCK, &set) < 0)
		return ioctl_err(err, "KVM_SET_CLOCK");
	return 0;
}
