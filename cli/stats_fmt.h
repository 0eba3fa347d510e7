/* stats_fmt: the cells of one `hull stats` row, docker's way, from two
 * samples of the same container one interval apart.
 *
 * Contract
 * - A sample comes from the container's supervisor (runtime/ctrstats.h:
 *   the VM's cgroup, the guest's NIC and disk counters) or, where it has no
 *   cgroup (hull as an ordinary user), from /proc of its monitor
 *   (runtime/vmstats.h); stats_sample_* fill it.
 * - stats_cells(): CPU % = CPU time between the samples over the wall time
 *   between them, in percent of one host CPU ("%.2f%%", docker's: 200% =
 *   two CPUs busy); MEM USAGE / LIMIT in binary units (docker's "14.65MiB /
 *   512MiB"): with a cgroup its usage less its inactive page cache (as
 *   docker computes it) over its limit, without one the monitor's resident
 *   memory over host_mem (as docker shows a container without a limit);
 *   MEM % the one over the other; NET I/O (received / sent by the guest's
 *   NIC) and BLOCK I/O (read / written by the guest's disks) in decimal
 *   units ("1.23kB / 0B"); PIDS the cgroup's tasks (the monitor's threads
 *   without a cgroup). A figure not known is "--"; a container not running
 *   gets docker's zeros.
 * - A counter that went backwards between the samples (a new VM behind the
 *   same name) counts the later sample alone; nothing divides by zero.
 * - Pure; no state.
 */
#ifndef HULL_CLI_STATS_FMT_H
#define HULL_CLI_STATS_FMT_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/vmmapi.h"
#include "runtime/ctrstats.h"
#include "runtime/vmstats.h"

struct stats_sample {
	bool ok; /* running, figures read */
	uint64_t at_ns;
	bool cgroup; /* mem_* and pids from the VM's cgroup */
	uint64_t cpu_ns;
	uint64_t mem_usage; /* bytes, cache left out */
	uint64_t mem_limit; /* 0 or UINT64_MAX: none (host_mem shown) */
	uint64_t pids;
	bool io; /* the device counters are known */
	struct vmmapi_counters c;
};

struct stats_cells {
	char cpu[24], mem_usage[56], mem_perc[24], net[56], block[56], pids[24];
};

/* From the supervisor's answer (at_ns: when it was taken). */
void stats_sample_ctr(const struct ctrstats *s, uint64_t at_ns, struct stats_sample *out);
/* The /proc figures of the monitor where the cgroup's are missing
 * (out->cgroup false: CPU, memory and pids from p). */
void stats_sample_proc(const struct vmstats *p, struct stats_sample *out);

void stats_cells(const struct stats_sample *a, const struct stats_sample *b, uint64_t host_mem,
		 struct stats_cells *out);

#endif
