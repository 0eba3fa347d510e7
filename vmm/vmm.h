/* vmm: hull's virtual machine monitor, driven as a library.
 *
 * Contract
 * - vmm_create() builds a whole microVM from a config (or restores one from a
 *   template, see vmm_save_template()): KVM VM, lazily mapped
 *   guest RAM, vCPUs, the kernel loaded through its PVH entry, the MP table,
 *   a 16550 UART (ttyS0: kernel console), the i8042 reset line, one
 *   virtio-blk device per disk, one virtio-9p device per volume, and with vsock_uds a virtio-vsock
 * device whose host side is Unix sockets (vmm/virtio/virtio_vsock.h): a host process reaches guest
 * port P by connecting to vsock_uds and writing "CONNECT P\n" (answer "OK <hostport>\n"); the guest
 * reaches host port P at the socket "<vsock_uds>_P", which some host process listens on. guest-init
 * speaks hcp over it: it connects to host port 1024. Nothing runs yet. On failure everything is
 * released and err says why.
 * - vmm_start() starts the event-loop thread and one thread per vCPU.
 * - The VM stops when the guest resets the machine (the normal end: guest-init
 *   reboots after reporting the exit status), on a triple fault, on an error, or
 *   on vmm_request_stop(). vmm_stop_fd() becomes readable then; vmm_wait()
 *   joins all threads and returns the reason.
 * - Guest console output reaches the caller through console_out, called on
 *   vCPU threads.
 * - Templates and vsock: host connections do not survive a restore. A
 *   restored VM starts with none and, once vmm_start() ran, the guest is sent
 *   a vsock transport reset (its sockets fail with ECONNRESET), so guest
 *   programs reconnect, as with Firecracker snapshots.
 * - Threads by role: vCPU threads only run guest code and dispatch exits; the
 *   event-loop thread runs device back-ends (virtio queues); the caller's
 *   thread controls. cfg.thread_setup confines each role (hull-vmm loads a
 *   seccomp filter per role, seccomp/filter.h): vmm_start() calls it first
 *   on every thread it makes, then on its caller once they all returned,
 *   and only then does any thread do its work: every filter is in place
 *   before the first guest instruction. vmm/ keeps SIGSYS unblocked in its
 *   threads (a filter's trap reaches the process's handler).
 * - vmm_destroy() releases every fd, mapping and thread; safe after a failed
 *   vmm_start() and on a VM that never ran.
 */
#ifndef HULL_VMM_H
#define HULL_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define VMM_MAX_CPUS 8
#define VMM_MAX_DISKS 4
#define VMM_MIN_MEM (64ull << 20)
#define VMM_MAX_VOLUMES 8
/* The 9p mount tag of volume i (printf format with i): fixed per slot, not
 * configurable, because a template's guest read the tags when it booted. */
#define VMM_VOLUME_TAG "hullvol%u"

enum vmm_stop_reason {
	VMM_STOP_NONE = 0,
	VMM_STOP_RESET,	       /* guest reset the machine: normal end */
	VMM_STOP_SHUTDOWN,     /* halt with interrupts off, or a shutdown system event */
	VMM_STOP_ERROR,	       /* KVM or VMM failure, see vmm_stop_why() */
	VMM_STOP_REQUESTED,    /* vmm_request_stop() */
	VMM_STOP_TRIPLE_FAULT, /* KVM_EXIT_SHUTDOWN: a fault the guest could not handle */
};

struct vmm_disk {
	const char *path; /* NULL: an empty disk, given a file by vmm_attach_disk() */
	bool read_only;
};

/* A host directory served to the guest over virtio-9p (p9/p9.h). */
struct vmm_volume {
	const char *host_dir; /* opened without following symlinks (p9/p9.h) */
	bool read_only;
};

typedef void (*vmm_out_fn)(void *ctx, const uint8_t *buf, size_t n);

enum vmm_thread_role {
	VMM_THREAD_VCPU,    /* one per vCPU: KVM_RUN, exit dispatch, console out */
	VMM_THREAD_DEVICES, /* the event loop: device back ends */
	VMM_THREAD_CONTROL, /* vmm_start()'s caller: pause, save, attach, stop, wait */
};
/* Confine the calling thread for role; 0 or -errno with err. */
typedef int (*vmm_thread_fn)(void *ctx, enum vmm_thread_role role, struct errmsg *err);

/* Networking (vmm/virtio/virtio_net.h, vmm/net/net_stream.h, vmm/net/net_tap.h). */
enum vmm_net_mode {
	VMM_NET_NONE = 0, /* no NIC at all */
	VMM_NET_SLIRP,	  /* user-mode networking: frames to a helper (netd/hull-slirp) on net_fd */
	VMM_NET_TAP,	  /* an existing host tap device */
};

