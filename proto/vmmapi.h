/* vmmapi: the API between the runtime and hull-vmm, the VM monitor process.
 *
 * Contract
 * - Transport: one SOCK_SEQPACKET socket (a socketpair; the monitor inherits
 *   its end, see monitor/main.c), one message per packet, at most
 *   VMMAPI_MAX_MSG bytes. The codec does no I/O; vmmapi_send() and
 *   vmmapi_recv() move one packet (both peers use them).
 * - A message is: u32 type | fields of that type, in a fixed order. Integers
 *   are little-endian; a string is u32 len | len bytes, the last of which is
 *   NUL and no other is (an absent string: len 0). A message must be consumed
 *   exactly: trailing bytes, a short field, an unknown type, a count above
 *   its array's bound, a bool other than 0/1 or a string over
 *   VMMAPI_STR_MAX bytes is -EBADMSG with err naming the message and field.
 * - Trust: the monitor faces the guest, so the runtime treats every message
 *   the monitor sends as hostile (decoded strictly, strings bounded). The
 *   monitor decodes the runtime's messages just as strictly.
 * - Decoded strings point into the caller's buffer (they carry their NUL on
 *   the wire): keep the buffer alive while the message is used.
 *   vmmapi_encode() writes into a caller buffer and never allocates.
 *
 * Conversation
 *   runtime: CONFIG                   first, exactly once: the VM to run
 *   monitor: CREATED {boot, t_exec, t_ns, why}  the VM exists: booted cold, restored
 *                                     from a template, or cold because the
 *                                     template was refused (why says why);
 *                                     t_exec: when the monitor's main() began,
 *                                     t_ns: when the VM was made
 *   monitor: STARTED {t_ns}           vCPUs run (CLOCK_MONOTONIC ns)
 *   runtime: SAVE_TEMPLATE | ATTACH_DISK {index, path} | PAUSE | RESUME
 *   monitor: RESULT {op, err, text}   one per request, in order (err 0 or -errno)
 *   runtime: GET_COUNTERS             what the guest moved through its NIC and
 *                                     disks (hull stats, the shim's metrics)
 *   monitor: COUNTERS {net rx/tx bytes, frames, dropped; disk read/write
 *            bytes, requests[, kvm_present, KVM's stats]}
 *                                     the answer to GET_COUNTERS, in order with
 *                                     the RESULTs (a failure is a RESULT). The
 *                                     KVM part: u64 kvm_present, bit i for
 *                                     vmmapi_kstat_name(i), then one u64 per
 *                                     set bit in bit order; a bit at or above
 *                                     VMMAPI_KSTATS is -EBADMSG. Both peers
 *                                     are always one hull's (the runtime
 *                                     execs the monitor installed with it),
 *                                     so the part is not optional; the
 *                                     control-socket line that carries it on
 *                                     (runtime/ctrstats.h) is.
 *   runtime: STOP                     stop the VM (answered by STOPPED)
 *   monitor: STOPPED {reason, t_ns, why}  the VM ended; the monitor exits.
 *            Also sent instead of CREATED when the VM cannot be made, and
 *            by the monitor's seccomp trap (reason ERROR, why "hull-vmm
 *            killed by its seccomp filter (syscall N name, thread role R)")
 *            just before it exits with VMMAPI_EXIT_SECCOMP.
 * Console bytes travel on a separate pipe, not here.
 */
#ifndef HULL_VMMAPI_H
#define HULL_VMMAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define VMMAPI_MAX_MSG (64u * 1024)
#define VMMAPI_STR_MAX 4096u /* bytes of a string, its NUL included */
#define VMMAPI_MAX_CPUS 8
#define VMMAPI_MAX_DISKS 4
#define VMMAPI_MAX_VOLUMES 8
#define VMMAPI_MAX_PORTFWD 64
/* The exit status of hull-vmm and hull-slirp when their seccomp filter
 * stopped them (128 + SIGSYS, as a death by that signal would read). */
#define VMMAPI_EXIT_SECCOMP 159

