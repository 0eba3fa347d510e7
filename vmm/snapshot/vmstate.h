/* vmstate: the byte format of saved VM state, and KVM state capture/restore.
 *
 * Contract
 * - struct vmstate_buf is a growable byte buffer. Appends never fail
 *   half-way: on allocation failure the buffer keeps its old contents, the
 *   call returns -ENOMEM and so does every later append (sticky error), so a
 *   saver may append many pieces and check once at the end.
 * - A state blob is a sequence of sections: tag (u32), len (u32), then len
 *   bytes of payload, all integers little-endian, no padding or alignment
 *   (decoders copy payloads out, never cast pointers into the blob).
 *   vmstate_next() walks a blob with bounds checks; a header or payload
 *   reaching past the end is -EINVAL. Decoders treat every blob as hostile
 *   (a template file may be corrupted on disk): they check each section's
 *   length against what they decode it into and reject unknown or repeated
 *   tags.
 * - Tags are four-character codes (VMSTATE_TAG('R','E','G','S')) so a hex
 *   dump is readable. Each decoder parses only its own blob, so tags need to
 *   be unique per blob kind only.
 * - KVM state: vmstate_vcpu_save()/vmstate_vm_save() append sections with
 *   the raw KVM structures (host layout: a template is only ever restored on
 *   the host CPU and hull version that made it). The vCPUs must not be in
 *   KVM_RUN while their state or the VM's is read or written, and a vCPU
 *   that last exited for PIO/MMIO must have re-entered KVM_RUN once (with
 *   immediate_exit set) so the instruction is complete before its state is
 *   read (KVM api.rst, KVM_EXIT_IO/MMIO note).
 * - Restore targets are freshly created objects: a vCPU that already has its
 *   CPUID table (KVM_SET_CPUID2: KVM checks many MSR writes against it), in
 *   a VM created the same way (in-kernel irqchip, guest RAM already
 *   registered: some MSRs point KVM at guest memory). Suggested order, as
 *   QEMU and Firecracker do: all vCPUs, then vmstate_vm_restore() (the
 *   clock last); KVM accepts the VM state first too (both are tested).
 * - PVM hosts cannot offset the guest TSC: KVM accepts the MSR_IA32_TSC
 *   write and ignores it, so a restored guest's TSC is the host's, ahead of
 *   the saved one by the time since the save. A guest whose clocksource is
 *   the TSC sees that gap; kvm-clock (restored with KVM_SET_CLOCK) does not.
 * - Functions return 0 or -errno and, when err is non-NULL, say what failed.
 */
#ifndef HULL_VMSTATE_H
#define HULL_VMSTATE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"

#define VMSTATE_TAG(a, b, c, d)                                                                    \
	((uint32_t)(uint8_t)(a) | (uint32_t)(uint8_t)(b) << 8 | (uint32_t)(uint8_t)(c) << 16 |     \
	 (uint32_t)(uint8_t)(d) << 24)

#define VMSTATE_HDR_LEN 8u

/* The encoding is header-only (static inline) so device modules (serial,
 * virtio-mmio) can save and restore state without linking the KVM code. */

struct vmstate_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* sticky: 0 or the first append failure */
};

/* Little-endian loads/stores for payload fields (no alignment needed). */
static inline uint32_t vmstate_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t vmstate_le64(const uint8_t *p)
{
	return (uint64_t)vmstate_le32(p) | (uint64_t)vmstate_le32(p + 4) << 32;
}

static inline void vmstate_st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void vmstate_st64(uint8_t *p, uint64_t v)
{
	vmstate_st32(p, (uint32_t)v);
	vmstate_st32(p + 4, (uint32_t)(v >> 32));
}

static inline void vmstate_buf_init(struct vmstate_buf *b)
{
	memset(b, 0, sizeof(*b));
}

