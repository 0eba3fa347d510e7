/* cgstats: what one VM's cgroup (runtime/jail.h: its helpers hull-vmm and
 * hull-slirp, jail_cgroup_dirs()) used: memory, CPU time, tasks, read from
 * the cgroup's own files.
 *
 * Contract
 * - struct cgstats_dirs holds the cgroup's directories: in cgroup v1 one per
 *   controller hierarchy (memory, pids, cpu, cpuacct: mounted apart or
 *   together), in v2 one for all. The caller copies it (plain data), so a
 *   thread other than the VM's may read the figures while the VM runs.
 * - cgstats_read() looks for each figure's file in every directory, the v2
 *   name and the v1 name (memory.current / memory.usage_in_bytes,
 *   memory.max / memory.limit_in_bytes, memory.peak /
 *   memory.max_usage_in_bytes, cpu.stat usage_usec / cpuacct.usage, cpu.stat
 *   user_usec, system_usec / cpuacct.stat user, system (clock ticks),
 *   memory.stat anon / total_rss, memory.stat inactive_file /
 *   total_inactive_file, pids.current, pids.max), and takes the
 *   first it finds. Memory usage and limit, CPU total and pids current and
 *   limit must be there; the others are 0 when the kernel keeps none.
 * - The files are parsed strictly: a value is decimal digits (or "max" where
 *   the kernel writes it: memory limit UINT64_MAX, pids limit 0, as
 *   containerd reports them) with at most a newline after it; a key file is
 *   "key value" lines. A file larger than CGSTATS_FILE_MAX, a value that is
 *   not a number or does not fit in 64 bits, a missing key: -EINVAL or
 *   -ERANGE (-EFBIG) with err naming the file and the problem. A directory
 *   that is gone (the VM ended and its cgroup was removed): -ENOENT.
 * - No global state; any thread.
 */
#ifndef HULL_RUNTIME_CGSTATS_H
#define HULL_RUNTIME_CGSTATS_H

#include <stdint.h>

#include "common/errmsg.h"

#define CGSTATS_MAX_DIRS 4
#define CGSTATS_PATH_MAX 512
#define CGSTATS_FILE_MAX 65536

struct cgstats_dirs {
	unsigned n; /* 0: no cgroup */
	char dir[CGSTATS_MAX_DIRS][CGSTATS_PATH_MAX];
};

struct cgstats {
	uint64_t mem_usage;		     /* bytes, now */
	uint64_t mem_limit;		     /* bytes; UINT64_MAX: none */
	uint64_t mem_max_usage;		     /* high-water mark; 0: not kept */
	uint64_t mem_rss;		     /* anonymous memory; 0: not kept */
	uint64_t mem_inactive_file;	     /* page cache docker's MEM USAGE leaves out */
	uint64_t cpu_ns;		     /* CPU time, all tasks ever in it */
	uint64_t cpu_user_ns, cpu_system_ns; /* both 0: not kept */
	uint64_t pids;			     /* tasks (threads) now */
	uint64_t pids_limit;		     /* 0: none */
};

int cgstats_read(const struct cgstats_dirs *d, struct cgstats *st, struct errmsg *err);

#endif
