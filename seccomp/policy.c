/* seccomp/policy: what each thread role may call (policy.h, filter.h).
 *
 * How the lists were made: from the code each role runs (vmm/vmm.h names
 * the roles; the comments below name the callers), plus what glibc does on
 * the code's behalf (malloc: brk, mmap, munmap, mremap, madvise, mprotect
 * for a thread arena; pthread: futex, rt_sigprocmask, exit at thread end;
 * signals: rt_sigreturn). clock_gettime normally runs in the vDSO without a
 * system call; it is allowed for hosts whose clocksource has no vDSO path.
 * The end-to-end tests run every device under these filters (vsock, 9p
 * volumes, virtio-blk, virtio-net with slirp, templates saved and
 * restored, tty and stdio): a call missing here fails them with the
 * filter's message naming it.
 *
 * Argument checks where they matter: ioctl by request number (the vCPU may
 * only KVM_RUN and read its registers for an error report; the control
 * thread only reads VM state for a template and a block device's size);
 * mmap and mprotect never with PROT_EXEC (no new code in the process);
 * tgkill only at this process's own threads; socket creation only AF_UNIX
 * (vsock's host side) in the monitor and IP sockets in the slirp helper;
 * the devices role's getsockopt only SOL_SOCKET SO_PEERCRED.
 * Not argument-checked, and why: openat in the device thread (the 9p
 * server opens, creates and truncates files in the volumes, confined by
 * openat2 RESOLVE_BENEATH, not by the filter: openat2's RESOLVE_* flags sit
 * in a struct behind a pointer, which seccomp cannot read) and in the
 * control thread (ATTACH_DISK opens the run's image, SAVE_TEMPLATE writes
 * the template's files); the jail's root directory is what limits the
 * paths. execve, fork/clone, ptrace, mount, bpf, keyctl, process_vm_* and
 * the like are in no list. */
#include "seccomp/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every role: glibc's memory and thread machinery, signals, the end. */
static const int common_calls[] = {
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(sched_yield),
    /* the SIGSYS report (fd 2), eventfd pulses, the console */
    SCMP_SYS(write),
    /* a device reset on a vCPU thread closes host connections, and every
     * other role closes what it opened */
    SCMP_SYS(close),
};

/* vCPU threads (vmm/vcpu.c vcpu_run): KVM_RUN; MMIO/PIO exits reach the
 * devices' registers (vmm/virtio/virtio_mmio.c), whose resets may take a
 * device off the event loop. */
static const int vcpu_calls[] = {
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(read),
};
static const unsigned long vcpu_ioctls[] = {
    KVM_RUN,
    /* the state in an error report (vcpu.c report_internal_error, debug) */
    KVM_GET_REGS,
    KVM_GET_SREGS,
    KVM_GET_MP_STATE,
};

/* The event loop (vmm/evloop.c) and the device back ends it runs:
 * virtio-blk (preadv/pwritev/fdatasync), virtio-9p and the 9p server
 * (p9/p9.c: the *at family, openat2, getdents64, O_PATH fds reopened through
 * /proc/self/fd, whose paths chmod and truncate also take), virtio-vsock
 * (vmm/virtio/virtio_vsock.c: accept on the host socket, connect to <uds>_<port>), virtio-net's
 * back ends (vmm/net/net_stream.c: recv/send on the helper's socket; net_tap.c: read/write on the
 * tap), virtio-blk's and virtio-net's rate limits (vmm/ratelimit_timer.h: a timerfd, made before
 * the filters, resumes a throttled queue; only timerfd_settime here). */
static const int devices_calls[] = {
    SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),  SCMP_SYS(read),
    SCMP_SYS(readv),	  SCMP_SYS(writev),	 SCMP_SYS(pread64),    SCMP_SYS(pwrite64),
    SCMP_SYS(preadv),	  SCMP_SYS(pwritev),	 SCMP_SYS(lseek),      SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),  SCMP_SYS(ftruncate),	 SCMP_SYS(fallocate),  SCMP_SYS(fcntl),
    SCMP_SYS(openat),	  SCMP_SYS(openat2),	 SCMP_SYS(newfstatat), SCMP_SYS(fstat),
    SCMP_SYS(statx),	  SCMP_SYS(fstatfs),	 SCMP_SYS(getdents64), SCMP_SYS(mkdirat),
    SCMP_SYS(unlinkat),	  SCMP_SYS(renameat),	 SCMP_SYS(renameat2),  SCMP_SYS(linkat),
    SCMP_SYS(symlinkat),  SCMP_SYS(readlinkat),	 SCMP_SYS(readlink),   SCMP_SYS(mknodat),
    SCMP_SYS(fchownat),	  SCMP_SYS(fchmodat),	 SCMP_SYS(fchmod),     SCMP_SYS(fchown),
    SCMP_SYS(chmod),	  SCMP_SYS(truncate),	 SCMP_SYS(utimensat),  SCMP_SYS(flock),
    SCMP_SYS(accept4),	  SCMP_SYS(connect),	 SCMP_SYS(shutdown),   SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),	  SCMP_SYS(sendmsg),	 SCMP_SYS(recvmsg),    SCMP_SYS(timerfd_settime),
    SCMP_SYS(geteuid),
};
/* getsockopt(SOL_SOCKET, ...) in the devices role: SO_PEERCRED, virtio-vsock
 * checking who connected to the host socket (common/peercred.h, which
 * compares it with geteuid(), allowed above). Not SO_TYPE: net_stream_open()
 * checks the helper's socket in vmm_create(), before any filter. */
