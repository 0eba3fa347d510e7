/* Unit tests for vmm/snapshot/vmstate.[ch]: the buffer, the section encoding, and
 * the vCPU/VM blob decoders' refusals (hostile blobs, no KVM needed: they
 * are rejected before any ioctl). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <linux/kvm.h>

#include "vmm/snapshot/vmstate.h"

#define TAG_A VMSTATE_TAG('A', 'A', 'A', 'A')
#define TAG_B VMSTATE_TAG('B', 'B', 'B', 'B')

static void test_buf_grows_and_keeps_bytes(void **state)
{
	(void)state;
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	for (uint32_t i = 0; i < 10000; i++)
		assert_int_equal(vmstate_buf_put_u32(&b, i), 0);
	assert_int_equal(vmstate_buf_put_u64(&b, 0x0102030405060708ull), 0);
	assert_int_equal(b.len, 10000 * 4 + 8);
	for (uint32_t i = 0; i < 10000; i++)
		assert_int_equal(vmstate_le32(b.data + 4 * i), i);
	/* little-endian on disk, whatever the host */
	const uint8_t le[8] = {8, 7, 6, 5, 4, 3, 2, 1};
	assert_memory_equal(b.data + 40000, le, 8);
	assert_int_equal(vmstate_le64(b.data + 40000), 0x0102030405060708ull);
	vmstate_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_buf_sticky_error(void **state)
{
	(void)state;
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	assert_int_equal(vmstate_buf_put_u32(&b, 1), 0);
	/* an impossible size fails without touching what is there */
	volatile size_t huge = SIZE_MAX - 3; /* opaque to the compiler */
	assert_int_equal(vmstate_buf_append(&b, "x", huge), -ENOMEM);
	assert_int_equal(b.len, 4);
	assert_int_equal(vmstate_buf_put_u32(&b, 2), -ENOMEM);
	assert_int_equal(vmstate_put(&b, TAG_A, "abc", 3), -ENOMEM);
	assert_int_equal(b.len, 4);
	vmstate_buf_free(&b);
}

static void test_section_round_trip(void **state)
{
	(void)state;
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	uint8_t big[5000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	assert_int_equal(vmstate_put(&b, TAG_A, "hello", 5), 0);
	assert_int_equal(vmstate_put(&b, TAG_B, NULL, 0), 0);
	assert_int_equal(vmstate_put(&b, TAG_A, big, sizeof(big)), 0);
	assert_int_equal(b.len, 3 * VMSTATE_HDR_LEN + 5 + sizeof(big));
	/* header layout: tag, then length, little-endian */
	assert_int_equal(vmstate_le32(b.data), TAG_A);
	assert_int_equal(vmstate_le32(b.data + 4), 5);
	assert_memory_equal(b.data, "AAAA", 4);

	struct vmstate_reader r;
	vmstate_reader_init(&r, b.data, b.len);
	uint32_t tag, len;
	const uint8_t *p;
	assert_int_equal(vmstate_next(&r, &tag, &p, &len), 1);
	assert_int_equal(tag, TAG_A);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(vmstate_next(&r, &tag, &p, &len), 1);
	assert_int_equal(tag, TAG_B);
	assert_int_equal(len, 0);
	assert_int_equal(vmstate_next(&r, &tag, &p, &len), 1);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(p, big, sizeof(big));
	assert_int_equal(vmstate_next(&r, &tag, &p, &len), 0);
	assert_int_equal(vmstate_next(&r, &tag, &p, &len), 0);
	vmstate_buf_free(&b);

	/* an empty blob has no sections */
	vmstate_reader_init(&r, NULL, 0);
	assert_int_equal(vmstate_next(&r, &tag, &p, &len), 0);
}

/* Every truncation of a valid blob either ends cleanly on a section
 * boundary or fails; no read goes past the (exactly sized) copy. */
static void test_section_truncated_everywhere(void **state)
{
	(void)state;
	struct vmstate_buf b;
	vmstate_buf_init(&b);
	vmstate_put(&b, TAG_A, "0123456789", 10);
	vmstate_put(&b, TAG_B, "xy", 2);
	size_t bounds[] = {0, VMSTATE_HDR_LEN + 10, b.len};
	for (size_t cut = 0; cut <= b.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* ASan catches overreads */
		memcpy(copy, b.data, cut);
		struct vmstate_reader r;
		vmstate_reader_init(&r, copy, cut);
		uint32_t tag, len;
		const uint8_t *p;
		int rc, n = 0;
		while ((rc = vmstate_next(&r, &tag, &p, &len)) > 0) {
			assert_true(p + len <= copy + cut);
			n++;
		}
		bool boundary = cut == bounds[0] || cut == bounds[1] || cut == bounds[2];
		if (boundary)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -EINVAL);
		/* a failed reader stays failed */
		if (rc < 0)
			assert_int_equal(vmstate_next(&r, &tag, &p, &len), -EINVAL);
		free(copy);
	}
	vmstate_buf_free(&b);
}

