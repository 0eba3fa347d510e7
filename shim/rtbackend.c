/* The shim's backend over hull's runtime library (runtime/runtime.h): one
 * container = one microVM, run by a hull-vmm process (rt_vm_proc) that the
 * init process's thread below spawns: hull-vmm dies with that thread
 * (runtime/vmproc.h), which lives until the VM has ended.
 *
 * - Create: the bundle's config.json (ocispec.h) makes the rt_config; the
 *   rootfs mounts containerd gives (an overlayfs snapshot) are mounted at
 *   <bundle>/rootfs, copied into an ext4 image with mkfs.ext4 -d (a full
 *   copy, the cost of this first version; the runtime wants an ext4 file) in
 *   <bundle>/work when containerd made that link, else in the bundle, and
 *   unmounted again. rt_create() registers the container.
 * - Start: a thread of its own per process runs the runtime's session loop
 *   (rt_start then rt_wait, or rt_exec_start then rt_exec_wait): callbacks
 *   write output to containerd's FIFOs; Kill and ResizePty reach the loop
 *   through an eventfd and are applied in on_event(). The Start handler waits
 *   until the process runs (or failed). The end is reported to the task
 *   service with the exit status (docker's numbers, 128+N for a signal).
 * - Pause, Resume, Stats, Pids: the runtime has no API for them yet: ENOTSUP.
 * - Each process's fds (struct shim_io) are closed when its thread ends.
 */
#include "shim/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/fileutil.h"
#include "common/readfile.h"
#include "runtime/paths.h"
#include "runtime/runtime.h"
#include "runtime/template.h"
#include "shim/ocispec.h"

#define RTB_MAX_PROCS 65
#define RTB_MEM (128ull << 20)
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
};

struct rtb {
	char *id, *bundle;
	void (*exited)(void *ctx, const char *exec_id, int status);
	void *ctx;
	struct rt_container *c;
	char *image; /* the ext4 copy of the rootfs */
	struct shim_spec spec;
	struct volume_arg vols[VMM_MAX_VOLUMES];
	size_t n_vols;
	char *kernel, *initrd, *troot;
	pthread_mutex_t m;
	pthread_cond_t cv;
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

/* ---- rootfs: mount containerd's snapshot, copy it into ext4 ---- */

static int mount_rootfs(const struct shim_create *c, const char *target, struct errmsg *err)
{
	if (c->n_rootfs != 1)
		return errmsg_set(
		    err, -EINVAL,
		    "task %s: %zu rootfs mounts; one (containerd's snapshot) is supported", c->id,
		    c->n_rootfs);
	const struct shim_mount *m = &c->rootfs[0];
	char data[4096] = "";
	unsigned long flags = 0;
	size_t len = 0;
	for (size_t i = 0; i < m->n_options; i++) {
		const char *o = m->options[i];
		if (strcmp(o, "ro") == 0) {
			flags |= MS_RDONLY;
		} else if (strcmp(o, "rw") == 0) {
		} else if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
			flags |= MS_BIND | (o[0] == 'r' ? MS_REC : 0);
		} else {
			int w = snprintf(data + len, sizeof(data) - len, "%s%s", len ? "," : "", o);
			if (w < 0 || (size_t)w >= sizeof(data) - len)
				return errmsg_set(err, -E2BIG,
						  "task %s: rootfs mount options too long", c->id);
			len += (size_t)w;
		}
	}
	const char *type = strcmp(m->type, "bind") == 0 ? NULL : m->type;
	if (!type)
		flags |= MS_BIND;
	if (mount(m->source, target, type, flags, len ? data : NULL) < 0)
		return errmsg_set(err, -errno, "task %s: mounting the rootfs (%s %s) at %s: %s",
				  c->id, m->type, m->source, target, strerror(errno));
	return 0;
}

static uint64_t tree_bytes, tree_inodes;

static int count_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)type;
	(void)ftw;
	tree_bytes += (uint64_t)st->st_size + 4096;
	tree_inodes++;
	return 0;
}

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER; /* nftw has no context */