static const int devices_sockopts[] = {SO_PEERCRED};

/* The control thread (monitor/main.c after vmm_start): the API socket
 * (poll, recv, send), PAUSE/RESUME (kicks the vCPUs), ATTACH_DISK (opens
 * the image, a block device's size), SAVE_TEMPLATE (reads VM and vCPU
 * state, writes the template directory through temp+rename: vmm/snapshot),
 * GET_COUNTERS (pread64 on KVM's stats fds, opened before the filters:
 * vmm/kvm_stats.h), and the end (joins the threads, unmaps guest memory, removes the vsock
 * socket). */
static const int control_calls[] = {
    SCMP_SYS(poll),	  SCMP_SYS(ppoll),     SCMP_SYS(recvfrom),  SCMP_SYS(recvmsg),
    SCMP_SYS(sendto),	  SCMP_SYS(sendmsg),   SCMP_SYS(read),	    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),	  SCMP_SYS(writev),    SCMP_SYS(lseek),	    SCMP_SYS(openat),
    SCMP_SYS(newfstatat), SCMP_SYS(fstat),     SCMP_SYS(statx),	    SCMP_SYS(fcntl),
    SCMP_SYS(fsync),	  SCMP_SYS(fdatasync), SCMP_SYS(ftruncate), SCMP_SYS(fallocate),
    SCMP_SYS(mkdir),	  SCMP_SYS(mkdirat),   SCMP_SYS(rename),    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),  SCMP_SYS(unlink),    SCMP_SYS(unlinkat),  SCMP_SYS(rmdir),
    SCMP_SYS(getdents64), SCMP_SYS(flock),     SCMP_SYS(fchmod),    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat), SCMP_SYS(getrandom), SCMP_SYS(epoll_ctl), SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
};
static const unsigned long control_ioctls[] = {
    KVM_CHECK_EXTENSION, KVM_GET_MSR_INDEX_LIST, KVM_GET_REGS,	      KVM_GET_SREGS,
    KVM_GET_FPU,	 KVM_GET_XSAVE,		 KVM_GET_XSAVE2,      KVM_GET_XCRS,
    KVM_GET_DEBUGREGS,	 KVM_GET_LAPIC,		 KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE,
    KVM_GET_MSRS,	 KVM_GET_IRQCHIP,	 KVM_GET_CLOCK,	      BLKGETSIZE64,
};

/* hull-slirp (netd/net_slirp.c): its poll loop, the socket to hull-vmm,
 * and libslirp's host sockets (TCP and UDP to the outside world, the
 * published ports' accepts, ICMP echo), the resolver configuration it
 * rereads (/etc/resolv.conf, read-only). */
static const int slirp_calls[] = {
    SCMP_SYS(poll),	  SCMP_SYS(ppoll),	 SCMP_SYS(read),	SCMP_SYS(readv),
    SCMP_SYS(writev),	  SCMP_SYS(recvfrom),	 SCMP_SYS(sendto),	SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),	  SCMP_SYS(connect),	 SCMP_SYS(bind),	SCMP_SYS(listen),
    SCMP_SYS(accept),	  SCMP_SYS(accept4),	 SCMP_SYS(shutdown),	SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(fcntl),
    SCMP_SYS(newfstatat), SCMP_SYS(fstat),	 SCMP_SYS(statx),	SCMP_SYS(lseek),
    SCMP_SYS(getrandom),  SCMP_SYS(eventfd2),
};
/* TCGETS: glib asks whether stderr is a terminal before it logs */
static const unsigned long slirp_ioctls[] = {FIONBIO, FIONREAD, TCGETS};

