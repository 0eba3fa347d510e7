/* Fuzz virtio-net behind a hostile driver (hostile_driver.h) with a back
 * end that takes (or, as the input says, refuses) every frame. DEVICE op:
 * a frame arrives from the network (virtio_net_rx). Checks: every frame
 * the back end gets is an Ethernet frame within the device's stated
 * bounds, and its iovecs describe exactly `len` bytes. */
#include "fuzz/hostile_driver.h"
#include "vmm/virtio/virtio_net.h"

struct net {
	struct virtio_net *n;
	struct virtio_net_backend be;
	bool refuse;
};

static int tx(void *ctx, const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net *n = ctx;
	size_t sum = 0;
	for (unsigned i = 0; i < cnt; i++) {
		/* touch every byte: ASan checks the device's pointers */
		volatile uint8_t x = 0;
		for (size_t j = 0; j < iov[i].iov_len; j++)
			x ^= ((const uint8_t *)iov[i].iov_base)[j];
		(void)x;
		sum += iov[i].iov_len;
	}
	FZ_CHECK(sum == len);
	FZ_CHECK(len >= VIRTIO_NET_ETH_MIN && len <= VIRTIO_NET_FRAME_MAX);
	return n->refuse ? -ENOBUFS : 0;
}

static void *create(const struct guest_mem *mem, const struct virtio_dev_ops **ops, void **tdev)
{
	(void)mem;
	struct net *n = calloc(1, sizeof(*n));
	FZ_CHECK(n);
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	FZ_CHECK(virtio_net_init(&n->n, mac, true) == 0);
	n->be = (struct virtio_net_backend){.tx = tx, .be = n};
	*ops = virtio_net_ops(n->n);
	*tdev = n->n;
	return n;
}

static void connect_(void *dev, struct virtio_mmio *t)
{
	struct net *n = dev;
	virtio_net_connect(n->n, t, &n->be);
}

static void op(void *dev, struct virtio_mmio *t, struct fz *in)
{
	(void)t;
	struct net *n = dev;
	uint8_t what = fz_u8(in);
	if (what & 1) {
		n->refuse = !n->refuse;
		return;
	}
	size_t len;
	const uint8_t *p = fz_bytes(in, fz_u16(in) % (VIRTIO_NET_FRAME_MAX + 64), &len);
	int rc = virtio_net_rx(n->n, p, len);
	FZ_CHECK(rc == 0 || rc == -EMSGSIZE || rc == -ENOBUFS);
	FZ_CHECK((rc == -EMSGSIZE) == (len < VIRTIO_NET_ETH_MIN || len > VIRTIO_NET_FRAME_MAX));
	FZ_CHECK(virtio_net_rx_backlog(n->n) <= VIRTIO_NET_BACKLOG_MAX);
}

static void destroy(void *dev)
{
	struct net *n = dev;
	virtio_net_free(n->n);
	free(n);
}

static const struct hd_device net = {
    .create = create, .connect = connect_, .op = op, .destroy = destroy};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hd_run(&net, data, size);
	return 0;
}
