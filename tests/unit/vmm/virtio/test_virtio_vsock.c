/* virtio_vsock: the device between a fake guest driver (rings in a buffer)
 * and real Unix sockets, its event loop on a thread as in the VMM. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/virtio_vsock.h>

#include "virtio_fake_driver.h"
#include "vmm/evloop.h"
#include "vmm/virtio/virtio_vsock.h"
#include "vmm/virtio/vsock_conn.h"

#define QSZ 16
#define GCID 3u
#define RX_BUF 4096u
#define RX_DATA 0x40000u /* + i * RX_BUF: rx buffers */
#define TX_DATA 0x80000u /* + slot * 0x11000: tx packets */
#define EV_DATA 0xe0000u

struct fx {
	int fds_before; /* open fds before setup: teardown leaves as many */
	struct fake_guest g;
	struct fake_guest q[3]; /* views of g's RAM, one per queue */
	struct virtio_mmio *t;
	struct virtio_vsock *v;
	struct evloop *loop;
	pthread_t thr;
	char dir[64], uds[96];
	uint16_t rx_seen, tx_slot;
};

static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void irq_cb(void *ctx)
{
	(void)ctx;
}

static void *loop_main(void *arg)
{
	evloop_run(arg);
	return NULL;
}

static void post_rx(struct fx *f, unsigned n)
{
	struct fake_guest *q = &f->q[0];
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = q->avail_idx % QSZ;
		fg_set_desc(q, d, RX_DATA + d * RX_BUF, RX_BUF, VRING_DESC_F_WRITE, 0);
		fg_avail_push(q, d);
	}
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->fds_before = count_fds();
	fg_init(&f->g, QSZ);
	for (unsigned i = 0; i < 3; i++) {
		f->q[i] = f->g;
		f->q[i].desc = 0x20000 + i * 0x1000;
		f->q[i].avail = 0x24000 + i * 0x1000;
		f->q[i].used = 0x28000 + i * 0x1000;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/hull-vsock-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->uds, sizeof(f->uds), "%s/v.sock", f->dir);
	assert_int_equal(evloop_init(&f->loop), 0);
	struct errmsg err;
	assert_int_equal(virtio_vsock_init(&f->v, GCID, f->uds, f->loop, false, &err), 0);
	assert_int_equal(
	    virtio_mmio_init(&f->t, 0, &f->g.mem, virtio_vsock_ops(f->v), f->v, irq_cb, NULL), 0);
	virtio_vsock_set_transport(f->v, f->t);
	assert_int_equal(mmio_negotiate(f->t, 1ull << VIRTIO_F_VERSION_1) &
			     VIRTIO_CONFIG_S_FEATURES_OK,
			 VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(mmio_setup_queue(f->t, &f->q[i], i, QSZ), 1);
	mmio_driver_ok(f->t);
	assert_int_equal(pthread_create(&f->thr, NULL, loop_main, f->loop), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	evloop_stop(f->loop);
	pthread_join(f->thr, NULL);
	virtio_mmio_free(f->t);
	virtio_vsock_free(f->v);
	evloop_free(f->loop);
	/* the device removed its socket; only what a test made is left */
	char p[128];
	snprintf(p, sizeof(p), "%s/v.sock", f->dir);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "rm -rf %s", f->dir);
	assert_int_equal(system(p), 0);
	fg_free(&f->g);
	/* every socket, the epoll set, the eventfds: all closed */
	assert_int_equal(count_fds(), f->fds_before);
	free(f);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The next packet the device gave the guest (waits up to 2 s); payload
 * copied to buf (if non-NULL). */
static struct vsock_hdr rx_wait(struct fx *f, void *buf, size_t cap)
{
	struct fake_guest *q = &f->q[0];
	for (int i = 0; i < 2000 && fg_used_idx(q) == f->rx_seen; i++)
		sleep_ms(1);
	assert_int_not_equal(fg_used_idx(q), f->rx_seen);
	struct vring_used_elem e = fg_used_elem(q, f->rx_seen++);
	assert_true(e.len >= VSOCK_HDR_LEN);
	const uint8_t *p = fg_ptr(&f->g, RX_DATA + e.id * RX_BUF);
	struct vsock_hdr h;
	vsock_hdr_decode(p, &h);
	assert_int_equal(e.len, VSOCK_HDR_LEN + h.len);
	assert_int_equal(h.src_cid, VSOCK_HOST_CID);
	assert_int_equal(h.dst_cid, GCID);
	if (buf) {
		assert_true(h.len <= cap);
		memcpy(buf, p + VSOCK_HDR_LEN, h.len);
	}
	return h;
}

static void rx_none(struct fx *f)
{
	sleep_ms(50);
	assert_int_equal(fg_used_idx(&f->q[0]), f->rx_seen);
}

/* The guest sends a packet: header and payload in two descriptors. */
static void tx_send(struct fx *f, struct vsock_hdr h, const void *data, uint32_t n)
{
	struct fake_guest *q = &f->q[1];
	uint16_t d = (uint16_t)((f->tx_slot++ % (QSZ / 2)) * 2);
	uint64_t gpa = TX_DATA + (d / 2) * 0x11000u;
	vsock_hdr_encode(&h, fg_ptr(&f->g, gpa));
	if (n)
		memcpy(fg_ptr(&f->g, gpa + 0x100), data, n);
	fg_set_desc(q, d, gpa, VSOCK_HDR_LEN, n ? VRING_DESC_F_NEXT : 0, (uint16_t)(d + 1));
	fg_set_desc(q, (uint16_t)(d + 1), gpa + 0x100, n, 0, 0);
	uint16_t before = fg_used_idx(q);
	fg_avail_push(q, d);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(fg_used_idx(q), (uint16_t)(before + 1));
}

static struct vsock_hdr gpkt(uint16_t op, uint32_t gport, uint32_t hport, uint32_t len)
{
	return (struct vsock_hdr){.src_cid = GCID,
				  .dst_cid = VSOCK_HOST_CID,
				  .src_port = gport,
				  .dst_port = hport,
				  .len = len,
				  .type = VIRTIO_VSOCK_TYPE_STREAM,
				  .op = op,
				  .buf_alloc = 65536};
}

static int listen_port(struct fx *f, uint32_t port)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", f->uds, port);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void read_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 2000), 1);
		ssize_t r = read(fd, (uint8_t *)buf + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
}

static void expect_eof(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	char c;
	assert_int_equal(read(fd, &c, 1), 0);
}

/* closed by the device: EOF, or a reset when our bytes were left unread */
static void expect_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	char c;
	ssize_t n = read(fd, &c, 1);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
}

