/* vmproc: the runtime's handle on one hull-vmm process (the VM monitor).
 *
 * The monitor owns /dev/kvm and runs one VM; the runtime talks to it over
 * the API socket (proto/vmmapi.h) and reads the guest console from a pipe.
 *
 * Contract
 * - vmproc_spawn() fork+execs hull-vmm ($HULL_VMM if set, else next to the
 *   running executable: <exe dir>/../monitor/hull-vmm in a build tree,
 *   <exe dir>/../libexec/hull/hull-vmm installed), sends it cfg and returns;
 *   the VM is created and started by the monitor, which reports it as
 *   events. The child gets only its two fds (and stdin at EOF, stdout and
 *   stderr inherited) and dies with its parent thread
 *   (PR_SET_PDEATHSIG): call vmproc_spawn() from a thread that lives as long
 *   as the VM should (the process's main thread).
 * - Both helpers run jailed (runtime/jail.h has the layers): the monitor's
 *   jail holds cfg's kernel, initrd, disks, volumes, vsock socket directory
 *   and template root (made if missing), o->attach_path and the KVM device,
 *   nothing else; the network helper's holds only /etc/resolv.conf. As
 *   root both join one cgroup for the VM (memory cfg->mem_bytes +
 *   VMPROC_MEM_OVERHEAD, VMPROC_PIDS_MAX tasks, o->cpu_quota_milli),
 *   removed when vmproc_reap() has reaped both, or when vmproc_spawn()
 *   fails. A jail that cannot be made fails vmproc_spawn() naming the step
 *   and the path.
 * - With cfg->net_mode VMMAPI_NET_SLIRP, the user-mode network helper
 *   (netd/main.c, vmproc_netd_path()) is started first, the same way, and
 *   vmproc_spawn() waits until it has bound the published ports: a port
 *   that cannot be bound fails vmproc_spawn() with the helper's message
 *   (naming the -p value), and no monitor is started. The monitor gets the
 *   other end of the helper's socket as a third fd (--net-fd); the helper
 *   exits when the monitor does (hangup) or the runtime dies (PDEATHSIG),
 *   and vmproc_reap() reaps it after the monitor.
 * - vmproc_fd() becomes readable when an event may be ready:
 *   vmproc_next_event() then returns 1 with one event, 0 when none is ready
 *   (non-blocking), or -errno. Events arrive in this order: CREATED, STARTED,
 *   STOPPED (STOPPED alone when the VM could not be made). If the monitor
 *   dies or hangs up without STOPPED, a STOPPED with reason
 *   VMMAPI_STOP_ERROR and a why naming its exit status is made up
 *   ("hull-vmm killed by its seccomp filter" for VMMAPI_EXIT_SECCOMP or
 *   SIGSYS; the monitor's own trap says STOPPED with the syscall first). After
 *   STOPPED there are no more events: stop polling vmproc_fd() then (it
 *   stays readable once the monitor has exited).
 * - Requests (vmproc_save_template, _attach_disk, _pause, _resume,
 *   _counters) block
 *   until the monitor answers: 0, or -errno with err saying why; -ESHUTDOWN
 *   once the VM has stopped (the STOPPED event stays queued for
 *   vmproc_next_event). Events that arrive meanwhile are queued, not lost.
 *   vmproc_stop() only asks (non-blocking); STOPPED follows.
 * - vmproc_console_fd(): the read end of the console pipe (non-blocking,
 *   CLOEXEC); the caller reads it (raw guest console bytes) until EOF, which
 *   comes when the monitor exits. Owned by vmproc.
 * - Everything the monitor sends is hostile: bounded, strictly decoded; a
 *   malformed message ends the conversation (STOPPED, VMMAPI_STOP_ERROR).
 * - vmproc_reap() asks a still running monitor to stop, waits for it to
 *   exit (SIGKILL after VMPROC_REAP_TIMEOUT_MS) and reaps it; *wstatus gets
 *   its waitpid status. Idempotent. vmproc_free() reaps (if not done) and
 *   closes every fd; NULL is fine.
 * - One thread per struct vmproc. Functions return 0 or -errno, err filled.
 */
