/* vm: assembles a microVM from the parts (see vmm.h for the contract). */
#include "vmm/vmm.h"
#include "common/clock.h"
#include "common/version.h"
#include "common/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_mmio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/x86/boot.h"
#include "vmm/bus.h"
#include "vmm/evloop.h"
#include "vmm/guest_mem.h"
#include "vmm/x86/i8042.h"
#include "vmm/kvm.h"
#include "vmm/x86/mptable.h"
#include "vmm/x86/serial.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/snapshot/vmstate.h"
#include "vmm/kvm_stats.h"
#include "vmm/vcpu.h"
#include "p9/p9.h"
#include "vmm/virtio/virtio_9p.h"
#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_mmio.h"
#include "vmm/virtio/virtio_vsock.h"
#include "vmm/virtio/virtio_net.h"
#include "vmm/net/net_stream.h"
#include "vmm/net/net_tap.h"

/* Legacy PC wiring the kernel's 8250 driver probes without being told. */
#define COM1_BASE 0x3f8
#define COM1_IRQ 4
#define UART_LEN 8
/* virtio-mmio devices: one VIRTIO_MMIO_SIZE window per slot in the MMIO
 * hole, slot s at VIRTIO_MMIO_BASE + s * VIRTIO_MMIO_SIZE with IRQ
 * VIRTIO_IRQ_BASE + s. Slots are fixed per device kind so a template's
 * devices sit where a restore expects them. */
#define VIRTIO_MMIO_BASE 0xd0000000ull
#define VIRTIO_IRQ_BASE 5
#define VIRTIO_MAX_QUEUES 4
enum {
	SLOT_DISK0 = 0, /* + disk index */
	SLOT_VSOCK = VMM_MAX_DISKS,
	SLOT_NET,
	SLOT_VOLUME0, /* + volume index */
	NSLOTS = SLOT_VOLUME0 + VMM_MAX_VOLUMES,
};

/* Section ids in a template (vmm/snapshot/snapshot.h stores them opaquely). */
enum {
	SEC_VM = 0x10,
	SEC_UART_CONSOLE = 0x20,
	/* 0x21 was the COM2 control channel, now on vsock */
	SEC_VIRTIO0 = 0x30, /* + slot: the virtio-mmio transport */
	SEC_VCPU0 = 0x100,  /* + vCPU index */
};

struct vmm;

struct notify_ctx {
	struct virtio_mmio *t;
	unsigned q;
};

/* One virtio-mmio slot: the transport and its KVM wiring. */
struct vdev {
	struct virtio_mmio *t; /* NULL: slot empty */
	int irq_fd;
	int notify_fd[VIRTIO_MAX_QUEUES];
	struct notify_ctx notify[VIRTIO_MAX_QUEUES];
	unsigned nq;
};

struct disk {
	int fd;
	struct virtio_blk *blk;
};

struct volume {
	struct p9_server *srv;
	struct virtio_9p *dev;
};

struct vmm {
	struct vmm_config cfg;
	bool pvm;
	struct kvm_vm kvm;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct serial *con;
	int con_irq_fd;
	struct virtio_vsock *vsock; /* NULL without cfg.vsock_uds */
	struct i8042 kbc;
	struct vdev vdevs[NSLOTS];
	struct disk disks[VMM_MAX_DISKS];
	unsigned ndisks;
	struct volume volumes[VMM_MAX_VOLUMES];
	/* the NIC and its back end (one of stream, tap), SLOT_NET */
	struct virtio_net *net;
	struct net_stream *stream;
	struct net_tap *tap;
	struct evloop *loop;
	pthread_t loop_thread;
	bool loop_started;
	struct vcpu vcpus[VMM_MAX_CPUS];
	unsigned ncpus;
	/* KVM's statistics (vmm_kvm_stat): opened with the vCPUs, before any
	 * seccomp filter; read with pread by the control thread. Empty (fd -1)
	 * where the host has no KVM_GET_STATS_FD. */
	struct kvm_stats vm_stats, cpu_stats[VMM_MAX_CPUS];
	struct vcpu_env env;
	struct vcpu_pause pause;
	struct snapshot snap; /* restored from a template: owns the RAM mapping */
	bool restored;
	/* vmm_start(): the threads wait here until every one of them, and the
	 * caller, ran cfg.thread_setup (pending counts those still to report) */
	struct {
		pthread_mutex_t lock;
		pthread_cond_t cond;
		unsigned pending;
		bool open;
		int rc;
		struct errmsg err;
	} gate;
	int stop_fd;
	atomic_bool stopping;
	pthread_mutex_t stop_lock;
	enum vmm_stop_reason reason;
	char why[512];
	char cmdline[BOOT_CMDLINE_MAX];
	uint64_t started_ns;
};

static void vm_stop(void *ctx, int reason, const char *why)
{
	struct vmm *vm = ctx;
	pthread_mutex_lock(&vm->stop_lock);
	bool first = vm->reason == VMM_STOP_NONE;
	if (first) {
		vm->reason = (enum vmm_stop_reason)reason;
		snprintf(vm->why, sizeof(vm->why), "%s", why ? why : "");
	}
	pthread_mutex_unlock(&vm->stop_lock);
	if (!first)
		return;
	if (vm->cfg.debug)
		fprintf(stderr, "hull: vmm: stop: %s\n", why ? why : "");
	atomic_store(&vm->stopping, true);
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
	uint64_t one = 1;
	ssize_t r = write(vm->stop_fd, &one, sizeof(one));
	(void)r;
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	if (vm->loop)
		evloop_stop(vm->loop);
}