/* Guest connects to a host listener; bytes both ways; host EOF becomes
 * SHUTDOWN(SEND); the guest's close flushes, then RST. */
static void test_guest_to_host(void **state)
{
	struct fx *f = *state;
	int lfd = listen_port(f, 5000);
	post_rx(f, 8);
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_REQUEST, 40000, 5000, 0), NULL, 0);
	struct vsock_hdr h = rx_wait(f, NULL, 0);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RESPONSE);
	assert_int_equal(h.src_port, 5000);
	assert_int_equal(h.dst_port, 40000);
	int hfd = accept(lfd, NULL, NULL);
	assert_true(hfd >= 0);

	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RW, 40000, 5000, 4), "ping", 4);
	char b[16];
	read_exact(hfd, b, 4);
	assert_memory_equal(b, "ping", 4);

	assert_int_equal(write(hfd, "pong!", 5), 5);
	h = rx_wait(f, b, sizeof(b));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.len, 5);
	assert_memory_equal(b, "pong!", 5);

	shutdown(hfd, SHUT_WR);
	h = rx_wait(f, NULL, 0);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);

	/* the guest's last bytes and its close */
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RW, 40000, 5000, 3), "end", 3);
	struct vsock_hdr s = gpkt(VIRTIO_VSOCK_OP_SHUTDOWN, 40000, 5000, 0);
	s.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	tx_send(f, s, NULL, 0);
	read_exact(hfd, b, 3);
	assert_memory_equal(b, "end", 3);
	expect_eof(hfd);
	h = rx_wait(f, NULL, 0);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	close(hfd);
	close(lfd);
}