static void test_section_length_past_end(void **state)
{
	(void)state;
	uint8_t blob[VMSTATE_HDR_LEN + 4];
	vmstate_st32(blob, TAG_A);
	uint32_t lens[] = {5, 100, 0x7fffffff, 0xfffffff8, 0xffffffff};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		vmstate_st32(blob + 4, lens[i]);
		struct vmstate_reader r;
		vmstate_reader_init(&r, blob, sizeof(blob));
		uint32_t tag, len;
		const uint8_t *p;
		assert_int_equal(vmstate_next(&r, &tag, &p, &len), -EINVAL);
	}
	vmstate_st32(blob + 4, 4);
	struct vmstate_reader r;
	vmstate_reader_init(&r, blob, sizeof(blob));
	uint32_t tag, len;
	const uint8_t *p;
	assert_int_equal(vmstate_next(&r, &tag, &p, &len), 1);
}

static void test_tag_name(void **state)
{
	(void)state;
	char buf[12];
	assert_string_equal(vmstate_tag_name(VMSTATE_TAG('R', 'E', 'G', 'S'), buf), "REGS");
	assert_string_equal(vmstate_tag_name(0x01020304, buf), "0x01020304");
}

/* ---- the KVM blob decoders refuse hostile input before any ioctl ---- */

/* A structurally complete vCPU blob with the given MSR section payload. */
static void vcpu_blob(struct vmstate_buf *b, bool with_msrs)
{
	struct kvm_mp_state mp = {0};
	struct kvm_regs regs = {0};
	struct kvm_sregs sregs = {0};
	struct kvm_fpu fpu = {0};
	struct kvm_lapic_state lapic = {0};
	struct kvm_vcpu_events ev = {0};
	vmstate_put(b, VMSTATE_TAG('M', 'P', 'S', 'T'), &mp, sizeof(mp));
	vmstate_put(b, VMSTATE_TAG('R', 'E', 'G', 'S'), &regs, sizeof(regs));
	vmstate_put(b, VMSTATE_TAG('S', 'R', 'E', 'G'), &sregs, sizeof(sregs));
	vmstate_put(b, VMSTATE_TAG('F', 'P', 'U', ' '), &fpu, sizeof(fpu));
	vmstate_put(b, VMSTATE_TAG('L', 'A', 'P', 'I'), &lapic, sizeof(lapic));
	vmstate_put(b, VMSTATE_TAG('E', 'V', 'N', 'T'), &ev, sizeof(ev));
	if (with_msrs) {
		uint8_t zero[4] = {0};
		vmstate_put(b, VMSTATE_TAG('M', 'S', 'R', 'S'), zero, 4);
	}
}

static int restore_vcpu(struct vmstate_buf *b, struct errmsg *err)
{
	/* fd -1: any ioctl would fail with EBADF, so -EINVAL proves the
	 * decoder refused first */
	return vmstate_vcpu_restore(-1, b->data, b->len, err);
}