/* A published port: host_ip:host_port on the host -> guest_port in the guest
 * (slirp only). host_ip in network byte order, 0 = every address. */
struct vmm_portfwd {
	bool udp;
	uint32_t host_ip;
	uint16_t host_port;
	uint16_t guest_port;
};
#define VMM_MAX_PORTFWD 64

struct vmm_config {
	const char *kvm_dev;	   /* NULL: /dev/kvm */
	const char *kernel;	   /* uncompressed vmlinux with a PVH note */
	const char *initrd;	   /* uncompressed cpio, may be NULL */
	const char *cmdline_extra; /* appended to hull's kernel command line, may be NULL */
	unsigned cpus;
	uint64_t mem_bytes;
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned ndisks;
	/* -1: detect (the PVM module present), 0: no, 1: yes. Turns on the guest
	 * kernel's workarounds for hosts that emulate kernel mode. */
	int pvm;
	bool debug; /* log VMM events to stderr */
	/* > 0: sample each vCPU's guest RIP at VMM_PROFILE_HZ into this fd
	 * (u64 little-endian RIPs, appended in blocks; bench/README.md); 0: off,
	 * no timer, no cost. The caller opens it before any jail or filter. */
	int profile_fd;
	/* Restore from this template (vmm/snapshot/snapshot.h) instead of booting: the
	 * kernel and initrd are not read then. The template must have been
	 * saved with this config's key (vmm_template_key). */
	const char *template_dir;
	vmm_out_fn console_out;
	/* NULL: threads run unconfined. A failure makes vmm_start() fail (the
	 * VM stops before any guest instruction ran). */
	vmm_thread_fn thread_setup;
	void *ctx; /* for console_out and thread_setup */
	/* Volumes: volume i is a virtio-9p device in slot SLOT_VOLUME0 + i with
	 * mount tag VMM_VOLUME_TAG. Its directory is opened by vmm_create(),
	 * also on a restore: a template never served any (the guest mounts
	 * volumes only once the container's spec arrives), so a restored VM
	 * serves this run's directories. */
	struct vmm_volume volumes[VMM_MAX_VOLUMES];
	unsigned nvolumes;
	/* virtio-vsock: the Unix socket path U for the host side (created by
	 * vmm_create, must not exist, removed by vmm_destroy; at most
	 * VIRTIO_VSOCK_UDS_MAX = 96 bytes), NULL for no vsock device; the guest
	 * CID, 0 for the default 3. */
	const char *vsock_uds;
	uint64_t vsock_cid;
	/* Networking: a virtio-net NIC in slot SLOT_NET unless net_mode is
	 * VMM_NET_NONE. The MAC is the device's; a guest restored from a
	 * template keeps the template's until guest-init sets this run's. */
	enum vmm_net_mode net_mode;
	const char *net_tap; /* VMM_NET_TAP: the host tap device's name */
	uint8_t net_mac[6];
	const struct vmm_portfwd *net_ports; /* VMM_NET_SLIRP: published ports */
	/* VMM_NET_SLIRP: the SOCK_SEQPACKET socket to the network helper
	 * (vmm/net/net_stream.h), the caller's; the helper bound net_ports.
	 * Not part of the template key. */
	int net_fd;
	unsigned net_nports;
	bool net_no_csum; /* offer no checksum offloads (bench/net measures them) */
	/* VMM_NET_SLIRP: the helper lets 10.0.2.2 reach the host's loopback
	 * (--network slirp,host-loopback=on). The helper's, not the monitor's:
	 * not part of the template key. */
	bool net_host_loopback;
	/* I/O limits of every disk (virtio_blk_set_limits: bytes and requests
	 * per second, reads and writes apart; 0 = unlimited). A run's own
	 * setting, not part of the template key: a restored VM gets this run's. */
	uint64_t disk_read_bps, disk_write_bps, disk_read_iops, disk_write_iops;
	/* The NIC's rate limits (virtio_net_set_limits: bytes and frames per
	 * second, to the guest (rx) and from it (tx); 0 = unlimited). Like the
	 * disks', a run's own, not part of the template key. */
	uint64_t net_rx_bps, net_tx_bps, net_rx_pps, net_tx_pps;
};

struct vmm;

int vmm_create(const struct vmm_config *cfg, struct vmm **out, struct errmsg *err);
int vmm_start(struct vmm *vm, struct errmsg *err);
/* Park every vCPU at an instruction boundary with no I/O in flight; returns
 * 0, or -ESHUTDOWN if the VM stopped meanwhile. The device thread keeps
 * running (device state is saved under the devices' own locks). */