static void test_guest_to_nobody(void **state)
{
	struct fx *f = *state;
	post_rx(f, 2);
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_REQUEST, 40001, 6000, 0), NULL, 0);
	struct vsock_hdr h = rx_wait(f, NULL, 0);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(h.src_port, 6000);
	assert_int_equal(h.dst_port, 40001);
	/* and data for it afterwards: RST again */
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RW, 40001, 6000, 1), "x", 1);
	h = rx_wait(f, NULL, 0);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
}

static int host_connect(struct fx *f, const char *line)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->uds);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	return fd;
}

/* Firecracker's handshake: CONNECT, REQUEST to the guest, RESPONSE, OK. */
static void test_host_to_guest(void **state)
{
	struct fx *f = *state;
	post_rx(f, 8);
	/* bytes right after the line belong to the guest */
	int fd = host_connect(f, "CONNECT 1025\nearly");
	struct vsock_hdr h = rx_wait(f, NULL, 0);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, 1025);
	uint32_t lp = h.src_port;
	assert_true(lp >= VSOCK_HOST_PORT_BASE);
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RESPONSE, 1025, lp, 0), NULL, 0);
	char want[32], b[32];
	int n = snprintf(want, sizeof(want), "OK %u\n", lp);
	read_exact(fd, b, (size_t)n);
	assert_memory_equal(b, want, (size_t)n);
	h = rx_wait(f, b, sizeof(b));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.len, 5);
	assert_memory_equal(b, "early", 5);
	/* the guest resets: the host socket closes */
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RST, 1025, lp, 0), NULL, 0);
	expect_eof(fd);
	close(fd);
}

static void test_host_bad_handshakes(void **state)
{
	struct fx *f = *state;
	post_rx(f, 4);
	const char *bad[] = {"CONNECT x\n", "HELLO\n", "CONNECT 123456789012345678901234567890\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = host_connect(f, bad[i]);
		expect_closed(fd);
		close(fd);
	}
	/* the guest refuses */
	int fd = host_connect(f, "CONNECT 99\n");
	struct vsock_hdr h = rx_wait(f, NULL, 0);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RST, 99, h.src_port, 0), NULL, 0);
	expect_eof(fd);
	close(fd);
	rx_none(f);
}