static void test_vcpu_restore_refuses_hostile(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	struct vmstate_buf b;

	/* complete blob: decoding passes, the first ioctl fails on fd -1 */
	vmstate_buf_init(&b);
	vcpu_blob(&b, true);
	assert_int_equal(restore_vcpu(&b, &err), -EBADF);
	/* ... and every truncation is refused by the decoder */
	for (size_t cut = 0; cut < b.len; cut++) {
		int rc = vmstate_vcpu_restore(-1, b.data, cut, &err);
		assert_int_equal(rc, -EINVAL);
	}
	vmstate_buf_free(&b);

	/* missing section */
	vmstate_buf_init(&b);
	vcpu_blob(&b, false);
	assert_int_equal(restore_vcpu(&b, &err), -EINVAL);
	assert_non_null(strstr(err.text, "MSRs"));
	vmstate_buf_free(&b);

	/* unknown tag */
	vmstate_buf_init(&b);
	vcpu_blob(&b, true);
	vmstate_put(&b, VMSTATE_TAG('W', 'H', 'A', 'T'), "x", 1);
	assert_int_equal(restore_vcpu(&b, &err), -EINVAL);
	assert_non_null(strstr(err.text, "unknown section WHAT"));
	vmstate_buf_free(&b);

	/* repeated tag */
	vmstate_buf_init(&b);
	vcpu_blob(&b, true);
	struct kvm_regs regs = {0};
	vmstate_put(&b, VMSTATE_TAG('R', 'E', 'G', 'S'), &regs, sizeof(regs));
	assert_int_equal(restore_vcpu(&b, &err), -EINVAL);
	vmstate_buf_free(&b);

	/* wrong size for a fixed struct */
	vmstate_buf_init(&b);
	vmstate_put(&b, VMSTATE_TAG('R', 'E', 'G', 'S'), &regs, sizeof(regs) - 1);
	assert_int_equal(restore_vcpu(&b, &err), -EINVAL);
	assert_non_null(strstr(err.text, "bytes, expected"));
	vmstate_buf_free(&b);

	/* MSR count that does not match the payload */
	uint8_t msrs[4 + 16];
	memset(msrs, 0, sizeof(msrs));
	uint32_t counts[] = {2, 0xffffffff, 0};
	for (size_t i = 0; i < 3; i++) {
		vmstate_buf_init(&b);
		vcpu_blob(&b, false);
		vmstate_st32(msrs, counts[i]);
		vmstate_put(&b, VMSTATE_TAG('M', 'S', 'R', 'S'), msrs, sizeof(msrs));
		assert_int_equal(restore_vcpu(&b, &err), -EINVAL);
		vmstate_buf_free(&b);
	}

	/* XSAVE area too small */
	vmstate_buf_init(&b);
	vcpu_blob(&b, true);
	vmstate_put(&b, VMSTATE_TAG('X', 'S', 'A', 'V'), msrs, sizeof(msrs));
	assert_int_equal(restore_vcpu(&b, &err), -EINVAL);
	vmstate_buf_free(&b);
}

static void test_vm_restore_refuses_hostile(void **state)
{
	(void)state;
	struct errmsg err = {{0}};
	struct vmstate_buf b;
	struct kvm_irqchip c;
	struct kvm_clock_data clk = {0};
	const uint32_t tags[3] = {VMSTATE_TAG('P', 'I', 'C', 'M'), VMSTATE_TAG('P', 'I', 'C', 'S'),
				  VMSTATE_TAG('I', 'O', 'A', 'P')};

	vmstate_buf_init(&b);
	for (int i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.chip_id = (uint32_t)i;
		vmstate_put(&b, tags[i], &c, sizeof(c));
	}
	vmstate_put(&b, VMSTATE_TAG('C', 'L', 'C', 'K'), &clk, sizeof(clk));
	assert_int_equal(vmstate_vm_restore(-1, b.data, b.len, &err), -EBADF);
	for (size_t cut = 0; cut < b.len; cut++)
		assert_int_equal(vmstate_vm_restore(-1, b.data, cut, &err), -EINVAL);
	vmstate_put(&b, TAG_A, "", 0);
	assert_int_equal(vmstate_vm_restore(-1, b.data, b.len, &err), -EINVAL);
	vmstate_buf_free(&b);

	/* a chip section holding another chip's state */
	vmstate_buf_init(&b);
	for (int i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.chip_id = (uint32_t)(2 - i);
		vmstate_put(&b, tags[i], &c, sizeof(c));
	}
	vmstate_put(&b, VMSTATE_TAG('C', 'L', 'C', 'K'), &clk, sizeof(clk));
	assert_int_equal(vmstate_vm_restore(-1, b.data, b.len, &err), -EINVAL);
	vmstate_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_grows_and_keeps_bytes),
	    cmocka_unit_test(test_buf_sticky_error),
	    cmocka_unit_test(test_section_round_trip),
	    cmocka_unit_test(test_section_truncated_everywhere),
	    cmocka_unit_test(test_section_length_past_end),
	    cmocka_unit_test(test_tag_name),
	    cmocka_unit_test(test_vcpu_restore_refuses_hostile),
	    cmocka_unit_test(test_vm_restore_refuses_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
