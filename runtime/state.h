/* runtime: where hull keeps its containers' state, one directory each.
 *
 * Contract
 * - Root: $HULL_RUNTIME_DIR, else $HULL_ROOT/run (hull --root DIR sets
 *   HULL_ROOT), else $XDG_RUNTIME_DIR/hull, else /run/hull; created 0700
 *   when missing (its parent must exist, except $HULL_ROOT, created too).
 *   One the user cannot use is an error naming it and the variables and
 *   option that choose another. It holds `lock` (an
 *   flock serialising every create, state update and removal) and one
 *   directory per container, named by its id (64 lower-case hex digits).
 * - A container directory holds state.json (always replaced whole: written
 *   to a temp name, fsynced, renamed), the container log (ctrlog.h), and the
 *   sockets of the running VM: vsock.sock (the guest's vsock, see exec) and
 *   monitor.sock (the monitor's control socket, see monitor.h).
 * - Sockets are named through <root>/<short id> (the id's first 12 digits),
 *   a symlink to <id>, because a socket path must fit in sun_path and the
 *   VMM takes at most 96 bytes for the vsock socket: runtime_sock_path()
 *   gives that name; the root may be at most RUNTIME_ROOT_MAX characters.
 *   Short ids are unique under one root (checked under the lock).
 * - Names are unique among the containers under one root, checked under the
 *   lock; a name is [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most RUNTIME_NAME_MAX
 *   characters), or generated docker-style ("adjective_scientist").
 * - Lookup takes a full id, a name, or a unique prefix of an id, in that
 *   order (docker's).
 * - A container registered by hull create has no monitor yet (monitor_pid
 *   0): it stays created until hull start claims it (runtime_claim()).
 * - The monitor (the hull process running the VM) is identified by its pid
 *   and its start time (field 22 of /proc/<pid>/stat), so a reused pid is not
 *   mistaken for it. A container recorded as created or running whose monitor
 *   is gone is dead: runtime_status_eff() says so, with why "monitor died".
 * Functions return 0 or -errno; the ones taking err fill it on failure. */
#ifndef HULL_RUNTIME_STATE_H
#define HULL_RUNTIME_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"
#include "runtime/state_config.h"

#define RUNTIME_ID_LEN 64
#define RUNTIME_SHORT_LEN 12
/* 96 (the VMM's limit for vsock.sock) - "/<short>/vsock.sock_" */
#define RUNTIME_ROOT_MAX 72
#define RUNTIME_NAME_MAX 128
#define RUNTIME_STATE_FILE "state.json"
#define RUNTIME_LOG_FILE "container.log"
#define RUNTIME_VSOCK_SOCK "vsock.sock"
#define RUNTIME_MONITOR_SOCK "monitor.sock"
#define RUNTIME_STATE_MAX (1u << 20)

enum runtime_status { RUNTIME_CREATED, RUNTIME_RUNNING, RUNTIME_EXITED, RUNTIME_DEAD };

/* --label values per container (docker's Config.Labels) */
#define RUNTIME_MAX_LABELS 256
#define RUNTIME_MAX_ARGS 4096

struct runtime_state {
	char id[RUNTIME_ID_LEN + 1];
	char name[RUNTIME_NAME_MAX + 1];
	char *image;	 /* as given to hull run */
	char digest[72]; /* manifest digest, "sha256:..." */
	char **cmd;	 /* the process's argv, NULL-terminated */
	size_t n_cmd;
	int64_t created_ns; /* CLOCK_REALTIME; 0 = not yet */
	int64_t started_ns;
	int64_t finished_ns;
	enum runtime_status status;
	int exit_code;	   /* valid when exited */
	char *error;	   /* why hull failed the container, or NULL */
	pid_t monitor_pid; /* 0 = none */
	uint64_t monitor_start;
	int stop_signal;
	int stop_timeout;	   /* seconds */
	bool auto_remove;	   /* --rm */
	struct runtime_config cfg; /* what it was created with (state_config.h) */
	/* the front end's arguments that made the container (hull create/run
	 * options, IMAGE, COMMAND): hull start replays them to boot it again;
	 * at most RUNTIME_MAX_ARGS, optional in the file (older containers) */
	char **args;
	size_t n_args;
	char *dir; /* the container directory; not stored, set by load/create */
};

