/* runtime: hull's container runtime, the API every front end uses (the hull
 * CLI in cli/, the containerd shim). One container = one microVM running
 * guest-init, which runs the container's process; the runtime registers the
 * container (runtime/state.h), supervises it (the supervisor: this process
 * while it runs; hull stop/kill reach it through its control socket), holds
 * the hcp session with guest-init and keeps the container log.
 *
 * Contract
 * - Configuration is data: struct rt_config says what to run (the process
 *   as OCI's process object says it: args, env, cwd, user, terminal), from
 *   what (a converted image: rootfs), how big (cpus, memory), with which
 *   volumes and network; nothing here parses a command line or pulls an
 *   image (front ends do: runtime/imageref.h, runtime/spec.h for docker's
 *   override rules, runtime/volume.h, runtime/net_opts.h, runtime/stop.h).
 * - I/O is callbacks (struct rt_io): the runtime reads stdin from in_fd (no
 *   faster than the guest takes it), hands stdout/stderr chunks to output(),
 *   its own messages to diag(), asks winsize() for the terminal size at the
 *   start, and polls the front end's event_fd (a signalfd, say), calling
 *   on_event() when it is readable; there the front end calls
 *   rt_session_signal(), rt_session_stop() or rt_session_resize(). Terminal
 *   modes and hull's own signals stay the front end's.
 * - Lifecycle of a container: rt_create() registers it (status created;
 *   or rt_register() without a supervisor, and rt_create() with claim takes
 *   it over later, as hull create and hull start do) ->
 *   rt_detach() (optional, hull run -d: the caller's process returns, a
 *   forked supervisor goes on) -> rt_start() boots its VM and returns when
 *   the process runs (or the VM ended first) -> rt_wait() returns its exit
 *   status when the VM ended -> rt_close() records the end (or removes the
 *   container with auto_remove) and frees. Every callback runs on the thread
 *   that called rt_start()/rt_wait(), inside their event loop.
 * - Exit statuses follow docker: the process's (0..255, 128+N for a signal),
 *   126/127 when the command cannot run, RT_EXIT_FAILED (125) when hull
 *   failed (the reason went to diag()).
 * - exec: rt_exec_start() runs another process in a running container
 *   (found by name or id, or a vsock socket path) over the same session loop;
 *   rt_exec_wait() returns its status.
 * - From other processes, by name, id or unique id prefix: rt_kill(),
 *   rt_stop() (stop signal, SIGKILL after the timeout, waits for the end),
 *   rt_delete(), rt_inspect(), rt_list().
 * - Functions return 0 or -errno and fill err on failure unless said
 *   otherwise. No global state; not thread-safe per container.
 */
#ifndef HULL_RUNTIME_RUNTIME_H
#define HULL_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "proto/hcp.h"
#include "runtime/ctrlog.h"
#include "runtime/net_opts.h"
#include "runtime/state.h"
#include "runtime/vmhost.h"
#include "runtime/volume.h"

#define RT_EXIT_FAILED HCP_EXIT_HULL_FAILED

/* The process to run, as OCI's process object describes it. Strings are the
 * caller's and are copied by rt_create()/rt_exec_start(). */
struct rt_process {
	char *const *argv; /* argv[0] is looked up in PATH */
	size_t argc;
	char *const *env; /* KEY=VALUE; exec: added to the container's */
	size_t n_env;
	const char *cwd;  /* absolute; NULL: "/" (exec: the container's) */
	const char *user; /* USER[:GROUP], names or ids; NULL: root (exec: the container's) */
	bool tty;	  /* run on a pseudo-terminal (stdout and stderr merge) */
	/* forward rt_io.in_fd; else stdin is empty. A container with
	 * stdin_open and in_fd -1 (hull run -d -i) keeps its stdin open for
	 * hull attach (runtime/supervisor.h: "attach"); it never ends. */
	bool stdin_open;
	/* exec only: this process's rlimits in place of the container's (OCI's
	 * process.rlimits of an exec; at most HCP_MAX_ULIMITS); 0: the
	 * container's. rt_create()/rt_register() refuse them: a container's
	 * are rt_confine.ulimits, which its exec'd processes get too. */
	const struct hcp_ulimit *ulimits;
	size_t n_ulimits;
};

/* The container's confinement inside its VM (docker's run flags; the VM is
 * the boundary, these shape the container's processes in it; see
 * proto/hcp.h tags 25-31 and guest-init/confine.h). Zero: none. Strings and
 * arrays are the caller's, copied by rt_create(). */