static void kbc_reset(void *ctx)
{
	vm_stop(ctx, VMM_STOP_RESET, "guest reset the machine");
}

static void pulse_irqfd(void *ctx)
{
	int fd = *(int *)ctx;
	uint64_t one = 1;
	ssize_t r = write(fd, &one, sizeof(one));
	(void)r; /* EAGAIN: a pulse is already pending, which is enough */
}

static void on_notify(void *ctx, int fd, uint32_t events)
{
	(void)events;
	struct notify_ctx *n = ctx;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	/* The transport handles a bounded batch per call so one busy queue
	 * cannot pin this thread; with work left, re-arm our own eventfd so the
	 * loop comes back after serving everything else that is ready. */
	if (virtio_mmio_notify(n->t, n->q)) {
		uint64_t one = 1;
		ssize_t r = write(fd, &one, sizeof(one));
		(void)r;
	}
}

static void virtio_io(void *ctx, uint64_t off, void *data, uint32_t len, bool write)
{
	if (write)
		virtio_mmio_write(ctx, off, data, len);
	else
		virtio_mmio_read(ctx, off, data, len);
}

/* The kernel and the initramfs are read whole (common/readfile.h); a bound
 * far above any real one keeps a wrong path (a disk image) from eating RAM. */
#define BOOT_FILE_MAX (512u << 20)

static int read_file(const char *path, uint8_t **buf, size_t *len, struct errmsg *err,
		     const char *what)
{
	char *p;
	int rc = readfile(path, BOOT_FILE_MAX, &p, len);
	if (rc == -EINVAL || rc == -EISDIR || (!rc && *len == 0)) {
		free(p);
		return errmsg_set(err, -EINVAL, "%s %s: not a non-empty regular file", what, path);
	}
	if (rc)
		return errmsg_set(err, rc, "%s %s: %s", what, path, strerror(-rc));
	*buf = (uint8_t *)p;
	return 0;
}

/* Which slots this configuration fills (decided before any device exists:
 * the command line is built first). */
static bool slot_wanted(const struct vmm_config *cfg, unsigned slot)
{
	if (slot < SLOT_DISK0 + VMM_MAX_DISKS)
		return slot - SLOT_DISK0 < cfg->ndisks;
	if (slot >= SLOT_VOLUME0 && slot < SLOT_VOLUME0 + VMM_MAX_VOLUMES)
		return slot - SLOT_VOLUME0 < cfg->nvolumes;
	if (slot == SLOT_VSOCK)
		return cfg->vsock_uds != NULL;
	if (slot == SLOT_NET)
		return cfg->net_mode != VMM_NET_NONE;
	return false;
}

/* The kernel command line cfg gives the guest (pvm: resolved). */
static int build_cmdline(const struct vmm_config *cfg, bool pvm, char *out, size_t cap,
			 struct errmsg *err)
{
	/* console on ttyS0 only; the kernel stays quiet unless debugging.
	 * reboot=k: guest-init's reboot() ends the VM through the i8042 reset;
	 * panic=-1: a guest panic reboots (ends) at once instead of hanging. */
	size_t n = (size_t)snprintf(out, cap, "console=ttyS0 reboot=k panic=-1 8250.nr_uarts=1%s",
				    cfg->debug ? "" : " quiet");
	for (unsigned i = 0; i < NSLOTS && n < cap; i++)
		if (slot_wanted(cfg, i))
			n += (size_t)snprintf(
			    out + n, cap - n, " virtio_mmio.device=4K@0x%llx:%u",
			    (unsigned long long)(VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE),
			    VIRTIO_IRQ_BASE + i);
	if (pvm && n < cap)
		/* kernel-config/README.md has the reason for each word: pvm_compat
		 * turns on the kernel patches; clearcpuid hides what the PVM
		 * emulator of guest kernel mode cannot run; noreplace-smp and
		 * percpu_alloc=page skip seconds of emulated boot work;
		 * tick_stretch=10 makes a busy vCPU tick at 10 Hz, not 100 (each
		 * tick is milliseconds of emulated kernel work); and
		 * GLIBC_TUNABLES (passed to init's environment, and on to the
		 * container) keeps glibc off AVX, whose state the guest kernel
		 * cannot switch here. */
		n += (size_t)snprintf(out + n, cap - n,
				      " pvm_compat clearcpuid=xsave,popcnt,smap,erms,fsrm,invpcid,"
				      "rdtscp,cx16 noreplace-smp percpu_alloc=page tick_stretch=10"
				      " GLIBC_TUNABLES="
				      "glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,"
				      "-AVX512DQ,-AVX512CD,-AVX_Fast_Unaligned_Load");
	if (cfg->cmdline_extra && n < cap)
		n += (size_t)snprintf(out + n, cap - n, " %s", cfg->cmdline_extra);
	if (n >= cap)
		return errmsg_set(err, -E2BIG, "kernel command line too long (limit %zu bytes)",
				  cap - 1);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Put a device's virtio-mmio transport in a slot: MMIO window, interrupt
 * line, and one ioeventfd per queue served by the event loop, so a queue
 * notification costs the vCPU no userspace exit. `what` names the device
 * in errors. */
static int vdev_setup(struct vmm *vm, unsigned slot, const struct virtio_dev_ops *ops, void *dev,
		      const char *what, struct errmsg *err)
{
	struct vdev *v = &vm->vdevs[slot];
	uint64_t base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SIZE;
	int rc = kvm_vm_irqfd(&vm->kvm, VIRTIO_IRQ_BASE + slot, &v->irq_fd);
	if (rc)
		return errmsg_set(err, rc, "KVM_IRQFD for %s: %s", what, strerror(-rc));
	rc = virtio_mmio_init(&v->t, base, &vm->mem, ops, dev, pulse_irqfd, &v->irq_fd);
	if (rc)
		return errmsg_set(err, rc, "virtio-mmio for %s: %s", what, strerror(-rc));
	rc = bus_add(&vm->mmio, base, VIRTIO_MMIO_SIZE, virtio_io, v->t);
	if (rc)
		return errmsg_set(err, rc, "MMIO window for %s: %s", what, strerror(-rc));
	v->nq = ops->num_queues;
	if (v->nq > VIRTIO_MAX_QUEUES)
		v->nq = VIRTIO_MAX_QUEUES;
	for (unsigned q = 0; q < v->nq; q++) {
		v->notify[q] = (struct notify_ctx){.t = v->t, .q = q};
		rc = kvm_vm_ioeventfd(&vm->kvm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q,
				      &v->notify_fd[q]);
		if (rc)
			return errmsg_set(err, rc, "KVM_IOEVENTFD for %s: %s", what, strerror(-rc));
		rc = evloop_add(vm->loop, v->notify_fd[q], EPOLLIN, on_notify, &v->notify[q]);
		if (rc)
			return errmsg_set(err, rc, "event loop: %s", strerror(-rc));
	}
	return 0;
}

static void vdev_free(struct vdev *v)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		close_fd(&v->notify_fd[q]);
	virtio_mmio_free(v->t);
	v->t = NULL;
	close_fd(&v->irq_fd);
}

