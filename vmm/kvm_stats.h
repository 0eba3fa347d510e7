/* kvm_stats: KVM's own statistics of a VM or a vCPU, read by name through
 * the binary stats interface (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst
 * 4.133): a header, the descriptors (flags, size, offset, name) and the
 * data block of u64 values.
 *
 * Contract
 * - kvm_stats_open() asks the VM or vCPU fd `obj_fd` for its stats fd and
 *   loads the descriptors (kvm_stats_load). Do it before the process's
 *   seccomp filter: reading later needs only pread64 (allowed to the control
 *   thread, seccomp/policy.c). A host without the interface: -ENOTTY or
 *   -EINVAL, s left empty; the caller carries on without stats.
 * - kvm_stats_load() takes ownership of fd (closed by kvm_stats_free, also
 *   on failure) and reads the header and descriptors. The kernel's data is
 *   treated as hostile: sizes and offsets are bounded (name_size 1..256,
 *   at most 4096 descriptors, descriptor block and data offsets within
 *   16 MiB), a short read or an out-of-range header is -EBADMSG with err
 *   naming the field. A descriptor that is not a plain u64 count (size 1,
 *   cumulative, instant or peak, in the unit KVM gives it; histograms are
 *   left out) or whose name is empty or unterminated is skipped, not an
 *   error.
 * - kvm_stats_get(): the current value of the stat called name: 0, -ENOENT
 *   when this kernel has no such stat (absent is normal: KVM's stats differ
 *   by version and backend), or -errno/-EIO when the read fails or is short.
 * - Not thread-safe per struct; distinct structs on distinct threads are
 *   fine. pread() leaves the fd's offset alone.
 */
#ifndef HULL_KVM_STATS_H
#define HULL_KVM_STATS_H

#include <stdint.h>

#include "common/errmsg.h"

#define KVM_STATS_NAME_LIMIT 256u
#define KVM_STATS_DESC_LIMIT 4096u
#define KVM_STATS_SPAN_LIMIT (16u << 20)

struct kvm_stat_ref {
	char *name;   /* malloc'd */
	uint64_t off; /* of the value, from the start of the fd */
};

struct kvm_stats {
	int fd; /* -1: none */
	struct kvm_stat_ref *s;
	unsigned n;
};

int kvm_stats_open(struct kvm_stats *s, int obj_fd, struct errmsg *err);
int kvm_stats_load(struct kvm_stats *s, int fd, struct errmsg *err);
int kvm_stats_get(const struct kvm_stats *s, const char *name, uint64_t *val);
void kvm_stats_free(struct kvm_stats *s);

#endif
