#include "vmsize.h"

#include <errno.h>

#include "common/size.h"
#include "runtime/spec_flags.h"

#define MIB (1ull << 20)

static int cpus(const struct shim_spec *s, struct shim_vmsize *out, struct errmsg *err)
{
	const char *a = shim_spec_annotation(s, SHIM_ANN_CPUS);
	struct errmsg e;
	if (a && spec_cpus(a, VMM_MAX_CPUS, &out->cpus, &out->cpu_quota_milli, &e) < 0)
		return errmsg_set(err, -EINVAL, "config.json: annotation %s (as hull run's): %s",
				  SHIM_ANN_CPUS, e.text);
	if (a)
		return 0;
	out->cpus = 1;
	out->cpu_quota_milli = 0;
	if (s->cpu_milli >= VMM_MAX_CPUS * 1000u) {
		out->cpus = VMM_MAX_CPUS;
	} else if (s->cpu_milli) {
		out->cpus = (s->cpu_milli + 999) / 1000;
		out->cpu_quota_milli = s->cpu_milli % 1000 ? s->cpu_milli : 0;
	}
	return 0;
}

static int memory(const struct shim_spec *s, struct shim_vmsize *out, struct errmsg *err)
{
	const char *a = shim_spec_annotation(s, SHIM_ANN_MEMORY);
	uint64_t m = SHIM_VM_MEM;
	if (a) {
		if (parse_size(a, &m) < 0)
			return errmsg_set(err, -EINVAL,
					  "config.json: annotation %s=%s: expected a size like "
					  "256M or 1G (as hull run -m)",
					  SHIM_ANN_MEMORY, a);
		if (m < SHIM_VM_MEM_MIN || m > SHIM_VM_MEM_MAX)
			return errmsg_set(
			    err, -EINVAL,
			    "config.json: annotation %s=%s: a VM's memory is %llu MiB "
			    "to %llu GiB",
			    SHIM_ANN_MEMORY, a, SHIM_VM_MEM_MIN / MIB, SHIM_VM_MEM_MAX >> 30);
	} else if (s->mem_limit) {
		if (s->mem_limit < SHIM_VM_MEM_MIN)
			return errmsg_set(err, -EINVAL,
					  "config.json: linux.resources.memory.limit %llu bytes: a "
					  "VM needs at least %llu",
					  (unsigned long long)s->mem_limit, SHIM_VM_MEM_MIN);
		m = s->mem_limit > SHIM_VM_MEM_MAX ? SHIM_VM_MEM_MAX : s->mem_limit;
	}
	out->mem_bytes = (m + MIB - 1) & ~(MIB - 1);
	return 0;
}

int shim_vmsize(const struct shim_spec *s, struct shim_vmsize *out, struct errmsg *err)
{
	*out = (struct shim_vmsize){0};
	int rc = cpus(s, out, err);
	return rc < 0 ? rc : memory(s, out, err);
}