static int setup_disk(struct vmm *vm, unsigned i, struct errmsg *err)
{
	struct disk *d = &vm->disks[i];
	const struct vmm_disk *cfg = &vm->cfg.disks[i];
	if (cfg->path)
		d->fd = open(cfg->path, (cfg->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	else /* an empty disk, to be given its backing file later (vmm_attach_disk) */
		d->fd = memfd_create("hull-empty-disk", MFD_CLOEXEC);
	if (d->fd < 0)
		return errmsg_set(err, -errno, "disk %s: %s", cfg->path ? cfg->path : "(empty)",
				  strerror(errno));
	char serial[21];
	snprintf(serial, sizeof(serial), "hull%u", i);
	int rc = virtio_blk_init(&d->blk, d->fd, cfg->read_only, serial, err);
	if (rc)
		return rc;
	char what[32];
	snprintf(what, sizeof(what), "disk %u", i);
	rc = vdev_setup(vm, SLOT_DISK0 + i, virtio_blk_ops(d->blk), d->blk, what, err);
	const struct virtio_blk_limits lim = {.read_bps = vm->cfg.disk_read_bps,
					      .write_bps = vm->cfg.disk_write_bps,
					      .read_iops = vm->cfg.disk_read_iops,
					      .write_iops = vm->cfg.disk_write_iops};
	if (!rc)
		rc =
		    virtio_blk_set_limits(d->blk, &lim, vm->loop, vm->vdevs[SLOT_DISK0 + i].t, err);
	return rc;
}

/* Volume i: a 9p server on its directory behind a virtio-9p device. The
 * server maps owners to the volume directory's when that mapping can hold:
 * as root, or when the directory belongs to this process's uid and gid,
 * which is how the jail presents a volume to the monitor (runtime/jail.h:
 * an idmapped mount, its owner shown as user hull; rootless, the user's own
 * directory). Otherwise it cannot chown at all (P9_OWNERS_KEEP, see p9.h).
 * Owners never pass through (P9_OWNERS_PASSTHROUGH): that needs CAP_CHOWN,
 * which the jailed monitor does not have (runtime/volume.h). */
static enum p9_owners volume_owners(const struct vmm_volume *cfg)
{
	struct stat st;
	if (geteuid() == 0 ||
	    (lstat(cfg->host_dir, &st) == 0 && st.st_uid == geteuid() && st.st_gid == getegid()))
		return P9_OWNERS_MAPPED;
	return P9_OWNERS_KEEP;
}

static int setup_volume(struct vmm *vm, unsigned i, struct errmsg *err)
{
	struct volume *v = &vm->volumes[i];
	const struct vmm_volume *cfg = &vm->cfg.volumes[i];
	enum p9_owners own = volume_owners(cfg);
	int rc = p9_server_new(&v->srv, cfg->host_dir, cfg->read_only, own, err);
	char tag[VIRTIO_9P_TAG_MAX + 1];
	snprintf(tag, sizeof(tag), VMM_VOLUME_TAG, i);
	if (!rc)
		rc = virtio_9p_init(&v->dev, v->srv, tag, err);
	if (rc)
		return rc;
	char what[32];
	snprintf(what, sizeof(what), "volume %u", i);
	return vdev_setup(vm, SLOT_VOLUME0 + i, virtio_9p_ops(v->dev), v->dev, what, err);
}

/* The host<->guest socket device: Unix sockets at cfg.vsock_uds. */
static int setup_vsock(struct vmm *vm, struct errmsg *err)
{
	uint64_t cid = vm->cfg.vsock_cid ? vm->cfg.vsock_cid : VIRTIO_VSOCK_DEFAULT_CID;
	int rc =
	    virtio_vsock_init(&vm->vsock, cid, vm->cfg.vsock_uds, vm->loop, vm->cfg.debug, err);
	if (!rc)
		rc = vdev_setup(vm, SLOT_VSOCK, virtio_vsock_ops(vm->vsock), vm->vsock, "vsock",
				err);
	if (!rc)
		virtio_vsock_set_transport(vm->vsock, vm->vdevs[SLOT_VSOCK].t);
	return rc;
}

/* The NIC's device and back end (the stream to the user-mode network
 * helper, which bound the published ports before this process started, or
 * the tap), made before a template is opened: a failure here is the user's
 * (a missing tap), never the template's. Both are served by the event loop. */
static int setup_net_backend(struct vmm *vm, struct errmsg *err)
{
	int rc = virtio_net_init(&vm->net, vm->cfg.net_mac, !vm->cfg.net_no_csum);
	if (rc)
		return errmsg_set(err, rc, "network device: %s", strerror(-rc));
	if (vm->cfg.net_mode == VMM_NET_TAP)
		return net_tap_open(&vm->tap, vm->cfg.net_tap ? vm->cfg.net_tap : "", vm->net,
				    vm->loop, err);
	return net_stream_open(&vm->stream, vm->cfg.net_fd, vm->net, vm->loop, err);
}

/* The NIC's slot, once guest memory is there. */
static int setup_net(struct vmm *vm, struct errmsg *err)
{
	struct virtio_net_backend be =
	    vm->tap ? net_tap_backend(vm->tap) : net_stream_backend(vm->stream);
	int rc = vdev_setup(vm, SLOT_NET, virtio_net_ops(vm->net), vm->net, "network", err);
	if (rc)
		return rc;
	virtio_net_connect(vm->net, vm->vdevs[SLOT_NET].t, &be);
	const struct virtio_net_limits lim = {.rx_bps = vm->cfg.net_rx_bps,
					      .tx_bps = vm->cfg.net_tx_bps,
					      .rx_pps = vm->cfg.net_rx_pps,
					      .tx_pps = vm->cfg.net_tx_pps};
	return virtio_net_set_limits(vm->net, &lim, vm->loop, err);
}

static int setup_uarts(struct vmm *vm, struct errmsg *err)
{
	int rc = kvm_vm_irqfd(&vm->kvm, COM1_IRQ, &vm->con_irq_fd);
	if (rc)
		return errmsg_set(err, rc, "KVM_IRQFD for the UART: %s", strerror(-rc));
	rc = serial_init(&vm->con, vm->cfg.console_out, vm->cfg.ctx, pulse_irqfd, &vm->con_irq_fd);
	if (!rc)
		rc = bus_add(&vm->pio, COM1_BASE, UART_LEN, serial_io, vm->con);
	vm->kbc = (struct i8042){.reset = kbc_reset, .ctx = vm};
	if (!rc)
		rc = bus_add(&vm->pio, I8042_BASE, I8042_LEN, i8042_io, &vm->kbc);
	if (rc)
		return errmsg_set(err, rc, "UART setup: %s", strerror(-rc));
	return 0;
}

static int load_kernel(struct vmm *vm, struct errmsg *err)
{
	uint8_t *kimg = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	struct errmsg sub;
	int rc = read_file(vm->cfg.kernel, &kimg, &klen, err, "kernel");
	if (rc)
		return rc;
	if (vm->cfg.initrd) {
		rc = read_file(vm->cfg.initrd, &initrd, &ilen, err, "initramfs");
		if (rc)
			goto out;
	}
	struct boot_kernel k;
	rc = boot_elf_load(kimg, klen, &vm->mem, &k, &sub);
	if (rc) {
		errmsg_set(err, rc, "kernel %s: %s", vm->cfg.kernel, sub.text);
		goto out;
	}
	uint64_t si;
	rc = boot_pvh_setup(&vm->mem, &k, vm->cmdline, initrd, ilen, &si, &sub);
	if (rc) {
		errmsg_set(err, rc, "boot setup: %s", sub.text);
		goto out;
	}
	uint8_t *mp = guest_mem_ptr(&vm->mem, BOOT_MPTABLE_ADDR, 0x400);
	long n = mp ? mptable_write(mp, 0x400, BOOT_MPTABLE_ADDR, vm->ncpus) : -ENOMEM;
	if (n < 0) {
		rc = errmsg_set(err, (int)n, "MP table: %s", strerror((int)-n));
		goto out;
	}
	rc = vcpu_set_pvh_entry(&vm->vcpus[0], &vm->mem, k.pvh_entry, (uint32_t)si, err);
out:
	free(kimg);
	free(initrd);
	return rc;
}

/* A file's identity for the key: replacing or touching the file changes it. */
static int file_id(const char *what, const char *path, char *out, size_t n, struct errmsg *err)
{
	struct stat st;
	if (!path) {
		snprintf(out, n, "none");
		return 0;
	}
	if (stat(path, &st) < 0)
		return errmsg_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	snprintf(out, n, "%llx:%llu:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	return 0;
}

int vmm_template_key(const struct vmm_config *cfg, char **key, struct errmsg *err)
{
	char k[128], i[128], cmdline[BOOT_CMDLINE_MAX], disks[VMM_MAX_DISKS * 160 + 1] = "";
	bool pvm = cfg->pvm < 0 ? kvm_host_is_pvm() : cfg->pvm > 0;
	int rc = file_id("kernel", cfg->kernel, k, sizeof(k), err);
	if (!rc)
		rc = file_id("initrd", cfg->initrd, i, sizeof(i), err);
	if (!rc)
		rc = build_cmdline(cfg, pvm, cmdline, sizeof(cmdline), err);
	size_t n = 0;
	for (unsigned d = 0; !rc && d < cfg->ndisks && d < VMM_MAX_DISKS; d++) {
		/* a template is normally made with empty disks; a disk with a
		 * file shaped the guest as much as the kernel did */
		char id[128];
		rc = file_id("disk", cfg->disks[d].path, id, sizeof(id), err);
		n += (size_t)snprintf(disks + n, sizeof(disks) - n, " %s:%s",
				      cfg->disks[d].read_only ? "ro" : "rw", id);
	}
	if (rc)
		return rc;
	if (asprintf(key,
		     "hull %s; kernel %s; initrd %s; cpus %u; mem %llu; disks%s; nic %s; "
		     "volumes %u; vsock %d; pvm %d; cmdline %s",
		     HULL_VERSION, k, i, cfg->cpus, (unsigned long long)cfg->mem_bytes, disks,
		     /* the offered features are part of the saved transport state */
		     cfg->net_mode == VMM_NET_NONE ? "none"
		     : cfg->net_no_csum		   ? "virtio-net nocsum"
						   : "virtio-net",
		     cfg->nvolumes, cfg->vsock_uds != NULL, pvm, cmdline) < 0)
		return errmsg_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int section(struct vmm *vm, uint32_t id, const uint8_t **d, size_t *n, struct errmsg *err)
{
	if (snapshot_section(&vm->snap, id, d, n))
		return errmsg_set(err, -EBADMSG, "template %s: section 0x%x missing",
				  vm->cfg.template_dir, id);
	return 0;
}

/* The VM as the template left it, in the order QEMU and Firecracker use:
 * each vCPU (its CPUID is already set, so KVM accepts its MSRs), then the
 * VM-wide interrupt controllers and clock, then the devices. Each queue is
 * then looked at once: a notification the guest made just before the save
 * went to an ioeventfd of the template's process and is gone. */
static int restore_state(struct vmm *vm, struct errmsg *err)
{
	const uint8_t *d;
	size_t n;
	struct errmsg sub;
	int rc = 0;
	for (unsigned i = 0; !rc && i < vm->ncpus; i++) {
		rc = section(vm, SEC_VCPU0 + i, &d, &n, err);
		if (!rc && (rc = vmstate_vcpu_restore(vm->vcpus[i].fd, d, n, &sub)))
			errmsg_set(err, rc, "template %s: vCPU %u: %s", vm->cfg.template_dir, i,
				   sub.text);
	}
	if (!rc)
		rc = section(vm, SEC_VM, &d, &n, err);
	if (!rc && (rc = vmstate_vm_restore(vm->kvm.vm_fd, d, n, &sub)))
		errmsg_set(err, rc, "template %s: VM state: %s", vm->cfg.template_dir, sub.text);
	if (!rc)
		rc = section(vm, SEC_UART_CONSOLE, &d, &n, err);
	if (!rc && (rc = serial_restore(vm->con, d, n, &sub)))
		errmsg_set(err, rc, "template %s: console UART: %s", vm->cfg.template_dir,
			   sub.text);
	for (unsigned i = 0; !rc && i < NSLOTS; i++) {
		struct vdev *v = &vm->vdevs[i];
		if (!v->t)
			continue;
		rc = section(vm, SEC_VIRTIO0 + i, &d, &n, err);
		if (!rc && (rc = virtio_mmio_restore(v->t, d, n, &sub)))
			errmsg_set(err, rc, "template %s: virtio slot %u: %s", vm->cfg.template_dir,
				   i, sub.text);
		for (unsigned q = 0; !rc && q < v->nq; q++)
			while (virtio_mmio_notify(v->t, q))
				;
	}
	return rc;
}

int vmm_save_template(struct vmm *vm, const char *dir, struct errmsg *err)
{
	enum { MAXSEC = 2 + NSLOTS + VMM_MAX_CPUS };
	struct vmstate_buf bufs[MAXSEC];
	struct snapshot_section secs[MAXSEC];
	unsigned n = 0;
	int rc = 0;
	struct errmsg sub = {{0}};
	for (unsigned i = 0; i < MAXSEC; i++)
		vmstate_buf_init(&bufs[i]);
#define ADD(sid, call)                                                                             \
	do {                                                                                       \
		if (!rc) {                                                                         \
			rc = (call);                                                               \
			secs[n] = (struct snapshot_section){.id = (sid)};                          \
			n++;                                                                       \
		}                                                                                  \
	} while (0)
	ADD(SEC_VM, vmstate_vm_save(vm->kvm.vm_fd, &bufs[n], &sub));
	for (unsigned i = 0; i < vm->ncpus; i++)
		ADD(SEC_VCPU0 + i,
		    vmstate_vcpu_save(vm->kvm.kvm_fd, vm->vcpus[i].fd, &bufs[n], &sub));
	ADD(SEC_UART_CONSOLE, serial_save(vm->con, &bufs[n]));
	for (unsigned i = 0; i < NSLOTS; i++)
		if (vm->vdevs[i].t)
			ADD(SEC_VIRTIO0 + i, virtio_mmio_save(vm->vdevs[i].t, &bufs[n]));
#undef ADD
	if (rc) {
		errmsg_set(err, rc, "saving VM state: %s", sub.text[0] ? sub.text : strerror(-rc));
	} else {
		for (unsigned i = 0; i < n; i++) {
			secs[i].data = bufs[i].data;
			secs[i].len = bufs[i].len;
		}
		char *k = NULL;
		rc = vmm_template_key(&vm->cfg, &k, err);
		struct snapshot_desc d = {
		    .hull_version = HULL_VERSION, .key = k, .sections = secs, .nsections = n};
		if (!rc)
			rc = snapshot_write(dir, &d, &vm->mem, err);
		free(k);
	}
	for (unsigned i = 0; i < MAXSEC; i++)
		vmstate_buf_free(&bufs[i]);
	return rc;
}

bool vmm_host_is_pvm(void)
{
	return kvm_host_is_pvm();
}

/* KVM's statistics of the VM and of each vCPU. Missing ones (an older
 * host, or a header this code refuses) leave those stats absent: said under
 * --debug, never an error. */
static void open_kvm_stats(struct vmm *vm)
{
	struct errmsg sub;
	if (kvm_stats_open(&vm->vm_stats, vm->kvm.vm_fd, &sub) && vm->cfg.debug)
		fprintf(stderr, "hull: vmm: VM stats absent: %s\n", sub.text);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (kvm_stats_open(&vm->cpu_stats[i], vm->vcpus[i].fd, &sub) && vm->cfg.debug)
			fprintf(stderr, "hull: vmm: vCPU %u stats absent: %s\n", i, sub.text);
}

int vmm_create(const struct vmm_config *cfg, struct vmm **out, struct errmsg *err)
{
	if (cfg->cpus < 1 || cfg->cpus > VMM_MAX_CPUS)
		return errmsg_set(err, -EINVAL, "--cpus %u: must be 1..%d", cfg->cpus,
				  VMM_MAX_CPUS);
	if (cfg->mem_bytes < VMM_MIN_MEM || (cfg->mem_bytes & 0xfffff))
		return errmsg_set(
		    err, -EINVAL,
		    "--memory %llu bytes: must be a whole number of MiB, at least %llu MiB",
		    (unsigned long long)cfg->mem_bytes, VMM_MIN_MEM >> 20);
	if (cfg->ndisks > VMM_MAX_DISKS)
		return errmsg_set(err, -EINVAL, "at most %d disks", VMM_MAX_DISKS);
	if (cfg->nvolumes > VMM_MAX_VOLUMES)
		return errmsg_set(err, -EINVAL, "at most %d volumes", VMM_MAX_VOLUMES);
	if (!cfg->kernel)
		return errmsg_set(err, -EINVAL, "no kernel given");

	struct vmm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return errmsg_set(err, -ENOMEM, "out of memory");
	vm->cfg = *cfg;
	vm->kvm.kvm_fd = vm->kvm.vm_fd = -1;
	vm->con_irq_fd = -1;
	for (unsigned i = 0; i < NSLOTS; i++) {
		vm->vdevs[i].irq_fd = -1;
		for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
			vm->vdevs[i].notify_fd[q] = -1;
	}
	for (unsigned i = 0; i < VMM_MAX_DISKS; i++)
		vm->disks[i].fd = -1;
	vm->vm_stats.fd = -1;
	for (unsigned i = 0; i < VMM_MAX_CPUS; i++)
		vm->cpu_stats[i].fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->pause.lock, NULL);
	pthread_cond_init(&vm->pause.cond, NULL);
	pthread_mutex_init(&vm->gate.lock, NULL);
	pthread_cond_init(&vm->gate.cond, NULL);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->pvm = cfg->pvm < 0 ? kvm_host_is_pvm() : cfg->pvm > 0;
	vm->ncpus = cfg->cpus;
	vm->ndisks = cfg->ndisks;
	vm->env = (struct vcpu_env){.pause = &vm->pause,
				    .pio = &vm->pio,
				    .mmio = &vm->mmio,
				    .stopping = &vm->stopping,
				    .stop = vm_stop,
				    .ctx = vm,
				    .debug = cfg->debug,
				    .profile_fd = cfg->profile_fd};

	int rc = vm->stop_fd < 0 ? errmsg_set(err, -errno, "eventfd: %s", strerror(errno)) : 0;
	if (!rc)
		rc = build_cmdline(cfg, vm->pvm, vm->cmdline, sizeof(vm->cmdline), err);
	if (!rc) {
		rc = evloop_init(&vm->loop);
		if (rc)
			errmsg_set(err, rc, "event loop: %s", strerror(-rc));
	}
	if (!rc && vm->cfg.net_mode != VMM_NET_NONE)
		rc = setup_net_backend(vm, err);
	if (!rc)
		rc = kvm_vm_open(&vm->kvm, cfg->kvm_dev, err);
	char *tkey = NULL;
	if (!rc && cfg->template_dir)
		rc = vmm_template_key(cfg, &tkey, err);
	if (!rc && cfg->template_dir) {
		struct snapshot_expect e = {
		    .hull_version = HULL_VERSION, .key = tkey, .mem_size = cfg->mem_bytes};
		rc = snapshot_open(cfg->template_dir, &e, &vm->snap, err);
		free(tkey);
		if (!rc) {
			vm->mem = vm->snap.mem;
			vm->restored = true;
		}
	} else if (!rc) {
		rc = guest_mem_init(&vm->mem, cfg->mem_bytes);
		if (rc)
			errmsg_set(err, rc, "cannot map %llu MiB of guest memory",
				   (unsigned long long)(cfg->mem_bytes >> 20));
	}
	if (!rc)
		rc = kvm_vm_set_memory(&vm->kvm, &vm->mem, err);
	if (!rc)
		rc = setup_uarts(vm, err);
	for (unsigned i = 0; !rc && i < vm->ndisks; i++)
		rc = setup_disk(vm, i, err);
	for (unsigned i = 0; !rc && i < cfg->nvolumes; i++)
		rc = setup_volume(vm, i, err);
	if (!rc && cfg->vsock_uds)
		rc = setup_vsock(vm, err);
	if (!rc && vm->cfg.net_mode != VMM_NET_NONE)
		rc = setup_net(vm, err);
	for (unsigned i = 0; !rc && i < vm->ncpus; i++)
		rc = vcpu_create(&vm->vcpus[i], &vm->kvm, i, vm->ncpus, vm->pvm, &vm->env, err);
	if (!rc)
		rc = vm->restored ? restore_state(vm, err) : load_kernel(vm, err);
	if (rc) {
		vmm_destroy(vm);
		return rc;
	}
	open_kvm_stats(vm);
	if (cfg->debug)
		fprintf(stderr, "hull: vmm: %s host, %u vCPU, %llu MiB, cmdline: %s\n",
			vm->pvm ? "PVM" : "VMX/SVM", vm->ncpus,
			(unsigned long long)(cfg->mem_bytes >> 20), vm->cmdline);
	*out = vm;
	return 0;
}

/* Confine the calling thread for role (cfg.thread_setup), count it in
 * the gate and, on a thread vmm_start() made, wait until the gate opens.
 * True: go on with the role's work. */
static bool gate_pass(struct vmm *vm, enum vmm_thread_role role)
{
	struct errmsg e = {{0}};
	int rc = vm->cfg.thread_setup ? vm->cfg.thread_setup(vm->cfg.ctx, role, &e) : 0;
	pthread_mutex_lock(&vm->gate.lock);
	if (rc && !vm->gate.rc) {
		vm->gate.rc = rc;
		vm->gate.err = e;
	}
	if (role != VMM_THREAD_CONTROL) {
		vm->gate.pending--;
		pthread_cond_broadcast(&vm->gate.cond);
		while (!vm->gate.open)
			pthread_cond_wait(&vm->gate.cond, &vm->gate.lock);
	}
	bool go = vm->gate.rc == 0;
	pthread_mutex_unlock(&vm->gate.lock);
	return go;
}

/* Let the threads go (each checks gate.rc: after a failure they end). */
static void gate_open(struct vmm *vm, unsigned not_started)
{
	pthread_mutex_lock(&vm->gate.lock);
	vm->gate.pending -= not_started;
	while (vm->gate.pending > 0)
		pthread_cond_wait(&vm->gate.cond, &vm->gate.lock);
	vm->gate.open = true;
	pthread_cond_broadcast(&vm->gate.cond);
	pthread_mutex_unlock(&vm->gate.lock);
}

static void *loop_main(void *arg)
{
	struct vmm *vm = arg;
	sigset_t set;
	sigfillset(&set);
	sigdelset(&set, SIGSYS); /* a seccomp trap must reach its handler */
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	if (!gate_pass(vm, VMM_THREAD_DEVICES))
		return NULL;
	int rc = evloop_run(vm->loop);
	if (rc)
		vm_stop(vm, VMM_STOP_ERROR, "event loop failed");
	return NULL;
}

static void *vcpu_main(void *arg)
{
	struct vcpu *v = arg;
	/* before this thread's filter: timer_create is not in its role */
	int rc = vcpu_profile_start(v);
	if (rc)
		fprintf(stderr, "hull: vmm: vCPU %u: no profile: %s\n", v->id, strerror(-rc));
	if (gate_pass(v->env->ctx, VMM_THREAD_VCPU))
		vcpu_run(v);
	return NULL;
}

int vmm_start(struct vmm *vm, struct errmsg *err)
{
	int rc = vcpu_signal_setup();
	if (rc)
		return errmsg_set(err, rc, "signal setup: %s", strerror(-rc));
	/* every thread is made before any is confined (filters are inherited:
	 * a vCPU made after the control thread's filter would carry both) */
	vm->gate.pending = 1 + vm->ncpus;
	rc = pthread_create(&vm->loop_thread, NULL, loop_main, vm);
	if (rc) {
		gate_open(vm, 1 + vm->ncpus);
		return errmsg_set(err, -rc, "event loop thread: %s", strerror(rc));
	}
	vm->loop_started = true;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		rc = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_main, &vm->vcpus[i]);
		if (rc) {
			vm_stop(vm, VMM_STOP_ERROR, "cannot start vCPU thread");
			pthread_mutex_lock(&vm->gate.lock);
			if (!vm->gate.rc)
				vm->gate.rc = -rc;
			pthread_mutex_unlock(&vm->gate.lock);
			gate_open(vm, vm->ncpus - i);
			return errmsg_set(err, -rc, "vCPU thread %u: %s", i, strerror(rc));
		}
		vm->vcpus[i].started = true;
	}
	/* the caller's own confinement comes last: it made the threads */
	pthread_mutex_lock(&vm->gate.lock);
	while (vm->gate.pending > 0)
		pthread_cond_wait(&vm->gate.cond, &vm->gate.lock);
	pthread_mutex_unlock(&vm->gate.lock);
	if (!vm->gate.rc)
		gate_pass(vm, VMM_THREAD_CONTROL);
	rc = vm->gate.rc;
	if (rc) {
		vm_stop(vm, VMM_STOP_ERROR, vm->gate.err.text);
		gate_open(vm, 0);
		return errmsg_set(err, rc, "%s", vm->gate.err.text);
	}
	vm->started_ns = clock_now_ns();
	gate_open(vm, 0);
	/* the restored guest's connections died with the template's process */
	if (vm->restored && vm->vsock)
		virtio_vsock_transport_reset(vm->vsock);
	return 0;
}

int vmm_pause(struct vmm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	__atomic_store_n(&vm->pause.requested, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause.lock);
	unsigned running = 0;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].started)
			running++;
		vcpu_kick(&vm->vcpus[i]);
	}
	pthread_mutex_lock(&vm->pause.lock);
	while (vm->pause.parked < running && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause.cond, &vm->pause.lock);
	bool ok = vm->pause.parked == running;
	pthread_mutex_unlock(&vm->pause.lock);
	return ok ? 0 : -ESHUTDOWN;
}

