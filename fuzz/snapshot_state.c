/* Fuzz template state parsing: vmm/snapshot's `state` file (snapshot_open)
 * and the device blobs it carries (serial_restore, virtio_mmio_restore, then
 * the restored queues walked as a restored VM does, over the template's RAM:
 * snapshot_fixture.h's rings with a chain waiting). The input is the state
 * file without its trailing SHA-256, which the harness appends (a checksum
 * is no defence against a hostile file, only against a damaged one), and
 * with the total-length field patched to match, so mutations reach the
 * sections. Seeds: mkseeds.c writes templates with snapshot_write(). */
#include <fcntl.h>
#include <openssl/evp.h>

#include "fuzz/fuzz.h"
#include "fuzz/snapshot_fixture.h"
#include "vmm/x86/serial.h"

static char *dir, *state_path;

static void cleanup(void)
{
	fz_rmtree(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fz_tmpdir("snapshot");
	atexit(cleanup);
	char *mem;
	FZ_CHECK(asprintf(&state_path, "%s/state", dir) > 0 && asprintf(&mem, "%s/mem", dir) > 0);
	uint8_t *ram = calloc(1, FZ_SNAP_MEM);
	FZ_CHECK(ram);
	fz_snap_fill_ram(ram);
	int fd = open(mem, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FZ_CHECK(fd >= 0 && write(fd, ram, FZ_SNAP_MEM) == FZ_SNAP_MEM);
	close(fd);
	free(ram);
	free(mem);
	return 0;
}

static void write_state(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size + 32);
	FZ_CHECK(buf);
	memcpy(buf, data, size);
	if (size >= 24)
		vmstate_st64(buf + 16, size + 32);
	unsigned mdlen = 0;
	FZ_CHECK(EVP_Digest(buf, size, buf + size, &mdlen, EVP_sha256(), NULL) && mdlen == 32);
	int fd = open(state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FZ_CHECK(fd >= 0);
	FZ_CHECK(write(fd, buf, size + 32) == (ssize_t)(size + 32));
	close(fd);
	free(buf);
}

static void irq(void *ctx)
{
	(void)ctx;
}

static void uart_out(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
}

static void restore_devices(struct snapshot *s)
{
	const uint8_t *d;
	size_t n;
	struct errmsg err;
	if (snapshot_section(s, FZ_SNAP_SEC_UART, &d, &n) == 0) {
		struct serial *u;
		FZ_CHECK(serial_init(&u, uart_out, NULL, irq, NULL) == 0);
		if (serial_restore(u, d, n, &err) == 0) {
			/* read every register once, as the guest would */
			for (uint64_t off = 0; off < 8; off++) {
				uint8_t v;
				serial_io(u, off, &v, 1, false);
			}
		}
		serial_free(u);
	}
	if (snapshot_section(s, FZ_SNAP_SEC_VIRTIO, &d, &n) == 0) {
		struct virtio_mmio *t;
		FZ_CHECK(virtio_mmio_init(&t, 0xd0000000, &s->mem, &fz_snap_ops, NULL, irq, NULL) ==
			 0);
		if (virtio_mmio_restore(t, d, n, &err) == 0)
			for (unsigned q = 0; q < FZ_SNAP_QUEUES; q++)
				for (int round = 0; round < 4 && virtio_mmio_notify(t, q); round++)
					;
		virtio_mmio_free(t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_state(data, size);
	struct snapshot_expect e = {
	    .hull_version = FZ_SNAP_VERSION,
	    .key = FZ_SNAP_KEY,
	    .cpu = &fz_snap_cpu,
	};
	struct snapshot s;
	struct errmsg err = {{0}};
	int rc = snapshot_open(dir, &e, &s, &err);
	if (rc == 0) {
		FZ_CHECK(s.mem.total == FZ_SNAP_MEM && s.mem.nr == 1 && s.mem.r[0].host);
		restore_devices(&s);
		snapshot_close(&s);
	} else {
		FZ_CHECK(rc == -EBADMSG || rc == -ESTALE || rc == -ENOMEM);
		FZ_CHECK(err.text[0]);
	}
	return 0;
}