/* hull-convert (images/convert_main.c), the exec'd converter that applies
 * untrusted layer tars to the ext4 image: it only reads and writes file
 * descriptors its parent opened (the layer blobs or the oci-archive, the
 * image file, its status pipe) and opens nothing itself: no openat, no
 * socket. libarchive and zlib/zstd read the blobs (read, lseek when
 * skipping in an archive); libext2fs's unixfd I/O manager writes the image
 * (pread64/pwrite64, fstat and fcntl on its fd, fsync/fdatasync on flush,
 * ftruncate when a retry starts over bigger); libext2fs's safe_getenv()
 * asks who it runs as (getuid and friends, prctl PR_GET_DUMPABLE: only
 * that prctl) before it reads its environment knobs. Its unixfd manager
 * also probes the image fd with block-device ioctls (BLKDISCARDZEROES):
 * every ioctl fails with ENOTTY, as it would on a regular file, without
 * running. It starts with a fresh address space (fork+exec, images/
 * convert_proc.h) and installs this before it reads its request: nothing
 * that starts a process (no execve, no clone/fork) is allowed. */
static const int convert_calls[] = {
    SCMP_SYS(read),	  SCMP_SYS(pread64),   SCMP_SYS(pwrite64), SCMP_SYS(lseek),
    SCMP_SYS(newfstatat), SCMP_SYS(fstat),     SCMP_SYS(fcntl),	   SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),  SCMP_SYS(ftruncate), SCMP_SYS(getuid),   SCMP_SYS(geteuid),
    SCMP_SYS(getgid),	  SCMP_SYS(getegid),
};

/* hull-fetch (images/fetch_main.c, fetch_work.c), the registry client of
 * a pull: libcurl (OpenSSL) speaking HTTP(S) to the registry, its token
 * realm and redirect targets, json-c parsing what comes back, the blobs
 * written into the temp files its parent opened. The list is what `strace
 * -f` of real pulls shows (the e2e pull tests: docker-registry over HTTP,
 * bearer token auth, the hostile HTTPS registry, redirects; a registry
 * named "localhost" and a name resolved through DNS) once its warm-up ran
 * (images/fetch_proc.h: libcurl's and OpenSSL's global init, openssl.cnf,
 * glibc's first-thread set-up, all before the filter):
 * - libcurl's transfer: poll, non-blocking sockets (fcntl), connect,
 *   sendto/recvfrom, SO_ERROR after a connect, TCP_NODELAY and the like
 *   (setsockopt), getsockname/getpeername, its wake-up socketpairs;
 *   OpenSSL's getrandom; the CA bundle (/etc/ssl/certs), opened read-only
 *   per TLS connection;
 * - libcurl's threaded resolver: one thread per name lookup (clone with
 *   the flags of a thread only; clone3, whose flags sit behind a pointer,
 *   fails with ENOSYS, and glibc then uses clone, as under Docker's
 *   profile), its start and end (set_robust_list, rseq, madvise, exit);
 *   glibc's getaddrinfo: /etc/nsswitch.conf, host.conf, resolv.conf,
 *   hosts (read-only opens, newfstatat), uname, UDP to the name server
 *   (IP_RECVERR, sendmmsg, FIONREAD, recvfrom); its nscd probe
 *   (socket(AF_UNIX), connect to /var/run/nscd/socket) fails with EACCES
 *   instead of running: no Unix socket reaches anything from here (a
 *   caller in the docker group would otherwise reach docker.sock); glibc
 *   then resolves by itself;
 * - the work: the request (read), the answer and documents written into
 *   the parent's memfds (pwrite64), blobs into the temp files (write),
 *   the config read back (pread64), the status pipe (write).
 * IP sockets only (AF_INET, AF_INET6: libcurl's IPv6 probe is a UDP
 * socket), of type stream or datagram. Not argument-checked, and why:
 * connect (any address: the registry, its realm, its redirects and the
 * name server are wherever the image reference and the registry say) and
 * openat beyond read-only (paths sit behind a pointer: the process's user,
 * `hull` or the caller, and its no_new_privs bound what it reads). No
 * execve, fork, ptrace, mount, bind/listen/accept, kill of another
 * process, prlimit, rt_sigaction. */
