/* vmsize: the VM a container gets (vCPUs, CPU quota, memory), from its OCI
 * spec (ocispec.h).
 *
 * Contract
 * - Each of the two, vCPUs and memory, comes from the first that gives it:
 *   1. hull's annotations, SHIM_ANN_CPUS (hull run --cpus's values,
 *      spec_cpus: a whole N is N vCPUs, a fraction F is ceil(F) vCPUs held
 *      to F CPUs by the VM's cgroup) and SHIM_ANN_MEMORY (hull run -m's
 *      sizes, parse_size: "256M", "1G"): they name the VM itself;
 *   2. linux.resources (ctr run --cpus/--memory-limit, a pod's limits):
 *      containerd's cgroup limits for the container, which the VM's size
 *      follows when nothing names it: the quota as --cpus (1.5 CPUs: 2 vCPUs
 *      held to 1.5), memory.limit as the VM's memory;
 *   3. hull's defaults: 1 vCPU, SHIM_VM_MEM.
 * - Memory is rounded up to whole MiB. From an annotation, less than
 *   SHIM_VM_MEM_MIN or more than SHIM_VM_MEM_MAX is an error; from
 *   linux.resources less than SHIM_VM_MEM_MIN is an error, more is
 *   SHIM_VM_MEM_MAX, and vCPUs above VMM_MAX_CPUS are VMM_MAX_CPUS.
 * - Pure. Returns 0, or -EINVAL with err naming the annotation or the
 *   linux.resources field, the value and what is expected.
 */
#ifndef HULL_SHIM_VMSIZE_H
#define HULL_SHIM_VMSIZE_H

#include <stdint.h>

#include "common/errmsg.h"
#include "shim/ocispec.h"
#include "vmm/vmm.h"

#define SHIM_ANN_CPUS "io.hull.cpus"
#define SHIM_ANN_MEMORY "io.hull.memory"
#define SHIM_VM_MEM (128ull << 20)    /* hull run's default too */
#define SHIM_VM_MEM_MIN (64ull << 20) /* the guest kernel and init need this much */
#define SHIM_VM_MEM_MAX (64ull << 30)

struct shim_vmsize {
	unsigned cpus;		  /* 1..VMM_MAX_CPUS */
	uint32_t cpu_quota_milli; /* 1/1000 CPU on the VM's cgroup; 0: none */
	uint64_t mem_bytes;
};

int shim_vmsize(const struct shim_spec *s, struct shim_vmsize *out, struct errmsg *err);

#endif
