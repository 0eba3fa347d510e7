/* proto/vmmapi: round trips, and every kind of malformed or truncated input
 * refused (the runtime decodes what a guest-facing process sends). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/vmmapi.h"

static uint8_t buf[VMMAPI_MAX_MSG];

static struct vmmapi_msg full_config(void)
{
	struct vmmapi_msg m = {.type = VMMAPI_CONFIG};
	struct vmmapi_config *c = &m.config;
	c->kernel = "/k/vmlinux";
	c->initrd = "/k/initramfs.cpio";
	c->cmdline_extra = "hull_debug=1";
	c->cpus = 2;
	c->mem_bytes = 256ull << 20;
	c->pvm = -1;
	c->debug = true;
	c->ndisks = 2;
	c->disks[0] = (struct vmmapi_disk){NULL, true};
	c->disks[1] = (struct vmmapi_disk){"/d/rootfs.ext4", false};
	c->nvolumes = 1;
	c->volumes[0] = (struct vmmapi_volume){"/home/x", true};
	c->vsock_uds = "/run/hull/c1/vsock";
	c->vsock_cid = 3;
	c->net_mode = VMMAPI_NET_SLIRP;
	memcpy(c->net_mac, "\x52\x54\x00\x01\x02\x03", 6);
	c->nports = 2;
	c->ports[0] = (struct vmmapi_portfwd){false, 0, 8080, 80};
	c->ports[1] = (struct vmmapi_portfwd){true, 0x0100007f, 5353, 53};
	c->net_no_csum = true;
	c->template_root = "/var/lib/hull/templates";
	c->disk_read_bps = 1u << 20;
	c->disk_write_bps = 2u << 20;
	c->disk_read_iops = 300;
	c->disk_write_iops = 400;
	c->net_rx_bps = 3u << 20;
	c->net_tx_bps = 128u << 10;
	c->net_rx_pps = 5000;
	c->net_tx_pps = 6000;
	return m;
}

static void test_config_roundtrip(void **state)
{
	(void)state;
	struct vmmapi_msg m = full_config(), d;
	struct errmsg err;
	int n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_true(n > 0);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), 0);
	const struct vmmapi_config *c = &d.config;
	assert_int_equal(d.type, VMMAPI_CONFIG);
	assert_null(c->kvm_dev);
	assert_string_equal(c->kernel, "/k/vmlinux");
	assert_string_equal(c->initrd, "/k/initramfs.cpio");
	assert_string_equal(c->cmdline_extra, "hull_debug=1");
	assert_int_equal(c->cpus, 2);
	assert_int_equal(c->mem_bytes, 256ull << 20);
	assert_int_equal(c->pvm, -1);
	assert_true(c->debug);
	assert_int_equal(c->ndisks, 2);
	assert_null(c->disks[0].path);
	assert_true(c->disks[0].read_only);
	assert_string_equal(c->disks[1].path, "/d/rootfs.ext4");
	assert_false(c->disks[1].read_only);
	assert_int_equal(c->nvolumes, 1);
	assert_string_equal(c->volumes[0].host_dir, "/home/x");
	assert_true(c->volumes[0].read_only);
	assert_string_equal(c->vsock_uds, "/run/hull/c1/vsock");
	assert_int_equal(c->vsock_cid, 3);
	assert_int_equal(c->net_mode, VMMAPI_NET_SLIRP);
	assert_null(c->net_tap);
	assert_memory_equal(c->net_mac, "\x52\x54\x00\x01\x02\x03", 6);
	assert_int_equal(c->nports, 2);
	assert_int_equal(c->ports[0].host_port, 8080);
	assert_int_equal(c->ports[0].guest_port, 80);
	assert_false(c->ports[0].udp);
	assert_true(c->ports[1].udp);
	assert_int_equal(c->ports[1].host_ip, 0x0100007f);
	assert_true(c->net_no_csum);
	assert_string_equal(c->template_root, "/var/lib/hull/templates");
	assert_int_equal(c->disk_read_bps, 1u << 20);
	assert_int_equal(c->disk_write_bps, 2u << 20);
	assert_int_equal(c->disk_read_iops, 300);
	assert_int_equal(c->disk_write_iops, 400);
	assert_int_equal(c->net_rx_bps, 3u << 20);
	assert_int_equal(c->net_tx_bps, 128u << 10);
	assert_int_equal(c->net_rx_pps, 5000);
	assert_int_equal(c->net_tx_pps, 6000);
}

static void test_events_roundtrip(void **state)
{
	(void)state;
	struct errmsg err;
	struct vmmapi_msg m = {.type = VMMAPI_CREATED}, d;
	m.created.boot = VMMAPI_BOOT_REFUSED;
	m.created.t_ns = 123456789;
	m.created.t_exec = 987654321;
	m.created.why = "template x: made by another hull version";
	int n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_true(n > 0);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), 0);
	assert_int_equal(d.created.boot, VMMAPI_BOOT_REFUSED);
	assert_int_equal(d.created.t_ns, 123456789);
	assert_int_equal(d.created.t_exec, 987654321);
	assert_string_equal(d.created.why, m.created.why);

	m = (struct vmmapi_msg){.type = VMMAPI_STOPPED};
	m.stopped.reason = VMMAPI_STOP_ERROR;
	m.stopped.t_ns = 42;
	m.stopped.why = "KVM_RUN: Bad address";
	n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), 0);
	assert_int_equal(d.stopped.reason, VMMAPI_STOP_ERROR);
	assert_int_equal(d.stopped.t_ns, 42);
	assert_string_equal(d.stopped.why, "KVM_RUN: Bad address");

	/* the last reason there is, and the first there is not */
	m.stopped.reason = VMMAPI_STOP_TRIPLE_FAULT;
	n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), 0);
	assert_int_equal(d.stopped.reason, VMMAPI_STOP_TRIPLE_FAULT);
	assert_non_null(strstr(vmmapi_stop_text(d.stopped.reason), "triple-faulted"));
	m.stopped.reason = VMMAPI_STOP_TRIPLE_FAULT + 1;
	n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), -EBADMSG);

	m = (struct vmmapi_msg){.type = VMMAPI_RESULT};
	m.result.op = VMMAPI_ATTACH_DISK;
	m.result.err = -ENOENT;
	m.result.text = "disk /x: No such file or directory";
	n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), 0);
	assert_int_equal(d.result.op, VMMAPI_ATTACH_DISK);
	assert_int_equal(d.result.err, -ENOENT);
	assert_string_equal(d.result.text, m.result.text);

	m = (struct vmmapi_msg){.type = VMMAPI_ATTACH_DISK};
	m.attach.index = 0;
	m.attach.path = "/d/rootfs.ext4";
	n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), 0);
	assert_string_equal(d.attach.path, "/d/rootfs.ext4");

	uint32_t bare[] = {VMMAPI_SAVE_TEMPLATE, VMMAPI_PAUSE, VMMAPI_RESUME, VMMAPI_STOP,
			   VMMAPI_GET_COUNTERS};
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		m = (struct vmmapi_msg){.type = bare[i]};
		n = vmmapi_encode(&m, buf, sizeof(buf), &err);
		assert_int_equal(n, 4);
		assert_int_equal(vmmapi_decode(buf, 4, &d, &err), 0);
		assert_int_equal(d.type, bare[i]);
	}
}