static inline void vmstate_buf_free(struct vmstate_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Append raw bytes. 0, or -ENOMEM (also if an earlier append failed). */
static inline int vmstate_buf_append(struct vmstate_buf *b, const void *p, size_t n)
{
	if (b->err)
		return b->err;
	if (n > SIZE_MAX / 4 - b->len) {
		b->err = -ENOMEM;
		return b->err;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *nd = (uint8_t *)realloc(b->data, cap);
		if (!nd) {
			b->err = -ENOMEM;
			return b->err;
		}
		b->data = nd;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int vmstate_buf_put_u32(struct vmstate_buf *b, uint32_t v)
{
	uint8_t le[4];
	vmstate_st32(le, v);
	return vmstate_buf_append(b, le, sizeof(le));
}

static inline int vmstate_buf_put_u64(struct vmstate_buf *b, uint64_t v)
{
	uint8_t le[8];
	vmstate_st64(le, v);
	return vmstate_buf_append(b, le, sizeof(le));
}

/* Append one section. 0, -EINVAL if len does not fit in u32, or -ENOMEM
 * (then nothing of the section was appended). */
static inline int vmstate_put(struct vmstate_buf *b, uint32_t tag, const void *payload, size_t len)
{
	if (len > UINT32_MAX)
		return -EINVAL;
	if (b->err)
		return b->err;
	uint8_t hdr[VMSTATE_HDR_LEN];
	vmstate_st32(hdr, tag);
	vmstate_st32(hdr + 4, (uint32_t)len);
	size_t old = b->len;
	vmstate_buf_append(b, hdr, sizeof(hdr));
	vmstate_buf_append(b, payload, len);
	if (b->err)
		b->len = old;
	return b->err;
}

/* Reading a blob. */
struct vmstate_reader {
	const uint8_t *p;
	size_t len;
	size_t off; /* SIZE_MAX once failed */
};

static inline void vmstate_reader_init(struct vmstate_reader *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->len = buf ? len : 0;
	r->off = 0;
}

/* The next section: returns 1 with *tag, *payload, *plen set; 0 at the end
 * of the blob; -EINVAL if the header or the payload is cut off. After
 * -EINVAL the reader stays failed. */
static inline int vmstate_next(struct vmstate_reader *r, uint32_t *tag, const uint8_t **payload,
			       uint32_t *plen)
{
	if (r->off > r->len)
		return -EINVAL;
	size_t left = r->len - r->off;
	if (left == 0)
		return 0;
	const uint8_t *h = r->p + r->off;
	if (left < VMSTATE_HDR_LEN || vmstate_le32(h + 4) > left - VMSTATE_HDR_LEN) {
		r->off = SIZE_MAX;
		return -EINVAL;
	}
	*tag = vmstate_le32(h);
	*plen = vmstate_le32(h + 4);
	*payload = h + VMSTATE_HDR_LEN;
	r->off += VMSTATE_HDR_LEN + *plen;
	return 1;
}

/* Human-readable form of a tag for messages: "REGS", or hex if not
 * printable. buf must hold 12 bytes. */
static inline const char *vmstate_tag_name(uint32_t tag, char *buf)
{
	char c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = (char)(tag >> (8 * i));
		if (c[i] < 0x20 || c[i] > 0x7e) {
			snprintf(buf, 12, "0x%08x", tag);
			return buf;
		}
	}
	snprintf(buf, 12, "%.4s", c);
	return buf;
}

/* ---- KVM state ---- */

/* One vCPU: MP_STATE, REGS, SREGS, FPU, XSAVE (if KVM_CAP_XSAVE), XCRS (if
 * KVM_CAP_XCRS), DEBUGREGS, LAPIC, VCPU_EVENTS and every MSR of
 * KVM_GET_MSR_INDEX_LIST that reads successfully. kvm_fd is the /dev/kvm
 * fd (capabilities, the MSR list). */
int vmstate_vcpu_save(int kvm_fd, int vcpu_fd, struct vmstate_buf *out, struct errmsg *err);
int vmstate_vcpu_restore(int vcpu_fd, const uint8_t *buf, size_t len, struct errmsg *err);

/* The VM: the in-kernel PIC master, PIC slave and IOAPIC, and the kvmclock. */
int vmstate_vm_save(int vm_fd, struct vmstate_buf *out, struct errmsg *err);
int vmstate_vm_restore(int vm_fd, const uint8_t *buf, size_t len, struct errmsg *err);

#endif
