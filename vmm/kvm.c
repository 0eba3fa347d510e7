#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Identity map and TSS: three pages just below the LAPIC/IOAPIC area, which
 * VMX needs for real-mode emulation and SVM/PVM ignore. */
#define KVM_TSS_ADDR 0xfffbd000ul
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ull

bool kvm_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

int kvm_vm_open(struct kvm_vm *k, const char *dev, struct errmsg *err)
{
	k->kvm_fd = k->vm_fd = -1;
	if (!dev)
		dev = "/dev/kvm";
	k->kvm_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0) {
		int e = errno;
		return errmsg_set(err, -e, "%s: %s%s", dev, strerror(e),
				  e == ENOENT	? " (KVM not available: no kvm module loaded, or "
						  "no hardware virtualisation)"
				  : e == EACCES ? " (run as root or join the kvm group)"
						: "");
	}
	int v = ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v < 0) {
		int e = errno;
		kvm_vm_close(k);
		return errmsg_set(err, -ENODEV, "%s: not a KVM device (%s)", dev, strerror(e));
	}
	if (v != KVM_API_VERSION) {
		kvm_vm_close(k);
		return errmsg_set(err, -ENOTSUP, "%s: KVM API version %d, need %d", dev, v,
				  KVM_API_VERSION);
	}
	static const struct {
		int cap;
		const char *name;
	} need[] = {
	    {KVM_CAP_USER_MEMORY, "USER_MEMORY"},
	    {KVM_CAP_IRQCHIP, "IRQCHIP"},
	    {KVM_CAP_IRQFD, "IRQFD"},
	    {KVM_CAP_IOEVENTFD, "IOEVENTFD"},
	    {KVM_CAP_EXT_CPUID, "EXT_CPUID"},
	    {KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT"},
	    {KVM_CAP_TSC_DEADLINE_TIMER, "TSC_DEADLINE_TIMER"},
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
			kvm_vm_close(k);
			return errmsg_set(err, -ENOTSUP, "%s: KVM lacks capability %s", dev,
					  need[i].name);
		}
	}
	k->run_size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0) {
		kvm_vm_close(k);
		return errmsg_set(err, -EIO, "%s: KVM_GET_VCPU_MMAP_SIZE failed", dev);
	}
	do
		k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	while (k->vm_fd < 0 && errno == EINTR);
	if (k->vm_fd < 0) {
		int e = errno;
		kvm_vm_close(k);
		return errmsg_set(err, -e, "%s: KVM_CREATE_VM: %s", dev, strerror(e));
	}
	/* Not every backend needs these (SVM and PVM ignore them), so failures
	 * are not fatal; VMX does need them for real-mode emulation. */
	ioctl(k->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		int e = errno;
		kvm_vm_close(k);
		return errmsg_set(err, -e, "%s: KVM_CREATE_IRQCHIP: %s", dev, strerror(e));
	}
	return 0;
}

void kvm_vm_close(struct kvm_vm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	k->vm_fd = k->kvm_fd = -1;
}

int kvm_vm_set_memory(struct kvm_vm *k, const struct guest_mem *m, struct errmsg *err)
{
	for (unsigned i = 0; i < m->nr; i++) {
		struct kvm_userspace_memory_region r = {
		    .slot = i,
		    .guest_phys_addr = m->r[i].gpa,
		    .memory_size = m->r[i].size,
		    .userspace_addr = (uintptr_t)m->r[i].host,
		};
		if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			int e = errno;
			return errmsg_set(err, -e,
					  "KVM_SET_USER_MEMORY_REGION (%llu MiB at 0x%llx): %s",
					  (unsigned long long)(m->r[i].size >> 20),
					  (unsigned long long)m->r[i].gpa, strerror(e));
		}
	}
	return 0;
}

int kvm_vm_irqfd(struct kvm_vm *k, unsigned gsi, int *efd)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct kvm_irqfd i = {.fd = (uint32_t)fd, .gsi = gsi};
	if (ioctl(k->vm_fd, KVM_IRQFD, &i) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*efd = fd;
	return 0;
}

int kvm_vm_ioeventfd(struct kvm_vm *k, uint64_t addr, uint32_t len, uint64_t datamatch, int *efd)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct kvm_ioeventfd io = {
	    .datamatch = datamatch,
	    .addr = addr,
	    .len = len,
	    .fd = fd,
	    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	if (ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*efd = fd;
	return 0;
}
