/* seccomp/filter: one seccomp filter per thread role (libseccomp), and the
 * report of a violation. hull-vmm's threads (vmm/vmm.h: vCPU, device event
 * loop, control), the network helper hull-slirp and the image converter
 * hull-convert (images/convert_proc.h) and the registry client hull-fetch
 * (images/fetch_proc.h) each run under an allow-list of the system calls, and for some calls the
 * arguments, that their code makes; everything else stops the process.
 *
 * Contract
 * - hsc_trap_init() once per process, before any hsc_install(): installs the
 *   process-wide SIGSYS handler and remembers who reports. prog names the
 *   process in the message ("hull-vmm"); report (may be NULL) is called from
 *   the signal handler with the message, and must be async-signal-safe (the
 *   monitor writes a prepared STOPPED message to its API socket). The
 *   handler then writes the text and a newline to fd 2 and exits the whole
 *   process with exit_status (_exit: exit_group). Its text is
 *   "<prog> killed by its seccomp filter (syscall N name, thread role R)".
 * - hsc_install(role, err) loads role's filter on the calling thread only
 *   (no TSYNC: the other threads keep theirs), sets no_new_privs (a
 *   process-wide flag the kernel requires), and unblocks SIGSYS in the
 *   calling thread, so a trap reaches the handler. Filters are inherited
 *   and stack: a thread created after its creator installed a filter runs
 *   under both. Create the role threads first, then install each one's
 *   filter on it (vmm_start() does that, before the first KVM_RUN).
 *   0 or -errno with err; a failure leaves the thread unfiltered and the
 *   caller must not run the guest.
 * - A thread that blocks SIGSYS again after hsc_install() dies by SIGSYS
 *   itself on a violation (the kernel forces the default action): still
 *   stopped, but without the message. vmm/ keeps SIGSYS unblocked.
 * - The violation action is SECCOMP_RET_TRAP: the forbidden call never
 *   runs, the handler cannot be replaced (rt_sigaction is in no
 *   allow-list) and it ends the process. A thread's role for the message
 *   lives in thread-local storage set by hsc_install(); a thread made
 *   after a filter (it runs under its creator's: hull-fetch's resolver
 *   threads, libcurl's) is named by the process's role when the process
 *   installed only one role, else "?".
 * - Threads: hsc_trap_init() before the process makes threads of its own
 *   (or at least before any filter); hsc_install() on any thread.
 * - x86-64 only (hull's only architecture); the filters also refuse every
 *   other syscall ABI (x32, i386) as a violation.
 */
#ifndef HULL_SECCOMP_FILTER_H
#define HULL_SECCOMP_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"

enum hsc_role {
	HSC_VCPU,    /* hull-vmm: a vCPU thread: KVM_RUN and exit dispatch */
	HSC_DEVICES, /* hull-vmm: the event loop: virtio back ends, 9p, vsock sockets */
	HSC_CONTROL, /* hull-vmm: the API thread: requests, template save, disk attach */
	HSC_SLIRP,   /* hull-slirp: libslirp's poll loop and host sockets */
	HSC_CONVERT, /* hull-convert: layer tars into an ext4 image, fds only */
	HSC_FETCH,   /* hull-fetch: the registry client (libcurl), IP sockets */
	HSC_IMPORT,  /* hull-import: an image archive's tar and JSON, fds only */
	HSC_NROLES,
	/* Not a thread of hull's: a foreign program's filter (hsc_export()),
	 * mkfs.ext4 -d as the containerd shim runs it (shim/rootfs.c) */
	HSC_MKFS = HSC_NROLES,
};

#define HSC_REPORT_MAX 160 /* the message, its NUL included */

typedef void (*hsc_report_fn)(void *ctx, const char *text);

/* "vcpu", "devices", "control", "slirp", "convert", "fetch", "import", "mkfs";
 * "?" for anything else. */
const char *hsc_role_name(int role);
int hsc_trap_init(const char *prog, hsc_report_fn report, void *ctx, int exit_status,
		  struct errmsg *err);
/* The roles below HSC_NROLES; HSC_MKFS is refused (-EINVAL). */
int hsc_install(enum hsc_role role, struct errmsg *err);

/* A foreign program (HSC_MKFS) cannot install a filter or have a SIGSYS
 * handler of its own, so:
 * - hsc_export() builds role's filter as a BPF program (*out, malloc'd:
 *   hsc_prog_free()) in ordinary code, for a forked child to load with the
 *   seccomp(2) system call alone (async-signal-safe: runtime/jail.c) just
 *   before it execs the program. self is the pid the program will have
 *   (tgkill's only target; 1 as its PID namespace's init). The violation
 *   action is SECCOMP_RET_USER_NOTIF: the forbidden call does not run, and
 *   the loader's SECCOMP_FILTER_FLAG_NEW_LISTENER fd reports it to whoever
 *   holds that fd, who ends the program (with the listener closed, the
 *   call fails with ENOSYS instead: hold it until the program is reaped).
 *   Any other syscall ABI (x32, i386) kills it with SIGSYS. ioctl fails with
 *   ENOTTY without running (a regular file or a pipe answers every ioctl
 *   mkfs.ext4 makes so). 0 or -errno with err.
 * - hsc_notif_recv() takes the next notification off a listener (blocking:
 *   poll it first), hsc_notif_continue() lets one call run as asked (only
 *   for a call the caller's own code makes: its arguments are read again).
 *   0 or -errno (-ENOENT: the caller died meanwhile).
 * - hsc_violation_text() is the report of a violation in the words of the
 *   trap's ("<prog> killed by its seccomp filter (syscall N name, thread
 *   role R)"); not async-signal-safe (it resolves the name). */
struct sock_fprog;
struct hsc_notif {
	uint64_t id;
	int nr;
	uint64_t args[6];
};
int hsc_export(enum hsc_role role, pid_t self, struct sock_fprog *out, struct errmsg *err);
void hsc_prog_free(struct sock_fprog *p);
int hsc_notif_recv(int listener, struct hsc_notif *n);
int hsc_notif_continue(int listener, uint64_t id);
void hsc_violation_text(char *buf, size_t size, const char *prog, int nr, int role);

#endif
