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
	    {0x7f, 0, 0, 0, 0, 0, 0, 0},       /* unknown type */
	    {HCP_READY, 1, 0, 0, 0, 0, 0, 0},  /* reserved byte set */
	    {HCP_STDOUT, 0, 0, 0, 1, 0, 1, 0}, /* 64 KiB + 1 */
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
	char *argv[] = {"sh", "-c", "echo hi", NULL};
	char *envp[] = {"A=1", "PATH=/bin", NULL};
	struct hcp_spec s = {.argv = argv,
			     .argc = 3,
			     .envp = envp,
			     .envc = 2,
			     .cwd = "/w",
			     .user = "app:extra",
			     .hostname = "h1",
			     .rootfs = "/dev/vda",
			     .realtime_ns = 1763938800123456789ull,
			     .has_seed = true};
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
	char *argv[] = {"true", NULL};
	char *dns[] = {"10.0.2.3", "1.1.1.1", NULL};
	char *hosts[] = {"10.0.2.2 host.hull.internal", NULL};
	struct hcp_spec s = {.argv = argv,
			     .argc = 1,
			     .cwd = "/",
			     .rootfs = "/dev/vda",
			     .net_mac = "52:54:00:aa:bb:cc",
			     .net_addr = "10.0.2.15/24",
			     .net_gw = "10.0.2.2",
			     .net_dns = dns,
			     .n_dns = 2,
			     .net_hosts = hosts,
			     .n_hosts = 1};
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
	uint8_t dup[] = {HCP_SPEC_ARG,	   1, 0, 0, 0, 'a', HCP_SPEC_CWD,     1, 0, 0, 0, '/',
			 HCP_SPEC_ROOTFS,  1, 0, 0, 0, 'x', HCP_SPEC_NET_MAC, 1, 0, 0, 0, 'm',
			 HCP_SPEC_NET_MAC, 1, 0, 0, 0, 'm'};
	assert_int_equal(hcp_spec_decode(dup, sizeof(dup), &d), -EPROTO);
	/* no network fields: all empty */
	s = (struct hcp_spec){.argv = argv, .argc = 1, .cwd = "/", .rootfs = "/dev/vda"};
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	assert_null(d.net_addr);
	assert_null(d.net_dns);
	assert_int_equal(d.n_hosts, 0);
	hcp_spec_free(&d);
	free(buf);
}

