/* jail: the runtime's half of a helper's jail (hull-vmm, hull-slirp).
 *
 * Everything that needs privilege happens here, in the runtime and in the
 * forked child before exec, with data the runtime made itself (paths,
 * limits): no byte from a guest or an image is parsed while privileged.
 * The helper then finishes the jail itself as its first act
 * (common/jail_enter.h: pivot_root, capabilities gone, no_new_privs).
 *
 * Contract
 * - Who the helper runs as. Started by root: the dedicated system user
 *   `hull` (setup.sh creates it; missing: jail_prepare() fails saying so),
 *   no supplementary groups. One user for every VM, not a uid per VM: the
 *   helpers cannot see each other anyway (a PID namespace each, no /proc,
 *   separate mount trees), and a per-VM uid would need an allocator and
 *   leave files owned by stray uids. Started by anyone else: the caller's
 *   own uid and gid, inside a user namespace of its own (uid and gid mapped
 *   to themselves, setgroups denied); the caller's supplementary groups
 *   (kvm) stay in force.
 * - Namespaces: mount, PID (the helper is its namespace's init), IPC, UTS,
 *   and network unless spec->host_net (hull-slirp opens host sockets; a tap
 *   device lives in the host's).
 * - File system: a fresh tmpfs mounted over JAIL_ROOT in the helper's mount
 *   namespace, read-only once built, holding only spec->paths, each at its
 *   own absolute path (so the config's paths need no rewriting), bound
 *   nosuid,nodev,noexec (exec: without noexec), read-only unless rw. As
 *   root the host objects are bound through an idmapped mount (the
 *   object's owner appears as `hull`, and what hull creates lands with
 *   that owner on the host), so the unprivileged monitor can use root's
 *   files where, and only where, they are mounted (host_ids: a plain
 *   bind). /dev/kvm (and /dev/net/tun with spec->tun) is a device node
 *   made in the jail for `hull` (as root) or the host's node bound
 *   (rootless). A path inside another listed directory is reached through
 *   that directory's mount. With spec->proc, /proc (see jail_spec).
 * - jail_foreign (spec->foreign): the same jail for a program of someone
 *   else's, finished by the child before exec (see jail_foreign).
 * - Capabilities: the helper is exec'd with CAP_SYS_ADMIN and CAP_SETPCAP
 *   in its ambient set (plus CAP_NET_BIND_SERVICE with spec->net_bind), all
 *   others gone from every set including the bounding set, so that
 *   jail_enter() can pivot_root and then drop those too. RLIMIT_CORE is 0.
 * - The cgroup (jail_cgroup_*): as root, one per VM with a memory limit, a
 *   pids limit and (cpu_milli > 0) a CPU quota (and, in v1 where the host
 *   mounts it apart, a cpuacct group that only counts), in cgroup v1 where the
 *   host mounts that controller there, else v2; the helper joins it before
 *   it runs a single instruction of its own. jail_cgroup_remove() removes
 *   it; the cgroups of hull processes that died without doing so (SIGKILL)
 *   are removed by the next jail_cgroup_create(). Not as an ordinary user (no
 *   delegated cgroup): jail_cgroup_create() then gives NULL, and says why in
 *   *why (static text) for the caller to pass on.
 * - jail_spawn() is fork+exec (see spawn rules below) and returns once the
 *   helper has exec'd, or -errno with err naming the step and path that
 *   failed (the child is reaped then).
 * - Threads: any thread may call these; the child runs async-signal-safe
 *   code only (everything it needs was computed in jail_prepare()).
 */
#ifndef HULL_RUNTIME_JAIL_H
#define HULL_RUNTIME_JAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sock_fprog;

#include "common/errmsg.h"
#include "runtime/cgstats.h"

#define JAIL_MAX_PATHS 40

struct jail_path {
	const char *path; /* absolute; on the host and in the jail */
	bool rw;
	/* without noexec: a program and the libraries a foreign program
	 * (jail_foreign) loads from here */
	bool exec;
	/* as root, bound without the idmapping: owners appear as on the host
	 * (a tree copied with its owners, read through CAP_DAC_READ_SEARCH;
	 * system directories everyone may read) */
	bool host_ids;
};