enum vmmapi_type {
	/* runtime -> monitor */
	VMMAPI_CONFIG = 1,
	VMMAPI_SAVE_TEMPLATE = 2,
	VMMAPI_ATTACH_DISK = 3,
	VMMAPI_PAUSE = 4,
	VMMAPI_RESUME = 5,
	VMMAPI_STOP = 6,
	VMMAPI_GET_COUNTERS = 7,
	/* monitor -> runtime */
	VMMAPI_CREATED = 0x81,
	VMMAPI_STARTED = 0x82,
	VMMAPI_RESULT = 0x83,
	VMMAPI_STOPPED = 0x84,
	VMMAPI_COUNTERS = 0x85,
};

enum vmmapi_boot {
	VMMAPI_BOOT_COLD = 0,	  /* no template kept, or none fits yet */
	VMMAPI_BOOT_RESTORED = 1, /* restored from the fitting template */
	VMMAPI_BOOT_REFUSED = 2,  /* a template was there but refused (why); removed, cold boot */
	VMMAPI_BOOT_NO_TEMPLATE = 3, /* templates off (no template_root) */
};

/* Same values as enum vmm_stop_reason (vmm/vmm.h). */
enum vmmapi_stop {
	VMMAPI_STOP_NONE = 0,
	VMMAPI_STOP_RESET = 1,	      /* the guest reset the machine: normal end */
	VMMAPI_STOP_SHUTDOWN = 2,     /* halt with interrupts off, or a shutdown event */
	VMMAPI_STOP_ERROR = 3,	      /* KVM or monitor failure; why says which */
	VMMAPI_STOP_REQUESTED = 4,    /* STOP, or the runtime went away */
	VMMAPI_STOP_TRIPLE_FAULT = 5, /* the guest triple-faulted (KVM_EXIT_SHUTDOWN) */
};

/* Same values as enum vmm_net_mode. */
enum vmmapi_net {
	VMMAPI_NET_NONE = 0,
	VMMAPI_NET_SLIRP = 1,
	VMMAPI_NET_TAP = 2,
};

struct vmmapi_disk {
	const char *path; /* NULL: empty until ATTACH_DISK */
	bool read_only;
};

struct vmmapi_volume {
	const char *host_dir;
	bool read_only;
};

struct vmmapi_portfwd {
	bool udp;
	uint32_t host_ip; /* network byte order, 0 = every address */
	uint16_t host_port, guest_port;
};

/* The VM, as struct vmm_config (vmm/vmm.h) describes it; strings may be NULL
 * where vmm_config allows it. */
struct vmmapi_config {
	const char *kvm_dev; /* NULL: /dev/kvm */
	const char *kernel, *initrd, *cmdline_extra;
	uint32_t cpus;
	uint64_t mem_bytes;
	int32_t pvm; /* -1 detect, 0, 1 */
	bool debug;
	struct vmmapi_disk disks[VMMAPI_MAX_DISKS];
	uint32_t ndisks;
	struct vmmapi_volume volumes[VMMAPI_MAX_VOLUMES];
	uint32_t nvolumes;
	const char *vsock_uds; /* NULL: no vsock device */
	uint64_t vsock_cid;
	uint32_t net_mode; /* enum vmmapi_net */
	const char *net_tap;
	uint8_t net_mac[6];
	struct vmmapi_portfwd ports[VMMAPI_MAX_PORTFWD];
	uint32_t nports;
	bool net_no_csum;
	/* for the network helper only (runtime/vmproc.c passes it as
	 * --host-loopback): not encoded, the monitor never sees it */
	bool net_host_loopback;
	/* Templates live under this directory (the monitor names the one that
	 * fits this config, restores from it and saves to it); NULL: neither
	 * restore nor save (--no-snapshot). */
	const char *template_root;
	/* every disk's I/O limits, as in struct vmm_config; 0 = unlimited */
	uint64_t disk_read_bps, disk_write_bps, disk_read_iops, disk_write_iops;
	/* the NIC's rate limits, as in struct vmm_config; 0 = unlimited */
	uint64_t net_rx_bps, net_tx_bps, net_rx_pps, net_tx_pps;
};