static const int fetch_calls[] = {
    SCMP_SYS(read),	  SCMP_SYS(pread64),	     SCMP_SYS(pwrite64),    SCMP_SYS(lseek),
    SCMP_SYS(fstat),	  SCMP_SYS(newfstatat),	     SCMP_SYS(fcntl),	    SCMP_SYS(poll),
    SCMP_SYS(ppoll),	  SCMP_SYS(connect),	     SCMP_SYS(sendto),	    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),	  SCMP_SYS(recvmsg),	     SCMP_SYS(sendmmsg),    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt), SCMP_SYS(getsockname),     SCMP_SYS(getpeername), SCMP_SYS(getrandom),
    SCMP_SYS(uname),	  SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
};
/* FIONREAD: glibc's resolver sizes a DNS answer before it reads it */
static const unsigned long fetch_ioctls[] = {FIONREAD};

/* mkfs.ext4 -d TREE IMAGE (e2fsprogs 1.47), exec'd by the containerd shim
 * in its jail (shim/rootfs.c, runtime/jail.h: the filter is loaded by the
 * forked child just before the exec, hsc_export()). The list is what
 * `strace -f` of real builds shows (a tree of files, directories, symlinks,
 * hard links, device nodes, a FIFO, a socket, a sparse file, user.,
 * security. and trusted. xattrs): the dynamic loader and glibc's start
 * (arch_prctl, set_tid_address, set_robust_list, rseq, access of
 * /etc/ld.so.preload, the libraries mapped executable: see add_file_exec),
 * setlocale (openat, newfstatat, read, mmap), mke2fs.conf and the mount
 * check (/proc/mounts, /proc/swaps: absent in the jail), uname, sysinfo and
 * access(/sys/fs/ext4/features/...) for its defaults, getrandom for the
 * UUID and hash seed, libext2fs's safe_getenv (getuid and friends,
 * prctl PR_GET_DUMPABLE only), glibc's getrlimit(RLIMIT_STACK) (prlimit64
 * reading only), the image (pread64, pwrite64, lseek, fallocate, ftruncate,
 * fsync) and the walk of the tree (chdir, getdents64, newfstatat, openat,
 * readlink, lseek SEEK_DATA/SEEK_HOLE, llistxattr, lgetxattr). Its block
 * device probes and isatty() are ioctls, answered ENOTTY (hsc_export()).
 * execve, clone, socket, ptrace, mount, kill, rt_sigaction and the rest are
 * in no list: the shim kills it on the first (shim/rootfs.c). */
static const int mkfs_calls[] = {
    SCMP_SYS(read),	  SCMP_SYS(pread64),	     SCMP_SYS(pwrite64),
    SCMP_SYS(lseek),	  SCMP_SYS(openat),	     SCMP_SYS(newfstatat),
    SCMP_SYS(fstat),	  SCMP_SYS(getdents64),	     SCMP_SYS(chdir),
    SCMP_SYS(readlink),	  SCMP_SYS(llistxattr),	     SCMP_SYS(lgetxattr),
    SCMP_SYS(access),	  SCMP_SYS(uname),	     SCMP_SYS(sysinfo),
    SCMP_SYS(getrandom),  SCMP_SYS(fsync),	     SCMP_SYS(fallocate),
    SCMP_SYS(ftruncate),  SCMP_SYS(getuid),	     SCMP_SYS(geteuid),
    SCMP_SYS(getgid),	  SCMP_SYS(getegid),	     SCMP_SYS(getppid),
    SCMP_SYS(arch_prctl), SCMP_SYS(set_tid_address), SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
};

static int add_calls(scmp_filter_ctx f, const int *nr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr[i], 0);
		if (rc)
			return rc;
	}
	return 0;
}

/* The kernel reads an ioctl request as 32 bits: compare those only. */
static int add_ioctls(scmp_filter_ctx f, const unsigned long *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, req[i]));
		if (rc)
			return rc;
	}
	return 0;
}

/* Anonymous or file mappings, never executable ones. */
static int add_memory(scmp_filter_ctx f)
{
	int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	return rc;
}

/* A foreign program's own code and libraries: executable file mappings
 * (the dynamic loader's), never anonymous ones. Which files: the jail's
 * mounts without noexec, the host's /usr and /lib* (runtime/jail.h). */
static int add_file_exec(scmp_filter_ctx f)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
				SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
				SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
}

/* Signals only to this process's own threads (vcpu_kick, raise). */
static int add_signals(scmp_filter_ctx f, pid_t self)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
}

static int add_socket(scmp_filter_ctx f, int domain)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)domain));
}

static int add_sockopts(scmp_filter_ctx f, const int *opt, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
					  SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)SOL_SOCKET),
					  SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)opt[i]));
		if (rc)
			return rc;
	}
	return 0;
}

/* Files opened read-only (O_ACCMODE == O_RDONLY, no O_CREAT/O_TRUNC). */
static int add_open_readonly(scmp_filter_ctx f)
{
	return seccomp_rule_add(
	    f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)(O_ACCMODE | O_CREAT | O_TRUNC), O_RDONLY));
}

