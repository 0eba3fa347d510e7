/* control: hull's side of the hcp conversation, fed by a scripted guest. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/control.h"

/* What control_next() returned for the bytes fed so far. */
static struct control_event evs[64];
static char ev_text[64][512];
static uint8_t ev_data[64][64];
static int n_evs;
static bool auto_spec = true; /* answer READY with the spec, as the session does */

static void feed(struct control *c, const uint8_t *buf, size_t n)
{
	size_t off = 0;
	struct control_event ev;
	while (control_next(c, buf, n, &off, &ev)) {
		assert_true(n_evs < 64);
		if (ev.text) {
			snprintf(ev_text[n_evs], sizeof(ev_text[0]), "%s", ev.text);
			ev.text = ev_text[n_evs];
		}
		if (ev.data) {
			assert_true(ev.len <= sizeof(ev_data[0]));
			memcpy(ev_data[n_evs], ev.data, ev.len);
			ev.data = ev_data[n_evs];
		}
		evs[n_evs++] = ev;
		/* the host answers READY with the spec */
		if (ev.type == CONTROL_READY && auto_spec)
			assert_int_equal(control_send_spec(c), 0);
	}
	assert_int_equal(off, n);
}

static int count(enum control_event_type t)
{
	int k = 0;
	for (int i = 0; i < n_evs; i++)
		k += evs[i].type == t;
	return k;
}

static uint8_t sent[4096];
static size_t sent_len;

static int refuse; /* the transport is full: take nothing */

static int fake_send(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	if (refuse)
		return -ENOBUFS;
	assert_true(sent_len + n <= sizeof(sent));
	memcpy(sent + sent_len, buf, n);
	sent_len += n;
	return 0;
}

static size_t frame(uint8_t *out, uint8_t type, const void *p, uint32_t len)
{
	hcp_header_encode(out, type, len);
	if (len)
		memcpy(out + HCP_HDR_LEN, p, len);
	return HCP_HDR_LEN + len;
}

static size_t u32frame(uint8_t *out, uint8_t type, uint32_t v)
{
	uint8_t p[4];
	hcp_u32_encode(p, v);
	return frame(out, type, p, 4);
}

static char *argv0[] = {"echo", "hi", NULL};
static struct hcp_spec spec = {.argv = argv0, .argc = 2, .cwd = "/", .rootfs = "/dev/vda"};

static void mk(struct control *c)
{
	sent_len = 0;
	n_evs = 0;
	assert_int_equal(control_init(c, &spec, false, fake_send, NULL), 0);
}

static void done(struct control *c)
{
	control_free(c);
}

static void test_happy_path_bytewise(void **st)
{
	(void)st;
	struct control c;
	mk(&c);
	uint8_t g[512];
	size_t n = 0;
	n += frame(g + n, HCP_READY, NULL, 0);
	n += u32frame(g + n, HCP_STARTED, 42);
	n += frame(g + n, HCP_STDOUT, "hi\n", 3);
	n += frame(g + n, HCP_STDERR, "oops\n", 5);
	n += u32frame(g + n, HCP_EXIT, 7);
	for (size_t i = 0; i < n; i++) {
		feed(&c, g + i, 1);
		if (i == HCP_HDR_LEN - 1) {
			/* READY answered with SPEC then STDIN_EOF */
			assert_int_equal(sent[0], HCP_SPEC);
			struct hcp_spec d;
			uint32_t len = sent[4] | sent[5] << 8;
			assert_int_equal(hcp_spec_decode(sent + 8, len, &d), 0);
			assert_string_equal(d.argv[1], "hi");
			/* stamped with the host's clock and a seed */
			assert_true(d.realtime_ns > 1700000000ull * 1000000000ull);
			assert_true(d.has_seed);
			hcp_spec_free(&d);
			assert_int_equal(sent[8 + len], HCP_STDIN_EOF);
		}
	}
	assert_null(control_failed(&c));
	assert_true(c.started);
	int status;
	assert_true(control_exit_status(&c, &status));
	assert_int_equal(status, 7);
	/* one event per frame, in order */
	assert_int_equal(n_evs, 5);
	assert_int_equal(evs[0].type, CONTROL_READY);
	assert_int_equal(evs[1].type, CONTROL_STARTED);
	assert_int_equal(evs[2].type, CONTROL_OUTPUT);
	assert_int_equal(evs[2].stream, 1);
	assert_int_equal(evs[2].len, 3);
	assert_memory_equal(evs[2].data, "hi\n", 3);
	assert_int_equal(evs[3].type, CONTROL_OUTPUT);
	assert_int_equal(evs[3].stream, 2);
	assert_int_equal(evs[3].len, 5);
	assert_int_equal(evs[4].type, CONTROL_EXIT);
	assert_int_equal(evs[4].status, 7);
	assert_true(c.t_ready && c.t_started && c.t_exit);
	done(&c);
}

