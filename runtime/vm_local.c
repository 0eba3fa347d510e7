/* vm_local: the VM in the supervisor's own process, hull's VMM used as a
 * library (vmm/vmm.h), behind the session's VM interface (runtime/vmhost.h).
 * Stands in for hull-vmm (runtime/vmproc.h) until that lands: the same
 * events and requests, the template named, restored and saved here.
 * Built into the hull executable with vmm/, not into hull-runtime. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "runtime/net_opts.h"
#include "runtime/runtime.h"
#include "runtime/template.h"
#include "runtime/volume.h"

struct vm_local {
	struct vmm *vm;
	char *tkey, *tdir; /* the template that fits, when templates are on */
	int console[2];	   /* the console's bytes, written on vCPU threads */
	int queue_fd;	   /* readable while CREATED/STARTED wait to be taken */
	struct vmhost_event queued[2];
	int nqueued, taken;
	bool stopped;
};

static void on_console(void *ctx, const uint8_t *b, size_t n)
{
	struct vm_local *l = ctx;
	/* a full pipe loses console bytes, never blocks a vCPU */
	ssize_t w = write(l->console[1], b, n);
	(void)w;
}

static const char *reason_text(enum vmm_stop_reason r)
{
	switch (r) {
	case VMM_STOP_RESET:
		return "the guest rebooted";
	case VMM_STOP_SHUTDOWN:
		return "the guest shut down";
	case VMM_STOP_ERROR:
		return "a VMM error";
	case VMM_STOP_REQUESTED:
		return "hull stopped it";
	default:
		return "unknown";
	}
}

static void release(void *vp)
{
	struct vm_local *l = vp;
	if (!l)
		return;
	if (l->vm) {
		if (!l->stopped) {
			vmm_request_stop(l->vm);
			vmm_wait(l->vm);
		}
		vmm_destroy(l->vm);
	}
	for (int i = 0; i < 2; i++)
		if (l->console[i] >= 0)
			close(l->console[i]);
	if (l->queue_fd >= 0)
		close(l->queue_fd);
	free(l->tkey);
	free(l->tdir);
	free(l);
}

/* The template's identity: everything that shaped the booted guest. */
static int name_template(struct vm_local *l, const struct vmm_config *vc, const char *root,
			 struct errmsg *err)
{
	char *k = NULL;
	int rc = template_key(vc->kernel, vc->initrd, vc->cpus, vc->mem_bytes, vc->pvm, &k, err);
	/* VMs with and without a NIC boot different devices */
	struct net_opts net = {.mode = vc->net_mode, .no_csum = vc->net_no_csum};
	if (!rc && asprintf(&l->tkey, "%s%s", k, net_opts_template_tag(&net)) < 0) {
		l->tkey = NULL;
		rc = errmsg_set(err, -ENOMEM, "out of memory");
	}
	free(k);
	if (!rc)
		rc = volume_template_key(&l->tkey, vc->nvolumes, err);
	if (!rc && !(l->tdir = template_dir(root, l->tkey)))
		rc = errmsg_set(err, -ENOMEM, "out of memory");
	return rc;
}

static int spawn(const struct vmm_config *cfg, const char *template_root, void **out,
		 struct errmsg *err)
{
	struct vm_local *l = calloc(1, sizeof(*l));
	if (!l)
		return errmsg_set(err, -ENOMEM, "out of memory");
	l->console[0] = l->console[1] = -1;
	l->queue_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc = l->queue_fd < 0 || pipe2(l->console, O_CLOEXEC | O_NONBLOCK) ? -errno : 0;
	if (rc) {
		errmsg_set(err, rc, "vm: %s", strerror(-rc));
		goto fail;
	}
	struct vmm_config vc = *cfg;
	vc.pvm = vmm_host_is_pvm();
	vc.console_out = on_console;
	vc.ctx = l;
	vc.template_dir = vc.template_key = NULL;
	if (template_root && (rc = name_template(l, &vc, template_root, err)))
		goto fail;
	struct vmhost_event created = {
	    .kind = VMHOST_CREATED, .boot = l->tdir ? VMHOST_BOOT_COLD : VMHOST_BOOT_NO_TEMPLATE};
	if (l->tdir && vmm_template_exists(l->tdir)) {
		struct errmsg terr;
		vc.template_dir = l->tdir;
		vc.template_key = l->tkey;
		if (vmm_create(&vc, &l->vm, &terr) == 0) {
			created.boot = VMHOST_BOOT_RESTORED;
		} else {
			/* a template that cannot be used is replaced by this run */
			created.boot = VMHOST_BOOT_REFUSED;
			snprintf(created.why, sizeof(created.why), "%.500s", terr.text);
			vmm_template_remove(l->tdir);
		}
		vc.template_dir = vc.template_key = NULL;
	}
	/* the run's own problem (a published port in use, say), not the
	 * template's: keep the template */
	if (!l->vm && (rc = vmm_create(&vc, &l->vm, err)))
		goto fail;
	created.t_ns = clock_now_ns();
	if ((rc = vmm_start(l->vm, err)))
		goto fail;
	l->queued[0] = created;
	l->queued[1] = (struct vmhost_event){.kind = VMHOST_STARTED, .t_ns = vmm_started_ns(l->vm)};
	l->nqueued = 2;
	*out = l;
	return 0;
fail:
	release(l);
	return rc;
}

static int fd(void *vp)
{
	struct vm_local *l = vp;
	return l->taken < l->nqueued ? l->queue_fd : vmm_stop_fd(l->vm);
}

static int next_event(void *vp, struct vmhost_event *ev, struct errmsg *err)
{
	(void)err;
	struct vm_local *l = vp;
	if (l->taken < l->nqueued) {
		*ev = l->queued[l->taken++];
		return 1;
	}
	struct pollfd p = {.fd = vmm_stop_fd(l->vm), .events = POLLIN};
	if (l->stopped || poll(&p, 1, 0) <= 0)
		return 0;
	/* joins every VM thread: the console and the guest's sockets hold
	 * its last bytes now */
	enum vmm_stop_reason why = vmm_wait(l->vm);
	l->stopped = true;
	memset(ev, 0, sizeof(*ev));
	ev->kind = VMHOST_STOPPED;
	ev->t_ns = clock_now_ns();
	ev->reason = reason_text(why);
	snprintf(ev->why, sizeof(ev->why), "%s", vmm_stop_why(l->vm));
	return 1;
}

static int console_fd(void *vp)
{
	return ((struct vm_local *)vp)->console[0];
}

static int save_template(void *vp, struct errmsg *err)
{
	struct vm_local *l = vp;
	if (!l->tdir)
		return errmsg_set(err, -EINVAL, "templates are off for this VM");
	if (vmm_pause(l->vm))
		return errmsg_set(err, -ESHUTDOWN, "the VM stopped");
	int rc = vmm_save_template(l->vm, l->tdir, l->tkey, err);
	vmm_resume(l->vm);
	return rc;
}

static int attach_disk(void *vp, unsigned index, const char *path, struct errmsg *err)
{
	return vmm_attach_disk(((struct vm_local *)vp)->vm, index, path, err);
}

static int stop(void *vp)
{
	vmm_request_stop(((struct vm_local *)vp)->vm);
	return 0;
}

const struct vmhost_ops rt_vm_local = {
    .name = "local",
    .spawn = spawn,
    .fd = fd,
    .next_event = next_event,
    .console_fd = console_fd,
    .save_template = save_template,
    .attach_disk = attach_disk,
    .stop = stop,
    .release = release,
};