static int run_mkfs(const char *dir, const char *image, struct errmsg *err)
{
	pthread_mutex_lock(&count_lock);
	tree_bytes = tree_inodes = 0;
	int rc = nftw(dir, count_one, 32, FTW_PHYS | FTW_MOUNT);
	uint64_t bytes = tree_bytes, inodes = tree_inodes;
	pthread_mutex_unlock(&count_lock);
	if (rc < 0)
		return errmsg_set(err, -errno, "rootfs %s: %s", dir, strerror(errno));
	/* room for metadata and the guest's small writes; the file is sparse */
	uint64_t kib = (bytes + bytes / 2) / 1024 + 32768;
	char size[32], nino[32];
	snprintf(size, sizeof(size), "%lluk", (unsigned long long)kib);
	snprintf(nino, sizeof(nino), "%llu", (unsigned long long)(inodes * 2 + 1024));
	pid_t pid = fork();
	if (pid < 0)
		return errmsg_set(err, -errno, "mkfs.ext4: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execlp("mkfs.ext4", "mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-N", nino, "-d",
		       dir, image, size, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return errmsg_set(err, -errno, "mkfs.ext4: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return errmsg_set(err, -EIO, "mkfs.ext4 -d %s %s failed (status %d)", dir, image,
				  WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

static int make_image(struct rtb *b, const struct shim_create *c, struct errmsg *err)
{
	char target[PATH_MAX], work[PATH_MAX];
	snprintf(target, sizeof(target), "%s/rootfs", b->bundle);
	snprintf(work, sizeof(work), "%s/work", b->bundle);
	struct stat st;
	const char *dir = stat(work, &st) == 0 && S_ISDIR(st.st_mode) ? work : b->bundle;
	if (asprintf(&b->image, "%s/hull-rootfs.ext4", dir) < 0) {
		b->image = NULL;
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	mkdir(target, 0711);
	int rc = mount_rootfs(c, target, err);
	if (rc < 0)
		return rc;
	unlink(b->image);
	rc = run_mkfs(target, b->image, err);
	if (umount2(target, MNT_DETACH) < 0 && rc == 0)
		rc = errmsg_set(err, -errno, "unmounting %s: %s", target, strerror(errno));
	if (rc < 0)
		unlink(b->image);
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
	pthread_mutex_unlock(&p->b->m);
	for (size_t i = 0; i < n; i++)
		rt_session_signal(s, sigs[i]);
	if (resize)
		rt_session_resize(s, rows, cols);
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
		started(p, rc, &err);
		status = rt_wait(b->c);
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
	    .rootfs = b->image,
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
	    .cpus = 1,
	    .mem_bytes = RTB_MEM,
	    .kernel = b->kernel,
	    .initrd = b->initrd,
	    .template_root = b->troot,
	    .volumes = b->vols,
	    .n_volumes = b->n_vols,
	    .stop_timeout = RTB_STOP_TIMEOUT_S,
	    .auto_remove = true,
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
	*pid = (uint32_t)getpid();
	return start_proc(b, p, err);
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

static int rb_nosup(void *be, struct errmsg *err)
{
	(void)be;
	return errmsg_set(err, -ENOTSUP, "hull's runtime cannot pause or resume a VM yet");
}

static int rb_stats(void *be, struct shim_stats *st, struct errmsg *err)
{
	(void)be;
	(void)st;
	return errmsg_set(err, -ENOTSUP, "hull's runtime reports no metrics yet");
}

static int rb_pids(void *be, uint32_t *pids, size_t max, size_t *n, struct errmsg *err)
{
	(void)be;
	(void)pids;
	(void)max;
	*n = 0;
	return errmsg_set(err, -ENOTSUP, "hull's runtime does not list a VM's processes yet");
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
	if (b->image) {
		unlink(b->image);
		free(b->image);
		b->image = NULL;
	}
	return 0;
}

static const struct shim_backend_ops rb_ops = {
    .create = rb_create,
    .start = rb_start,
    .exec = rb_exec,
    .signal = rb_signal,
    .resize = rb_resize,
    .close_stdin = rb_close_stdin,
    .pause = rb_nosup,
    .resume = rb_nosup,
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