#ifndef HULL_RUNTIME_VMPROC_H
#define HULL_RUNTIME_VMPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"
#include "proto/vmmapi.h"
#include "runtime/cgstats.h"

#define VMPROC_REAP_TIMEOUT_MS 5000
#define VMPROC_WHY_MAX 512

enum vmproc_event_kind {
	VMPROC_EV_CREATED = 1,
	VMPROC_EV_STARTED,
	VMPROC_EV_STOPPED,
};

struct vmproc_event {
	enum vmproc_event_kind kind;
	uint32_t boot;	 /* CREATED: enum vmmapi_boot */
	uint32_t reason; /* STOPPED: enum vmmapi_stop */
	/* CLOCK_MONOTONIC ns: CREATED: the VM was made; STARTED: vCPUs
	 * started; STOPPED: the VM stopped (0 if made up) */
	uint64_t t_ns;
	/* CREATED: when the monitor's main() began (minus the spawn time:
	 * what fork+exec cost) */
	uint64_t t_exec_ns;
	/* CREATED with VMMAPI_BOOT_REFUSED: why the template was refused;
	 * STOPPED: why, if the monitor said (may be empty). Copied, bounded. */
	char why[VMPROC_WHY_MAX];
};

struct vmproc;

/* Where hull-vmm is (malloc'd, NULL on failure), see above. */
char *vmproc_monitor_path(void);
/* Where the network helper hull-slirp is: $HULL_SLIRP, else found as
 * hull-vmm is (<exe dir>/../netd/hull-slirp in a build tree). */
char *vmproc_netd_path(void);

/* Besides the VM's config (NULL: none of these). */
struct vmproc_opts {
	/* a disk vmproc_attach_disk() will be given later: the monitor's jail
	 * holds only what it is told about before it starts */
	const char *attach_path;
	uint32_t cpu_quota_milli; /* the cgroup's CPU quota, 1/1000 CPU; 0: none */
};

/* The cgroup's limits besides the quota: guest RAM plus this much (the
 * monitor's own memory, the network helper's, the template files' page
 * cache), and this many tasks (threads) for both helpers. */
#define VMPROC_MEM_OVERHEAD (256ull << 20)
#define VMPROC_PIDS_MAX 128

int vmproc_spawn(const struct vmmapi_config *cfg, const struct vmproc_opts *o, struct vmproc **out,
		 struct errmsg *err);
int vmproc_fd(const struct vmproc *vp);
int vmproc_next_event(struct vmproc *vp, struct vmproc_event *ev, struct errmsg *err);
int vmproc_console_fd(const struct vmproc *vp);

int vmproc_save_template(struct vmproc *vp, struct errmsg *err);
int vmproc_attach_disk(struct vmproc *vp, unsigned index, const char *path, struct errmsg *err);
int vmproc_pause(struct vmproc *vp, struct errmsg *err);
int vmproc_resume(struct vmproc *vp, struct errmsg *err);
/* What the guest moved through its NIC and disks (GET_COUNTERS, a request
 * as above: 0 or -errno; -ESHUTDOWN once the VM stopped). The monitor's
 * numbers: shown to people, trusted for nothing else. */
int vmproc_counters(struct vmproc *vp, struct vmmapi_counters *out, struct errmsg *err);
int vmproc_stop(struct vmproc *vp);

pid_t vmproc_pid(const struct vmproc *vp);
/* The VM's cgroup directories (jail_cgroup_dirs(): copied, so another
 * thread may read the cgroup until it is removed): 0, or -ENOENT when the
 * helpers have none (not root) or it was removed (out->n 0). */
int vmproc_cgroup_dirs(const struct vmproc *vp, struct cgstats_dirs *out);
int vmproc_reap(struct vmproc *vp, int *wstatus);
void vmproc_free(struct vmproc *vp);

#endif
