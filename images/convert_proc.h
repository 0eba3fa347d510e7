/* convert_proc: run the part of an image conversion that parses untrusted
 * layer bytes (libarchive, zlib/zstd, the ext4 writer) in a process of its
 * own without privileges: the executable hull-convert (images/
 * convert_main.c), fork+exec'd, so it starts with a fresh address space
 * holding only the converter's code and libraries (none of the front
 * end's: no json-c, libcurl or OpenSSL, none of its memory).
 *
 * The same module starts hull-fetch (images/fetch_proc.h), the registry
 * client of a pull: struct convproc_helper says which executable, whether
 * it keeps the host's network namespace (it must reach the registry), and
 * whether it installs a seccomp filter (convproc_child_begin_as()).
 *
 * Two halves: convproc_run() in the parent (hull's front end, the shim),
 * convproc_child_begin()/convproc_progress()/convproc_child_exit() in the
 * exec'd executable. This module carries an opaque request (the caller's
 * format: images/convert_req.h for a conversion) and fds; it knows nothing
 * of what the child does with them.
 *
 * Contract, parent
 * - convproc_run(exe, req, req_len, fds, nfds, n_items, out, out_len,
 *   item, err): exe is the executable (NULL: convproc_path()). It opens
 *   exe, writes a header (CONVPROC_MAGIC, nfds, n_items, out_len,
 *   req_len) and req into a sealed memfd, forks, and waits for the child.
 *   The forked child, before exec (only system calls: the parent may be
 *   threaded, see common/jail_enter.h jail_set_ids()):
 *   - gets its fds at fixed numbers: /dev/null as 0, 1, 2 (what a
 *     taken-over converter writes never reaches the user's terminal), its
 *     status pipe as CONVPROC_FD_STATUS, the request as CONVPROC_FD_REQ,
 *     fds[i] as CONVPROC_FD_WORK + i; every other fd is closed;
 *   - every signal's disposition default, none blocked;
 *   - as root: new network, IPC and UTS namespaces (empty: no socket would
 *     reach anything), then the identity of the monitor's jail (the system
 *     user `hull`, common/jail_enter.h jail_user()/jail_become()): no
 *     supplementary groups, every capability set empty (bounding set
 *     included), no_new_privs, no core dumps. Started by anyone else: its
 *     own uid, no capabilities, no_new_privs (no namespaces: that would
 *     need a user namespace);
 *   - the helper's resource caps (nofile_extra, fsize below), after the
 *     id change;
 *   - then dies with its parent (PR_SET_PDEATHSIG after the id change,
 *     which would clear it; kept across the exec) and execs exe through
 *     the fd opened before the fork (no path looked up as the jail user),
 *     with argv {"hull-convert"} and an empty environment (a helper's
 *     env_vars, when it has them).
 *   n_items <= CONVPROC_ITEMS_MAX, nfds <= CONVPROC_FDS_MAX, req_len <=
 *   CONVPROC_REQ_MAX, out_len <= CONVPROC_OUT_MAX: else -EINVAL.
 * - The child's messages are read as hostile: fixed-size records, the item
 *   below n_items, the text bounded and NUL-terminated, rc a -errno. A
 *   result's rc and text come back as convproc_run()'s return and err; its
 *   out[0, out_len) into out.
 * - If the child ends without a result (killed, crashed, stopped by its
 *   filter): -EIO with err "the converter hull-convert (pid N) <what
 *   happened>" and *item the last item it started (-1: none), for the
 *   caller to name. *item is -1 after a result, too. An executable that
 *   cannot be opened: -errno, err naming it.
 * - Blocks until the child has ended (reaped). Not async-signal-safe; call
 *   from one thread at a time per process (it changes no process state:
 *   any thread may call it).
 *
 * Contract, child (the exec'd executable, single-threaded)
 * - convproc_child_begin(cp, &req, &len, err), first thing in main():
 *   turns dumping off (PR_SET_DUMPABLE 0), installs the seccomp filter
 *   (seccomp/ role HSC_CONVERT: reading and writing the fds it holds,
 *   nothing opened, no socket, no exec, no fork; a call outside it ends
 *   the process and the parent reports the filter's text); only then reads
 *   the request from CONVPROC_FD_REQ (and closes it), checks the header
 *   strictly (magic, sizes within the limits above and the length exact)
 *   and that exactly fds CONVPROC_FD_WORK .. + nfds - 1 are open above it.
 *   *req: the caller's bytes (malloc'd, *len of them), which the caller
 *   still checks as its format requires. 0, or -errno with err: then
 *   report it with convproc_child_exit().
 * - convproc_progress(cp, i) when the work starts on item i (a layer), so
 *   that a crash can be blamed on it.
 * - convproc_child_exit(cp, rc, out, out_len, err) sends the result (rc a
 *   -errno or 0, err's text, out padded or cut to the parent's out_len)
 *   and ends the process (exit_group, nothing else runs). */
