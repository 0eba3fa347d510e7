/* oomwatch: did the guest's OOM killer kill the container's processes?
 *
 * The guest kernel has no VM event counters (no oom_kill in /proc/vmstat)
 * and the container has no memory cgroup of its own (hull's guest kernel has
 * no memory controller; a --kernel may have one), so the kernel log is
 * the record: the OOM killer logs "Killed process PID (COMM) ..." (global and
 * memory-cgroup OOM alike) for every victim.
 *
 * Contract
 * - oomwatch_start() opens /dev/kmsg (read-only, non-blocking) at its end,
 *   before the container's process exists, so every later kill is seen; when
 *   /dev/kmsg cannot be opened the watch is off (fd -1) and every check
 *   finds nothing. oomwatch_check() reads the records logged since (at most
 *   OOMWATCH_MAX_RECORDS per call), counts the victims and says whether
 *   `main` was one of them; oomwatch_stop() closes it. Not thread-safe.
 * - Hostile input: the container may write to /dev/kmsg too, and the ring
 *   may overflow (EPIPE: records lost, reading goes on). Only kernel records
 *   count (syslog facility 0, i.e. a priority below 8: user writes carry
 *   facility 1 or more); each record is bounds-checked, numbers strictly
 *   parsed. A forged record can at worst mislabel this container's own end.
 * - oomwatch_parse() is the parser alone: 1 and *pid for a kernel OOM-kill
 *   record ("PRI,SEQ,TS,FLAGS;...Killed process PID (..."), else 0; *memcg
 *   says whether a memory cgroup's limit made the kill ("Memory cgroup out
 *   of memory: Killed process ...") rather than the guest running out.
 */
#ifndef HULL_GUEST_INIT_OOMWATCH_H
#define HULL_GUEST_INIT_OOMWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OOMWATCH_MAX_RECORDS 4096

struct oomwatch {
	int fd;
};

struct oomwatch_result {
	unsigned kills;	  /* victims logged since oomwatch_start() */
	bool main_killed; /* `main` was one of them */
	bool all_memcg;	  /* every kill was a memory cgroup's, none the guest's */
};

void oomwatch_start(struct oomwatch *w);
void oomwatch_check(struct oomwatch *w, pid_t main, struct oomwatch_result *r);
void oomwatch_stop(struct oomwatch *w);

int oomwatch_parse(const char *rec, size_t n, pid_t *pid, bool *memcg);

#endif