/* A program that is not hull's and so cannot finish its own jail with
 * jail_enter() (mkfs.ext4): the child pivot_roots into the jail itself,
 * empties every capability set but caps (bits 1 << CAP_x, raised into the
 * ambient set so that they survive the exec of a binary without file
 * capabilities), sets no_new_privs, points stdout and stderr at out and
 * execs. Its libraries come from paths marked exec.
 * - fsize, as (0: none): RLIMIT_FSIZE and RLIMIT_AS, soft and hard, set
 *   just before the exec.
 * - filter (NULL: none): a seccomp program (seccomp/filter.h
 *   hsc_export(): violations notify a listener), loaded by the child as its
 *   last act before the exec, with SECCOMP_FILTER_FLAG_NEW_LISTENER. The
 *   child hands that listener to jail_spawn() (pidfd_getfd), whose first
 *   notification must be the exec itself (execveat of the program's fd,
 *   checked and let through once); jail_spawn() then stores the listener in
 *   *listener (the caller closes it once the program is reaped, and treats
 *   every notification on it as a violation: no exec is let through again).
 *   *listener is -1 when jail_spawn() fails. filter and listener go
 *   together, and both must stay valid until jail_spawn() returns. */
struct jail_foreign {
	uint64_t caps;
	int out;
	uint64_t fsize, as;
	const struct sock_fprog *filter;
	int *listener;
};

struct jail_spec {
	const struct jail_path *paths;
	unsigned npaths;
	const char *kvm_dev; /* NULL: no KVM device in the jail */
	bool tun;	     /* /dev/net/tun (a tap NIC) */
	bool host_net;	     /* stay in the host's network namespace */
	bool net_bind;	     /* keep CAP_NET_BIND_SERVICE until jail_enter() */
	/* /proc: a proc of the helper's own PID namespace showing only itself
	 * (the 9p server reaches its O_PATH fds through /proc/self/fd) */
	bool proc;
	const struct jail_foreign *foreign; /* NULL: a hull helper */
};

struct jail_limits {
	uint64_t mem_bytes; /* the cgroup's memory limit (0: none) */
	uint32_t cpu_milli; /* CPU time per second, in 1/1000 CPU (0: no quota) */
	uint32_t pids;	    /* 0: none */
};

struct jail;
struct jail_cgroup;

/* Plan a jail for one helper (opens the idmapping namespaces it needs). */
int jail_prepare(struct jail **out, const struct jail_spec *spec, struct errmsg *err);
void jail_free(struct jail *j);

/* fork+exec path (argv, the caller's environment) in the jail j, joined to
 * cg (NULL: none), with stdin from in and fds[i] as fd 3 + i (nfds <= 4),
 * every other fd closed; the child dies with the calling thread
 * (PDEATHSIG) and has its own session. The pid (as the caller sees it), or
 * -errno. */
pid_t jail_spawn(const struct jail *j, struct jail_cgroup *cg, const char *path, char *const argv[],
		 int in, const int *fds, unsigned nfds, struct errmsg *err);

/* The uid this caller's helpers run as (root: the user `hull`; anyone
 * else: getuid()), so that a socket a jailed monitor serves can be told
 * from another user's (runtime/vsock_host.c). 0, or -ENOENT when there is
 * no such user. Reads the user database (getpwnam_r: thread-safe). */
int jail_helper_uid(uid_t *uid);

/* A cgroup for one VM's helpers; *out NULL (and 0) when none can be made by
 * this caller (not root), with *why saying so. */
int jail_cgroup_create(struct jail_cgroup **out, const struct jail_limits *l, const char **why,
		       struct errmsg *err);
/* Its directories (one per v1 hierarchy: memory, pids, cpu and, where the
 * host has it apart, cpuacct; one in v2) copied into *out, for cgstats_read().
 * 0, or -ENOENT for cg NULL (out->n 0). The one owner of where they are. */
int jail_cgroup_dirs(const struct jail_cgroup *cg, struct cgstats_dirs *out);
/* Remove it (its processes must have exited and been reaped) and free. */
void jail_cgroup_remove(struct jail_cgroup *cg);

#endif
