/* task: containerd's task v2 service (containerd.task.v2.Task) for one
 * container and its exec processes, over a backend (backend.h).
 *
 * Contract
 * - shim_task_service() is the ttrpc service to serve; its handlers run
 *   concurrently (ttrpc.h): Wait blocks until the process ends while Kill,
 *   State, ResizePty... are answered. Backend calls are serialized.
 * - Requests are hostile: ids are checked against this shim's container id,
 *   exec ids are bounded (SHIM_ID_MAX) and at most SHIM_MAX_EXECS exec
 *   processes exist at a time; decode failures are INVALID_ARGUMENT.
 * - Implemented: Create, Start, State, Wait, Kill, Delete, Pids, Exec,
 *   ResizePty, CloseIO, Pause, Resume, Stats (the backend's figures as
 *   containerd's cgroups v1 Metrics, io.containerd.cgroups.v1.Metrics, in an
 *   Any), Connect, Shutdown. Checkpoint and Update answer UNIMPLEMENTED,
 *   saying so.
 * - Events go to cfg->publish in containerd's order (TaskCreate, TaskStart,
 *   TaskExecAdded, TaskExecStarted, TaskExit, TaskPaused, TaskResumed,
 *   TaskDelete) as a packed event plus its topic and type name; publishing is
 *   the caller's (events.h). Called with no lock of the task held.
 * - shim_task_exited() is the backend's report that a process ended
 *   (status: 0-255, 128+N after signal N); any thread, once per process.
 * - cfg->shutdown is called from Shutdown's handler when no container is left
 *   (never created or deleted), so the shim can exit after answering.
 */
#ifndef HULL_SHIM_TASK_H
#define HULL_SHIM_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "shim/backend.h"
#include "shim/ttrpc.h"

#define SHIM_ID_MAX 256
#define SHIM_MAX_EXECS 64
#define SHIM_TASK_SERVICE "containerd.task.v2.Task"

struct shim_task_config {
	const char *id;	    /* the container id (-id), checked against requests */
	const char *bundle; /* the bundle directory */
	const struct shim_backend_ops *ops;
	void *be;
	void (*publish)(void *ctx, const char *topic, const char *type, const uint8_t *ev,
			size_t len);
	void *publish_ctx;
	void (*shutdown)(void *ctx);
	void *shutdown_ctx;
};

struct shim_task;

int shim_task_new(const struct shim_task_config *cfg, struct shim_task **out, struct errmsg *err);
/* Only when no handler runs any more (the process is exiting otherwise). */
void shim_task_free(struct shim_task *t);
const struct ttrpc_service *shim_task_service(struct shim_task *t);
void shim_task_exited(struct shim_task *t, const char *exec_id, int status);

#endif
