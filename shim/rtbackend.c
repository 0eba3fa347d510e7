/* The shim's backend over hull's runtime library (runtime/runtime.h): one
 * container = one microVM, run by a hull-vmm process (rt_vm_proc) that the
 * init process's thread below spawns: hull-vmm dies with that thread
 * (runtime/vmproc.h), which lives until the VM has ended.
 *
 * - Create: the bundle's config.json (ocispec.h) makes the rt_config; the
 *   rootfs mounts containerd gives (an overlayfs snapshot) become the VM's
 *   ext4 disk (rootfs.h): for a new container the image shared by every
 *   container of the same layers, cached in hull's store (<store>/
 *   shim-rootfs), else a private copy in <bundle>/work (or the bundle); no
 *   mounts at all (ctr run --rootfs DIR, --config): a private copy of
 *   root.path's directory. process.rlimits reach the guest as hull run's
 *   --ulimit do (rt_confine), every annotation is recorded as a label, and
 *   vmsize.h sizes the VM. rt_create() registers the container.
 * - Start: a thread of its own per process runs the runtime's session loop
 *   (rt_start then rt_wait, or rt_exec_start then rt_exec_wait): callbacks
 *   write output to containerd's FIFOs; Kill and ResizePty reach the loop
 *   through an eventfd and are applied in on_event(). The Start handler waits
 *   until the process runs (or failed). The end is reported to the task
 *   service with the exit status (docker's numbers, 128+N for a signal).
 * - The init process's pid (Start, Pids) is the VM monitor's, hull-vmm: the
 *   host process that is the container (before Start: the shim's). Exec
 *   processes run in the guest and have no host pid: Pids lists the monitor
 *   alone, as containerd's VM shims do.
 * - Pause and Resume: the request goes to the init process's session loop
 *   (the thread that owns the VM, through its eventfd), which pauses or
 *   resumes the vCPUs (rt_session_pause); the handler waits for the answer.
 *   Signals to a paused container are delivered when it resumes, but
 *   SIGKILL resumes it first (as SIGKILL ends a frozen runc container).
 * - Stats: the VM's cgroup's figures (runtime/cgstats.h; the directories
 *   from the runtime, rt_container_cgroup_dirs(), copied when it starts):
 *   memory of the monitor and the network helper, CPU time, tasks. Without
 *   a cgroup (not root): the monitor's CPU time and resident memory from
 *   /proc (runtime_proc_usage), the VM's size as the limit, 1 task.
 * - Each process's fds (struct shim_io) are closed when its thread ends.
 */
#include "shim/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/fileutil.h"
#include "common/readfile.h"
#include "runtime/cgstats.h"
#include "runtime/paths.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "runtime/template.h"
#include "shim/ocispec.h"
#include "shim/rootfs.h"
#include "shim/vmsize.h"

#define RTB_MAX_PROCS 65
#define RTB_STOP_TIMEOUT_S 10

enum pstate { PS_NEW, PS_STARTING, PS_RUNNING, PS_DONE };

struct rproc {
	bool used;
	char exec_id[257];
	struct rtb *b;
	struct shim_io io;
	struct shim_spec spec; /* exec: its process; init: unused */
	char user[32];
	pthread_t thread;
	bool thread_started;
	int efd; /* commands for the session loop */
	/* under b->m */
	enum pstate state;
	int start_rc;
	struct errmsg start_err;
	int sigs[16];
	size_t n_sigs;
	bool resize;
	uint16_t rows, cols;
	struct rt_io rio;
	struct rt_exec *x;
	/* init: a pause (1) or resume (2) request for the session loop */
	int cmd;
	bool cmd_done;
	int cmd_rc;
	struct errmsg cmd_err;
};