static void test_resume_ready(void **st)
{
	(void)st;
	struct control c;
	mk(&c);
	/* a restored VM: no READY frame comes, the host sends the spec itself */
	assert_int_equal(control_assume_ready(&c), 0);
	assert_int_equal(sent[0], HCP_SPEC);
	assert_int_equal(control_assume_ready(&c), -EALREADY);
	uint8_t g[32];
	size_t n = frame(g, HCP_READY, NULL, 0); /* a READY now is a protocol error */
	feed(&c, g, n);
	assert_non_null(control_failed(&c));
	done(&c);
}

static void test_ready_holds_spec(void **st)
{
	(void)st;
	struct control c;
	mk(&c);
	auto_spec = false;
	assert_int_equal(control_send_spec(&c), -EAGAIN);
	uint8_t g[32];
	size_t n = frame(g, HCP_READY, NULL, 0);
	feed(&c, g, n);
	assert_int_equal(count(CONTROL_READY), 1);
	assert_int_equal(sent_len, 0); /* held until the caller sends it */
	/* a STARTED before the spec went out is a protocol error */
	struct control c2;
	mk(&c2);
	n += u32frame(g + n, HCP_STARTED, 1);
	feed(&c2, g, n);
	assert_non_null(control_failed(&c2));
	assert_int_equal(count(CONTROL_FAILED), 1);
	done(&c2);
	auto_spec = true;
	sent_len = 0;
	assert_int_equal(control_send_spec(&c), 0);
	assert_int_equal(sent[0], HCP_SPEC);
	assert_int_equal(control_send_spec(&c), -EALREADY);
	done(&c);
}

static void test_seeds_differ(void **st)
{
	(void)st;
	struct control a, b;
	uint8_t sa[HCP_SEED_LEN], sb[HCP_SEED_LEN];
	struct hcp_spec d;
	mk(&a);
	assert_int_equal(control_assume_ready(&a), 0);
	assert_int_equal(hcp_spec_decode(sent + 8, sent[4] | sent[5] << 8, &d), 0);
	memcpy(sa, d.seed, sizeof(sa));
	hcp_spec_free(&d);
	mk(&b);
	assert_int_equal(control_assume_ready(&b), 0);
	assert_int_equal(hcp_spec_decode(sent + 8, sent[4] | sent[5] << 8, &d), 0);
	memcpy(sb, d.seed, sizeof(sb));
	hcp_spec_free(&d);
	assert_memory_not_equal(sa, sb, sizeof(sa));
	done(&a);
	done(&b);
}

static void test_signal_forwarding(void **st)
{
	(void)st;
	struct control c;
	mk(&c);
	assert_int_equal(control_signal(&c, 15), -EAGAIN); /* nothing runs yet */
	uint8_t g[64];
	size_t n = frame(g, HCP_READY, NULL, 0);
	n += u32frame(g + n, HCP_STARTED, 1);
	feed(&c, g, n);
	size_t before = sent_len;
	assert_int_equal(control_signal(&c, 15), 0);
	assert_int_equal(sent[before], HCP_SIGNAL);
	assert_int_equal(sent[before + 8], 15);
	done(&c);
}

static void test_error_text_sanitised(void **st)
{
	(void)st;
	struct control c;
	mk(&c);
	uint8_t g[128];
	size_t n = frame(g, HCP_READY, NULL, 0);
	n += frame(g + n, HCP_ERROR, "bad\x1b[2Jcmd", 10);
	n += u32frame(g + n, HCP_EXIT, 127);
	feed(&c, g, n);
	assert_int_equal(count(CONTROL_ERROR), 1);
	assert_string_equal(evs[1].text, "bad?[2Jcmd");
	int status;
	assert_true(control_exit_status(&c, &status));
	assert_int_equal(status, 127);
	done(&c);
}

