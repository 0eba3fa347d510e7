#include "control.h"
#include "common/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Header and payload in one send: see "Every frame" in control.h. */
static int send_frame(struct control *c, uint8_t type, const void *payload, uint32_t len)
{
	uint8_t small[HCP_HDR_LEN + 4096], *buf = small;
	if (len > sizeof(small) - HCP_HDR_LEN && !(buf = malloc(HCP_HDR_LEN + (size_t)len)))
		return -ENOMEM;
	int rc = hcp_header_encode(buf, type, len);
	if (!rc) {
		if (len)
			memcpy(buf + HCP_HDR_LEN, payload, len);
		rc = c->send(c->send_ctx, buf, HCP_HDR_LEN + (size_t)len);
	}
	if (buf != small)
		free(buf);
	return rc;
}

int control_init(struct control *c, const struct hcp_spec *spec, bool exec, control_send_fn send,
		 void *send_ctx)
{
	memset(c, 0, sizeof(*c));
	uint8_t *probe;
	size_t len;
	/* fail now, not in the middle of the conversation */
	int rc = exec ? hcp_exec_encode(spec, &probe, &len) : hcp_spec_encode(spec, &probe, &len);
	if (rc)
		return rc;
	free(probe);
	c->exec = exec;
	c->spec = spec;
	hcp_reader_init(&c->rd);
	c->send = send;
	c->send_ctx = send_ctx;
	return 0;
}

void control_free(struct control *c)
{
	hcp_reader_free(&c->rd);
}

static void fail(struct control *c, const char *why)
{
	if (!c->failure[0])
		snprintf(c->failure, sizeof(c->failure), "%s", why);
}

/* SPEC (or EXEC) then STDIN_EOF, with the host's time and a new seed filled
 * in now: a restored guest wakes with its template's clock and RNG state. */
static int send_spec(struct control *c)
{
	struct hcp_spec s = *c->spec;
	if (!c->exec) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s.realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		s.has_seed = getrandom(s.seed, sizeof(s.seed), 0) == (ssize_t)sizeof(s.seed);
	}
	if (s.tty && c->has_winsize) {
		s.rows = c->rows;
		s.cols = c->cols;
	}
	uint8_t *buf;
	size_t len;
	int rc = c->exec ? hcp_exec_encode(&s, &buf, &len) : hcp_spec_encode(&s, &buf, &len);
	explicit_bzero(s.seed, sizeof(s.seed));
	if (rc)
		return rc;
	rc = send_frame(c, c->exec ? HCP_EXEC : HCP_SPEC, buf, (uint32_t)len);
	free(buf);
	if (!rc && !c->stdin_open) {
		rc = send_frame(c, HCP_STDIN_EOF, NULL, 0);
		c->stdin_eof_sent = true;
	}
	return rc;
}

static int spec_out(struct control *c)
{
	c->spec_sent = true;
	if (send_spec(c)) {
		fail(c, "cannot send the container spec to the guest");
		return -EIO;
	}
	return 0;
}

int control_send_spec(struct control *c)
{
	if (!c->ready)
		return -EAGAIN;
	if (c->spec_sent)
		return -EALREADY;
	return spec_out(c);
}

int control_assume_ready(struct control *c)
{
	if (c->ready)
		return -EALREADY;
	c->ready = true;
	c->t_ready = clock_now_ns();
	return spec_out(c);
}