struct rtb {
	char *id, *bundle;
	void (*exited)(void *ctx, const char *exec_id, int status);
	void *ctx;
	struct rt_container *c;
	struct shim_rootfs rootfs; /* the VM's disk */
	struct shim_spec spec;
	struct volume_arg vols[VMM_MAX_VOLUMES];
	size_t n_vols;
	char *kernel, *initrd, *troot;
	pthread_mutex_t m;
	pthread_cond_t cv;
	struct shim_vmsize size;
	int vmm_pid;			   /* under m: the VM monitor's, while it runs; else 0 */
	struct cgstats_dirs cg;		   /* under m: its cgroup while it runs (n 0: none) */
	bool paused;			   /* under m */
	struct rproc procs[RTB_MAX_PROCS]; /* [0]: init */
};

static struct rproc *find(struct rtb *b, const char *exec_id)
{
	for (size_t i = 0; i < RTB_MAX_PROCS; i++)
		if (b->procs[i].used && strcmp(b->procs[i].exec_id, exec_id) == 0)
			return &b->procs[i];
	return NULL;
}

static void close_io(struct shim_io *io)
{
	int *fds[] = {&io->in, &io->out, &io->err};
	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* ---- rootfs (rootfs.h) ---- */

static int make_image(struct rtb *b, const struct shim_create *c, struct errmsg *err)
{
	char work[PATH_MAX];
	snprintf(work, sizeof(work), "%s/work", b->bundle);
	struct stat st;
	const char *dir = stat(work, &st) == 0 && S_ISDIR(st.st_mode) ? work : b->bundle;
	/* the shared images live in hull's store, next to its converted ones */
	char *store = paths_store_root(NULL), *cache = NULL;
	if (store && asprintf(&cache, "%s/shim-rootfs", store) < 0)
		cache = NULL;
	free(store);
	if (cache)
		shim_rootfs_prune(cache);
	if (c->n_rootfs == 0) {
		/* no snapshot (ctr run --rootfs DIR, --config): root.path's tree */
		char root[PATH_MAX];
		const char *rp = b->spec.root_path ? b->spec.root_path : "rootfs";
		free(cache);
		if (snprintf(root, sizeof(root), "%s%s%s", rp[0] == '/' ? "" : b->bundle,
			     rp[0] == '/' ? "" : "/", rp) >= (int)sizeof(root))
			return errmsg_set(err, -ENAMETOOLONG, "root.path %s: too long", rp);
		return shim_rootfs_from_dir(c->id, root, dir, &b->rootfs, err);
	}
	int rc = shim_rootfs_prepare(c->id, c->rootfs, c->n_rootfs, b->bundle, dir, cache,
				     &b->rootfs, err);
	free(cache);
	return rc;
}

/* ---- the session loop's callbacks ---- */

static void on_output(void *ctx, int stream, const uint8_t *buf, size_t n)
{
	struct rproc *p = ctx;
	int fd = stream == 2 ? p->io.err : p->io.out;
	if (fd >= 0)
		(void)fdio_write_all(fd, buf, n); /* a reader gone away: dropped */
}

static void on_diag(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	(void)fdio_write_all(2, buf, n); /* the shim's log, in containerd's log */
}

static int on_winsize(void *ctx, uint16_t *rows, uint16_t *cols)
{
	struct rproc *p = ctx;
	pthread_mutex_lock(&p->b->m);
	int rc = p->rows ? 0 : -ENODATA;
	*rows = p->rows;
	*cols = p->cols;
	pthread_mutex_unlock(&p->b->m);
	return rc;
}

static void on_event(void *ctx, struct rt_session *s)
{
	struct rproc *p = ctx;
	uint64_t v;
	(void)!read(p->efd, &v, sizeof(v));
	pthread_mutex_lock(&p->b->m);
	int sigs[16];
	size_t n = p->n_sigs;
	memcpy(sigs, p->sigs, n * sizeof(int));
	p->n_sigs = 0;
	bool resize = p->resize;
	uint16_t rows = p->rows, cols = p->cols;
	p->resize = false;
	int cmd = p->cmd;
	bool kill_paused = false;
	for (size_t i = 0; i < n; i++)
		kill_paused |= sigs[i] == SIGKILL && p->b->paused;
	pthread_mutex_unlock(&p->b->m);
	struct errmsg err = {{0}};
	if (kill_paused && rt_session_pause(s, false, &err) == 0) {
		pthread_mutex_lock(&p->b->m);
		p->b->paused = false;
		pthread_mutex_unlock(&p->b->m);
	}
	for (size_t i = 0; i < n; i++)
		rt_session_signal(s, sigs[i]);
	if (resize)
		rt_session_resize(s, rows, cols);
	if (cmd) {
		int rc = rt_session_pause(s, cmd == 1, &err);
		pthread_mutex_lock(&p->b->m);
		p->cmd_rc = rc;
		p->cmd_err = err;
		p->cmd_done = true;
		pthread_cond_broadcast(&p->b->cv);
		pthread_mutex_unlock(&p->b->m);
	}
}

static void started(struct rproc *p, int rc, const struct errmsg *err)
{
	pthread_mutex_lock(&p->b->m);
	p->state = rc < 0 ? PS_DONE : PS_RUNNING;
	p->start_rc = rc;
	if (err)
		p->start_err = *err;
	pthread_cond_broadcast(&p->b->cv);
	pthread_mutex_unlock(&p->b->m);
}

static void *proc_thread(void *arg)
{
	struct rproc *p = arg;
	struct rtb *b = p->b;
	struct errmsg err = {{0}};
	int status;
	if (!p->exec_id[0]) {
		int rc = rt_start(b->c, &p->rio, &err);
		pthread_mutex_lock(&b->m);
		b->vmm_pid = rc < 0 ? 0 : rt_container_vmm_pid(b->c);
		if (rc < 0 || rt_container_cgroup_dirs(b->c, &b->cg) < 0)
			b->cg.n = 0;
		pthread_mutex_unlock(&b->m);
		started(p, rc, &err);
		status = rt_wait(b->c);
		pthread_mutex_lock(&b->m);
		b->vmm_pid = 0;
		b->cg.n = 0;
		b->paused = false;
		pthread_mutex_unlock(&b->m);
		rt_close(b->c);
		b->c = NULL;
	} else {
		struct rt_process proc = {
		    .argv = p->spec.args,
		    .argc = p->spec.n_args,
		    .env = p->spec.env,
		    .n_env = p->spec.n_env,
		    .cwd = p->spec.cwd,
		    .user = p->user,
		    .tty = p->io.terminal,
		    .stdin_open = p->io.in >= 0,
		    /* its own, as runc: none (an empty list), the container's */
		    .ulimits = p->spec.ulimits,
		    .n_ulimits = p->spec.n_ulimits,
		};
		int rc = rt_exec_start(rt_container_id(b->c), &proc, &p->rio, &p->x, &err);
		started(p, rc, &err);
		status = rc < 0 ? RT_EXIT_FAILED : rt_exec_wait(p->x);
		rt_exec_free(p->x);
		p->x = NULL;
	}
	close_io(&p->io);
	pthread_mutex_lock(&b->m);
	p->state = PS_DONE;
	pthread_cond_broadcast(&b->cv); /* a pause request waits for this too */
	pthread_mutex_unlock(&b->m);
	b->exited(b->ctx, p->exec_id, status);
	return NULL;
}

static int proc_init(struct rtb *b, struct rproc *p, const char *exec_id, const struct shim_io *io,
		     struct errmsg *err)
{
	memset(p, 0, sizeof(*p));
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0)
		return errmsg_set(err, -errno, "eventfd: %s", strerror(errno));
	p->used = true;
	p->b = b;
	snprintf(p->exec_id, sizeof(p->exec_id), "%s", exec_id);
	p->io = *io;
	p->rio = (struct rt_io){
	    .ctx = p,
	    .in_fd = io->in,
	    .output = on_output,
	    .diag = on_diag,
	    .winsize = on_winsize,
	    .event_fd = p->efd,
	    .on_event = on_event,
	};
	return 0;
}