/* COUNTERS, as struct vmm_counters (vmm/vmm.h): cumulative since the VM
 * was made (restored). Numbers the monitor says: shown, never trusted for
 * anything else. */
#define VMMAPI_KSTATS 20
struct vmmapi_counters {
	uint64_t net_rx_bytes, net_rx_frames, net_rx_dropped;
	uint64_t net_tx_bytes, net_tx_frames, net_tx_dropped;
	uint64_t blk_read_bytes, blk_reads, blk_write_bytes, blk_writes;
	/* KVM's own statistics of the VM (vmm_kvm_stat): kvm[i] is the stat
	 * vmmapi_kstat_name(i), known when bit i of kvm_present is set (a host
	 * whose KVM lacks a stat, or a monitor without them: absent, not 0). */
	uint64_t kvm_present;
	uint64_t kvm[VMMAPI_KSTATS];
};

/* The name of KVM stat i, as KVM_GET_STATS_FD names it ("exits",
 * "insn_emulation", "pf_guest", "pages_4k", ...), for i < VMMAPI_KSTATS;
 * NULL beyond. The wire order: append new names, never reorder. */
const char *vmmapi_kstat_name(unsigned i);

struct vmmapi_msg {
	uint32_t type; /* enum vmmapi_type */
	union {
		struct vmmapi_config config;
		struct {
			uint32_t index;
			const char *path;
		} attach;
		struct {
			uint32_t boot;	 /* enum vmmapi_boot */
			uint64_t t_exec; /* the monitor's main() began (CLOCK_MONOTONIC) */
			uint64_t t_ns;	 /* the VM was made */
			const char *why; /* REFUSED: the template's problem; else NULL */
		} created;
		struct {
			uint64_t t_ns;
		} started;
		struct {
			uint32_t op;	  /* the request's type */
			int32_t err;	  /* 0 or -errno */
			const char *text; /* err != 0: why */
		} result;
		struct {
			uint32_t reason; /* enum vmmapi_stop */
			uint64_t t_ns;	 /* when the VM stopped (CLOCK_MONOTONIC) */
			const char *why; /* may be NULL */
		} stopped;
		struct vmmapi_counters counters;
	};
};

/* Encode m into buf[0, cap): returns the length, or -EMSGSIZE (a string over
 * VMMAPI_STR_MAX or the message over cap) or -EINVAL (unknown type, a count
 * over its bound) with err saying which field. */
int vmmapi_encode(const struct vmmapi_msg *m, uint8_t *buf, size_t cap, struct errmsg *err);

/* Decode buf[0, len) into m (zeroed first); m's strings point into buf.
 * 0 or -EBADMSG. */
int vmmapi_decode(const uint8_t *buf, size_t len, struct vmmapi_msg *m, struct errmsg *err);

/* Encode m and send it as one packet (MSG_NOSIGNAL; blocking unless fd is
 * non-blocking). 0 or -errno. */
int vmmapi_send(int fd, const struct vmmapi_msg *m, struct errmsg *err);
/* Receive one packet into buf (VMMAPI_MAX_MSG + 1 bytes, caller's) and
 * decode it into m (strings point into buf). 0; -EPIPE when the peer hung
 * up (end of stream); -EAGAIN on a non-blocking fd with nothing ready;
 * -EBADMSG for an oversized or malformed packet; other -errno. */
#define VMMAPI_RECV_BUF (VMMAPI_MAX_MSG + 1)
int vmmapi_recv(int fd, uint8_t buf[VMMAPI_RECV_BUF], struct vmmapi_msg *m, struct errmsg *err);

/* "CONFIG", "STOPPED", ... ("unknown" for others): for messages. */
const char *vmmapi_type_name(uint32_t type);
/* "the guest rebooted", ...: for messages. */
const char *vmmapi_stop_text(uint32_t reason);

#endif
