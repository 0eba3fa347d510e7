#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/hcp.h"

static size_t frame(uint8_t *out, uint8_t type, const void *payload, uint32_t len)
{
	assert_int_equal(hcp_header_encode(out, type, len), 0);
	if (len)
		memcpy(out + HCP_HDR_LEN, payload, len);
	return HCP_HDR_LEN + len;
}

/* Push everything, pulling frames as they complete; returns frames seen. */
static int feed(struct hcp_reader *r, const uint8_t *buf, size_t n, size_t step, uint8_t *types,
		int max)
{
	int seen = 0;
	size_t off = 0;
	while (off < n) {
		size_t chunk = n - off < step ? n - off : step, taken;
		int rc = hcp_reader_push(r, buf + off, chunk, &taken);
		if (rc)
			return rc;
		off += taken;
		struct hcp_msg m;
		while ((rc = hcp_reader_next(r, &m)) == 1) {
			if (seen < max)
				types[seen] = m.type;
			seen++;
		}
		if (rc < 0)
			return rc;
	}
	return seen;
}

static void test_frames_any_split(void **st)
{
	(void)st;
	uint8_t buf[256];
	size_t n = 0;
	n += frame(buf + n, HCP_READY, NULL, 0);
	n += frame(buf + n, HCP_STDOUT, "hello\n", 6);
	uint8_t code[4];
	hcp_u32_encode(code, 7);
	n += frame(buf + n, HCP_EXIT, code, 4);
	for (size_t step = 1; step <= n; step++) {
		struct hcp_reader r;
		hcp_reader_init(&r);
		uint8_t types[8];
		assert_int_equal(feed(&r, buf, n, step, types, 8), 3);
		assert_int_equal(types[0], HCP_READY);
		assert_int_equal(types[1], HCP_STDOUT);
		assert_int_equal(types[2], HCP_EXIT);
		hcp_reader_free(&r);
	}
}

static void test_payload_and_u32(void **st)
{
	(void)st;
	uint8_t buf[64], code[4];
	hcp_u32_encode(code, 0x80000001u);
	size_t n = frame(buf, HCP_SIGNAL, code, 4);
	struct hcp_reader r;
	hcp_reader_init(&r);
	size_t taken;
	assert_int_equal(hcp_reader_push(&r, buf, n, &taken), 0);
	/* the header is taken first, then the payload */
	if (taken < n)
		assert_int_equal(hcp_reader_push(&r, buf + taken, n - taken, &taken), 0);
	struct hcp_msg m;
	assert_int_equal(hcp_reader_next(&r, &m), 1);
	uint32_t v;
	assert_int_equal(hcp_u32_decode(&m, &v), 0);
	assert_int_equal(v, 0x80000001u);
	m.len = 3;
	assert_int_equal(hcp_u32_decode(&m, &v), -EPROTO);
	hcp_reader_free(&r);
}

static void test_bad_headers(void **st)
{
	(void)st;
	uint8_t bad[][8] = {
		{ 0x7f, 0, 0, 0, 0, 0, 0, 0 },       /* unknown type */
		{ HCP_READY, 1, 0, 0, 0, 0, 0, 0 },  /* reserved byte set */
		{ HCP_STDOUT, 0, 0, 0, 1, 0, 1, 0 }, /* 64 KiB + 1 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hcp_reader r;
		hcp_reader_init(&r);
		uint8_t types[2];
		assert_int_equal(feed(&r, bad[i], 8, 8, types, 2), -EPROTO);
		/* sticky */
		size_t taken;
		assert_int_equal(hcp_reader_push(&r, bad[i], 1, &taken), -EPROTO);
		hcp_reader_free(&r);
	}
	uint8_t hdr[8];
	assert_int_equal(hcp_header_encode(hdr, 0x7f, 0), -EINVAL);
	assert_int_equal(hcp_header_encode(hdr, HCP_STDOUT, HCP_MAX_PAYLOAD + 1), -EINVAL);
}