/* Chains of the wrong shape are consumed without harm. */
static void test_bad_chains(void **state)
{
	struct fx *f = *state;
	struct fake_guest *q = &f->q[1];
	/* a header of 10 bytes */
	fg_set_desc(q, 0, TX_DATA, 10, 0, 0);
	fg_avail_push(q, 0);
	/* a writable-only tx chain */
	fg_set_desc(q, 1, TX_DATA, 64, VRING_DESC_F_WRITE, 0);
	fg_avail_push(q, 1);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(fg_used_idx(q), 2);
	assert_int_equal(fg_used_elem(q, 0).len, 0);
	assert_int_equal(fg_used_elem(q, 1).len, 0);

	/* rx buffers too small for a header, then a good one: the RST for a
	 * stray packet skips the bad ones */
	struct fake_guest *r = &f->q[0];
	fg_set_desc(r, 0, RX_DATA, 20, VRING_DESC_F_WRITE, 0);
	fg_avail_push(r, 0);
	fg_set_desc(r, 1, RX_DATA + RX_BUF, 100, 0, 0); /* readable only */
	fg_avail_push(r, 1);
	fg_set_desc(r, 2, RX_DATA + 2 * RX_BUF, RX_BUF, VRING_DESC_F_WRITE, 0);
	fg_avail_push(r, 2);
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RW, 1, 2, 0), NULL, 0);
	mmio_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 2000 && fg_used_idx(r) < 3; i++)
		sleep_ms(1);
	assert_int_equal(fg_used_idx(r), 3);
	assert_int_equal(fg_used_elem(r, 0).len, 0);
	assert_int_equal(fg_used_elem(r, 1).len, 0);
	assert_int_equal(fg_used_elem(r, 2).len, VSOCK_HDR_LEN);
	/* the device still works (not marked DEVICE_NEEDS_RESET) */
	assert_int_equal(mmio_rd(f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

/* More host data than the guest's credit: it waits, nothing is lost. */
static void test_flow_control(void **state)
{
	struct fx *f = *state;
	int lfd = listen_port(f, 7000);
	post_rx(f, QSZ);
	struct vsock_hdr rq = gpkt(VIRTIO_VSOCK_OP_REQUEST, 41000, 7000, 0);
	rq.buf_alloc = 10000;
	tx_send(f, rq, NULL, 0);
	assert_int_equal(rx_wait(f, NULL, 0).op, VIRTIO_VSOCK_OP_RESPONSE);
	int hfd = accept(lfd, NULL, NULL);
	static uint8_t src[30000], dst[30000];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7);
	assert_int_equal(write(hfd, src, sizeof(src)), (ssize_t)sizeof(src));
	size_t got = 0;
	uint32_t fwd = 0;
	while (got < sizeof(src)) {
		uint8_t b[RX_BUF];
		struct vsock_hdr h = rx_wait(f, b, sizeof(b));
		post_rx(f, 1);
		if (h.op != VIRTIO_VSOCK_OP_RW)
			continue;
		memcpy(dst + got, b, h.len);
		got += h.len;
		/* never more in flight than the credit given */
		assert_true(got - fwd <= 10000);
		if (got - fwd == 10000) {
			rx_none(f); /* stalled on credit */
			fwd = (uint32_t)got;
			struct vsock_hdr u = gpkt(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 41000, 7000, 0);
			u.buf_alloc = 10000;
			u.fwd_cnt = fwd;
			tx_send(f, u, NULL, 0);
		}
	}
	assert_memory_equal(src, dst, sizeof(src));
	close(hfd);
	close(lfd);
}

/* After a restore: connections are dropped and the guest hears of it. */
static void test_transport_reset(void **state)
{
	struct fx *f = *state;
	int lfd = listen_port(f, 8000);
	post_rx(f, 2);
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_REQUEST, 42000, 8000, 0), NULL, 0);
	assert_int_equal(rx_wait(f, NULL, 0).op, VIRTIO_VSOCK_OP_RESPONSE);
	int hfd = accept(lfd, NULL, NULL);
	struct fake_guest *e = &f->q[2];
	fg_set_desc(e, 0, EV_DATA, 4, VRING_DESC_F_WRITE, 0);
	fg_avail_push(e, 0);
	memset(fg_ptr(&f->g, EV_DATA), 0xff, 4);
	virtio_vsock_transport_reset(f->v);
	assert_int_equal(fg_used_idx(e), 1);
	assert_int_equal(fg_used_elem(e, 0).len, 4);
	uint32_t id;
	memcpy(&id, fg_ptr(&f->g, EV_DATA), 4);
	assert_int_equal(le32toh(id), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	expect_eof(hfd);
	/* the old connection is unknown now */
	tx_send(f, gpkt(VIRTIO_VSOCK_OP_RW, 42000, 8000, 1), "x", 1);
	assert_int_equal(rx_wait(f, NULL, 0).op, VIRTIO_VSOCK_OP_RST);
	close(hfd);
	close(lfd);
}

static void test_init_errors(void **state)
{
	(void)state;
	struct evloop *l;
	struct errmsg err;
	struct virtio_vsock *v;
	assert_int_equal(evloop_init(&l), 0);
	assert_int_equal(virtio_vsock_init(&v, 2, "/tmp/x", l, false, &err), -EINVAL);
	assert_non_null(strstr(err.text, "CID 2"));
	assert_int_equal(virtio_vsock_init(&v, 1ull << 32, "/tmp/x", l, false, &err), -EINVAL);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(virtio_vsock_init(&v, 3, longp, l, false, &err), -ENAMETOOLONG);
	assert_int_equal(virtio_vsock_init(&v, 3, "/nonexistent-dir/v.sock", l, false, &err),
			 -ENOENT);
	assert_non_null(strstr(err.text, "/nonexistent-dir/v.sock"));
	evloop_free(l);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_guest_to_host),   T(test_guest_to_nobody),
	    T(test_host_to_guest),   T(test_host_bad_handshakes),
	    T(test_bad_chains),	     T(test_flow_control),
	    T(test_transport_reset), cmocka_unit_test(test_init_errors),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