#ifndef HULL_IMAGES_CONVERT_PROC_H
#define HULL_IMAGES_CONVERT_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define CONVPROC_OUT_MAX 128
#define CONVPROC_REQ_MAX (1u << 20)
#define CONVPROC_FDS_MAX 4097 /* the image and one per layer (oci_json.h) */
#define CONVPROC_ITEMS_MAX 4096
#define CONVPROC_NAME "hull-convert"
/* overrides where hull-convert is (common/helper_path.h) */
#define CONVPROC_ENV "HULL_CONVERT"

#define CONVPROC_FD_STATUS 3
#define CONVPROC_FD_REQ 4
#define CONVPROC_FD_WORK 5

/* Which helper convproc_spawn() starts: the converter (convproc_convert)
 * or another executable built on this module (images/fetch_proc.h). */
struct convproc_helper {
	const char *name;     /* the executable's name: argv[0], messages */
	const char *what;     /* "the converter": "<what> <name> (pid N) was killed..." */
	const char *exe_what; /* "the image converter": "<exe_what> <path>: ENOENT" */
	const char *env;      /* overrides where it is (common/helper_path.h) */
	/* stay in the host's network namespace (as root; else a new, empty
	 * one): for a helper that speaks to the network itself */
	bool host_net;
	/* the child's environment ("NAME=value", NULL-terminated; NULL: an
	 * empty one) */
	char *const *env_vars;
	/* resource caps set in the forked child before the exec, soft = hard
	 * (without CAP_SYS_RESOURCE it cannot raise them; 0: not set):
	 * RLIMIT_NOFILE = CONVPROC_FD_WORK + nfds + nofile_extra (the fds it
	 * is given, then what it may open); RLIMIT_FSIZE = fsize, with SIGXFSZ
	 * ignored so that a write past it fails with EFBIG instead of killing */
	unsigned nofile_extra;
	uint64_t fsize;
	/* called with each progress record (item, bytes done; may be NULL) */
	void (*progress)(void *arg, unsigned item, uint64_t done);
	void *arg;
	/* may be NULL: once non-zero (a signal handler, another thread),
	 * the child is killed (SIGKILL, reaped) and the call returns -EINTR,
	 * err "<name>: interrupted"; looked at ten times a second */
	volatile sig_atomic_t *cancel;
};
extern const struct convproc_helper convproc_convert;

/* The child's side of the status pipe; read-only to the child's code. */
struct convproc {
	int fd;		/* CONVPROC_FD_STATUS */
	size_t nfds;	/* work fds: CONVPROC_FD_WORK + [0, nfds) */
	size_t out_len; /* what the parent reads back */
};

/* Where hull-convert is: $HULL_CONVERT, else next to the running
 * executable (common/helper_path.h; build tree: images/hull-convert).
 * malloc'd, NULL without memory. */
char *convproc_path(void);

int convproc_run(const char *exe, const void *req, size_t req_len, const int *fds, size_t nfds,
		 unsigned n_items, void *out, size_t out_len, int *item, struct errmsg *err);
/* convproc_run() for the helper h (convproc_run is this with
 * &convproc_convert); exe NULL: helper_path(h->env, "images", h->name). */
int convproc_spawn(const struct convproc_helper *h, const char *exe, const void *req,
		   size_t req_len, const int *fds, size_t nfds, unsigned n_items, void *out,
		   size_t out_len, int *item, struct errmsg *err);

/* A work fd for a child's answer: a memfd of exactly size bytes (sparse,
 * CLOEXEC) sealed against growing or shrinking, so what the child writes
 * into it stays within that. The fd, or -errno with err "memfd: ...". */
int convproc_sized_memfd(const char *name, size_t size, struct errmsg *err);

int convproc_child_begin(struct convproc *cp, void **req, size_t *len, struct errmsg *err);
/* The same for the helper called name, under the seccomp role role
 * (seccomp/filter.h; < 0: no filter) */
int convproc_child_begin_as(struct convproc *cp, const char *name, int role, void **req,
			    size_t *len, struct errmsg *err);
void convproc_progress(struct convproc *cp, unsigned item);
/* The same with a byte count, for the parent's h->progress */
void convproc_progress_bytes(struct convproc *cp, unsigned item, uint64_t done);
_Noreturn void convproc_child_exit(struct convproc *cp, int rc, const void *out, size_t out_len,
				   const struct errmsg *err);

#endif
