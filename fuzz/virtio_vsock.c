/* Fuzz virtio-vsock behind a hostile driver (hostile_driver.h), with real
 * Unix sockets on the host side: the device listens on DIR/v.sock (host
 * processes connect there and say "CONNECT <port>"), and a listener at
 * DIR/v.sock_1024 takes guest-initiated connections to host port 1024
 * (the hcp control port); other ports have no listener (RST).
 * DEVICE ops: a host process connects and writes a line (or any bytes);
 * the event loop serves what is ready (evloop_poll); a host socket writes
 * bytes, shuts down, or closes; the transport is reset (as after a
 * restore). */
#include <sys/socket.h>
#include <sys/un.h>

#include "fuzz/hostile_driver.h"
#include "vmm/evloop.h"
#include "vmm/virtio/virtio_vsock.h"

#define HOST_FDS 16

static char *dir, *uds;
static int port_listener = -1;

struct vs {
	struct virtio_vsock *v;
	struct evloop *loop;
	int host[HOST_FDS]; /* host ends: our clients and accepted connections */
};

static void cleanup(void)
{
	fz_rmtree(dir);
}

static int listen_at(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FZ_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 64) == 0);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fz_tmpdir("vsock");
	atexit(cleanup);
	char *p;
	FZ_CHECK(asprintf(&uds, "%s/v.sock", dir) > 0 && asprintf(&p, "%s_1024", uds) > 0);
	port_listener = listen_at(p);
	free(p);
	return 0;
}

static void add_host(struct vs *s, int fd)
{
	for (unsigned i = 0; i < HOST_FDS; i++)
		if (s->host[i] < 0) {
			s->host[i] = fd;
			return;
		}
	close(fd);
}

static void *create(const struct guest_mem *mem, const struct virtio_dev_ops **ops, void **tdev)
{
	(void)mem;
	struct vs *s = calloc(1, sizeof(*s));
	FZ_CHECK(s);
	for (unsigned i = 0; i < HOST_FDS; i++)
		s->host[i] = -1;
	FZ_CHECK(evloop_init(&s->loop) == 0);
	struct errmsg err;
	FZ_CHECK(virtio_vsock_init(&s->v, VIRTIO_VSOCK_DEFAULT_CID, uds, s->loop, false, &err) ==
		 0);
	*ops = virtio_vsock_ops(s->v);
	*tdev = s->v;
	return s;
}

static void connect_(void *dev, struct virtio_mmio *t)
{
	struct vs *s = dev;
	virtio_vsock_set_transport(s->v, t);
}

static void host_connect(struct vs *s, struct fz *in)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FZ_CHECK(fd >= 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return;
	}
	uint8_t how = fz_u8(in);
	char line[64];
	size_t n;
	const uint8_t *p;
	if (how & 1) {
		p = fz_bytes(in, how >> 1, &n);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "CONNECT %u\n", fz_u16(in));
		p = (const uint8_t *)line;
	}
	if (n)
		(void)!send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	add_host(s, fd);
}

static void op(void *dev, struct virtio_mmio *t, struct fz *in)
{
	(void)t;
	struct vs *s = dev;
	uint8_t what = fz_u8(in);
	int *h = &s->host[(what >> 3) % HOST_FDS];
	size_t n;
	const uint8_t *p;
	switch (what & 7) {
	case 0:
		host_connect(s, in);
		break;
	case 1:
	case 2:
		for (int i = 0; i < 4 && evloop_poll(s->loop) > 0; i++)
			;
		break;
	case 3: {
		int fd;
		while ((fd = accept4(port_listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
			add_host(s, fd);
		break;
	}
	case 4:
		p = fz_bytes(in, fz_u16(in) % 8192, &n);
		if (*h >= 0 && n)
			(void)!send(*h, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		break;
	case 5:
		if (*h >= 0)
			shutdown(*h, (fz_u8(in) % 3));
		break;
	case 6:
		if (*h >= 0)
			close(*h);
		*h = -1;
		break;
	case 7:
		virtio_vsock_transport_reset(s->v);
		break;
	}
}

static void destroy(void *dev)
{
	struct vs *s = dev;
	virtio_vsock_free(s->v);
	evloop_free(s->loop);
	for (unsigned i = 0; i < HOST_FDS; i++)
		if (s->host[i] >= 0)
			close(s->host[i]);
	int fd;
	while ((fd = accept4(port_listener, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
	free(s);
}

static const struct hd_device vsock = {
    .create = create, .connect = connect_, .op = op, .destroy = destroy};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hd_run(&vsock, data, size);
	return 0;
}