struct rt_confine {
	bool read_only;	    /* --read-only */
	char *const *tmpfs; /* --tmpfs PATH[:OPTS] (hcp_tmpfs_parse) */
	size_t n_tmpfs;
	const struct hcp_ulimit *ulimits; /* --ulimit */
	size_t n_ulimits;
	uint64_t shm_size; /* --shm-size, bytes; 0: the guest's default */
	bool has_caps;	   /* false: every capability */
	uint64_t caps;	   /* CAP_* bits */
	bool no_new_privs;
	enum hcp_restart restart; /* --restart */
	uint32_t restart_max;
	char *const *hosts; /* --add-host: "IP NAME" lines for /etc/hosts */
	size_t n_hosts;
};

struct rt_config {
	const char *name;   /* NULL: generated ("adjective_scientist") */
	const char *image;  /* as the user named it (ps, inspect) */
	const char *digest; /* the image's manifest digest, or NULL */
	const char *rootfs; /* the converted image (an ext4 file): the container's / */
	struct rt_process process;
	const char *hostname; /* NULL: 12 random hex digits */
	unsigned cpus;	      /* 1..VMM_MAX_CPUS */
	uint64_t mem_bytes;
	/* the VM's CPU time per second in 1/1000 CPU (docker's --cpus 0.5 is
	 * 500), enforced by its cgroup when hull runs as root; 0: no quota */
	uint32_t cpu_quota_milli;
	const char *kernel, *initrd; /* the guest's */
	const char *template_root;   /* NULL: boot cold, keep no template */
	/* volumes and net are read until rt_close() (the VM's config points
	 * into them): keep them alive that long */
	const struct volume_arg *volumes;
	size_t n_volumes;
	const struct net_opts *net;	  /* NULL: no NIC */
	int stop_signal;		  /* 0: SIGTERM */
	unsigned stop_timeout;		  /* seconds from the stop signal to SIGKILL */
	bool auto_remove;		  /* --rm: the container goes when it ends */
	char *const *labels;		  /* KEY=VALUE (--label), kept in its state */
	const struct rt_confine *confine; /* NULL: none */
	size_t n_labels;
	const struct ctrlog_opts *log; /* --log-opt; NULL: runtime/ctrlog.h's defaults */
	bool debug;		       /* guest console and milestones to diag() */
	/* the front end's arguments that made the container, recorded so that
	 * hull start/restart can boot it again (runtime_state.args); may be 0 */
	char *const *args;
	size_t n_args;
	/* hull start: boot the existing container of this name/id (created, or
	 * ended) instead of registering a new one; its record keeps its name,
	 * and cfg->name is ignored */
	const char *claim;
	/* how VMs are run (required): rt_vm_proc, or a fake in tests */
	const struct vmhost_ops *vm;
	/* seconds until guest-init's READY before the VM is stopped and the
	 * run fails (status 125); 0: SESSION_READY_TIMEOUT_S (1200) */
	unsigned ready_timeout;
	/* the image disk's I/O limits, bytes and requests per second; 0: none */
	uint64_t disk_read_bps, disk_write_bps, disk_read_iops, disk_write_iops;
};

/* the VM in its own monitor process, hull-vmm (runtime/vm_vmproc.c) */
extern const struct vmhost_ops rt_vm_proc;

struct rt_session;

struct rt_io {
	void *ctx;
	int in_fd; /* stdin source when process.stdin_open; -1: none */
	/* stream 1 stdout, 2 stderr; NULL: write to fds 1 and 2 */
	void (*output)(void *ctx, int stream, const uint8_t *buf, size_t n);
	/* hull's own messages ("hull: ...\n"), and the guest console under
	 * debug; NULL: fd 2 */
	void (*diag)(void *ctx, const char *buf, size_t n);
	/* the terminal size for a tty process: 0, or -errno (none known) */
	int (*winsize)(void *ctx, uint16_t *rows, uint16_t *cols);
	int event_fd; /* -1: none */
	void (*on_event)(void *ctx, struct rt_session *s);
	/* the session ended, before the runtime's closing messages (a front
	 * end restores its terminal here); may be NULL */
	void (*ended)(void *ctx);
	/* the VM monitor is up and about to boot: cold (the guest kernel boots,
	 * tens of seconds where guest kernel mode is emulated) or restored from
	 * a template (seconds); a front end may say so. May be NULL. */
	void (*booting)(void *ctx, bool cold);
};

/* What the runtime measured (CLOCK_MONOTONIC ns, 0 = did not happen). */
struct rt_timings {
	const char *boot; /* "cold boot", "restored from template" */
	/* vmm_up: the monitor process began (so vmm_up - the spawn is what
	 * fork+exec of hull-vmm cost) */
	uint64_t vmm_up, vm_setup, vcpus_started, ready, template_saved, started, exited, stopped;
};

struct rt_container;
struct rt_exec;

