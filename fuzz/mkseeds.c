/* mkseeds OUTDIR: write the seed inputs of the harnesses whose formats are
 * binary, one directory per harness (OUTDIR/NAME/), built with hull's own
 * encoders where it has them (hcp, snapshot_write, virtio_mmio_save,
 * libarchive for tars), so the seeds stay right when the formats change.
 * The text formats' seeds are files under fuzz/corpus/. fuzz/run calls
 * this before fuzzing; the seeds are small (a few KiB in all). */
#include <archive.h>
#include <archive_entry.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_9p.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <sys/sysmacros.h>

#include "fuzz/fuzz.h"
#include "fuzz/hostile_driver.h"
#include "fuzz/p9msg.h"
#include "fuzz/snapshot_fixture.h"
#include "images/convert_req.h"
#include "images/fetch_rec.h"
#include "images/import.h"
#include "images/import_rec.h"
#include "images/oci_json.h"
#include "proto/hcp.h"
#include "proto/vmmapi.h"
#include "shim/ttrpc.h"
#include "task.pb-c.h"
#include "ttrpc.pb-c.h"
#include "vmm/x86/serial.h"
#include "vmm/virtio/virtio_vsock.h"
#include "vmm/virtio/vsock_conn.h"

static const char *outdir;

/* A growable byte string. */
struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		FZ_CHECK(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void le(struct buf *b, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		put(b, &c, 1);
	}
}

static void save(const char *harness, const char *name, const void *p, size_t n)
{
	char *d, *f;
	FZ_CHECK(asprintf(&d, "%s/%s", outdir, harness) > 0);
	if (mkdir(d, 0755) < 0)
		FZ_CHECK(errno == EEXIST);
	FZ_CHECK(asprintf(&f, "%s/%s", d, name) > 0);
	int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FZ_CHECK(fd >= 0 && (n == 0 || write(fd, p, n) == (ssize_t)n));
	close(fd);
	free(d);
	free(f);
}