/* The runtime root (malloc'd): $HULL_RUNTIME_DIR, else
 * $XDG_RUNTIME_DIR/hull, else /run/hull; created (0700) when missing, then
 * checked by runtime_root_check(). Every file hull keeps in it (state,
 * logs, the lock) is opened with O_NOFOLLOW; its sockets are checked with
 * SO_PEERCRED (common/peercred.h). */
int runtime_root(char **out, struct errmsg *err);
/* dir must be a directory (not a symlink: it is not followed), owned by
 * the effective uid and writable by nobody else: another user who could
 * write there could plant state, logs or sockets. 0, or -EPERM/-errno
 * with err naming dir, the problem and HULL_RUNTIME_DIR/XDG_RUNTIME_DIR. */
int runtime_root_check(const char *dir, struct errmsg *err);

/* state <-> JSON text (state.json). encode adds the derived paths; decode
 * checks every field's type and range (the file may be damaged) and leaves
 * dir NULL. */
int runtime_state_encode(const struct runtime_state *s, char **json);
int runtime_state_decode(const char *json, size_t len, struct runtime_state *s, struct errmsg *err);
void runtime_state_free(struct runtime_state *s);
const char *runtime_status_name(enum runtime_status st);

/* s->dir/<file>, and <root>/<short id>/<file> for sockets (malloc'd). */
char *runtime_path(const struct runtime_state *s, const char *file);
char *runtime_sock_path(const struct runtime_state *s, const char *file);

/* Take / release the root's lock (blocking). */
int runtime_lock(const char *root);
void runtime_unlock(int fd);

/* Register a new container: a fresh id, the name (s->name, or a generated
 * one when empty; -EEXIST when taken), its directory and state.json, all
 * under the lock. Fills s->id, s->name, s->dir. */
int runtime_create(const char *root, struct runtime_state *s, struct errmsg *err);
/* hull start: take over the container ref (not running: created, exited or
 * dead) under the lock: this process becomes its monitor, its status
 * created, its exit code, error and times of the last run cleared. Fills s
 * (the record as claimed). -EBUSY when it runs (err says so). */
int runtime_claim(const char *root, const char *ref, struct runtime_state *s, struct errmsg *err);
/* Rename the container ref (under the lock): -EEXIST when name is taken,
 * -EINVAL when it is not a valid name; err says which. */
int runtime_rename(const char *root, const char *ref, const char *name, struct errmsg *err);
/* Replace state.json (takes the lock; -ENOENT when the container was
 * removed meanwhile). The name stays the file's (hull rename owns it). */
int runtime_save(const struct runtime_state *s);
/* Read the container in dir. */
int runtime_load(const char *dir, struct runtime_state *s, struct errmsg *err);
/* Find a container by full id, name or unique id prefix. -ENOENT: none,
 * -EEXIST: the prefix is ambiguous (err says so). */
int runtime_lookup(const char *root, const char *ref, struct runtime_state *s, struct errmsg *err);
/* Call fn for every readable container (unordered); stops at a non-zero
 * return and returns it. Unreadable entries are skipped. */
int runtime_list(const char *root, int (*fn)(void *ctx, struct runtime_state *s), void *ctx);
/* Remove the container's directory, everything in it and its short-id
 * link (takes the lock). */
int runtime_remove(const struct runtime_state *s);

/* For hull exec: the vsock socket of the running container ref (under the
 * runtime root). Returns 0 and *path (malloc'd), or -errno with err: no
 * such container, or it is not running. */
int runtime_running_sock(const char *ref, char **path, struct errmsg *err);

/* Whether name is acceptable; err says why not. */
int runtime_name_check(const char *name, struct errmsg *err);

/* Start time of pid (clock ticks since boot), or -ESRCH. */
int runtime_proc_start(pid_t pid, uint64_t *start);
/* What a process used (/proc/<pid>/stat: utime, stime, rss). */
struct runtime_proc_usage {
	uint64_t user_ns, system_ns; /* CPU time, clock-tick granularity */
	uint64_t rss_bytes;	     /* resident memory now */
};
/* 0, or -ESRCH when pid is gone (or a zombie), -EINVAL (no tick rate). */
int runtime_proc_usage(pid_t pid, struct runtime_proc_usage *u);
/* True when s's monitor process is alive (same pid, same start time). */
bool runtime_monitor_alive(const struct runtime_state *s);
/* The status as it really is: created/running with no live monitor is
 * RUNTIME_DEAD (*why = "monitor died"), except a container created without
 * a monitor (hull create: monitor_pid 0), which is created. why may be NULL. */
enum runtime_status runtime_status_eff(const struct runtime_state *s, const char **why);

#endif