int rt_create(const struct rt_config *cfg, struct rt_container **out, struct errmsg *err);
/* hull create: register the container (status created) without booting
 * it and without a supervisor; hull start later boots it (cfg->claim).
 * Fills id. */
int rt_register(const struct rt_config *cfg, char id[RUNTIME_ID_LEN + 1], struct errmsg *err);
/* hull run -d: true in the caller (*status: 0 once the container runs, after
 * printing its id on stdout; else the start failure's status, its messages
 * relayed to stderr; *c is freed), false in the forked supervisor. */
bool rt_detach(struct rt_container **c, int *status);
const char *rt_container_id(const struct rt_container *c);
/* Boot the VM and run the session until the process runs or the VM ended.
 * io must stay valid until rt_close(). Setup failures: -errno with err
 * (rt_wait() then gives RT_EXIT_FAILED). */
int rt_start(struct rt_container *c, const struct rt_io *io, struct errmsg *err);
/* Run the session until the VM ended; returns the exit status. */
int rt_wait(struct rt_container *c);
const struct rt_timings *rt_container_timings(const struct rt_container *c);
/* Record the end (the status rt_wait() returned) and free c. */
void rt_close(struct rt_container *c);

/* In on_event(): forward signo to the process. Before it runs, a
 * container's VM is stopped instead (its status is then 128+signo).
 * Returns 0 or -errno. */
int rt_session_signal(struct rt_session *s, int signo);
/* The stop sequence: the stop signal now, SIGKILL after the stop timeout.
 * -EALREADY when it runs already. */
int rt_session_stop(struct rt_session *s);
/* The terminal's new size. */
int rt_session_resize(struct rt_session *s, uint16_t rows, uint16_t cols);
/* A container's session only: pause (true) or resume the VM's vCPUs; blocks
 * until the monitor answered. Time stands still for the guest meanwhile:
 * the process gets its signals (and the stop sequence its SIGKILL) after
 * the resume. -ENOTSUP: an exec session, or a VM host that cannot;
 * -ESHUTDOWN: the VM stopped already. */
int rt_session_pause(struct rt_session *s, bool pause, struct errmsg *err);
/* The host pid of the container's VM monitor (hull-vmm: the VM's CPU time
 * and memory are this process's) once rt_start() has spawned it, until
 * rt_close(); 0 when there is none (not started, ended, a fake VM). On the
 * thread that runs the container's session. */
int rt_container_vmm_pid(const struct rt_container *c);
/* The directories of the cgroup the container's VM processes run in
 * (runtime/cgstats.h; cgstats_read() gives its figures), copied into *out,
 * while rt_container_vmm_pid() is not 0: 0, or -ENOENT (out->n 0) when it
 * has none (hull runs as an ordinary user, a fake VM) or the VM ended. On
 * the thread that runs the container's session; *out may be read anywhere
 * (cgstats_read() says -ENOENT once the cgroup is removed). */
int rt_container_cgroup_dirs(const struct rt_container *c, struct cgstats_dirs *out);

/* exec: ref is a running container's name, id or id prefix, or (containing
 * a '/') the path of its VM's vsock socket. The spec goes out at once;
 * rt_exec_wait() runs the session until the guest ends it and returns the
 * process's status. rt_session_stop() there: SIGTERM, SIGKILL after 10 s. */
int rt_exec_start(const char *ref, const struct rt_process *p, const struct rt_io *io,
		  struct rt_exec **out, struct errmsg *err);
int rt_exec_wait(struct rt_exec *x);
void rt_exec_free(struct rt_exec *x);

/* Signal a running container (through its supervisor). */
int rt_kill(const char *ref, int signo, struct errmsg *err);
/* Stop a container and wait until its supervisor is gone; timeout_s < 0:
 * the container's own stop timeout. A container not running: 0. */
int rt_stop(const char *ref, int timeout_s, struct errmsg *err);
/* Remove a container; force: SIGKILL it first if it runs, else -EBUSY. */
int rt_delete(const char *ref, bool force, struct errmsg *err);
/* The container's recorded state (free with runtime_state_free()). */
int rt_inspect(const char *ref, struct runtime_state *s, struct errmsg *err);
/* One sample of a running container's figures from its supervisor
 * (runtime/ctrstats.h: the VM's cgroup when it has one, the guest's NIC and
 * disk counters, the monitor's pid). 0, or -errno with err (not running,
 * or the VM ended). */
struct ctrstats;
int rt_stats(const struct runtime_state *s, struct ctrstats *out, struct errmsg *err);
/* fn for every container (unordered); a non-zero return stops and is
 * returned. A missing runtime root is an empty list. */
int rt_list(int (*fn)(void *ctx, struct runtime_state *s), void *ctx, struct errmsg *err);

#endif
