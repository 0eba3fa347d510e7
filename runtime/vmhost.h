/* vmhost: the session's view of the process that runs a container's VM.
 *
 * The runtime drives a VM through these operations only, so the VM runs in
 * its own monitor process (hull-vmm, driven by runtime/vmproc.h, whose API
 * the operations mirror one for one: runtime/vm_vmproc.c), or is a fake
 * that speaks hcp like guest-init in the unit tests
 * (tests/unit/runtime/fake_vm.c).
 *
 * Contract (every implementation)
 * - spawn(): the VM described by vc (its console_out, ctx and template_*
 *   fields are ignored) is created and started; with sp->template_root, the
 *   template that fits vc is restored from, or this VM may save one
 *   (save_template). Returns 0 with *vm, or -errno with err.
 * - fd(vm) is readable when next_event() may have an event: 1 and *ev, 0
 *   none ready (non-blocking), -errno. Events come in this order: CREATED,
 *   STARTED, STOPPED (STOPPED alone when the VM could not be made). After
 *   STOPPED there are none; stop polling fd() then. fd() may change between
 *   calls: ask again before every poll.
 * - console_fd(vm): the guest console's bytes (non-blocking reads; -1 when
 *   the implementation has none).
 * - save_template(), attach_disk() block until done: 0, or -errno with err;
 *   -ESHUTDOWN once the VM stopped. stop() only asks; STOPPED follows.
 * - release() stops the VM if it still runs, waits for it and frees
 *   everything; NULL is fine.
 * - pause(), resume(): the vCPUs stop (resume: go on); block until done: 0,
 *   or -errno with err; -ESHUTDOWN once the VM stopped. pid(): the host
 *   process that runs the VM (its CPU time and memory are the VM's), 0 when
 *   there is none. All three may be NULL (the fake VM): not supported.
 * - cgroup_dirs(): the directories of the cgroup the VM's processes run in
 *   (runtime/cgstats.h), copied into *out: 0, or -ENOENT when there is none
 *   (not root). NULL (the fake VM): none.
 * - counters(): what the guest moved through its NIC and disks (the
 *   monitor's GET_COUNTERS): blocks until answered; 0, or -errno with err
 *   (-ESHUTDOWN once the VM stopped). NULL (the fake VM): none.
 * - One thread per VM (the session's). Nothing the VM side says is trusted
 *   beyond its event kinds: why strings are bounded and copied.
 */
#ifndef HULL_RUNTIME_VMHOST_H
#define HULL_RUNTIME_VMHOST_H

#include <stdint.h>

#include "common/errmsg.h"
#include "proto/vmmapi.h"
#include "runtime/cgstats.h"
#include "vmm/vmm.h"

#define VMHOST_WHY_MAX 512

enum vmhost_event_kind { VMHOST_CREATED = 1, VMHOST_STARTED, VMHOST_STOPPED };

enum vmhost_boot {
	VMHOST_BOOT_COLD = 0,	 /* no fitting template yet: this VM may save one */
	VMHOST_BOOT_RESTORED,	 /* restored from the fitting template */
	VMHOST_BOOT_REFUSED,	 /* a template was there but refused (why); cold */
	VMHOST_BOOT_NO_TEMPLATE, /* templates off */
};

struct vmhost_event {
	enum vmhost_event_kind kind;
	enum vmhost_boot boot; /* CREATED */
	/* CLOCK_MONOTONIC: CREATED: the monitor process began (0: unknown);
	 * STARTED: vCPUs started; STOPPED: the end */
	uint64_t t_ns;
	/* CREATED, REFUSED: the template's problem. STOPPED: how it ended
	 * ("the guest rebooted", ...), then why when known. */
	char why[VMHOST_WHY_MAX];
	const char *reason; /* STOPPED: static text */
};

/* What spawn() needs besides the VM's config. */
struct vmhost_spawn {
	const char *template_root; /* NULL: boot cold, keep no template */
	/* the disk attach_disk() will be given later (the monitor's jail must
	 * hold it from the start), or NULL */
	const char *attach_path;
	uint32_t cpu_quota_milli; /* CPU time per second in 1/1000 CPU; 0: none */
};

struct vmhost_ops {
	const char *name;
	int (*spawn)(const struct vmm_config *vc, const struct vmhost_spawn *sp, void **vm,
		     struct errmsg *err);
	int (*fd)(void *vm);
	int (*next_event)(void *vm, struct vmhost_event *ev, struct errmsg *err);
	int (*console_fd)(void *vm);
	int (*save_template)(void *vm, struct errmsg *err);
	int (*attach_disk)(void *vm, unsigned index, const char *path, struct errmsg *err);
	int (*stop)(void *vm);
	void (*release)(void *vm);
	int (*pause)(void *vm, struct errmsg *err);
	int (*resume)(void *vm, struct errmsg *err);
	int (*pid)(void *vm);
	int (*cgroup_dirs)(void *vm, struct cgstats_dirs *out);
	int (*counters)(void *vm, struct vmmapi_counters *out, struct errmsg *err);
};

#endif