/* One frame -> at most one event (returns 1 with *ev, else 0). */
static int handle(struct control *c, const struct hcp_msg *m, struct control_event *ev)
{
	uint32_t v;
	memset(ev, 0, sizeof(*ev));
	switch (m->type) {
	case HCP_READY:
		if (c->ready) {
			fail(c, "guest-init said READY twice");
			return 0;
		}
		c->ready = true;
		c->t_ready = clock_now_ns();
		ev->type = CONTROL_READY;
		return 1;
	case HCP_STARTED:
		if (!c->spec_sent || c->started || hcp_u32_decode(m, &v)) {
			fail(c, "malformed or unexpected STARTED frame");
			return 0;
		}
		c->started = true;
		c->t_started = clock_now_ns();
		ev->type = CONTROL_STARTED;
		return 1;
	case HCP_STDOUT:
	case HCP_STDERR:
		if (!c->started || c->exited) {
			fail(c, "container output outside the container's lifetime");
			return 0;
		}
		ev->type = CONTROL_OUTPUT;
		ev->stream = m->type == HCP_STDOUT ? 1 : 2;
		ev->data = m->payload;
		ev->len = m->len;
		return 1;
	case HCP_ERROR: {
		if (!c->ready || c->exited) {
			fail(c, "unexpected ERROR frame");
			return 0;
		}
		/* the text is guest-controlled: data, bounded */
		int n = snprintf(c->text, sizeof(c->text), "%.*s",
				 (int)(m->len > 400 ? 400 : m->len), (const char *)m->payload);
		for (int i = 0; i < n && i < (int)sizeof(c->text); i++)
			if ((unsigned char)c->text[i] < 0x20 && c->text[i] != '\t')
				c->text[i] = '?';
		ev->type = CONTROL_ERROR;
		ev->text = c->text;
		return 1;
	}
	case HCP_EXIT:
		if (!c->ready || c->exited || hcp_u32_decode(m, &v) || v > 255) {
			fail(c, "malformed or unexpected EXIT frame");
			return 0;
		}
		c->exited = true;
		c->exit_status = (int)v;
		c->t_exit = clock_now_ns();
		ev->type = CONTROL_EXIT;
		ev->status = (int)v;
		return 1;
	default:
		fail(c, "guest sent a host-to-guest frame");
		return 0;
	}
}

int control_next(struct control *c, const uint8_t *buf, size_t n, size_t *off,
		 struct control_event *ev)
{
	while (!c->failure[0]) {
		struct hcp_msg m;
		int rc = hcp_reader_next(&c->rd, &m);
		if (rc == 1) {
			if (handle(c, &m, ev))
				return 1;
			continue;
		}
		if (rc < 0) {
			fail(c, "corrupt frame on the control channel");
			break;
		}
		if (*off >= n)
			return 0;
		size_t taken = 0;
		if (hcp_reader_push(&c->rd, buf + *off, n - *off, &taken)) {
			fail(c, "corrupt frame on the control channel");
			break;
		}
		*off += taken;
	}
	*off = n; /* the rest of a broken conversation is not read */
	if (c->failed_reported)
		return 0;
	c->failed_reported = true;
	memset(ev, 0, sizeof(*ev));
	ev->type = CONTROL_FAILED;
	ev->text = c->failure;
	return 1;
}

int control_signal(struct control *c, int signo)
{
	if (!c->started || c->exited)
		return -EAGAIN;
	uint8_t p[4];
	hcp_u32_encode(p, (uint32_t)signo);
	return send_frame(c, HCP_SIGNAL, p, 4);
}

void control_set_stdin_open(struct control *c, bool open)
{
	c->stdin_open = open;
}

int control_stdin(struct control *c, const void *buf, size_t n)
{
	if (!c->spec_sent)
		return -EAGAIN;
	if (c->stdin_eof_sent || c->exited)
		return -EPIPE;
	if (n > HCP_MAX_PAYLOAD)
		return -EINVAL;
	return send_frame(c, HCP_STDIN, buf, (uint32_t)n);
}

int control_stdin_eof(struct control *c)
{
	if (!c->spec_sent)
		return -EAGAIN;
	int rc = 0;
	if (!c->stdin_eof_sent && !c->exited) {
		rc = send_frame(c, HCP_STDIN_EOF, NULL, 0);
		c->stdin_eof_sent = rc == 0;
	}
	return rc;
}

int control_resize(struct control *c, uint16_t rows, uint16_t cols)
{
	c->has_winsize = true;
	c->rows = rows;
	c->cols = cols;
	if (!c->spec_sent || c->exited)
		return 0;
	uint8_t p[HCP_WINSIZE_LEN];
	hcp_winsize_encode(p, rows, cols);
	return send_frame(c, HCP_RESIZE, p, sizeof(p));
}

bool control_exit_status(const struct control *c, int *status)
{
	if (c->exited)
		*status = c->exit_status;
	return c->exited;
}

const char *control_failed(const struct control *c)
{
	return c->failure[0] ? c->failure : NULL;
}