void vmm_resume(struct vmm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	__atomic_store_n(&vm->pause.requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

int vmm_attach_disk(struct vmm *vm, unsigned i, const char *path, struct errmsg *err)
{
	if (i >= vm->ndisks)
		return errmsg_set(err, -EINVAL, "no disk %u", i);
	struct disk *d = &vm->disks[i];
	bool ro = vm->cfg.disks[i].read_only;
	int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(err, -errno, "disk %s: %s", path, strerror(errno));
	int rc = virtio_blk_set_backing(d->blk, fd, ro, err);
	if (rc) {
		close(fd);
		return rc;
	}
	close(d->fd);
	d->fd = fd;
	/* tells the guest to re-read the capacity */
	virtio_mmio_config_changed(vm->vdevs[SLOT_DISK0 + i].t);
	return 0;
}

int vmm_stop_fd(const struct vmm *vm)
{
	return vm->stop_fd;
}

void vmm_request_stop(struct vmm *vm)
{
	vm_stop(vm, VMM_STOP_REQUESTED, "stop requested by the host");
}

enum vmm_stop_reason vmm_wait(struct vmm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = false;
		}
	}
	if (vm->loop_started) {
		evloop_stop(vm->loop);
		pthread_join(vm->loop_thread, NULL);
		vm->loop_started = false;
	}
	return vm->reason;
}