int vmm_pause(struct vmm *vm);
void vmm_resume(struct vmm *vm);
/* Give disk i a new backing file (same read-only mode as configured) and
 * tell the guest its new capacity. Returns 0 or -errno with a reason. */
int vmm_attach_disk(struct vmm *vm, unsigned i, const char *path, struct errmsg *err);
int vmm_stop_fd(const struct vmm *vm);
void vmm_request_stop(struct vmm *vm);
enum vmm_stop_reason vmm_wait(struct vmm *vm);
const char *vmm_stop_why(const struct vmm *vm);
/* CLOCK_MONOTONIC ns when the vCPU threads were started (0 before). */
uint64_t vmm_started_ns(const struct vmm *vm);
/* What the guest moved through its devices since this VM was made (a
 * restored VM counts from its restore): the NIC's frames and bytes
 * (virtio_net_stats; all 0 without a NIC) and every disk's summed
 * (virtio_blk_stats). Any thread, while the VM exists; lock-free reads of
 * the devices' atomic counters, so figures of different fields may be a
 * frame apart. */
struct vmm_counters {
	uint64_t net_rx_bytes, net_rx_frames, net_rx_dropped;
	uint64_t net_tx_bytes, net_tx_frames, net_tx_dropped;
	uint64_t blk_read_bytes, blk_reads, blk_write_bytes, blk_writes;
};
void vmm_get_counters(struct vmm *vm, struct vmm_counters *out);
/* KVM's own statistic `name` (KVM_GET_STATS_FD: "exits", "insn_emulation",
 * "pf_guest", "pages_4k", ...): a vCPU stat summed over the vCPUs, else the
 * VM's. Cumulative since the VM was made (KVM counts per vCPU object: a
 * restored VM from its restore). 0; -ENOENT when this host's KVM has no
 * such stat (normal: the set differs by kernel and backend); -errno when a
 * read failed. The control thread (pread64 in its seccomp role); while the
 * VM exists. */
int vmm_kvm_stat(struct vmm *vm, const char *name, uint64_t *val);
void vmm_destroy(struct vmm *vm);

/* A template's identity, computed here and nowhere else: everything in cfg
 * that shapes the booted guest (hull's version, the kernel and initrd files'
 * device, inode, size and mtime, vCPUs, memory, the disk layout, NIC or not,
 * the number of volumes, vsock or not, the PVM switch and the full kernel
 * command line). Readable text, malloc'd; 0 or -errno (a file that cannot be
 * stat'ed is named in err). */
int vmm_template_key(const struct vmm_config *cfg, char **key, struct errmsg *err);
/* Where the template for key lives under root: root/<first 32 hex digits of
 * sha256(key)>. malloc'd, NULL without memory. */
char *vmm_template_dir(const char *root, const char *key);
/* Save the VM as a template at dir (atomically; another process's template
 * already there wins), under its config's key. The VM must be paused
 * (vmm_pause). */
int vmm_save_template(struct vmm *vm, const char *dir, struct errmsg *err);
bool vmm_template_exists(const char *dir);
/* Remove a template (or a leftover of one): it stops being one atomically
 * (vmm/snapshot/snapshot.h). 0 or -errno with err (may be NULL). */
int vmm_template_remove(const char *dir, struct errmsg *err);

/* The templates (and leftover temporary directories) under root, as
 * vmm_template_list() shows them to fn; strings live during the call. */
struct vmm_template_info {
	const char *name;    /* entry under root */
	const char *path;    /* root/name */
	const char *key;     /* NULL if unreadable */
	uint64_t disk_bytes; /* allocated on disk */
	uint64_t mem_bytes;  /* guest RAM; 0 if unreadable */
	int64_t created;     /* unix seconds */
	bool usable;	     /* by this hull version on this host CPU */
	const char *why;     /* !usable: the reason */
	bool partial;	     /* a write or removal that did not finish... */
	bool in_progress;    /* ...and is still running */
};
typedef int (*vmm_template_fn)(void *ctx, const struct vmm_template_info *t);
/* A non-zero return of fn stops the walk and is returned; a missing root
 * lists nothing. The template functions (vmm_template_dir, _exists,
 * _remove, _list) link without the rest of the VMM (vmm/template.c). */
int vmm_template_list(const char *root, vmm_template_fn fn, void *ctx, struct errmsg *err);
/* True when /dev/kvm is PVM-backed (guest kernel mode emulated). */
bool vmm_host_is_pvm(void);

#endif