static void poke(struct rproc *p)
{
	uint64_t one = 1;
	(void)!write(p->efd, &one, sizeof(one));
}

/* ---- ops ---- */

static int rb_create(void *be, const struct shim_create *c, uint32_t *pid, struct errmsg *err)
{
	struct rtb *b = be;
	int rc = shim_spec_load(c->bundle, &b->spec, err);
	if (rc < 0)
		return rc;
	if (b->spec.n_binds > VMM_MAX_VOLUMES)
		return errmsg_set(err, -EINVAL, "config.json: %zu bind mounts; at most %d",
				  b->spec.n_binds, VMM_MAX_VOLUMES);
	for (size_t i = 0; i < b->spec.n_binds; i++) {
		char arg[PATH_MAX * 2 + 8];
		snprintf(arg, sizeof(arg), "%s:%s%s", b->spec.binds[i].source,
			 b->spec.binds[i].destination, b->spec.binds[i].readonly ? ":ro" : "");
		if ((rc = volume_parse(arg, &b->vols[i], err)) < 0)
			return rc;
		b->n_vols = i + 1;
	}
	b->kernel = paths_data_file("vmlinux");
	b->initrd = paths_data_file("initramfs.cpio");
	char *store = paths_store_root(NULL);
	b->troot = store ? template_root(store) : NULL;
	free(store);
	if (!b->kernel || !b->initrd)
		return errmsg_set(err, -ENOMEM, "out of memory");
	if (access(b->kernel, R_OK) || access(b->initrd, R_OK))
		return errmsg_set(err, -ENOENT, "the guest kernel %s or init %s is missing",
				  b->kernel, b->initrd);
	/* the VM's size (vmsize.h: io.hull.* annotations, else linux.resources,
	 * else hull's defaults), before the rootfs is copied: a bad value fails
	 * Create at once. A size no template was made for boots cold (and saves
	 * one for the next). */
	if ((rc = shim_vmsize(&b->spec, &b->size, err)) < 0)
		return rc;
	if (b->size.cpu_quota_milli && geteuid() != 0)
		return errmsg_set(err, -ENOTSUP,
				  "%u.%03u CPUs: a fraction is a CPU quota on the VM's cgroup, "
				  "which hull makes only as root; give a whole number of vCPUs",
				  b->size.cpu_quota_milli / 1000, b->size.cpu_quota_milli % 1000);
	if ((rc = make_image(b, c, err)) < 0)
		return rc;

	struct rproc *p = &b->procs[0];
	if ((rc = proc_init(b, p, "", &c->io, err)) < 0)
		return rc;
	snprintf(p->user, sizeof(p->user), "%u:%u", b->spec.uid, b->spec.gid);
	char image[300];
	snprintf(image, sizeof(image), "containerd:%s", c->id);
	struct rt_config cfg = {
	    .image = image,
	    .rootfs = b->rootfs.image,
	    .process =
		{
		    .argv = b->spec.args,
		    .argc = b->spec.n_args,
		    .env = b->spec.env,
		    .n_env = b->spec.n_env,
		    .cwd = b->spec.cwd,
		    .user = p->user,
		    .tty = c->io.terminal,
		    .stdin_open = c->io.in >= 0,
		},
	    .hostname = b->spec.hostname,
	    .cpus = b->size.cpus,
	    .mem_bytes = b->size.mem_bytes,
	    .cpu_quota_milli = b->size.cpu_quota_milli,
	    .kernel = b->kernel,
	    .initrd = b->initrd,
	    .template_root = b->troot,
	    .volumes = b->vols,
	    .n_volumes = b->n_vols,
	    .stop_timeout = RTB_STOP_TIMEOUT_S,
	    .auto_remove = true,
	    /* every annotation, recorded as the container's labels (hull ps
	     * --filter label=..., hull inspect) */
	    .labels = b->spec.annotations,
	    .n_labels = b->spec.n_annotations,
	    /* process.rlimits: applied in the guest as hull run's --ulimit, to
	     * the container's process and to its exec'd ones */
	    .confine =
		&(struct rt_confine){.ulimits = b->spec.ulimits, .n_ulimits = b->spec.n_ulimits},
	    .vm = &rt_vm_proc,
	};
	rc = rt_create(&cfg, &b->c, err);
	if (rc < 0) {
		close(p->efd);
		p->used = false;
		return rc;
	}
	/* `shim delete` finds the container by this after a SIGKILLed shim */
	char tmp[PATH_MAX], dst[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/.hull-container-id.tmp", b->bundle);
	snprintf(dst, sizeof(dst), "%s/hull-container-id", b->bundle);
	const char *cid = rt_container_id(b->c);
	if (fileutil_write_sync(tmp, cid, strlen(cid)) < 0 || rename(tmp, dst) < 0)
		fprintf(stderr, "containerd-shim-hull-v2: %s: %s\n", dst, strerror(errno));
	/* the VM's monitor does not exist until Start: the shim stands for it */
	*pid = (uint32_t)getpid();
	return 0;
}

static int start_proc(struct rtb *b, struct rproc *p, struct errmsg *err)
{
	pthread_mutex_lock(&b->m);
	p->state = PS_STARTING;
	pthread_mutex_unlock(&b->m);
	int rc = pthread_create(&p->thread, NULL, proc_thread, p);
	if (rc)
		return errmsg_set(err, -rc, "cannot start a thread: %s", strerror(rc));
	p->thread_started = true;
	pthread_mutex_lock(&b->m);
	while (p->state == PS_STARTING)
		pthread_cond_wait(&b->cv, &b->m);
	rc = p->start_rc;
	if (rc < 0)
		*err = p->start_err;
	pthread_mutex_unlock(&b->m);
	return rc;
}

static int rb_start(void *be, const char *exec_id, uint32_t *pid, struct errmsg *err)
{
	struct rtb *b = be;
	struct rproc *p = find(b, exec_id);
	if (!p)
		return errmsg_set(err, -ENOENT, "no process %s", exec_id);
	int rc = start_proc(b, p, err);
	pthread_mutex_lock(&b->m);
	*pid = (uint32_t)(b->vmm_pid > 0 ? b->vmm_pid : getpid());
	pthread_mutex_unlock(&b->m);
	return rc;
}

static int rb_exec(void *be, const char *exec_id, const uint8_t *spec, size_t len,
		   const struct shim_io *io, struct errmsg *err)
{
	struct rtb *b = be;
	struct rproc *p = NULL;
	for (size_t i = 1; i < RTB_MAX_PROCS && !p; i++)
		if (!b->procs[i].used && !b->procs[i].thread_started)
			p = &b->procs[i];
	if (!p)
		return errmsg_set(err, -EBUSY, "too many exec processes");
	struct shim_spec s;
	int rc = shim_process_parse((const char *)spec, len, &s, err);
	if (rc < 0)
		return rc;
	rc = proc_init(b, p, exec_id, io, err);
	if (rc < 0) {
		shim_spec_free(&s);
		return rc;
	}
	p->spec = s;
	snprintf(p->user, sizeof(p->user), "%u:%u", s.uid, s.gid);
	return 0;
}

static int rb_signal(void *be, const char *exec_id, int signo, bool all, struct errmsg *err)
{
	struct rtb *b = be;
	(void)all;
	struct rproc *p = find(b, exec_id);
	if (!p)
		return errmsg_set(err, -ENOENT, "no process %s", exec_id);
	pthread_mutex_lock(&b->m);
	enum pstate st = p->state;
	if (st == PS_RUNNING || st == PS_STARTING) {
		if (p->n_sigs < sizeof(p->sigs) / sizeof(p->sigs[0]))
			p->sigs[p->n_sigs++] = signo;
	}
	pthread_mutex_unlock(&b->m);
	if (st == PS_NEW) {
		/* never started: it ends here, killed */
		pthread_mutex_lock(&b->m);
		p->state = PS_DONE;
		pthread_mutex_unlock(&b->m);
		b->exited(b->ctx, exec_id, 128 + signo);
		return 0;
	}
	if (st == PS_DONE)
		return errmsg_set(err, -ESRCH, "process %s is not running", exec_id);
	poke(p);
	return 0;
}

static int rb_resize(void *be, const char *exec_id, unsigned w, unsigned h, struct errmsg *err)
{
	struct rtb *b = be;
	struct rproc *p = find(b, exec_id);
	if (!p)
		return errmsg_set(err, -ENOENT, "no process %s", exec_id);
	if (w > UINT16_MAX || h > UINT16_MAX)
		return errmsg_set(err, -EINVAL, "terminal size %ux%u too large", w, h);
	pthread_mutex_lock(&b->m);
	p->rows = (uint16_t)h;
	p->cols = (uint16_t)w;
	p->resize = true;
	pthread_mutex_unlock(&b->m);
	poke(p);
	return 0;
}

static int rb_close_stdin(void *be, const char *exec_id, struct errmsg *err)
{
	(void)be;
	(void)exec_id;
	(void)err;
	return 0; /* the client closing its end is the EOF the loop sees (shimio.h) */
}

/* Hand a pause (true) or resume to init's session loop; wait for its answer. */
static int pause_resume(struct rtb *b, bool pause, struct errmsg *err)
{
	struct rproc *p = &b->procs[0];
	pthread_mutex_lock(&b->m);
	if (!p->used || p->state != PS_RUNNING || !b->vmm_pid) {
		pthread_mutex_unlock(&b->m);
		return errmsg_set(err, -ESRCH, "task %s is not running", b->id);
	}
	if (b->paused == pause) {
		pthread_mutex_unlock(&b->m);
		return 0;
	}
	p->cmd = pause ? 1 : 2;
	p->cmd_done = false;
	pthread_mutex_unlock(&b->m);
	poke(p);
	pthread_mutex_lock(&b->m);
	while (!p->cmd_done && p->state != PS_DONE)
		pthread_cond_wait(&b->cv, &b->m);
	int rc = p->cmd_done ? p->cmd_rc : -ESRCH;
	if (rc == 0)
		b->paused = pause;
	else if (p->cmd_done)
		*err = p->cmd_err;
	else
		errmsg_set(err, rc, "task %s ended", b->id);
	p->cmd = 0;
	p->cmd_done = false;
	pthread_mutex_unlock(&b->m);
	if (rc == -ESHUTDOWN)
		rc = -ESRCH; /* the VM stopped meanwhile: not running */
	return rc;
}

static int rb_pause(void *be, struct errmsg *err)
{
	return pause_resume(be, true, err);
}

static int rb_resume(void *be, struct errmsg *err)
{
	return pause_resume(be, false, err);
}

static int rb_stats(void *be, struct shim_stats *st, struct errmsg *err)
{
	struct rtb *b = be;
	pthread_mutex_lock(&b->m);
	int pid = b->vmm_pid;
	struct cgstats_dirs cg = b->cg;
	pthread_mutex_unlock(&b->m);
	if (pid <= 0)
		return errmsg_set(err, -ESRCH, "task %s: its VM is not running", b->id);
	if (cg.n) {
		struct cgstats c;
		int rc = cgstats_read(&cg, &c, err);
		if (rc == -ENOENT) /* the VM ended meanwhile: its cgroup is gone */
			return errmsg_set(err, -ESRCH, "task %s: its VM is not running", b->id);
		if (rc)
			return rc;
		*st = (struct shim_stats){
		    .cpu_total_ns = c.cpu_ns,
		    .cpu_user_ns = c.cpu_user_ns,
		    .cpu_kernel_ns = c.cpu_system_ns,
		    .memory_usage_bytes = c.mem_usage,
		    .memory_limit_bytes = c.mem_limit,
		    .memory_max_usage_bytes = c.mem_max_usage,
		    .memory_rss_bytes = c.mem_rss,
		    .pids = c.pids,
		    .pids_limit = c.pids_limit,
		};
		return 0;
	}
	/* no cgroup (not root): the monitor process alone */
	struct runtime_proc_usage u;
	if (runtime_proc_usage(pid, &u) < 0)
		return errmsg_set(err, -ESRCH, "task %s: its VM is not running", b->id);
	*st = (struct shim_stats){
	    .cpu_total_ns = u.user_ns + u.system_ns,
	    .cpu_user_ns = u.user_ns,
	    .cpu_kernel_ns = u.system_ns,
	    .memory_usage_bytes = u.rss_bytes,
	    .memory_limit_bytes = b->size.mem_bytes,
	    .memory_rss_bytes = u.rss_bytes,
	    .pids = 1,
	};
	return 0;
}

static int rb_pids(void *be, uint32_t *pids, size_t max, size_t *n, struct errmsg *err)
{
	struct rtb *b = be;
	(void)err;
	*n = 0;
	pthread_mutex_lock(&b->m);
	struct rproc *p = &b->procs[0];
	uint32_t pid = b->vmm_pid > 0		       ? (uint32_t)b->vmm_pid
		       : p->used && p->state == PS_NEW ? (uint32_t)getpid()
						       : 0;
	pthread_mutex_unlock(&b->m);
	if (pid && max)
		pids[(*n)++] = pid;
	return 0;
}

static void proc_release(struct rproc *p)
{
	if (p->thread_started)
		pthread_join(p->thread, NULL);
	close_io(&p->io);
	if (p->efd >= 0)
		close(p->efd);
	shim_spec_free(&p->spec);
	memset(p, 0, sizeof(*p));
}

static int rb_remove(void *be, const char *exec_id, struct errmsg *err)
{
	struct rtb *b = be;
	(void)err;
	struct rproc *p = find(b, exec_id);
	if (!p)
		return -ENOENT;
	if (exec_id[0]) {
		proc_release(p);
		return 0;
	}
	for (size_t i = 1; i < RTB_MAX_PROCS; i++)
		if (b->procs[i].used)
			proc_release(&b->procs[i]);
	if (b->c && !p->thread_started) { /* created, never started */
		rt_close(b->c);
		b->c = NULL;
	}
	proc_release(p);
	shim_rootfs_release(&b->rootfs);
	return 0;
}

static const struct shim_backend_ops rb_ops = {
    .create = rb_create,
    .start = rb_start,
    .exec = rb_exec,
    .signal = rb_signal,
    .resize = rb_resize,
    .close_stdin = rb_close_stdin,
    .pause = rb_pause,
    .resume = rb_resume,
    .stats = rb_stats,
    .pids = rb_pids,
    .remove = rb_remove,
};

int shim_backend_open(const char *id, const char *bundle,
		      void (*exited)(void *ctx, const char *exec_id, int status), void *ctx,
		      struct shim_backend *out, struct errmsg *err)
{
	struct rtb *b = calloc(1, sizeof(*b));
	if (!b || !(b->id = strdup(id)) || !(b->bundle = strdup(bundle))) {
		if (b)
			free(b->id);
		free(b);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	b->exited = exited;
	b->ctx = ctx;
	pthread_mutex_init(&b->m, NULL);
	pthread_cond_init(&b->cv, NULL);
	*out = (struct shim_backend){.ops = &rb_ops, .be = b};
	return 0;
}

void shim_backend_close(struct shim_backend *sb)
{
	(void)sb; /* the process exits next; hull-vmm processes die with it (PDEATHSIG) */
}

int shim_backend_cleanup(const char *id, const char *bundle, struct errmsg *err)
{
	(void)id;
	char path[PATH_MAX];
	char *cid = NULL;
	size_t len;
	int rc = 0;
	snprintf(path, sizeof(path), "%s/hull-container-id", bundle);
	if (readfile(path, 256, &cid, &len) == 0) {
		/* the shim is gone (its VM with it): drop what the runtime recorded */
		rc = rt_delete(cid, true, err);
		if (rc == -ENOENT)
			rc = 0;
		free(cid);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/work/hull-rootfs.ext4", bundle);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hull-rootfs.ext4", bundle);
	unlink(path);
	return rc;
}
