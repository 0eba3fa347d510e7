/* ctrstats: one sample of what a running container's VM costs and moved, as
 * its supervisor answers `hull stats` over the control socket
 * (runtime/supervisor.h: the request "stats"), and the line that carries it.
 *
 * Contract
 * - The figures come from their owners: the VM's cgroup through
 *   cgstats_read() when it has one (root: the jail's cgroup of hull-vmm and
 *   hull-slirp), the guest's NIC and disk counters through the monitor's
 *   GET_COUNTERS (proto/vmmapi.h), and the monitor's pid for a front end
 *   that falls back to /proc (runtime/vmstats.h) without a cgroup.
 * - ctrstats_format() writes the line (without "ok " or the newline) into
 *   buf: "stats1 vmm=PID cg=0|1 mem=N memlim=N memcache=N cpu=NS pids=N
 *   io=0|1 rxb=N rxp=N txb=N txp=N rdb=N rdn=N wrb=N wrn=N", every key in
 *   that order, decimal, then " kvm.NAME=N" for each of KVM's stats the
 *   monitor knew (vmmapi_counters.kvm_present; NAME is vmmapi_kstat_name's)
 *   in that order; -ENOSPC when cap is too small (CTRSTATS_LINE_MAX is
 *   always enough).
 * - ctrstats_parse() is strict (the supervisor is another process; the
 *   counters are the monitor's, which faces the guest): exactly those keys
 *   in that order, single spaces, digits only, values that fit in 64 bits
 *   (vmm in a pid, the flags 0 or 1), then kvm.NAME pairs of known names in
 *   order, each at most once, only with io=1 (none at all: a supervisor of
 *   an older hull, kvm_present 0), nothing after: else -EBADMSG with err
 *   naming the key and the problem.
 * - Pure; no state; any thread.
 */
#ifndef HULL_RUNTIME_CTRSTATS_H
#define HULL_RUNTIME_CTRSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"
#include "proto/vmmapi.h"

#define CTRSTATS_LINE_MAX 1536

struct ctrstats {
	pid_t vmm; /* the VM monitor's pid; 0: none (the VM ended) */
	bool has_cgroup;
	/* has_cgroup: the cgroup's figures (cgstats.h) */
	uint64_t mem_usage, mem_limit; /* limit UINT64_MAX: none */
	uint64_t mem_cache;	       /* inactive file pages (docker subtracts them) */
	uint64_t cpu_ns;
	uint64_t pids;
	bool has_counters; /* false: no answer from the monitor */
	struct vmmapi_counters io;
};

int ctrstats_format(const struct ctrstats *s, char *buf, size_t cap);
int ctrstats_parse(const char *line, struct ctrstats *out, struct errmsg *err);

#endif