/* IP sockets of a stream or datagram type (SOCK_NONBLOCK and SOCK_CLOEXEC
 * aside): no raw or packet ones. */
static int add_ip_socket(scmp_filter_ctx f, int domain)
{
	const scmp_datum_t flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
	int rc = 0;
	for (int i = 0; !rc && i < 2; i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)domain),
				      SCMP_A1(SCMP_CMP_MASKED_EQ, ~flags & 0xffffffffu,
					      (scmp_datum_t)(i ? SOCK_DGRAM : SOCK_STREAM)));
	return rc;
}

/* Threads, never processes: clone with CLONE_THREAD (which needs
 * CLONE_SIGHAND and CLONE_VM: one address space) and no namespace flag,
 * the end of a thread (exit: common_calls); clone3 fails with ENOSYS (its
 * flags are behind a pointer), which makes glibc's pthread_create use
 * clone. */
static int add_threads(scmp_filter_ctx f)
{
	const scmp_datum_t ns = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
				CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
	const scmp_datum_t need = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, need | ns | CLONE_VFORK, need));
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return rc;
}

int hsc_policy_add(scmp_filter_ctx f, enum hsc_role role, pid_t self)
{
	int rc = add_calls(f, common_calls, N(common_calls));
	if (!rc)
		rc = add_memory(f);
	if (!rc)
		rc = add_signals(f, self);
	switch (role) {
	case HSC_VCPU:
		if (!rc)
			rc = add_calls(f, vcpu_calls, N(vcpu_calls));
		if (!rc)
			rc = add_ioctls(f, vcpu_ioctls, N(vcpu_ioctls));
		break;
	case HSC_DEVICES:
		if (!rc)
			rc = add_calls(f, devices_calls, N(devices_calls));
		if (!rc)
			rc = add_sockopts(f, devices_sockopts, N(devices_sockopts));
		if (!rc)
			rc = add_socket(f, AF_UNIX);
		break;
	case HSC_CONTROL:
		if (!rc)
			rc = add_calls(f, control_calls, N(control_calls));
		if (!rc)
			rc = add_ioctls(f, control_ioctls, N(control_ioctls));
		break;
	case HSC_SLIRP:
		if (!rc)
			rc = add_calls(f, slirp_calls, N(slirp_calls));
		if (!rc)
			rc = add_ioctls(f, slirp_ioctls, N(slirp_ioctls));
		if (!rc)
			rc = add_socket(f, AF_INET);
		if (!rc)
			rc = add_socket(f, AF_INET6);
		if (!rc)
			rc = add_open_readonly(f);
		break;
	case HSC_IMPORT:
		/* hull-convert's role and json-c's hash seed: getrandom
		 * (json_c_get_random_seed(), its first object), which only
		 * fills a buffer (`strace -f` of images-import's archives:
		 * nothing else outside the convert list once the filter is
		 * in) */
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(getrandom), 0);
		/* fall through */
	case HSC_CONVERT:
		if (!rc)
			rc = add_calls(f, convert_calls, N(convert_calls));
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					      SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE));
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
		/* a query of the signal stack, changing nothing: ASan's
		 * __asan_handle_no_return makes it before every noreturn
		 * call (the sanitized hull-convert of the unit tests, or
		 * -Dsanitize=true) */
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 1,
					      SCMP_A0(SCMP_CMP_EQ, 0));
		break;
	case HSC_FETCH:
		if (!rc)
			rc = add_calls(f, fetch_calls, N(fetch_calls));
		if (!rc)
			rc = add_ioctls(f, fetch_ioctls, N(fetch_ioctls));
		if (!rc)
			rc = add_open_readonly(f);
		for (int i = 0; !rc && i < 2; i++)
			rc = add_ip_socket(f, i ? AF_INET6 : AF_INET);
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
					      SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
					      SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		if (!rc)
			rc = add_threads(f);
		/* a thread's own signal stack and CPU mask: a sanitized
		 * hull-fetch (the unit tests' hull-fetch-san) sets one up on
		 * every thread it starts and takes it down at the thread's end,
		 * and asks for the other (its own tid's) as a thread starts */
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0);
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(sched_getaffinity), 0);
		break;
	case HSC_MKFS:
		if (!rc)
			rc = add_calls(f, mkfs_calls, N(mkfs_calls));
		if (!rc)
			rc = add_file_exec(f);
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					      SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE));
		/* getrlimit: pid 0 (itself), no new limit */
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
					      SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}