static void test_max_payload_bounded(void **st)
{
	(void)st;
	size_t n = HCP_HDR_LEN + HCP_MAX_PAYLOAD;
	uint8_t *buf = calloc(1, n + HCP_HDR_LEN);
	assert_non_null(buf);
	assert_int_equal(hcp_header_encode(buf, HCP_STDOUT, HCP_MAX_PAYLOAD), 0);
	assert_int_equal(hcp_header_encode(buf + n, HCP_READY, 0), 0);
	struct hcp_reader r;
	hcp_reader_init(&r);
	uint8_t types[4];
	assert_int_equal(feed(&r, buf, n + HCP_HDR_LEN, 4096, types, 4), 2);
	assert_true(r.cap <= HCP_HDR_LEN + HCP_MAX_PAYLOAD);
	hcp_reader_free(&r);
	free(buf);
}

static void test_spec_roundtrip(void **st)
{
	(void)st;
	char *argv[] = { "sh", "-c", "echo hi", NULL };
	char *envp[] = { "A=1", "PATH=/bin", NULL };
	struct hcp_spec s = { .argv = argv, .argc = 3, .envp = envp, .envc = 2, .cwd = "/w",
			      .user = "app:extra", .hostname = "h1", .rootfs = "/dev/vda",
			      .realtime_ns = 1763938800123456789ull, .has_seed = true };
	for (int i = 0; i < HCP_SEED_LEN; i++)
		s.seed[i] = (uint8_t)(i * 37 + 1);
	uint8_t *buf;
	size_t len;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	struct hcp_spec d;
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	assert_int_equal(d.argc, 3);
	assert_string_equal(d.argv[2], "echo hi");
	assert_null(d.argv[3]);
	assert_int_equal(d.envc, 2);
	assert_string_equal(d.envp[1], "PATH=/bin");
	assert_null(d.envp[2]);
	assert_string_equal(d.cwd, "/w");
	assert_string_equal(d.user, "app:extra");
	assert_string_equal(d.hostname, "h1");
	assert_string_equal(d.rootfs, "/dev/vda");
	assert_true(d.realtime_ns == 1763938800123456789ull);
	assert_true(d.has_seed);
	assert_memory_equal(d.seed, s.seed, HCP_SEED_LEN);
	hcp_spec_free(&d);

	/* every truncation of a valid payload is either rejected or still a
	 * complete spec; never a crash or over-read (ASan watches) */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *t = malloc(cut ? cut : 1);
		memcpy(t, buf, cut);
		int rc = hcp_spec_decode(t, cut, &d);
		if (rc == 0)
			hcp_spec_free(&d);
		else
			assert_int_equal(rc, -EPROTO);
		free(t);
	}
	free(buf);
}

static void test_spec_net_roundtrip(void **st)
{
	(void)st;
	char *argv[] = { "true", NULL };
	char *dns[] = { "10.0.2.3", "1.1.1.1", NULL };
	char *hosts[] = { "10.0.2.2 host.hull.internal", NULL };
	struct hcp_spec s = { .argv = argv, .argc = 1, .cwd = "/", .rootfs = "/dev/vda",
			      .net_mac = "52:54:00:aa:bb:cc", .net_addr = "10.0.2.15/24",
			      .net_gw = "10.0.2.2", .net_dns = dns, .n_dns = 2,
			      .net_hosts = hosts, .n_hosts = 1 };
	uint8_t *buf;
	size_t len;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	struct hcp_spec d;
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	assert_string_equal(d.net_mac, "52:54:00:aa:bb:cc");
	assert_string_equal(d.net_addr, "10.0.2.15/24");
	assert_string_equal(d.net_gw, "10.0.2.2");
	assert_int_equal(d.n_dns, 2);
	assert_string_equal(d.net_dns[1], "1.1.1.1");
	assert_null(d.net_dns[2]);
	assert_int_equal(d.n_hosts, 1);
	assert_string_equal(d.net_hosts[0], "10.0.2.2 host.hull.internal");
	hcp_spec_free(&d);
	free(buf);
	/* a second MAC is a protocol error */
	uint8_t dup[] = { HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
			  HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x', HCP_SPEC_NET_MAC, 1, 0, 0, 0, 'm',
			  HCP_SPEC_NET_MAC, 1, 0, 0, 0, 'm' };
	assert_int_equal(hcp_spec_decode(dup, sizeof(dup), &d), -EPROTO);
	/* no network fields: all empty */
	s = (struct hcp_spec){ .argv = argv, .argc = 1, .cwd = "/", .rootfs = "/dev/vda" };
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	assert_null(d.net_addr);
	assert_null(d.net_dns);
	assert_int_equal(d.n_hosts, 0);
	hcp_spec_free(&d);
	free(buf);
}

