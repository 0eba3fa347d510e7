/* Fuzz the host's side of hcp (runtime/control.c): a hostile guest-init's
 * byte stream, fed in pieces between the host's own actions (signals, stdin,
 * resizes, sending the spec on READY or before it). Beyond memory safety:
 * every byte the host sends back is a well-formed host-to-guest frame and
 * its SPEC/EXEC payload decodes; every event is well formed (OUTPUT on
 * stream 1 or 2 within the bytes fed, texts NUL-terminated, nothing after
 * FAILED).
 *
 * Input: a flags byte (exec session, stdin open, spec on READY, tty), then
 * operations: an op byte, and for FEED a u16 length and that many bytes. */
#include <string.h>

#include "fuzz/fuzz.h"
#include "runtime/control.h"

struct sent {
	struct hcp_reader rd;
	bool exec;
	unsigned specs;
};

static int check_send(void *ctx, const void *buf, size_t n)
{
	struct sent *s = ctx;
	const uint8_t *p = buf;
	while (n) {
		size_t taken;
		FZ_CHECK(hcp_reader_push(&s->rd, p, n, &taken) == 0);
		p += taken;
		n -= taken;
		struct hcp_msg m;
		int got;
		while ((got = hcp_reader_next(&s->rd, &m)) == 1) {
			struct hcp_spec spec;
			switch (m.type) {
			case HCP_SPEC:
			case HCP_EXEC:
				FZ_CHECK((m.type == HCP_EXEC) == s->exec);
				FZ_CHECK(s->specs++ == 0);
				FZ_CHECK((s->exec ? hcp_exec_decode(m.payload, m.len, &spec)
						  : hcp_spec_decode(m.payload, m.len, &spec)) == 0);
				hcp_spec_free(&spec);
				break;
			case HCP_STDIN:
			case HCP_STDIN_EOF:
			case HCP_RESIZE:
				break;
			case HCP_SIGNAL:
			case HCP_MAIN_SIGNAL:
				FZ_CHECK(m.len == 4);
				break;
			default:
				FZ_CHECK(!"the host sent a guest-to-host frame");
			}
		}
		FZ_CHECK(got == 0);
	}
	return 0;
}

/* Take every event out of p[0, n) and check its shape. */
static void drain(struct control *c, const uint8_t *p, size_t n, bool spec_on_ready, bool *failed)
{
	size_t off = 0;
	struct control_event ev;
	while (control_next(c, p, n, &off, &ev) == 1) {
		FZ_CHECK(off <= n);
		FZ_CHECK(!*failed);
		switch (ev.type) {
		case CONTROL_READY:
			if (spec_on_ready)
				control_send_spec(c);
			break;
		case CONTROL_OUTPUT:
			FZ_CHECK(ev.stream == 1 || ev.stream == 2);
			FZ_CHECK(ev.len == 0 || ev.data != NULL);
			if (ev.len) /* ASan checks the bytes are readable */
				FZ_CHECK(memchr(ev.data, ev.data[ev.len - 1], ev.len) != NULL);
			break;
		case CONTROL_ERROR:
		case CONTROL_FAILED:
			FZ_CHECK(ev.text && strlen(ev.text) < 1024);
			*failed = ev.type == CONTROL_FAILED;
			break;
		case CONTROL_EXIT:
			FZ_CHECK(ev.status >= 0 && ev.status <= 255);
			break;
		case CONTROL_STARTED:
			break;
		default:
			FZ_CHECK(!"unknown event");
		}
	}
	FZ_CHECK(off == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	uint8_t flags = fz_u8(&in);
	char *argv[] = {"sh", "-c", "echo hi", NULL};
	char *envp[] = {"PATH=/bin", NULL};
	struct hcp_spec spec = {
	    .argv = argv,
	    .argc = 3,
	    .envp = envp,
	    .envc = 1,
	    .cwd = "/",
	    .rootfs = (flags & 1) ? NULL : "/dev/vda",
	    .tty = flags & 8,
	};
	struct sent sent = {.exec = flags & 1};
	hcp_reader_init(&sent.rd);
	struct control c;
	bool failed = false;
	FZ_CHECK(control_init(&c, &spec, flags & 1, check_send, &sent) == 0);
	control_set_stdin_open(&c, flags & 2);
	if (flags & 1)
		control_assume_ready(&c);
	while (fz_left(&in)) {
		uint8_t op = fz_u8(&in);
		size_t n;
		const uint8_t *p;
		switch (op % 10) {
		default: /* 0-3: guest bytes */
			p = fz_bytes(&in, fz_u16(&in), &n);
			drain(&c, p, n, flags & 4, &failed);
			break;
		case 4:
			control_signal(&c, fz_u8(&in) % 65);
			break;
		case 5:
			p = fz_bytes(&in, fz_u8(&in), &n);
			control_stdin(&c, p, n);
			break;
		case 6:
			control_stdin_eof(&c);
			break;
		case 7:
			control_resize(&c, fz_u16(&in), fz_u16(&in));
			break;
		case 8:
			control_send_spec(&c);
			break;
		case 9:
			control_assume_ready(&c);
			break;
		}
	}
	int status;
	if (control_exit_status(&c, &status))
		FZ_CHECK(status >= 0);
	(void)control_failed(&c);
	control_free(&c);
	hcp_reader_free(&sent.rd);
	return 0;
}
