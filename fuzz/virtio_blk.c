/* Fuzz virtio-blk behind a hostile driver (hostile_driver.h), backed by a
 * 64 KiB memfd. DEVICE op: swap in a fresh backing file (read-only or not,
 * as the device was made), as a restored template does. Checks: nothing is
 * ever written past the capacity (the file never grows). */
#include <sys/mman.h>

#include "fuzz/hostile_driver.h"
#include "vmm/virtio/virtio_blk.h"

#define DISK (64u * 1024u)

struct blk {
	struct virtio_blk *b;
	int fd, old_fd;
};

static int disk(void)
{
	int fd = memfd_create("fuzz-blk", MFD_CLOEXEC);
	FZ_CHECK(fd >= 0 && ftruncate(fd, DISK) == 0);
	return fd;
}

static void *create(const struct guest_mem *mem, const struct virtio_dev_ops **ops, void **tdev)
{
	(void)mem;
	struct blk *b = calloc(1, sizeof(*b));
	FZ_CHECK(b);
	b->fd = disk();
	b->old_fd = -1;
	struct errmsg err;
	FZ_CHECK(virtio_blk_init(&b->b, b->fd, false, "fuzz-serial", &err) == 0);
	*ops = virtio_blk_ops(b->b);
	*tdev = b->b;
	return b;
}

static void op(void *dev, struct virtio_mmio *t, struct fz *in)
{
	(void)in;
	struct blk *b = dev;
	int fd = disk();
	struct errmsg err;
	FZ_CHECK(virtio_blk_set_backing(b->b, fd, false, &err) == 0);
	virtio_mmio_config_changed(t);
	close(b->fd);
	b->fd = fd;
}

static void destroy(void *dev)
{
	struct blk *b = dev;
	struct stat st;
	FZ_CHECK(fstat(b->fd, &st) == 0 && st.st_size == DISK);
	virtio_blk_free(b->b);
	close(b->fd);
	free(b);
}

static const struct hd_device blk = {.create = create, .op = op, .destroy = destroy};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hd_run(&blk, data, size);
	return 0;
}