static struct vmmapi_msg full_counters(void)
{
	struct vmmapi_msg m = {.type = VMMAPI_COUNTERS};
	m.counters = (struct vmmapi_counters){.net_rx_bytes = 1ull << 40,
					      .net_rx_frames = 2,
					      .net_rx_dropped = 3,
					      .net_tx_bytes = UINT64_MAX,
					      .net_tx_frames = 5,
					      .net_tx_dropped = 6,
					      .blk_read_bytes = 7ull << 33,
					      .blk_reads = 8,
					      .blk_write_bytes = 9,
					      .blk_writes = 10};
	/* KVM stats 0, 2 and the last known */
	m.counters.kvm_present = 1u | 4u | 1ull << (VMMAPI_KSTATS - 1);
	m.counters.kvm[0] = 11;
	m.counters.kvm[2] = UINT64_MAX - 1;
	m.counters.kvm[VMMAPI_KSTATS - 1] = 13;
	return m;
}

/* COUNTERS: every field in its place (distinct values, one at 2^64-1), the
 * exact size, and GET_COUNTERS with anything after the type refused. */
static void test_counters(void **state)
{
	(void)state;
	struct errmsg err;
	struct vmmapi_msg m = full_counters(), d;
	int n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_int_equal(n, 4 + 10 * 8 + 8 + 3 * 8);
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), 0);
	assert_int_equal(d.type, VMMAPI_COUNTERS);
	assert_memory_equal(&d.counters, &m.counters, sizeof(m.counters));
	/* the stats absent from the mask are absent from the wire: 0 decoded */
	assert_int_equal(d.counters.kvm[1], 0);
	assert_string_equal(vmmapi_kstat_name(0), "exits");
	assert_string_equal(vmmapi_kstat_name(8), "insn_emulation");
	assert_non_null(vmmapi_kstat_name(VMMAPI_KSTATS - 1));
	assert_null(vmmapi_kstat_name(VMMAPI_KSTATS));
	/* a stat bit beyond the known ones: refused both ways */
	uint8_t save[8];
	memcpy(save, buf + 4 + 80, 8);
	buf[4 + 80 + VMMAPI_KSTATS / 8] |= (uint8_t)(1u << (VMMAPI_KSTATS % 8));
	assert_int_equal(vmmapi_decode(buf, (size_t)n, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "kvm_present"));
	memcpy(buf + 4 + 80, save, 8);
	struct vmmapi_msg bad = full_counters();
	bad.counters.kvm_present |= 1ull << VMMAPI_KSTATS;
	assert_int_equal(vmmapi_encode(&bad, buf, sizeof(buf), &err), -EINVAL);
	n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	/* without the KVM part (an older encoder): the mask is missing */
	assert_int_equal(vmmapi_decode(buf, 4 + 80, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "kvm_present"));
	/* the mask promises a value that is not there: named */
	assert_int_equal(vmmapi_decode(buf, (size_t)n - 8, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, vmmapi_kstat_name(VMMAPI_KSTATS - 1)));
	assert_string_equal(vmmapi_type_name(VMMAPI_COUNTERS), "COUNTERS");
	assert_string_equal(vmmapi_type_name(VMMAPI_GET_COUNTERS), "GET_COUNTERS");
	/* a little-endian layout: net_tx_bytes (the 4th) is all ones */
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[4 + 3 * 8 + i], 0xff);
	/* one byte short of a whole field, and a field short */
	assert_int_equal(vmmapi_decode(buf, 4 + 80 - 1, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "blk_writes"));
	assert_int_equal(vmmapi_decode(buf, 4 + 80 - 8, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "COUNTERS"));
	/* just the type: the first field is missing */
	assert_int_equal(vmmapi_decode(buf, 4, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "net_rx_bytes"));
	/* a request carries nothing */
	m = (struct vmmapi_msg){.type = VMMAPI_GET_COUNTERS};
	n = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_int_equal(n, 4);
	buf[4] = 0;
	assert_int_equal(vmmapi_decode(buf, 5, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "trailing"));
}