static int decode_rec(uint8_t tag, const char *rec, struct hcp_spec *d)
{
	uint8_t b[256] = {HCP_SPEC_ARG,	   1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
			  HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x', tag};
	size_t n = strlen(rec);
	b[19] = (uint8_t)n;
	memcpy(b + 23, rec, n);
	return hcp_spec_decode(b, 23 + n, d);
}

/* tags 25-31: the container's confinement */
static void test_spec_confine(void **st)
{
	(void)st;
	char *argv[] = {"true", NULL};
	char *tmpfs[] = {"/run", "/t:size=1m,mode=700", NULL};
	struct hcp_ulimit ul[] = {{7, 100, 200}, {4, 0, UINT64_MAX}};
	struct hcp_spec s = {.argv = argv,
			     .argc = 1,
			     .cwd = "/",
			     .rootfs = "/dev/vda",
			     .read_only = true,
			     .tmpfs = tmpfs,
			     .n_tmpfs = 2,
			     .ulimits = ul,
			     .n_ulimits = 2,
			     .shm_size = 8 << 20,
			     .has_caps = true,
			     .caps = 0xa80425fbull,
			     .no_new_privs = true,
			     .restart = HCP_RESTART_ON_FAILURE,
			     .restart_max = 3};
	uint8_t *buf;
	size_t len;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	struct hcp_spec d;
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	assert_true(d.read_only && d.no_new_privs && d.has_caps);
	assert_int_equal(d.n_tmpfs, 2);
	assert_string_equal(d.tmpfs[1], "/t:size=1m,mode=700");
	assert_int_equal(d.n_ulimits, 2);
	assert_int_equal(d.ulimits[0].resource, 7);
	assert_int_equal(d.ulimits[0].soft, 100);
	assert_int_equal(d.ulimits[0].hard, 200);
	assert_true(d.ulimits[1].hard == UINT64_MAX);
	assert_int_equal(d.shm_size, 8 << 20);
	assert_int_equal(d.caps, 0xa80425fbull);
	assert_int_equal(d.restart, HCP_RESTART_ON_FAILURE);
	assert_int_equal(d.restart_max, 3);
	hcp_spec_free(&d);
	free(buf);
	/* an exec spec carries none of it (but ulimits: test_exec_spec) */
	struct hcp_spec x = {.argv = argv, .argc = 1, .read_only = true};
	assert_int_equal(hcp_exec_encode(&x, &buf, &len), -EINVAL);
	x = (struct hcp_spec){.argv = argv, .argc = 1, .no_new_privs = true};
	assert_int_equal(hcp_exec_encode(&x, &buf, &len), -EINVAL);
	/* encode refuses what decode would */
	s.ulimits[0].soft = 300;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), -EINVAL);
	s.ulimits[0].soft = 100;
	s.restart = HCP_RESTART_ALWAYS;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), -EINVAL); /* a max without on-failure */
	/* hostile records */
	assert_int_equal(decode_rec(HCP_SPEC_ULIMIT, "7 1 1", &d), 0);
	hcp_spec_free(&d);
	assert_int_equal(decode_rec(HCP_SPEC_RESTART, "always", &d), 0);
	assert_int_equal(d.restart, HCP_RESTART_ALWAYS);
	hcp_spec_free(&d);
	const struct {
		uint8_t tag;
		const char *rec;
	} bad[] = {
	    {HCP_SPEC_READ_ONLY, "0"},
	    {HCP_SPEC_READ_ONLY, "yes"},
	    {HCP_SPEC_ULIMIT, "16 1 1"},
	    {HCP_SPEC_ULIMIT, "7 2 1"},
	    {HCP_SPEC_ULIMIT, "7 1"},
	    {HCP_SPEC_ULIMIT, "7 1 1 "},
	    {HCP_SPEC_ULIMIT, "7 -1 1"},
	    {HCP_SPEC_ULIMIT, "7 1 99999999999999999999"},
	    {HCP_SPEC_SHM_SIZE, "0"},
	    {HCP_SPEC_SHM_SIZE, "1k"},
	    {HCP_SPEC_CAPS, "ff"},
	    {HCP_SPEC_CAPS, "000000000000000g"},
	    {HCP_SPEC_RESTART, "no"},
	    {HCP_SPEC_RESTART, "on-failure:"},
	    {HCP_SPEC_RESTART, "on-failure:2000000"},
	    {HCP_SPEC_TMPFS, "relative"},
	    {HCP_SPEC_TMPFS, "/x:bogus"},
	    {HCP_SPEC_NO_NEW_PRIVS, ""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode_rec(bad[i].tag, bad[i].rec, &d), -EPROTO);
}

