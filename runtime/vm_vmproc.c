/* vm_vmproc: the VM in its own monitor process, hull-vmm, driven through
 * runtime/vmproc.h, behind the session's VM interface (runtime/vmhost.h).
 * The operations map one for one; this file only converts the config
 * (vmm_config -> vmmapi_config) and the events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "runtime/vmproc.h"

static int spawn(const struct vmm_config *vc, const struct vmhost_spawn *sp, void **out,
		 struct errmsg *err)
{
	struct vmmapi_config c = {
	    .kernel = vc->kernel,
	    .initrd = vc->initrd,
	    .cmdline_extra = vc->cmdline_extra,
	    .cpus = vc->cpus,
	    .mem_bytes = vc->mem_bytes,
	    .pvm = -1, /* the monitor detects it */
	    .debug = vc->debug,
	    .ndisks = vc->ndisks,
	    .nvolumes = vc->nvolumes,
	    .vsock_uds = vc->vsock_uds,
	    .vsock_cid = vc->vsock_cid,
	    .net_mode = (uint32_t)vc->net_mode,
	    .net_tap = vc->net_tap,
	    .nports = vc->net_nports,
	    .net_no_csum = vc->net_no_csum,
	    .net_host_loopback = vc->net_host_loopback,
	    .template_root = sp->template_root,
	    .disk_read_bps = vc->disk_read_bps,
	    .disk_write_bps = vc->disk_write_bps,
	    .disk_read_iops = vc->disk_read_iops,
	    .disk_write_iops = vc->disk_write_iops,
	    .net_rx_bps = vc->net_rx_bps,
	    .net_tx_bps = vc->net_tx_bps,
	    .net_rx_pps = vc->net_rx_pps,
	    .net_tx_pps = vc->net_tx_pps,
	};
	if (vc->ndisks > VMMAPI_MAX_DISKS || vc->nvolumes > VMMAPI_MAX_VOLUMES ||
	    vc->net_nports > VMMAPI_MAX_PORTFWD)
		return errmsg_set(err, -EINVAL, "the VM's config exceeds what hull-vmm takes");
	for (unsigned i = 0; i < vc->ndisks; i++)
		c.disks[i] = (struct vmmapi_disk){vc->disks[i].path, vc->disks[i].read_only};
	for (unsigned i = 0; i < vc->nvolumes; i++)
		c.volumes[i] =
		    (struct vmmapi_volume){vc->volumes[i].host_dir, vc->volumes[i].read_only};
	for (unsigned i = 0; i < vc->net_nports; i++)
		c.ports[i] = (struct vmmapi_portfwd){.udp = vc->net_ports[i].udp,
						     .host_ip = vc->net_ports[i].host_ip,
						     .host_port = vc->net_ports[i].host_port,
						     .guest_port = vc->net_ports[i].guest_port};
	memcpy(c.net_mac, vc->net_mac, sizeof(c.net_mac));
	struct vmproc *vp;
	struct vmproc_opts o = {.attach_path = sp->attach_path,
				.cpu_quota_milli = sp->cpu_quota_milli};
	int rc = vmproc_spawn(&c, &o, &vp, err);
	if (!rc)
		*out = vp;
	return rc;
}

static int fd(void *vp)
{
	return vmproc_fd(vp);
}

static int next_event(void *vp, struct vmhost_event *ev, struct errmsg *err)
{
	struct vmproc_event e;
	int n = vmproc_next_event(vp, &e, err);
	if (n <= 0)
		return n;
	memset(ev, 0, sizeof(*ev));
	ev->t_ns = e.t_ns;
	snprintf(ev->why, sizeof(ev->why), "%s", e.why);
	switch (e.kind) {
	case VMPROC_EV_CREATED:
		ev->kind = VMHOST_CREATED;
		ev->boot = e.boot == VMMAPI_BOOT_RESTORED      ? VMHOST_BOOT_RESTORED
			   : e.boot == VMMAPI_BOOT_REFUSED     ? VMHOST_BOOT_REFUSED
			   : e.boot == VMMAPI_BOOT_NO_TEMPLATE ? VMHOST_BOOT_NO_TEMPLATE
							       : VMHOST_BOOT_COLD;
		break;
	case VMPROC_EV_STARTED:
		ev->kind = VMHOST_STARTED;
		break;
	case VMPROC_EV_STOPPED:
		ev->kind = VMHOST_STOPPED;
		ev->reason = vmmapi_stop_text(e.reason);
		break;
	default:
		return errmsg_set(err, -EBADMSG, "hull-vmm: unknown event %d", (int)e.kind);
	}
	return 1;
}

static int console_fd(void *vp)
{
	return vmproc_console_fd(vp);
}

static int save_template(void *vp, struct errmsg *err)
{
	return vmproc_save_template(vp, err);
}

static int attach_disk(void *vp, unsigned index, const char *path, struct errmsg *err)
{
	return vmproc_attach_disk(vp, index, path, err);
}

static int stop(void *vp)
{
	return vmproc_stop(vp);
}

static void release(void *vp)
{
	vmproc_free(vp); /* reaps the monitor */
}

static int pause_vm(void *vp, struct errmsg *err)
{
	return vmproc_pause(vp, err);
}

static int resume_vm(void *vp, struct errmsg *err)
{
	return vmproc_resume(vp, err);
}

static int pid(void *vp)
{
	return (int)vmproc_pid(vp);
}

static int cgroup_dirs(void *vp, struct cgstats_dirs *out)
{
	return vmproc_cgroup_dirs(vp, out);
}

static int counters(void *vp, struct vmmapi_counters *out, struct errmsg *err)
{
	return vmproc_counters(vp, out, err);
}

const struct vmhost_ops rt_vm_proc = {
    .name = "hull-vmm",
    .spawn = spawn,
    .fd = fd,
    .next_event = next_event,
    .console_fd = console_fd,
    .save_template = save_template,
    .attach_disk = attach_disk,
    .stop = stop,
    .release = release,
    .pause = pause_vm,
    .resume = resume_vm,
    .pid = pid,
    .cgroup_dirs = cgroup_dirs,
    .counters = counters,
};