const char *vmm_stop_why(const struct vmm *vm)
{
	return vm->why;
}

uint64_t vmm_started_ns(const struct vmm *vm)
{
	return vm->started_ns;
}

void vmm_get_counters(struct vmm *vm, struct vmm_counters *out)
{
	*out = (struct vmm_counters){0};
	if (vm->net) {
		struct virtio_net_stats n;
		virtio_net_get_stats(vm->net, &n);
		*out = (struct vmm_counters){.net_rx_bytes = n.rx_bytes,
					     .net_rx_frames = n.rx_frames,
					     .net_rx_dropped = n.rx_dropped,
					     .net_tx_bytes = n.tx_bytes,
					     .net_tx_frames = n.tx_frames,
					     .net_tx_dropped = n.tx_dropped};
	}
	for (unsigned i = 0; i < vm->ndisks; i++) {
		if (!vm->disks[i].blk)
			continue;
		struct virtio_blk_stats b;
		virtio_blk_get_stats(vm->disks[i].blk, &b);
		out->blk_read_bytes += b.read_bytes;
		out->blk_reads += b.reads;
		out->blk_write_bytes += b.write_bytes;
		out->blk_writes += b.writes;
	}
}

int vmm_kvm_stat(struct vmm *vm, const char *name, uint64_t *val)
{
	uint64_t sum = 0;
	int rc = -ENOENT;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		uint64_t v;
		int r = kvm_stats_get(&vm->cpu_stats[i], name, &v);
		if (r == -ENOENT)
			continue;
		if (r)
			return r;
		sum += v;
		rc = 0;
	}
	if (rc == -ENOENT)
		return kvm_stats_get(&vm->vm_stats, name, val);
	*val = sum;
	return 0;
}