static void test_spec_malformed(void **st)
{
	(void)st;
	struct hcp_spec d;
	/* NUL inside a string */
	uint8_t nul[] = { HCP_SPEC_ARG, 3, 0, 0, 0, 'a', 0, 'b', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
			  HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x' };
	assert_int_equal(hcp_spec_decode(nul, sizeof(nul), &d), -EPROTO);
	/* length past the end */
	uint8_t longlen[] = { HCP_SPEC_ARG, 0xff, 0xff, 0xff, 0x7f, 'a' };
	assert_int_equal(hcp_spec_decode(longlen, sizeof(longlen), &d), -EPROTO);
	/* unknown tag */
	uint8_t unk[] = { 99, 0, 0, 0, 0 };
	assert_int_equal(hcp_spec_decode(unk, sizeof(unk), &d), -EPROTO);
	/* duplicate cwd, and a relative cwd */
	uint8_t dup[] = { HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, '/', HCP_SPEC_CWD,
			  1, 0, 0, 0, '/', HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x' };
	assert_int_equal(hcp_spec_decode(dup, sizeof(dup), &d), -EPROTO);
	uint8_t rel[] = { HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, 'w',
			  HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x' };
	assert_int_equal(hcp_spec_decode(rel, sizeof(rel), &d), -EPROTO);
	/* missing argv */
	uint8_t noarg[] = { HCP_SPEC_CWD, 1, 0, 0, 0, '/', HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x' };
	assert_int_equal(hcp_spec_decode(noarg, sizeof(noarg), &d), -EPROTO);
	/* a bad TIME or SEED */
	const char *bad_time[] = { "", "12a", "-5", "0", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof(bad_time) / sizeof(bad_time[0]); i++) {
		uint8_t b[64] = { HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
				  HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x', HCP_SPEC_TIME };
		size_t n = strlen(bad_time[i]);
		b[19] = (uint8_t)n;
		memcpy(b + 23, bad_time[i], n);
		assert_int_equal(hcp_spec_decode(b, 23 + n, &d), -EPROTO);
	}
	uint8_t seed[64 + 23] = { HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
				  HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x', HCP_SPEC_SEED, 64 };
	memset(seed + 23, 'A', 64); /* upper-case hex is not the encoding */
	assert_int_equal(hcp_spec_decode(seed, sizeof(seed), &d), -EPROTO);
	memset(seed + 23, 'f', 64);
	assert_int_equal(hcp_spec_decode(seed, sizeof(seed), &d), 0);
	assert_true(d.has_seed && d.seed[0] == 0xff);
	hcp_spec_free(&d);
	seed[19] = 62; /* too short */
	assert_int_equal(hcp_spec_decode(seed, sizeof(seed) - 2, &d), -EPROTO);
	/* an empty payload */
	assert_int_equal(hcp_spec_decode(NULL, 0, &d), -EPROTO);
	/* encode refuses incomplete specs */
	struct hcp_spec s = { 0 };
	uint8_t *b;
	size_t l;
	assert_int_equal(hcp_spec_encode(&s, &b, &l), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_any_split),  cmocka_unit_test(test_payload_and_u32),
		cmocka_unit_test(test_bad_headers),       cmocka_unit_test(test_max_payload_bounded),
		cmocka_unit_test(test_spec_roundtrip),    cmocka_unit_test(test_spec_malformed),
		cmocka_unit_test(test_spec_net_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