/* Every strict prefix of every valid message is refused, and so is every
 * message with a byte appended. */
static void test_truncated_and_trailing(void **state)
{
	(void)state;
	struct errmsg err;
	struct vmmapi_msg msgs[4] = {
	    full_config(), {.type = VMMAPI_STOPPED}, {.type = VMMAPI_CREATED}, full_counters()};
	msgs[1].stopped.why = "why";
	for (int k = 0; k < 4; k++) {
		int n = vmmapi_encode(&msgs[k], buf, sizeof(buf) - 1, &err);
		assert_true(n > 0);
		struct vmmapi_msg d;
		for (int len = 0; len < n; len++)
			assert_int_equal(vmmapi_decode(buf, (size_t)len, &d, &err), -EBADMSG);
		buf[n] = 0;
		assert_int_equal(vmmapi_decode(buf, (size_t)n + 1, &d, &err), -EBADMSG);
		assert_non_null(strstr(err.text, "trailing"));
	}
}

static size_t put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return 4;
}

static void test_malformed(void **state)
{
	(void)state;
	struct errmsg err;
	struct vmmapi_msg d;
	uint8_t b[64];
	size_t n;

	/* unknown type */
	n = put32(b, 0x77);
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "unknown message type"));
	/* type 0 is no message either (fuzz-vmmapi found it accepted), nor
	 * is UINT32_MAX, nor a type cut short */
	n = put32(b, 0);
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "unknown message type 0"));
	n = put32(b, UINT32_MAX);
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "unknown message type"));
	assert_int_equal(vmmapi_decode(b, 3, &d, &err), -EBADMSG);

	/* a string whose length runs past the end */
	n = put32(b, VMMAPI_ATTACH_DISK);
	n += put32(b + n, 0);
	n += put32(b + n, 1000);
	memcpy(b + n, "abc", 4);
	n += 4;
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "path"));

	/* a string without its NUL, and one with an inner NUL */
	n = put32(b, VMMAPI_ATTACH_DISK);
	n += put32(b + n, 0);
	n += put32(b + n, 3);
	memcpy(b + n, "abc", 3);
	assert_int_equal(vmmapi_decode(b, n + 3, &d, &err), -EBADMSG);
	memcpy(b + n, "a\0c", 3);
	assert_int_equal(vmmapi_decode(b, n + 3, &d, &err), -EBADMSG);
	memcpy(b + n, "ab\0", 3);
	assert_int_equal(vmmapi_decode(b, n + 3, &d, &err), 0);

	/* ATTACH_DISK without a path */
	n = put32(b, VMMAPI_ATTACH_DISK);
	n += put32(b + n, 0);
	n += put32(b + n, 0);
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);

	/* a string over the bound (the length field alone says so) */
	n = put32(b, VMMAPI_STOPPED);
	n += put32(b + n, VMMAPI_STOP_RESET);
	n += put32(b + n, 0);
	n += put32(b + n, 0);
	n += put32(b + n, VMMAPI_STR_MAX + 1);
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "too long"));

	/* out-of-range enums and errno */
	n = put32(b, VMMAPI_STOPPED);
	n += put32(b + n, 99);
	n += put32(b + n, 0);
	n += put32(b + n, 0);
	n += put32(b + n, 0);
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);
	n = put32(b, VMMAPI_CREATED);
	n += put32(b + n, 9);
	memset(b + n, 0, 20);
	assert_int_equal(vmmapi_decode(b, n + 20, &d, &err), -EBADMSG);
	n = put32(b, VMMAPI_RESULT);
	n += put32(b + n, VMMAPI_PAUSE);
	n += put32(b + n, 5); /* positive: not -errno */
	n += put32(b + n, 0);
	assert_int_equal(vmmapi_decode(b, n, &d, &err), -EBADMSG);

	/* a config whose counts exceed the arrays, or bools that are not */
	struct vmmapi_msg m = full_config();
	int len = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_true(len > 0);
	/* ndisks sits after 4 strings, cpus, mem, pvm, debug */
	size_t off = 4;
	for (int i = 0; i < 4; i++) {
		uint32_t sl = (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8;
		off += 4 + sl;
	}
	off += 4 + 8 + 4;
	assert_int_equal(buf[off], 1); /* debug */
	buf[off] = 2;
	assert_int_equal(vmmapi_decode(buf, (size_t)len, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "debug"));
	buf[off] = 1;
	put32(buf + off + 1, VMMAPI_MAX_DISKS + 1);
	assert_int_equal(vmmapi_decode(buf, (size_t)len, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "ndisks"));
	put32(buf + off + 1, 0xffffffffu);
	assert_int_equal(vmmapi_decode(buf, (size_t)len, &d, &err), -EBADMSG);

	/* oversized */
	assert_int_equal(vmmapi_decode(buf, VMMAPI_MAX_MSG + 1, &d, &err), -EBADMSG);
}