static void test_hostile_sequences(void **st)
{
	(void)st;
	struct {
		const char *name;
		uint8_t type;
		uint32_t v;
		int ready_first;
	} cases[] = {
	    {"output before start", HCP_STDOUT, 0, 1}, {"exit before ready", HCP_EXIT, 0, 0},
	    {"exit status > 255", HCP_EXIT, 300, 1},   {"host frame from guest", HCP_SPEC, 0, 1},
	    {"double ready", HCP_READY, 0, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct control c;
		mk(&c);
		uint8_t g[64];
		size_t n = 0;
		if (cases[i].ready_first)
			n += frame(g, HCP_READY, NULL, 0);
		if (cases[i].type == HCP_EXIT)
			n += u32frame(g + n, HCP_EXIT, cases[i].v);
		else
			n += frame(g + n, cases[i].type, "x", cases[i].type == HCP_READY ? 0 : 1);
		feed(&c, g, n);
		assert_non_null(control_failed(&c));
		int status;
		assert_false(control_exit_status(&c, &status));
		done(&c);
	}
	/* garbage header */
	struct control c;
	mk(&c);
	uint8_t junk[16] = {0xff, 1, 2, 3, 4, 5, 6, 7};
	feed(&c, junk, sizeof(junk));
	assert_non_null(control_failed(&c));
	done(&c);
}

/* The frames hull sent so far, as types; the last frame's payload in *last. */
static int sent_types(uint8_t *types, int max, struct hcp_spec *spec_out, uint8_t *last,
		      uint32_t *last_len)
{
	struct hcp_reader r;
	struct hcp_msg m;
	size_t off = 0, taken;
	int n = 0;

	hcp_reader_init(&r);
	while (off < sent_len) {
		assert_int_equal(hcp_reader_push(&r, sent + off, sent_len - off, &taken), 0);
		off += taken;
		while (hcp_reader_next(&r, &m) == 1) {
			assert_true(n < max);
			types[n++] = m.type;
			if (m.type == HCP_SPEC && spec_out)
				assert_int_equal(hcp_spec_decode(m.payload, m.len, spec_out), 0);
			if (last) {
				memcpy(last, m.payload, m.len);
				*last_len = m.len;
			}
		}
	}
	hcp_reader_free(&r);
	return n;
}

static void test_stdin_forwarding(void **st)
{
	(void)st;
	struct control c;
	uint8_t types[8], last[4096];
	uint32_t last_len;
	mk(&c);
	control_set_stdin_open(&c, true);
	/* nothing before the spec is out */
	assert_int_equal(control_stdin(&c, "ab", 2), -EAGAIN);
	assert_int_equal(control_stdin_eof(&c), -EAGAIN);
	assert_int_equal(control_assume_ready(&c), 0);
	/* an open stdin: SPEC alone */
	assert_int_equal(sent_types(types, 8, NULL, NULL, NULL), 1);
	assert_int_equal(types[0], HCP_SPEC);
	assert_int_equal(control_stdin(&c, "abc", 3), 0);
	assert_int_equal(sent_types(types, 8, NULL, last, &last_len), 2);
	assert_int_equal(types[1], HCP_STDIN);
	assert_int_equal(last_len, 3);
	assert_memory_equal(last, "abc", 3);
	/* a full transport: the frame is refused whole, nothing torn */
	size_t before = sent_len;
	refuse = 1;
	assert_int_equal(control_stdin(&c, "def", 3), -ENOBUFS);
	assert_int_equal(control_stdin_eof(&c), -ENOBUFS);
	refuse = 0;
	assert_int_equal(sent_len, before);
	assert_int_equal(control_stdin(&c, "def", 3), 0);
	assert_int_equal(control_stdin_eof(&c), 0);
	assert_int_equal(control_stdin_eof(&c), 0); /* once only */
	assert_int_equal(sent_types(types, 8, NULL, NULL, NULL), 4);
	assert_int_equal(types[2], HCP_STDIN);
	assert_int_equal(types[3], HCP_STDIN_EOF);
	assert_int_equal(control_stdin(&c, "x", 1), -EPIPE);
	done(&c);

	/* closed stdin (the default): STDIN_EOF right after SPEC */
	mk(&c);
	assert_int_equal(control_assume_ready(&c), 0);
	assert_int_equal(sent_types(types, 8, NULL, NULL, NULL), 2);
	assert_int_equal(types[1], HCP_STDIN_EOF);
	assert_int_equal(control_stdin(&c, "x", 1), -EPIPE);
	done(&c);
}

static void test_resize(void **st)
{
	(void)st;
	struct control c;
	uint8_t types[8], last[4096];
	uint32_t last_len;
	struct hcp_spec got;
	struct hcp_spec tty_spec = spec;
	tty_spec.tty = true;
	sent_len = 0;
	assert_int_equal(control_init(&c, &tty_spec, false, fake_send, NULL), 0);
	/* before the spec: the size rides in it */
	assert_int_equal(control_resize(&c, 40, 132), 0);
	assert_int_equal(sent_len, 0);
	assert_int_equal(control_assume_ready(&c), 0);
	assert_int_equal(sent_types(types, 8, &got, NULL, NULL), 2);
	assert_true(got.tty && got.rows == 40 && got.cols == 132);
	hcp_spec_free(&got);
	/* after: a RESIZE frame */
	assert_int_equal(control_resize(&c, 50, 80), 0);
	assert_int_equal(sent_types(types, 8, NULL, last, &last_len), 3);
	assert_int_equal(types[2], HCP_RESIZE);
	struct hcp_msg m = {.type = HCP_RESIZE, .len = last_len, .payload = last};
	uint16_t rows, cols;
	assert_int_equal(hcp_winsize_decode(&m, &rows, &cols), 0);
	assert_int_equal(rows, 50);
	assert_int_equal(cols, 80);
	done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_happy_path_bytewise),
	    cmocka_unit_test(test_resume_ready),
	    cmocka_unit_test(test_seeds_differ),
	    cmocka_unit_test(test_ready_holds_spec),
	    cmocka_unit_test(test_signal_forwarding),
	    cmocka_unit_test(test_error_text_sanitised),
	    cmocka_unit_test(test_hostile_sequences),
	    cmocka_unit_test(test_stdin_forwarding),
	    cmocka_unit_test(test_resize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