static void test_spec_malformed(void **st)
{
	(void)st;
	struct hcp_spec d;
	/* NUL inside a string */
	uint8_t nul[] = {HCP_SPEC_ARG,	  3, 0, 0, 0, 'a', 0, 'b', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
			 HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x'};
	assert_int_equal(hcp_spec_decode(nul, sizeof(nul), &d), -EPROTO);
	/* length past the end */
	uint8_t longlen[] = {HCP_SPEC_ARG, 0xff, 0xff, 0xff, 0x7f, 'a'};
	assert_int_equal(hcp_spec_decode(longlen, sizeof(longlen), &d), -EPROTO);
	/* unknown tag */
	uint8_t unk[] = {99, 0, 0, 0, 0};
	assert_int_equal(hcp_spec_decode(unk, sizeof(unk), &d), -EPROTO);
	/* duplicate cwd, and a relative cwd */
	uint8_t dup[] = {HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD,	 1, 0, 0, 0, '/',
			 HCP_SPEC_CWD, 1, 0, 0, 0, '/', HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x'};
	assert_int_equal(hcp_spec_decode(dup, sizeof(dup), &d), -EPROTO);
	uint8_t rel[] = {HCP_SPEC_ARG,	  1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, 'w',
			 HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x'};
	assert_int_equal(hcp_spec_decode(rel, sizeof(rel), &d), -EPROTO);
	/* missing argv */
	uint8_t noarg[] = {HCP_SPEC_CWD, 1, 0, 0, 0, '/', HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x'};
	assert_int_equal(hcp_spec_decode(noarg, sizeof(noarg), &d), -EPROTO);
	/* a bad TIME or SEED */
	const char *bad_time[] = {"", "12a", "-5", "0", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_time) / sizeof(bad_time[0]); i++) {
		uint8_t b[64] = {HCP_SPEC_ARG,	  1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
				 HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x', HCP_SPEC_TIME};
		size_t n = strlen(bad_time[i]);
		b[19] = (uint8_t)n;
		memcpy(b + 23, bad_time[i], n);
		assert_int_equal(hcp_spec_decode(b, 23 + n, &d), -EPROTO);
	}
	uint8_t seed[64 + 23] = {HCP_SPEC_ARG,	  1, 0, 0, 0, 'a', HCP_SPEC_CWD,  1, 0, 0, 0, '/',
				 HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x', HCP_SPEC_SEED, 64};
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
	struct hcp_spec s = {0};
	uint8_t *b;
	size_t l;
	assert_int_equal(hcp_spec_encode(&s, &b, &l), -EINVAL);
}

static int decode_volume(const char *rec, struct hcp_spec *d)
{
	return decode_rec(HCP_SPEC_VOLUME, rec, d);
}

static void test_spec_volumes(void **st)
{
	(void)st;
	char *argv[] = {"true", NULL};
	struct hcp_volume v[] = {{"hullvol0", "/data", false}, {"hullvol1", "/a:b/c", true}};
	struct hcp_spec s = {
	    .argv = argv, .argc = 1, .cwd = "/", .rootfs = "/dev/vda", .volumes = v, .nvolumes = 2};
	uint8_t *buf;
	size_t len;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	struct hcp_spec d;
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	free(buf);
	assert_int_equal(d.nvolumes, 2);
	assert_string_equal(d.volumes[0].tag, "hullvol0");
	assert_string_equal(d.volumes[0].path, "/data");
	assert_false(d.volumes[0].read_only);
	assert_string_equal(d.volumes[1].path, "/a:b/c"); /* ':' in the path is kept */
	assert_true(d.volumes[1].read_only);
	hcp_spec_free(&d);
	/* encode refuses a bad tag or a relative path */
	v[0].tag = "bad tag";
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), -EINVAL);
	v[0].tag = "hullvol0";
	v[1].path = "rel";
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), -EINVAL);

	assert_int_equal(decode_volume("t:ro:/x", &d), 0);
	assert_true(d.volumes[0].read_only);
	hcp_spec_free(&d);
	const char *bad[] = {"",       "t",	    "t:ro",
			     "t:ro:",  "t:ro:x",    "t:rx:/x",
			     ":ro:/x", "t/1:rw:/x", "0123456789012345678901234567890123:rw:/x",
			     "t:rw/x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode_volume(bad[i], &d), -EPROTO);
	/* at most HCP_MAX_VOLUMES */
	uint8_t many[23 + 9 * 12];
	memcpy(many,
	       (uint8_t[]){HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, '/',
			   HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x'},
	       18);
	size_t n = 18;
	for (int i = 0; i <= HCP_MAX_VOLUMES; i++) {
		memcpy(many + n,
		       (uint8_t[]){HCP_SPEC_VOLUME, 7, 0, 0, 0, 't', ':', 'r', 'w', ':', '/', 'x'},
		       12);
		n += 12;
		assert_int_equal(hcp_spec_decode(many, n, &d), i < HCP_MAX_VOLUMES ? 0 : -EPROTO);
		if (i < HCP_MAX_VOLUMES) {
			assert_int_equal(d.nvolumes, (size_t)i + 1);
			hcp_spec_free(&d);
		}
	}
}

/* A spec payload: ARG "a", CWD "/", ROOTFS "x", then one TTY record. */
static size_t tty_payload(uint8_t *b, const char *tty)
{
	static const uint8_t head[] = {HCP_SPEC_ARG,	1, 0, 0, 0, 'a',
				       HCP_SPEC_CWD,	1, 0, 0, 0, '/',
				       HCP_SPEC_ROOTFS, 1, 0, 0, 0, 'x'};
	size_t n = strlen(tty);
	memcpy(b, head, sizeof(head));
	b[sizeof(head)] = HCP_SPEC_TTY;
	hcp_u32_encode(b + sizeof(head) + 1, (uint32_t)n);
	memcpy(b + sizeof(head) + 5, tty, n);
	return sizeof(head) + 5 + n;
}

static void test_spec_tty(void **st)
{
	(void)st;
	char *argv[] = {"sh", NULL};
	struct hcp_spec s = {.argv = argv,
			     .argc = 1,
			     .cwd = "/",
			     .rootfs = "/dev/vda",
			     .tty = true,
			     .rows = 65535,
			     .cols = 7};
	uint8_t *buf;
	size_t len;
	struct hcp_spec d;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	assert_true(d.tty);
	assert_int_equal(d.rows, 65535);
	assert_int_equal(d.cols, 7);
	hcp_spec_free(&d);
	free(buf);
	/* no TTY record: no tty */
	s.tty = false;
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_spec_decode(buf, len, &d), 0);
	assert_false(d.tty);
	hcp_spec_free(&d);
	free(buf);

	uint8_t b[64];
	assert_int_equal(hcp_spec_decode(b, tty_payload(b, "0 0"), &d), 0);
	assert_true(d.tty && d.rows == 0 && d.cols == 0);
	hcp_spec_free(&d);
	const char *bad[] = {"",	 "24",	  "24 ",      " 80",	 "24  80", "24x80",
			     "65536 80", "24 -1", "123456 1", "24 80 1", "+4 80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hcp_spec_decode(b, tty_payload(b, bad[i]), &d), -EPROTO);
	/* a duplicate TTY record */
	size_t n = tty_payload(b, "1 1");
	memcpy(b + n, b + n - 8, 8);
	assert_int_equal(hcp_spec_decode(b, n + 8, &d), -EPROTO);
}

static void test_exec_spec(void **st)
{
	(void)st;
	char *argv[] = {"ps", "-o", "pid", NULL};
	char *envp[] = {"X=1", NULL};
	struct hcp_spec s = {
	    .argv = argv, .argc = 3, .envp = envp, .envc = 1, .tty = true, .rows = 24, .cols = 80};
	uint8_t *buf;
	size_t len;
	struct hcp_spec d;
	/* cwd and user are optional for an exec */
	assert_int_equal(hcp_exec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_exec_decode(buf, len, &d), 0);
	assert_int_equal(d.argc, 3);
	assert_string_equal(d.argv[1], "-o");
	assert_null(d.cwd);
	assert_null(d.user);
	assert_null(d.rootfs);
	assert_string_equal(d.envp[0], "X=1");
	assert_true(d.tty && d.rows == 24 && d.cols == 80);
	hcp_spec_free(&d);
	/* ...but a main SPEC needs them */
	assert_int_equal(hcp_spec_decode(buf, len, &d), -EPROTO);
	free(buf);
	s.cwd = "/tmp";
	s.user = "1000:1000";
	assert_int_equal(hcp_exec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_exec_decode(buf, len, &d), 0);
	assert_string_equal(d.cwd, "/tmp");
	assert_string_equal(d.user, "1000:1000");
	assert_int_equal(d.n_ulimits, 0); /* none: the container's */
	hcp_spec_free(&d);
	free(buf);
	/* its own rlimits (an OCI exec's process.rlimits) */
	struct hcp_ulimit ul[] = {{7, 64, 128}};
	s.ulimits = ul;
	s.n_ulimits = 1;
	assert_int_equal(hcp_exec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_exec_decode(buf, len, &d), 0);
	assert_int_equal(d.n_ulimits, 1);
	assert_int_equal(d.ulimits[0].resource, 7);
	assert_int_equal(d.ulimits[0].soft, 64);
	assert_int_equal(d.ulimits[0].hard, 128);
	hcp_spec_free(&d);
	free(buf);
	ul[0].soft = 256; /* above the hard limit */
	assert_int_equal(hcp_exec_encode(&s, &buf, &len), -EINVAL);
	s.n_ulimits = 0;
	/* fields that only a container's SPEC may carry */
	s.rootfs = "/dev/vda";
	assert_int_equal(hcp_exec_encode(&s, &buf, &len), -EINVAL);
	s.rootfs = NULL;
	s.hostname = "h";
	assert_int_equal(hcp_exec_encode(&s, &buf, &len), -EINVAL);
	s.hostname = NULL;
	s.realtime_ns = 5;
	assert_int_equal(hcp_exec_encode(&s, &buf, &len), -EINVAL);
	/* the decoder refuses them too: a main SPEC is not an exec spec */
	s.realtime_ns = 0;
	s.rootfs = "/dev/vda";
	assert_int_equal(hcp_spec_encode(&s, &buf, &len), 0);
	assert_int_equal(hcp_exec_decode(buf, len, &d), -EPROTO);
	free(buf);
	/* a relative cwd, no argv */
	uint8_t rel[] = {HCP_SPEC_ARG, 1, 0, 0, 0, 'a', HCP_SPEC_CWD, 1, 0, 0, 0, 'w'};
	assert_int_equal(hcp_exec_decode(rel, sizeof(rel), &d), -EPROTO);
	assert_int_equal(hcp_exec_decode(rel + 6, sizeof(rel) - 6, &d), -EPROTO);
	struct hcp_spec none = {0};
	assert_int_equal(hcp_exec_encode(&none, &buf, &len), -EINVAL);
}

static void test_winsize(void **st)
{
	(void)st;
	uint8_t buf[32], p[HCP_WINSIZE_LEN];
	hcp_winsize_encode(p, 50, 0x1234);
	size_t n = frame(buf, HCP_RESIZE, p, sizeof(p));
	struct hcp_reader r;
	hcp_reader_init(&r);
	uint8_t types[2];
	assert_int_equal(feed(&r, buf, n, 3, types, 2), 1);
	assert_int_equal(types[0], HCP_RESIZE);
	hcp_reader_free(&r);
	struct hcp_msg m = {.type = HCP_RESIZE, .len = 4, .payload = p};
	uint16_t rows, cols;
	assert_int_equal(hcp_winsize_decode(&m, &rows, &cols), 0);
	assert_int_equal(rows, 50);
	assert_int_equal(cols, 0x1234);
	m.len = 3;
	assert_int_equal(hcp_winsize_decode(&m, &rows, &cols), -EPROTO);
	m.len = 5;
	assert_int_equal(hcp_winsize_decode(&m, &rows, &cols), -EPROTO);
	/* the new types frame; their neighbours stay unknown */
	uint8_t hdr[HCP_HDR_LEN];
	assert_int_equal(hcp_header_encode(hdr, HCP_EXEC, 0), 0);
	assert_int_equal(hcp_header_encode(hdr, HCP_MAIN_SIGNAL, 4), 0);
	assert_int_equal(hcp_header_encode(hdr, 0x18, 0), -EINVAL);
	assert_int_equal(hcp_header_encode(hdr, 0x08, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frames_any_split),   cmocka_unit_test(test_payload_and_u32),
	    cmocka_unit_test(test_bad_headers),	       cmocka_unit_test(test_max_payload_bounded),
	    cmocka_unit_test(test_spec_roundtrip),     cmocka_unit_test(test_spec_malformed),
	    cmocka_unit_test(test_spec_volumes),       cmocka_unit_test(test_spec_tty),
	    cmocka_unit_test(test_exec_spec),	       cmocka_unit_test(test_winsize),
	    cmocka_unit_test(test_spec_net_roundtrip), cmocka_unit_test(test_spec_confine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