/* Every single-byte corruption of a config either decodes or is refused;
 * nothing reads out of bounds (ASan watches). */
static void test_byte_flips(void **state)
{
	(void)state;
	struct errmsg err;
	struct vmmapi_msg m = full_config(), d;
	int len = vmmapi_encode(&m, buf, sizeof(buf), &err);
	assert_true(len > 0);
	uint8_t *copy = malloc((size_t)len);
	assert_non_null(copy);
	for (int i = 0; i < len; i++) {
		for (int v = 0; v < 256; v += 51) {
			memcpy(copy, buf, (size_t)len);
			copy[i] = (uint8_t)v;
			int rc = vmmapi_decode(copy, (size_t)len, &d, &err);
			assert_true(rc == 0 || rc == -EBADMSG);
		}
	}
	free(copy);
}

static void test_encode_limits(void **state)
{
	(void)state;
	struct errmsg err;
	struct vmmapi_msg m = full_config();
	m.config.nvolumes = VMMAPI_MAX_VOLUMES + 1;
	assert_int_equal(vmmapi_encode(&m, buf, sizeof(buf), &err), -EINVAL);
	m = full_config();
	char *big = malloc(VMMAPI_STR_MAX + 1);
	assert_non_null(big);
	memset(big, 'a', VMMAPI_STR_MAX);
	big[VMMAPI_STR_MAX] = '\0';
	m.config.kernel = big;
	assert_int_equal(vmmapi_encode(&m, buf, sizeof(buf), &err), -EMSGSIZE);
	assert_non_null(strstr(err.text, "kernel"));
	free(big);
	m = full_config();
	assert_int_equal(vmmapi_encode(&m, buf, 16, &err), -EMSGSIZE);
	m.type = 0x55;
	assert_int_equal(vmmapi_encode(&m, buf, sizeof(buf), &err), -EINVAL);
}

