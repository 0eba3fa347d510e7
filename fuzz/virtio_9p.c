/* Fuzz virtio-9p behind a hostile driver (hostile_driver.h), serving the
 * harness volume (volume.h) with a fresh server per input; afterwards
 * nothing outside the volume may have changed. DEVICE op: none (the 9p
 * messages themselves travel in the chains; fuzz/p9.c fuzzes the server's
 * message sequences directly). */
#include "fuzz/hostile_driver.h"
#include "fuzz/volume.h"
#include "vmm/virtio/virtio_9p.h"

static struct vol vol;

struct v9 {
	struct p9_server *srv;
	struct virtio_9p *d;
};

static void cleanup(void)
{
	vol_free(&vol);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vol_init(&vol, "virtio-9p");
	atexit(cleanup);
	return 0;
}

static void *create(const struct guest_mem *mem, const struct virtio_dev_ops **ops, void **tdev)
{
	(void)mem;
	struct v9 *v = calloc(1, sizeof(*v));
	FZ_CHECK(v);
	vol_reset(&vol);
	struct errmsg err;
	FZ_CHECK(p9_server_new(&v->srv, vol.vol, false, P9_OWNERS_PASSTHROUGH, &err) == 0);
	FZ_CHECK(virtio_9p_init(&v->d, v->srv, "vol0", &err) == 0);
	*ops = virtio_9p_ops(v->d);
	*tdev = v->d;
	return v;
}

static void destroy(void *dev)
{
	struct v9 *v = dev;
	virtio_9p_free(v->d);
	p9_server_free(v->srv);
	free(v);
	vol_check(&vol);
}

static const struct hd_device v9p = {.create = create, .destroy = destroy};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hd_run(&v9p, data, size);
	return 0;
}