static void save_buf(const char *harness, const char *name, struct buf *b)
{
	save(harness, name, b->p, b->n);
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- hcp ---- */

static void frame(struct buf *b, uint8_t type, const void *payload, size_t n)
{
	uint8_t hdr[HCP_HDR_LEN];
	FZ_CHECK(hcp_header_encode(hdr, type, (uint32_t)n) == 0);
	put(b, hdr, sizeof(hdr));
	put(b, payload, n);
}

static void frame_u32(struct buf *b, uint8_t type, uint32_t v)
{
	uint8_t p[4];
	hcp_u32_encode(p, v);
	frame(b, type, p, 4);
}

static void hcp_seeds(void)
{
	char *argv[] = {"sh", "-c", "echo hello", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", "HOME=/root", NULL};
	char *dns[] = {"10.0.2.3"};
	char *hosts[] = {"10.0.2.2 host.internal"};
	struct hcp_volume vols[] = {{"vol0", "/data", false}, {"vol1", "/ro", true}};
	struct hcp_spec s = {
	    .argv = argv,
	    .argc = 3,
	    .envp = envp,
	    .envc = 2,
	    .cwd = "/",
	    .user = "1000:1000",
	    .hostname = "fuzz",
	    .rootfs = "/dev/vda",
	    .realtime_ns = 1700000000000000000ull,
	    .has_seed = true,
	    .volumes = vols,
	    .nvolumes = 2,
	    .tty = true,
	    .rows = 24,
	    .cols = 80,
	    .net_mac = "52:54:00:12:34:56",
	    .net_addr = "10.0.2.15/24",
	    .net_gw = "10.0.2.2",
	    .net_dns = dns,
	    .n_dns = 1,
	    .net_hosts = hosts,
	    .n_hosts = 1,
	};
	memset(s.seed, 0xab, sizeof(s.seed));
	uint8_t *spec, *exec;
	size_t spec_len, exec_len;
	FZ_CHECK(hcp_spec_encode(&s, &spec, &spec_len) == 0);
	struct hcp_spec e = {.argv = argv, .argc = 3, .envp = envp, .envc = 1, .user = "root"};
	FZ_CHECK(hcp_exec_encode(&e, &exec, &exec_len) == 0);
	uint8_t ws[HCP_WINSIZE_LEN];
	hcp_winsize_encode(ws, 50, 132);

	/* guest side: what the host sends */
	struct buf b = {0};
	le(&b, 0, 1); /* chunk: one byte at a time */
	frame(&b, HCP_SPEC, spec, spec_len);
	frame(&b, HCP_STDIN, "input\n", 6);
	frame(&b, HCP_RESIZE, ws, sizeof(ws));
	frame_u32(&b, HCP_SIGNAL, 15);
	frame(&b, HCP_STDIN_EOF, NULL, 0);
	save_buf("hcp-guest", "spec", &b);
	le(&b, 255, 1);
	frame(&b, HCP_EXEC, exec, exec_len);
	frame_u32(&b, HCP_MAIN_SIGNAL, 2);
	save_buf("hcp-guest", "exec", &b);

	/* host side: what guest-init sends, between the host's actions */
	struct buf g = {0};
	frame(&g, HCP_READY, NULL, 0);
	frame_u32(&g, HCP_STARTED, 42);
	frame(&g, HCP_STDOUT, "hello\n", 6);
	frame(&g, HCP_STDERR, "oops\n", 5);
	frame_u32(&g, HCP_EXIT, 0);
	le(&b, 0, 1); /* flags: main session, stdin closed */
	le(&b, 0, 1); /* FEED */
	le(&b, g.n, 2);
	put(&b, g.p, g.n);
	save_buf("hcp-host", "run", &b);
	free(g.p);
	memset(&g, 0, sizeof(g));

	le(&b, 2 | 4 | 8, 1); /* stdin open, ready hook, tty */
	frame(&g, HCP_READY, NULL, 0);
	le(&b, 0, 1);
	le(&b, g.n, 2);
	put(&b, g.p, g.n);
	le(&b, 8, 1); /* send the spec */
	le(&b, 7, 1); /* resize */
	le(&b, 40, 2);
	le(&b, 100, 2);
	g.n = 0;
	frame_u32(&g, HCP_STARTED, 7);
	le(&b, 0, 1);
	le(&b, g.n, 2);
	put(&b, g.p, g.n);
	le(&b, 5, 1); /* stdin */
	le(&b, 3, 1);
	put(&b, "ls\n", 3);
	le(&b, 4, 1); /* signal */
	le(&b, 2, 1);
	le(&b, 6, 1); /* stdin EOF */
	g.n = 0;
	frame(&g, HCP_ERROR, "no such file", 12);
	frame_u32(&g, HCP_EXIT, 127);
	le(&b, 0, 1);
	le(&b, g.n, 2);
	put(&b, g.p, g.n);
	save_buf("hcp-host", "interactive", &b);

	le(&b, 1, 1); /* exec session: no READY */
	g.n = 0;
	frame_u32(&g, HCP_STARTED, 9);
	frame(&g, HCP_STDOUT, "x", 1);
	frame_u32(&g, HCP_EXIT, 3);
	le(&b, 0, 1);
	le(&b, g.n, 2);
	put(&b, g.p, g.n);
	save_buf("hcp-host", "exec", &b);
	free(g.p);
	free(spec);
	free(exec);
}

/* ---- the hostile driver's ops (hostile_driver.h) ---- */

static void op_setup(struct buf *b, uint64_t features, uint8_t mask, uint8_t log2size)
{
	le(b, HD_SETUP, 1);
	le(b, features | (1ull << VIRTIO_F_VERSION_1), 8);
	le(b, mask, 1);
	le(b, log2size, 1);
}

static void op_ram(struct buf *b, uint32_t gpa, const void *p, size_t n)
{
	const uint8_t *c = p;
	while (n) {
		size_t k = n > 255 ? 255 : n;
		le(b, HD_RAM_W, 1);
		le(b, gpa, 4);
		le(b, k, 1);
		put(b, c, k);
		c += k;
		gpa += (uint32_t)k;
		n -= k;
	}
}

static void op_desc(struct buf *b, unsigned q, unsigned i, uint32_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	le(b, HD_DESC, 1);
	le(b, q, 1);
	le(b, i, 1);
	le(b, addr, 4);
	le(b, len, 4);
	le(b, flags, 2);
	le(b, next, 2);
}

static void op_avail(struct buf *b, unsigned q, uint16_t head)
{
	le(b, HD_AVAIL, 1);
	le(b, q, 1);
	le(b, head, 2);
}

static void op_notify(struct buf *b, unsigned q)
{
	le(b, HD_NOTIFY, 1);
	le(b, q, 1);
}

static void blk_request(struct buf *b, uint32_t type, uint64_t sector, uint16_t first,
			uint32_t data_len, bool data_writable)
{
	uint8_t hdr[16] = {0};
	for (unsigned i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(type >> (8 * i));
	for (unsigned i = 0; i < 8; i++)
		hdr[8 + i] = (uint8_t)(sector >> (8 * i));
	uint32_t at = HD_DATA + first * 0x1000u;
	op_ram(b, at, hdr, sizeof(hdr));
	op_desc(b, 0, first, at, 16, VRING_DESC_F_NEXT, first + 1);
	unsigned st = first + 1;
	if (data_len) {
		op_desc(b, 0, first + 1, at + 0x100, data_len,
			VRING_DESC_F_NEXT | (data_writable ? VRING_DESC_F_WRITE : 0), first + 2);
		st = first + 2;
	}
	op_desc(b, 0, st, at + 0x800, 1, VRING_DESC_F_WRITE, 0);
	op_avail(b, 0, first);
}

static void blk_seeds(void)
{
	uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_FLUSH);
	struct buf b = {0};
	op_setup(&b, f, 1, 4);
	blk_request(&b, VIRTIO_BLK_T_IN, 1, 0, 512, true);
	blk_request(&b, VIRTIO_BLK_T_OUT, 2, 3, 1024, false);
	blk_request(&b, VIRTIO_BLK_T_FLUSH, 0, 6, 0, false);
	blk_request(&b, VIRTIO_BLK_T_GET_ID, 0, 9, 20, true);
	op_notify(&b, 0);
	save_buf("virtio-blk", "requests", &b);

	/* an indirect table at HD_DATA + 0x8000 holding an IN request */
	op_setup(&b, f | (1ull << VIRTIO_RING_F_INDIRECT_DESC), 1, 3);
	struct vring_desc t[3] = {
	    {htole64(HD_DATA), htole32(16), htole16(VRING_DESC_F_NEXT), htole16(1)},
	    {htole64(HD_DATA + 0x100), htole32(512),
	     htole16(VRING_DESC_F_NEXT | VRING_DESC_F_WRITE), htole16(2)},
	    {htole64(HD_DATA + 0x800), htole32(1), htole16(VRING_DESC_F_WRITE), 0},
	};
	op_ram(&b, HD_DATA + 0x8000, t, sizeof(t));
	op_desc(&b, 0, 0, HD_DATA + 0x8000, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	op_avail(&b, 0, 0);
	op_notify(&b, 0);
	le(&b, HD_DEVICE, 1); /* new backing file */
	le(&b, HD_SAVE, 1);
	le(&b, 1, 1);
	le(&b, 20, 2);
	le(&b, 0x40, 1);
	save_buf("virtio-blk", "indirect", &b);
}

static void net_seeds(void)
{
	uint64_t f = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
		     (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
		     (1ull << VIRTIO_NET_F_HOST_TSO4);
	struct buf b = {0};
	op_setup(&b, f, 3, 4);
	/* two receive buffers */
	for (unsigned i = 0; i < 2; i++) {
		op_desc(&b, 0, i, HD_DATA + i * 0x1000, 2048, VRING_DESC_F_WRITE, 0);
		op_avail(&b, 0, (uint16_t)i);
	}
	op_notify(&b, 0);
	/* a frame from the network */
	uint8_t eth[60] = {0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0, 2, 2, 0x08, 0x00};
	le(&b, HD_DEVICE, 1);
	le(&b, 0, 1);
	le(&b, sizeof(eth), 2);
	put(&b, eth, sizeof(eth));
	/* the guest transmits: header then an IPv4/TCP frame asking for a checksum */
	uint8_t tx[12 + 54] = {0};
	tx[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	tx[6] = 34; /* csum_start: the TCP header */
	tx[8] = 16; /* csum_offset: TCP checksum */
	memcpy(tx + 12, eth, 14);
	uint8_t *ip = tx + 12 + 14;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 10, ip[15] = 15, ip[16] = 10, ip[19] = 2;
	ip[20 + 12] = 0x50;
	op_ram(&b, HD_DATA + 0x4000, tx, sizeof(tx));
	op_desc(&b, 1, 0, HD_DATA + 0x4000, 12, VRING_DESC_F_NEXT, 1);
	op_desc(&b, 1, 1, HD_DATA + 0x4000 + 12, sizeof(tx) - 12, 0, 0);
	op_avail(&b, 1, 0);
	op_notify(&b, 1);
	save_buf("virtio-net", "rx-tx", &b);
}

static void vsock_pkt(struct buf *b, unsigned slot, uint16_t op, uint32_t len, const void *data)
{
	struct vsock_hdr h = {
	    .src_cid = VIRTIO_VSOCK_DEFAULT_CID,
	    .dst_cid = VSOCK_HOST_CID,
	    .src_port = 5000,
	    .dst_port = 1024,
	    .len = len,
	    .type = VIRTIO_VSOCK_TYPE_STREAM,
	    .op = op,
	    .buf_alloc = 65536,
	};
	uint8_t raw[VSOCK_HDR_LEN];
	vsock_hdr_encode(&h, raw);
	uint32_t at = HD_DATA + 0x8000 + slot * 0x400;
	op_ram(b, at, raw, sizeof(raw));
	if (len) {
		op_ram(b, at + 0x100, data, len);
		op_desc(b, 1, slot * 2, at, sizeof(raw), VRING_DESC_F_NEXT, slot * 2 + 1);
		op_desc(b, 1, slot * 2 + 1, at + 0x100, len, 0, 0);
	} else {
		op_desc(b, 1, slot * 2, at, sizeof(raw), 0, 0);
	}
	op_avail(b, 1, slot * 2);
	op_notify(b, 1);
}

static void vsock_seeds(void)
{
	struct buf b = {0};
	op_setup(&b, 0, 7, 4);
	for (unsigned i = 0; i < 4; i++) {
		op_desc(&b, 0, i, HD_DATA + i * 0x1000, 4096, VRING_DESC_F_WRITE, 0);
		op_avail(&b, 0, (uint16_t)i);
	}
	op_desc(&b, 2, 0, HD_DATA + 0x6000, 8, VRING_DESC_F_WRITE, 0);
	op_avail(&b, 2, 0);
	op_notify(&b, 0);
	op_notify(&b, 2);
	vsock_pkt(&b, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL);
	le(&b, HD_DEVICE, 1); /* accept at the host listener */
	le(&b, 3, 1);
	vsock_pkt(&b, 1, VIRTIO_VSOCK_OP_RW, 5, "hello");
	le(&b, HD_DEVICE, 1); /* the host answers */
	le(&b, 4, 1);
	le(&b, 3, 2);
	put(&b, "hi\n", 3);
	le(&b, HD_DEVICE, 1); /* the event loop */
	le(&b, 1, 1);
	op_notify(&b, 0);
	vsock_pkt(&b, 2, VIRTIO_VSOCK_OP_SHUTDOWN, 0, NULL);
	le(&b, HD_DEVICE, 1); /* transport reset */
	le(&b, 7, 1);
	save_buf("virtio-vsock", "guest-connects", &b);

	op_setup(&b, 0, 7, 4);
	for (unsigned i = 0; i < 4; i++) {
		op_desc(&b, 0, i, HD_DATA + i * 0x1000, 4096, VRING_DESC_F_WRITE, 0);
		op_avail(&b, 0, (uint16_t)i);
	}
	op_notify(&b, 0);
	le(&b, HD_DEVICE, 1); /* a host process asks for guest port 1025 */
	le(&b, 0, 1);
	le(&b, 0, 1); /* "CONNECT <port>\n" */
	le(&b, 1025, 2);
	le(&b, HD_DEVICE, 1);
	le(&b, 1, 1);
	le(&b, HD_DEVICE, 1);
	le(&b, 1, 1);
	op_notify(&b, 0);
	save_buf("virtio-vsock", "host-connects", &b);
}

/* ---- 9p ---- */

/* Raw bytes into a 9p message (p9_msg.h has the integer and string parts). */
static void m_raw(struct p9m *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

enum {
	TSTATFS = 8,
	TLOPEN = 12,
	TLCREATE = 14,
	TSYMLINK = 16,
	TREADLINK = 22,
	TGETATTR = 24,
	TSETATTR = 26,
	TREADDIR = 40,
	TLINK = 70,
	TMKDIR = 72,
	TRENAMEAT = 74,
	TUNLINKAT = 76,
	TWALK = 110,
	TREAD = 116,
	TWRITE = 118,
	TCLUNK = 120,
};

/* A session's messages, each as the p9 harness frames them (u16 length
 * first) when framed is set, else back to back. */
static void p9_session(struct buf *out, bool framed)
{
	struct p9m m;
	uint16_t tag = 2;
#define MSG(type, body)                                                                            \
	do {                                                                                       \
		m_begin(&m, type, tag++);                                                          \
		body;                                                                              \
		m_end(&m);                                                                         \
		if (framed)                                                                        \
			le(out, m.n, 2);                                                           \
		put(out, m.b, m.n);                                                                \
	} while (0)
	MSG(TWALK, {
		m_u32(&m, 0);
		m_u32(&m, 1);
		m_u16(&m, 1);
		m_str(&m, "a");
	});
	MSG(TLOPEN, {
		m_u32(&m, 1);
		m_u32(&m, 2 /* O_RDWR */);
	});
	MSG(TREAD, {
		m_u32(&m, 1);
		m_u64(&m, 0);
		m_u32(&m, 100);
	});
	MSG(TWRITE, {
		m_u32(&m, 1);
		m_u64(&m, 6);
		m_u32(&m, 4);
		m_raw(&m, "FROM", 4);
	});
	MSG(TWALK, {
		m_u32(&m, 0);
		m_u32(&m, 2);
		m_u16(&m, 1);
		m_str(&m, "up");
	});
	MSG(TREADLINK, { m_u32(&m, 2); });
	MSG(TWALK, {
		m_u32(&m, 0);
		m_u32(&m, 3);
		m_u16(&m, 2);
		m_str(&m, "d");
		m_str(&m, "..");
	});
	MSG(TGETATTR, {
		m_u32(&m, 3);
		m_u64(&m, 0x3fff);
	});
	MSG(TWALK, {
		m_u32(&m, 0);
		m_u32(&m, 4);
		m_u16(&m, 0);
	});
	MSG(TLCREATE, {
		m_u32(&m, 4);
		m_str(&m, "new");
		m_u32(&m, 0101 /* O_WRONLY|O_CREAT */);
		m_u32(&m, 0644);
		m_u32(&m, 0);
	});
	MSG(TWRITE, {
		m_u32(&m, 4);
		m_u64(&m, 0);
		m_u32(&m, 5);
		m_raw(&m, "data\n", 5);
	});
	MSG(TMKDIR, {
		m_u32(&m, 0);
		m_str(&m, "sub");
		m_u32(&m, 0755);
		m_u32(&m, 0);
	});
	MSG(TSYMLINK, {
		m_u32(&m, 0);
		m_str(&m, "ln");
		m_str(&m, "../outside/secret");
		m_u32(&m, 0);
	});
	MSG(TWALK, {
		m_u32(&m, 0);
		m_u32(&m, 5);
		m_u16(&m, 1);
		m_str(&m, "d");
	});
	MSG(TLINK, {
		m_u32(&m, 5);
		m_u32(&m, 1);
		m_str(&m, "hard");
	});
	MSG(TRENAMEAT, {
		m_u32(&m, 0);
		m_str(&m, "new");
		m_u32(&m, 5);
		m_str(&m, "moved");
	});
	MSG(TSETATTR, {
		m_u32(&m, 1);
		m_u32(&m, 1 | 8 /* MODE|SIZE */);
		m_u32(&m, 0600);
		m_u32(&m, 0);
		m_u32(&m, 0);
		m_u64(&m, 3);
		m_u64(&m, 0);
		m_u64(&m, 0);
		m_u64(&m, 0);
		m_u64(&m, 0);
	});
	MSG(TWALK, {
		m_u32(&m, 0);
		m_u32(&m, 6);
		m_u16(&m, 0);
	});
	MSG(TLOPEN, {
		m_u32(&m, 6);
		m_u32(&m, 0);
	});
	MSG(TREADDIR, {
		m_u32(&m, 6);
		m_u64(&m, 0);
		m_u32(&m, 4096);
	});
	MSG(TSTATFS, { m_u32(&m, 0); });
	MSG(TUNLINKAT, {
		m_u32(&m, 0);
		m_str(&m, "sub");
		m_u32(&m, 0x200 /* AT_REMOVEDIR */);
	});
	MSG(TCLUNK, { m_u32(&m, 1); });
#undef MSG
}

static void p9_seeds(void)
{
	struct buf b = {0};
	le(&b, 2, 1); /* read-write, passthrough ids */
	p9_session(&b, true);
	save_buf("p9", "session", &b);
	le(&b, 1, 1); /* read-only */
	p9_session(&b, true);
	save_buf("p9", "read-only", &b);

	/* virtio-9p: the same session, one chain per message */
	struct buf msgs = {0};
	struct p9m m;
	fz_p9_version(&m, 65536);
	put(&msgs, m.b, m.n);
	fz_p9_attach(&m);
	put(&msgs, m.b, m.n);
	p9_session(&msgs, false);
	op_setup(&b, 1ull << VIRTIO_9P_MOUNT_TAG, 1, 4);
	unsigned slot = 0;
	for (size_t off = 0; off < msgs.n && slot < 16;) {
		uint32_t len = (uint32_t)msgs.p[off] | (uint32_t)msgs.p[off + 1] << 8;
		uint32_t at = HD_DATA + slot * 0x2000;
		op_ram(&b, at, msgs.p + off, len);
		unsigned d = (slot * 2) % 16;
		op_desc(&b, 0, d, at, len, VRING_DESC_F_NEXT, d + 1);
		op_desc(&b, 0, d + 1, at + 0x1000, 0x1000, VRING_DESC_F_WRITE, 0);
		op_avail(&b, 0, (uint16_t)d);
		op_notify(&b, 0);
		off += len;
		slot++;
	}
	save_buf("virtio-9p", "session", &b);
	free(msgs.p);
}

/* ---- snapshot state ---- */

static void irq(void *ctx)
{
	(void)ctx;
}

static void uart_out(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

static void snapshot_seeds(void)
{
	uint8_t *ram = aligned_alloc(4096, FZ_SNAP_MEM);
	FZ_CHECK(ram);
	memset(ram, 0, FZ_SNAP_MEM);
	struct guest_mem mem;
	guest_mem_wrap(&mem, ram, FZ_SNAP_MEM);

	struct serial *u;
	FZ_CHECK(serial_init(&u, uart_out, NULL, irq, NULL) == 0);
	FZ_CHECK(serial_input(u, (const uint8_t *)"typed ahead\n", 12) == 0);
	struct vmstate_buf us;
	vmstate_buf_init(&us);
	FZ_CHECK(serial_save(u, &us) == 0);
	serial_free(u);

	/* a transport with both queues live, as a booted guest leaves it */
	struct virtio_mmio *t;
	FZ_CHECK(virtio_mmio_init(&t, 0xd0000000, &mem, &fz_snap_ops, NULL, irq, NULL) == 0);
	uint32_t v;
#define W(off, val) (v = htole32(val), virtio_mmio_write(t, off, &v, 4))
	W(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	W(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_RING_F_INDIRECT_DESC);
	W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	W(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	W(VIRTIO_MMIO_STATUS,
	  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < FZ_SNAP_QUEUES; q++) {
		W(VIRTIO_MMIO_QUEUE_SEL, q);
		W(VIRTIO_MMIO_QUEUE_NUM, FZ_SNAP_QSIZE);
		W(VIRTIO_MMIO_QUEUE_DESC_LOW, FZ_SNAP_DESC(q));
		W(VIRTIO_MMIO_QUEUE_AVAIL_LOW, FZ_SNAP_AVAIL(q));
		W(VIRTIO_MMIO_QUEUE_USED_LOW, FZ_SNAP_USED(q));
		W(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	W(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
#undef W
	fz_snap_fill_ram(ram);
	struct vmstate_buf vs;
	vmstate_buf_init(&vs);
	FZ_CHECK(virtio_mmio_save(t, &vs) == 0);
	virtio_mmio_free(t);

	struct snapshot_section secs[] = {
	    {FZ_SNAP_SEC_UART, us.data, us.len},
	    {FZ_SNAP_SEC_VIRTIO, vs.data, vs.len},
	};
	struct snapshot_desc desc = {
	    .hull_version = FZ_SNAP_VERSION,
	    .key = FZ_SNAP_KEY,
	    .cpu = &fz_snap_cpu,
	    .sections = secs,
	    .nsections = 2,
	};
	char *tmp = fz_tmpdir("mkseeds"), *dir, *state;
	FZ_CHECK(asprintf(&dir, "%s/t", tmp) > 0 && asprintf(&state, "%s/state", dir) > 0);
	struct errmsg err;
	if (snapshot_write(dir, &desc, &mem, &err)) {
		fprintf(stderr, "mkseeds: %s\n", err.text);
		abort();
	}
	int fd = open(state, O_RDONLY | O_CLOEXEC);
	FZ_CHECK(fd >= 0);
	struct stat st;
	FZ_CHECK(fstat(fd, &st) == 0 && st.st_size > 32);
	uint8_t *p = malloc((size_t)st.st_size);
	FZ_CHECK(p && read(fd, p, (size_t)st.st_size) == st.st_size);
	close(fd);
	save("snapshot-state", "template", p, (size_t)st.st_size - 32); /* without the SHA-256 */
	free(p);
	fz_rmtree(tmp);
	free(tmp);
	free(dir);
	free(state);
	vmstate_buf_free(&us);
	vmstate_buf_free(&vs);
	free(ram);
}

/* ---- tar layers ---- */

struct entry {
	const char *path;
	unsigned type; /* AE_IF* */
	unsigned mode;
	const char *data_or_link;
	bool hardlink;
};

#define SPARSE_SIZE 65536

/* filter: 0 none, 1 gzip, 2 zstd. sparse: each regular file with data is a
 * 64 KiB sparse file (GNU.sparse 1.0 in pax) holding it at 0, 4090 (across
 * a block) and its end. */
static void tar(struct buf *b, const struct entry *e, size_t n, int filter, bool sparse)
{
	struct archive *a = archive_write_new();
	FZ_CHECK(a);
	FZ_CHECK(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
	if (filter == 1)
		FZ_CHECK(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
	if (filter == 2)
		FZ_CHECK(archive_write_add_filter_zstd(a) == ARCHIVE_OK);
	size_t cap = 1 << 20, used = 0;
	uint8_t *mem = malloc(cap);
	FZ_CHECK(mem);
	FZ_CHECK(archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK);
	FZ_CHECK(archive_write_open_memory(a, mem, cap, &used) == ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_mtime(ae, 1700000000, 0);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		archive_entry_set_perm(ae, e[i].mode);
		size_t len = 0;
		if (e[i].hardlink) {
			archive_entry_set_hardlink(ae, e[i].data_or_link);
		} else {
			archive_entry_set_filetype(ae, e[i].type);
			if (e[i].type == AE_IFLNK)
				archive_entry_set_symlink(ae, e[i].data_or_link);
			if (e[i].type == AE_IFREG && e[i].data_or_link)
				len = strlen(e[i].data_or_link);
			if (e[i].type == AE_IFCHR)
				archive_entry_set_rdev(ae, makedev(1, 3));
			if (e[i].type == AE_IFREG && i == 1)
				archive_entry_xattr_add_entry(ae, "user.fuzz", "v", 1);
		}
		static uint8_t content[SPARSE_SIZE];
		bool sp = sparse && len && !e[i].hardlink;
		if (sp) {
			const uint64_t at[] = {0, 4090, SPARSE_SIZE - len};
			memset(content, 0, sizeof(content));
			archive_entry_set_size(ae, SPARSE_SIZE);
			for (size_t j = 0; j < 3; j++) {
				memcpy(content + at[j], e[i].data_or_link, len);
				archive_entry_sparse_add_entry(ae, (la_int64_t)at[j],
							       (la_int64_t)len);
			}
		} else {
			archive_entry_set_size(ae, (la_int64_t)len);
		}
		FZ_CHECK(archive_write_header(a, ae) == ARCHIVE_OK);
		const void *data = sp ? content : (const void *)e[i].data_or_link;
		len = sp ? SPARSE_SIZE : len;
		if (len)
			FZ_CHECK(archive_write_data(a, data, len) == (la_ssize_t)len);
		archive_entry_free(ae);
	}
	FZ_CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	put(b, mem, used);
	free(mem);
}

static void layer_seeds(void)
{
	static const struct entry lower[] = {
	    {"etc/", AE_IFDIR, 0755, NULL, false},
	    {"etc/passwd", AE_IFREG, 0644, "root:x:0:0:root:/root:/bin/sh\n", false},
	    {"bin/busybox", AE_IFREG, 0755, "#!ELF not really\n", false},
	    {"bin/sh", AE_IFLNK, 0777, "busybox", false},
	    {"bin/ls", 0, 0755, "bin/busybox", true},
	    {"dev/null", AE_IFCHR, 0666, NULL, false},
	    {"run/fifo", AE_IFIFO, 0600, NULL, false},
	    {"opt/app/a", AE_IFREG, 0600, "a\n", false},
	    {"opt/app/b", AE_IFREG, 0600, "b\n", false},
	};
	static const struct entry upper[] = {
	    {"etc/.wh.passwd", AE_IFREG, 0644, NULL, false},
	    {"opt/app/.wh..wh..opq", AE_IFREG, 0644, NULL, false},
	    {"opt/app/c", AE_IFREG, 0644, "c\n", false},
	    {"bin/sh", AE_IFREG, 0755, "replaced\n", false},
	    {"usr/lib/x", 0, 0644, "bin/busybox", true},
	};
	static const struct entry sparse[] = {
	    {"var/log/", AE_IFDIR, 0755, NULL, false},
	    {"var/log/lastlog", AE_IFREG, 0644, "lastlog entry\n", false},
	    {"var/log/wtmp", AE_IFREG, 0644, "w", false},
	};
	struct buf b = {0};
	le(&b, 0, 1);
	tar(&b, lower, sizeof(lower) / sizeof(lower[0]), 0, false);
	save_buf("layer", "tar", &b);

	struct buf lo = {0};
	tar(&lo, lower, sizeof(lower) / sizeof(lower[0]), 0, false);
	le(&b, 0x80, 1);
	le(&b, lo.n, 2);
	put(&b, lo.p, lo.n);
	tar(&b, upper, sizeof(upper) / sizeof(upper[0]), 0, false);
	save_buf("layer", "two-layers", &b);
	free(lo.p);

	le(&b, 1, 1);
	tar(&b, lower, sizeof(lower) / sizeof(lower[0]), 1, false);
	save_buf("layer", "gzip", &b);
	le(&b, 2, 1);
	tar(&b, upper, sizeof(upper) / sizeof(upper[0]), 2, false);
	save_buf("layer", "zstd", &b);

	/* sparse entries: their maps go to the ext4 writer */
	le(&b, 0, 1);
	tar(&b, sparse, sizeof(sparse) / sizeof(sparse[0]), 0, true);
	save_buf("layer", "sparse", &b);
}

/* ---- shim-ttrpc: containerd's task calls as ttrpc frames ---- */

static void ttrpc_frame(struct buf *b, uint32_t sid, uint8_t type, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = malloc(n ? n : 1), hdr[TTRPC_HDR_LEN];
	FZ_CHECK(p && protobuf_c_message_pack(m, p) == n);
	ttrpc_hdr_encode(&(struct ttrpc_hdr){.len = (uint32_t)n, .sid = sid, .type = type}, hdr);
	put(b, hdr, sizeof(hdr));
	put(b, p, n);
	free(p);
}

/* A task v2 request, m packed into a ttrpc.Request's payload. */
static void task_call(struct buf *b, uint32_t sid, const char *method, const ProtobufCMessage *m)
{
	Ttrpc__Request r = TTRPC__REQUEST__INIT;
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = malloc(n ? n : 1);
	FZ_CHECK(p && protobuf_c_message_pack(m, p) == n);
	r.service = "containerd.task.v2.Task";
	r.method = (char *)method;
	r.payload = (ProtobufCBinaryData){n, p};
	r.timeout_nano = 2000000000;
	ttrpc_frame(b, sid, TTRPC_REQUEST, &r.base);
	free(p);
}

static void shim_seeds(void)
{
	struct buf b = {0};
	Containerd__Task__V2__Mount mnt = CONTAINERD__TASK__V2__MOUNT__INIT;
	char *opts[] = {"index=off", "lowerdir=/l1:/l2", "upperdir=/u", "workdir=/w"};
	mnt.type = "overlay";
	mnt.source = "overlay";
	mnt.n_options = 4;
	mnt.options = opts;
	Containerd__Task__V2__Mount *mnts[] = {&mnt};
	Containerd__Task__V2__CreateTaskRequest c = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	c.id = "t1";
	c.bundle = "/run/containerd/io.containerd.runtime.v2.task/default/t1";
	c.n_rootfs = 1;
	c.rootfs = mnts;
	c.stdout = "/run/containerd/fifo/1/t1-stdout";
	c.stderr = "/run/containerd/fifo/1/t1-stderr";
	task_call(&b, 1, "Create", &c.base);
	save_buf("shim-ttrpc", "create", &b);

	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	static const char json[] = "{\"args\":[\"sh\",\"-c\",\"echo hi\"],\"cwd\":\"/\","
				   "\"user\":{\"uid\":0,\"gid\":0},\"env\":[\"PATH=/bin\"]}";
	spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
	spec.value = (ProtobufCBinaryData){sizeof(json) - 1, (uint8_t *)json};
	Containerd__Task__V2__ExecProcessRequest x =
	    CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	x.id = "t1";
	x.exec_id = "x1";
	x.stdout = "/run/containerd/fifo/2/x1-stdout";
	x.spec = &spec;
	Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	k.id = "t1";
	k.signal = 9;
	k.all = true;
	Containerd__Task__V2__StartRequest st = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	st.id = "t1";
	/* a session: several calls on a connection, a stray response among them */
	task_call(&b, 3, "Start", &st.base);
	task_call(&b, 5, "Exec", &x.base);
	Ttrpc__Status status = TTRPC__STATUS__INIT;
	status.code = 5;
	status.message = "not found";
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	resp.status = &status;
	ttrpc_frame(&b, 6, TTRPC_RESPONSE, &resp.base);
	task_call(&b, 7, "Kill", &k.base);
	save_buf("shim-ttrpc", "session", &b);
}

/* ---- vmmapi: one packet per seed, each type, written by its encoder ---- */

static void vmmapi_seed(const char *name, const struct vmmapi_msg *m)
{
	static uint8_t p[VMMAPI_MAX_MSG];
	struct errmsg err = {0};
	int n = vmmapi_encode(m, p, sizeof(p), &err);
	FZ_CHECK(n > 0);
	save("vmmapi", name, p, (size_t)n);
}

static void vmmapi_seeds(void)
{
	struct vmmapi_msg m = {.type = VMMAPI_CONFIG};
	m.config = (struct vmmapi_config){
	    .kernel = "/vmlinux",
	    .initrd = "/initramfs.cpio",
	    .cmdline_extra = "quiet",
	    .cpus = 1,
	    .mem_bytes = 128u << 20,
	    .pvm = -1,
	    .disks = {{.path = "/image.ext4", .read_only = true}, {.path = NULL}},
	    .ndisks = 2,
	    .volumes = {{.host_dir = "/vol", .read_only = false}},
	    .nvolumes = 1,
	    .vsock_uds = "/run/v.sock",
	    .vsock_cid = 3,
	    .net_mode = VMMAPI_NET_SLIRP,
	    .net_mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56},
	    .ports = {{.udp = false, .host_ip = 0, .host_port = 8080, .guest_port = 80}},
	    .nports = 1,
	    .template_root = "/templates",
	    .disk_read_bps = 65536,
	    .net_tx_pps = 100,
	};
	vmmapi_seed("config", &m);
	m = (struct vmmapi_msg){.type = VMMAPI_ATTACH_DISK, .attach = {.index = 1, .path = "/d"}};
	vmmapi_seed("attach", &m);
	const uint32_t bare[] = {VMMAPI_SAVE_TEMPLATE, VMMAPI_PAUSE, VMMAPI_RESUME, VMMAPI_STOP,
				 VMMAPI_GET_COUNTERS};
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "bare-%u", bare[i]);
		m = (struct vmmapi_msg){.type = bare[i]};
		vmmapi_seed(name, &m);
	}
	m = (struct vmmapi_msg){
	    .type = VMMAPI_CREATED,
	    .created = {
		.boot = VMMAPI_BOOT_REFUSED, .t_exec = 1, .t_ns = 2, .why = "checksum mismatch"}};
	vmmapi_seed("created", &m);
	m = (struct vmmapi_msg){.type = VMMAPI_STARTED, .started = {.t_ns = 3}};
	vmmapi_seed("started", &m);
	m = (struct vmmapi_msg){
	    .type = VMMAPI_RESULT,
	    .result = {.op = VMMAPI_ATTACH_DISK, .err = -ENOENT, .text = "no disk"}};
	vmmapi_seed("result", &m);
	m = (struct vmmapi_msg){.type = VMMAPI_STOPPED,
				.stopped = {.reason = VMMAPI_STOP_SHUTDOWN, .t_ns = 4, .why = "x"}};
	vmmapi_seed("stopped", &m);
	m = (struct vmmapi_msg){
	    .type = VMMAPI_COUNTERS,
	    .counters = {.net_rx_bytes = 1500, .net_rx_frames = 1, .blk_reads = 2}};
	vmmapi_seed("counters", &m);
	/* with KVM's stats: exits, insn_emulation and the last one known */
	m.counters.kvm_present = 1u | 1u << 8 | 1ull << (VMMAPI_KSTATS - 1);
	m.counters.kvm[0] = 1000;
	m.counters.kvm[8] = 77;
	m.counters.kvm[VMMAPI_KSTATS - 1] = 3;
	vmmapi_seed("counters-kvm", &m);
}

/* hull-convert's requests (images/convert_req.h), as images/convert.c
 * fills them: a directory layout's two layers and an archive's one; the
 * first byte is the number of work fds. */
static void convert_req_seed(const char *name, bool archive)
{
	struct convreq *r = convreq_new(2);
	FZ_CHECK(r);
	r->archive = archive;
	r->size = 128ull << 20;
	r->cap = 1ull << 30;
	r->inodes = 32768;
	r->max_bytes = 16ull << 30;
	r->max_entries = 2000000;
	snprintf(r->path, sizeof(r->path), "/var/lib/hull/rootfs/x.ext4.tmp.1");
	snprintf(r->source, sizeof(r->source), "/var/lib/hull/oci");
	for (unsigned i = 0; i < 2; i++) {
		snprintf(r->layers[i].digest, DIGEST_STR_LEN, "sha256:%064x", i + 1);
		snprintf(r->layers[i].diff_id, DIGEST_STR_LEN, "sha256:%064x", i + 10);
		r->layers[i].kind = i ? OCI_KIND_LAYER_TAR : OCI_KIND_LAYER_GZIP;
		r->layers[i].fd = archive ? 1 : i + 1;
	}
	struct buf b = {0};
	le(&b, archive ? 2 : 3, 1);
	put(&b, r, convreq_size(2));
	save_buf("convert-req", name, &b);
	free(r);
}

/* hull-fetch's records (images/fetch_rec.h), as images/pull.c and
 * images/fetch_work.c fill them: a resolve request with credentials, a
 * blobs request (the config and a layer), an index's answer with two
 * layers and a manifest's with none; the first byte picks the decoder. */
static void fetch_rec_seeds(void)
{
	struct fetchreq *q = fetchreq_new(0);
	FZ_CHECK(q);
	q->mode = FETCH_RESOLVE;
	q->max_bytes = 16ull << 30;
	snprintf(q->domain, sizeof(q->domain), "registry.example:5000");
	snprintf(q->repo, sizeof(q->repo), "team/app");
	snprintf(q->ref, sizeof(q->ref), "v1.2");
	q->creds = 1;
	snprintf(q->user, sizeof(q->user), "alice");
	snprintf(q->pass, sizeof(q->pass), "s3cret");
	q->n_insecure = 1;
	snprintf(q->insecure[0], FETCH_DOMAIN_MAX, "registry.example:5000");
	struct buf b = {0};
	le(&b, 0, 1);
	put(&b, q, fetchreq_size(0));
	save_buf("fetch-rec", "resolve", &b);
	free(q);
	q = fetchreq_new(2);
	FZ_CHECK(q);
	q->mode = FETCH_BLOBS;
	snprintf(q->domain, sizeof(q->domain), "docker.io");
	snprintf(q->repo, sizeof(q->repo), "library/alpine");
	for (unsigned i = 0; i < 2; i++) {
		snprintf(q->blobs[i].digest, DIGEST_STR_LEN, "sha256:%064x", i + 1);
		q->blobs[i].size = i ? 3 << 20 : 1500;
		q->blobs[i].layer = 0;
		q->blobs[i].of = i;
	}
	b = (struct buf){0};
	le(&b, 0, 1);
	put(&b, q, fetchreq_size(2));
	save_buf("fetch-rec", "blobs", &b);
	free(q);
	for (unsigned n = 0; n <= 2; n += 2) {
		struct fetchres *a = fetchres_new(n);
		FZ_CHECK(a);
		a->top_kind = n ? OCI_KIND_INDEX : OCI_KIND_MANIFEST;
		snprintf(a->top_mt, sizeof(a->top_mt), "%s",
			 n ? "application/vnd.oci.image.index.v1+json"
			   : "application/vnd.docker.distribution.manifest.v2+json");
		snprintf(a->top_digest, DIGEST_STR_LEN, "sha256:%064x", 7);
		a->top_len = 500;
		if (n) {
			snprintf(a->man_digest, DIGEST_STR_LEN, "sha256:%064x", 8);
			a->man_len = 800;
		}
		snprintf(a->config_digest, DIGEST_STR_LEN, "sha256:%064x", 9);
		a->config_size = 1500;
		for (unsigned i = 0; i < n; i++) {
			snprintf(a->layers[i].digest, DIGEST_STR_LEN, "sha256:%064x", i + 10);
			a->layers[i].size = 1 << 20;
			a->layers[i].kind = i ? OCI_KIND_LAYER_ZSTD : OCI_KIND_LAYER_GZIP;
		}
		b = (struct buf){0};
		le(&b, 1, 1);
		put(&b, a, fetchres_size(n));
		save_buf("fetch-rec", n ? "answer-index" : "answer-manifest", &b);
		free(a);
	}
}

/* hull-import's records (images/import_rec.h), as images/import.c and
 * images/import_work.c fill them: a list request with --name, a copy
 * request (an OCI blob and a docker member), a docker-archive's answer
 * (two tags, an inline config and manifest, a member layer); the first
 * byte picks the decoder. */
static void import_rec_seeds(void)
{
	struct impreq *q = impreq_new(0);
	FZ_CHECK(q);
	q->mode = IMPORT_LIST;
	snprintf(q->path, sizeof(q->path), "/home/u/busybox.tar");
	snprintf(q->name, sizeof(q->name), "team/app:1");
	struct buf b = {0};
	le(&b, 0, 1);
	put(&b, q, impreq_size(0));
	save_buf("import-rec", "list", &b);
	free(q);
	q = impreq_new(2);
	FZ_CHECK(q);
	q->mode = IMPORT_COPY;
	snprintf(q->path, sizeof(q->path), "x.tar");
	for (unsigned i = 0; i < 2; i++) {
		struct imp_blob *x = &q->blobs[i];
		snprintf(x->digest, DIGEST_STR_LEN, "sha256:%064x", i + 1);
		x->size = 3 << 20;
		x->src = i ? IMPORT_SRC_MEMBER : IMPORT_SRC_BLOB;
		if (i)
			snprintf(x->member, sizeof(x->member), "%064x/layer.tar", 5);
		snprintf(x->label, sizeof(x->label), "layer %u", i + 1);
	}
	b = (struct buf){0};
	le(&b, 0, 1);
	put(&b, q, impreq_size(2));
	save_buf("import-rec", "copy", &b);
	free(q);
	struct impres *r = impres_new(2, 3);
	FZ_CHECK(r);
	r->format = IMPORT_DOCKER_ARCHIVE;
	r->docs_len = 2300;
	for (unsigned i = 0; i < 2; i++) {
		struct imp_image *m = &impres_images(r)[i];
		snprintf(m->ref, sizeof(m->ref), "docker.io/library/busybox:%u", i);
		snprintf(m->digest, DIGEST_STR_LEN, "sha256:%064x", 2);
		snprintf(m->mt, sizeof(m->mt), "application/vnd.oci.image.manifest.v1+json");
		m->size = 800;
	}
	for (unsigned i = 0; i < 3; i++) {
		struct imp_blob *x = &impres_blobs(r)[i];
		snprintf(x->digest, DIGEST_STR_LEN, "sha256:%064x", i + 1);
		x->src = i == 2 ? IMPORT_SRC_MEMBER : IMPORT_SRC_INLINE;
		x->size = i == 2 ? 5 << 20 : i ? 800 : 1500;
		x->off = i == 1 ? 1500 : 0;
		if (i == 2)
			snprintf(x->member, sizeof(x->member), "blobs/sha256/%064x", 3);
		snprintf(x->label, sizeof(x->label), "%s", i == 2 ? "layer 1" : "config");
	}
	b = (struct buf){0};
	le(&b, 1, 1);
	put(&b, r, impres_size(2, 3));
	save_buf("import-rec", "answer-docker", &b);
	free(r);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	hcp_seeds();
	vmmapi_seeds();
	convert_req_seed("dir", false);
	convert_req_seed("archive", true);
	fetch_rec_seeds();
	import_rec_seeds();
	blk_seeds();
	net_seeds();
	vsock_seeds();
	p9_seeds();
	snapshot_seeds();
	layer_seeds();
	shim_seeds();
	return 0;
}