static void test_send_recv(void **state)
{
	(void)state;
	int sv[2];
	struct errmsg err;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	struct vmmapi_msg m = full_config(), d;
	assert_int_equal(vmmapi_send(sv[0], &m, &err), 0);
	uint8_t *rb = malloc(VMMAPI_RECV_BUF);
	assert_non_null(rb);
	assert_int_equal(vmmapi_recv(sv[1], rb, &d, &err), 0);
	assert_string_equal(d.config.kernel, "/k/vmlinux");
	/* an oversized packet is refused, not truncated into a valid one */
	uint8_t *huge = calloc(1, VMMAPI_MAX_MSG + 100);
	assert_non_null(huge);
	put32(huge, VMMAPI_STOP);
	int sz = VMMAPI_MAX_MSG + 100;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	assert_int_equal(send(sv[0], huge, VMMAPI_MAX_MSG + 100, 0), VMMAPI_MAX_MSG + 100);
	assert_int_equal(vmmapi_recv(sv[1], rb, &d, &err), -EBADMSG);
	free(huge);
	close(sv[0]);
	assert_int_equal(vmmapi_recv(sv[1], rb, &d, &err), -EPIPE);
	close(sv[1]);
	free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_roundtrip), cmocka_unit_test(test_events_roundtrip),
	    cmocka_unit_test(test_counters),	     cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_malformed),	     cmocka_unit_test(test_byte_flips),
	    cmocka_unit_test(test_encode_limits),    cmocka_unit_test(test_send_recv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