void vmm_destroy(struct vmm *vm)
{
	if (!vm)
		return;
	bool running = vm->loop_started;
	for (unsigned i = 0; i < vm->ncpus; i++)
		running |= vm->vcpus[i].started;
	if (running) {
		vm_stop(vm, VMM_STOP_REQUESTED, "VM destroyed");
		vmm_wait(vm);
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		kvm_stats_free(&vm->cpu_stats[i]);
		vcpu_destroy(&vm->vcpus[i]);
	}
	kvm_stats_free(&vm->vm_stats);
	/* transports first: a device's back end outlives its transport */
	for (unsigned i = 0; i < NSLOTS; i++)
		vdev_free(&vm->vdevs[i]);
	net_tap_free(vm->tap);
	net_stream_free(vm->stream);
	virtio_net_free(vm->net);
	for (unsigned i = 0; i < VMM_MAX_DISKS; i++) {
		struct disk *d = &vm->disks[i];
		virtio_blk_free(d->blk);
		close_fd(&d->fd);
	}
	for (unsigned i = 0; i < VMM_MAX_VOLUMES; i++) {
		virtio_9p_free(vm->volumes[i].dev);
		p9_server_free(vm->volumes[i].srv);
	}
	virtio_vsock_free(vm->vsock);
	serial_free(vm->con);
	close_fd(&vm->con_irq_fd);
	evloop_free(vm->loop);
	kvm_vm_close(&vm->kvm);
	if (vm->restored)
		snapshot_close(&vm->snap);
	else
		guest_mem_free(&vm->mem);
	close_fd(&vm->stop_fd);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_mutex_destroy(&vm->pause.lock);
	pthread_cond_destroy(&vm->pause.cond);
	pthread_mutex_destroy(&vm->gate.lock);
	pthread_cond_destroy(&vm->gate.cond);
	free(vm);
}
