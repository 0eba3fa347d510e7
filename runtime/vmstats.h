/* vmstats: what a running container's VM costs the host, read from /proc
 * of its VM monitor process (hull-vmm, the child of the container's
 * supervisor: runtime_state.monitor_pid).
 *
 * Contract
 * - vmstats_find(): the pid of the hull-vmm process whose parent is
 *   supervisor; -ESRCH when there is none (not running, or not yet).
 * - vmstats_sample(): the monitor's cumulative CPU time (user + system, all
 *   threads: the vCPUs included), its resident memory (the guest RAM it has
 *   touched plus its own), and its block I/O as the host's page cache sees
 *   it (read_bytes/write_bytes of /proc/PID/io: the image disk, volumes,
 *   template files), stamped with CLOCK_MONOTONIC. -ESRCH when the process
 *   is gone, -EACCES when /proc refuses (another user's).
 * - vmstats_cpu_percent(): the CPU use between two samples of the same
 *   process, in percent of one host CPU (docker's CPU %: 200 = two CPUs).
 * - The fallback of `hull stats` where the VM has no cgroup (hull as an
 *   ordinary user): with one, the cgroup's figures (runtime/cgstats.h) are
 *   used, and the guest's network and disk counters come from the monitor's
 *   devices (runtime/ctrstats.h), never from here.
 * - /proc is parsed strictly and bounded (a pid's comm may hold anything).
 * Functions return 0 or -errno. No state. */
#ifndef HULL_RUNTIME_VMSTATS_H
#define HULL_RUNTIME_VMSTATS_H

#include <stdint.h>
#include <sys/types.h>

struct vmstats {
	uint64_t at_ns;	 /* CLOCK_MONOTONIC */
	uint64_t cpu_ns; /* user + system */
	uint64_t rss_bytes;
	uint64_t read_bytes, write_bytes;
	unsigned threads;
};

int vmstats_find(pid_t supervisor, pid_t *vmm);
int vmstats_sample(pid_t vmm, struct vmstats *out);
double vmstats_cpu_percent(const struct vmstats *before, const struct vmstats *after);

#endif
