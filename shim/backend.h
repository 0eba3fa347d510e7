/* backend: what the shim's task service needs from whatever runs the
 * container. The real implementation is hull's runtime library (runtime.h,
 * one microVM per container); unit tests plug in a mock.
 *
 * Contract
 * - Calls come from the ttrpc handler threads, serialized by the task service
 *   (one backend call at a time per shim), so a backend needs no locking of
 *   its own against them; exits are reported from any thread of the backend
 *   through shim_task_exited() (task.h), at most once per process.
 * - exec_id "" is the container's init process; others are exec processes
 *   added with exec().
 * - I/O: the task service opens containerd's stdio FIFOs (shimio.h) and hands
 *   the backend their fds in struct shim_io (-1: none). The backend owns them
 *   from a successful create()/exec() on and closes them when the process's
 *   output ended (stdout/stderr) or its input is no longer wanted (stdin).
 * - Every function returns 0 or -errno with err saying why in a sentence;
 *   -ENOENT: no such process; -ENOTSUP: the backend cannot do that at all
 *   (the service answers UNIMPLEMENTED); -ESRCH: the process is not running.
 */
#ifndef HULL_SHIM_BACKEND_H
#define HULL_SHIM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

struct shim_io {
	int in, out, err; /* -1: none */
	bool terminal;
};

struct shim_mount {
	const char *type, *source, *target;
	char *const *options;
	size_t n_options;
};

struct shim_create {
	const char *id;
	const char *bundle; /* holds config.json (the OCI runtime spec) */
	const struct shim_mount *rootfs;
	size_t n_rootfs;
	struct shim_io io;
};

/* What the container used: its VM's cgroup's figures (the monitor and the
 * network helper: guest memory as far as it is touched, their own memory,
 * page cache), or without one the monitor process's CPU time and resident
 * memory. A 0 is "not known" where noted. */
struct shim_stats {
	uint64_t cpu_total_ns;
	uint64_t cpu_user_ns, cpu_kernel_ns; /* both 0: not known */
	uint64_t memory_usage_bytes;
	uint64_t memory_limit_bytes;	 /* the cgroup's, else the VM's size; 0: unknown */
	uint64_t memory_max_usage_bytes; /* high-water mark; 0: unknown */
	uint64_t memory_rss_bytes;	 /* anonymous / resident memory */
	uint64_t pids;			 /* host tasks that stand for it */
	uint64_t pids_limit;		 /* 0: none */
};

struct shim_backend_ops {
	/* Make the container (its VM, not yet running the process); *pid: the
	 * host process that stands for it (the VM monitor). */
	int (*create)(void *be, const struct shim_create *c, uint32_t *pid, struct errmsg *err);
	int (*start)(void *be, const char *exec_id, uint32_t *pid, struct errmsg *err);
	/* Add exec process exec_id from its OCI process spec (JSON). */
	int (*exec)(void *be, const char *exec_id, const uint8_t *spec, size_t spec_len,
		    const struct shim_io *io, struct errmsg *err);
	int (*signal)(void *be, const char *exec_id, int signo, bool all, struct errmsg *err);
	int (*resize)(void *be, const char *exec_id, unsigned width, unsigned height,
		      struct errmsg *err);
	int (*close_stdin)(void *be, const char *exec_id, struct errmsg *err);
	/* The container's vCPUs stop (resume: go on); -ESRCH when not running. */
	int (*pause)(void *be, struct errmsg *err);
	int (*resume)(void *be, struct errmsg *err);
	int (*stats)(void *be, struct shim_stats *st, struct errmsg *err);
	/* Host pids of the container's processes (at most max). */
	int (*pids)(void *be, uint32_t *pids, size_t max, size_t *n, struct errmsg *err);
	/* Release a stopped process; for "" the whole container (VM, mounts). */
	int (*remove)(void *be, const char *exec_id, struct errmsg *err);
};

/* The backend the shim binary links (one per build). open(): exited(ctx,
 * exec_id, status) is how it reports ends (see shim_task_exited). cleanup():
 * `<shim> delete`'s work after a shim that is gone: stop what it left running,
 * release mounts; idempotent, 0 when there is nothing left. */
struct shim_backend {
	const struct shim_backend_ops *ops;
	void *be;
};

int shim_backend_open(const char *id, const char *bundle,
		      void (*exited)(void *ctx, const char *exec_id, int status), void *ctx,
		      struct shim_backend *out, struct errmsg *err);
void shim_backend_close(struct shim_backend *b);
int shim_backend_cleanup(const char *id, const char *bundle, struct errmsg *err);

#endif
