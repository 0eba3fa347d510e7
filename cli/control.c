#include "control.h"
#include "common/clock.h"
#include "common/fdio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

static int init(struct control *c, bool exec, const struct hcp_spec *spec, int out_fd, int err_fd,
		control_send_fn send, void *send_ctx)
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
	pthread_mutex_init(&c->lock, NULL);
	hcp_reader_init(&c->rd);
	c->send = send;
	c->send_ctx = send_ctx;
	c->out_fd = out_fd;
	c->err_fd = err_fd;
	return 0;
}

int control_init(struct control *c, const struct hcp_spec *spec, int out_fd, int err_fd,
		 control_send_fn send, void *send_ctx)
{
	return init(c, false, spec, out_fd, err_fd, send, send_ctx);
}

int control_init_exec(struct control *c, const struct hcp_spec *spec, int out_fd, int err_fd,
		      control_send_fn send, void *send_ctx)
{
	return init(c, true, spec, out_fd, err_fd, send, send_ctx);
}

void control_free(struct control *c)
{
	hcp_reader_free(&c->rd);
	pthread_mutex_destroy(&c->lock);
}

static void fail(struct control *c, const char *why)
{
	if (!c->failure[0])
		snprintf(c->failure, sizeof(c->failure), "%s", why);
}

/* SPEC then STDIN_EOF, with the host's time and a new seed filled in now:
 * a restored guest wakes with its template's clock and RNG state. */
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

static void spec_out(struct control *c)
{
	c->spec_sent = true;
	if (send_spec(c))
		fail(c, "cannot send the container spec to the guest");
}

static void on_ready(struct control *c)
{
	c->ready = true;
	c->t_ready = clock_now_ns();
	if (c->ready_hook)
		c->ready_hook(c->ready_hook_ctx);
	else
		spec_out(c);
}

void control_set_ready_hook(struct control *c, void (*hook)(void *), void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->ready_hook = hook;
	c->ready_hook_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

void control_set_hooks(struct control *c,
		       void (*output)(void *ctx, int stream, const uint8_t *buf, size_t n),
		       void (*started)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->output_hook = output;
	c->started_hook = started;
	c->hook_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

int control_send_spec(struct control *c)
{
	pthread_mutex_lock(&c->lock);
	int rc = !c->ready ? -EAGAIN : c->spec_sent ? -EALREADY : 0;
	if (!rc) {
		spec_out(c);
		if (c->failure[0])
			rc = -EIO;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int control_resume_ready(struct control *c)
{
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	if (c->ready) {
		rc = -EALREADY;
	} else {
		c->ready = true;
		c->t_ready = clock_now_ns();
		spec_out(c);
	}
	if (!rc && c->failure[0])
		rc = -EIO;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void handle(struct control *c, const struct hcp_msg *m)
{
	uint32_t v;
	switch (m->type) {
	case HCP_READY:
		if (c->ready) {
			fail(c, "guest-init said READY twice");
			return;
		}
		on_ready(c);
		return;
	case HCP_STARTED:
		if (!c->spec_sent || c->started || hcp_u32_decode(m, &v))
			{
			fail(c, "malformed or unexpected STARTED frame");
			return;
		}
		c->started = true;
		c->t_started = clock_now_ns();
		if (c->started_hook)
			c->started_hook(c->hook_ctx);
		return;
	case HCP_STDOUT:
	case HCP_STDERR:
		if (!c->started || c->exited)
			{
			fail(c, "container output outside the container's lifetime");
			return;
		}
		/* a reader gone away (EPIPE): drop the output, like a pipe would */
		(void)fdio_write_all(m->type == HCP_STDOUT ? c->out_fd : c->err_fd, m->payload,
				     m->len);
		if (c->output_hook)
			c->output_hook(c->hook_ctx, m->type == HCP_STDOUT ? 1 : 2, m->payload,
				       m->len);
		return;
	case HCP_ERROR: {
		if (!c->ready || c->exited)
			{
			fail(c, "unexpected ERROR frame");
			return;
		}
		/* the text is guest-controlled: print it as data, bounded */
		char line[512];
		int n = snprintf(line, sizeof(line), "hull: %.*s\n",
				 (int)(m->len > 400 ? 400 : m->len), (const char *)m->payload);
		for (int i = 6; i < n - 1; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
				line[i] = '?';
		(void)fdio_write_all(c->err_fd, line,
				     (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1));
		return;
	}
	case HCP_EXIT:
		if (!c->ready || c->exited || hcp_u32_decode(m, &v) || v > 255)
			{
			fail(c, "malformed or unexpected EXIT frame");
			return;
		}
		c->exited = true;
		c->exit_status = (int)v;
		c->t_exit = clock_now_ns();
		return;
	default:
		{
			fail(c, "guest sent a host-to-guest frame");
			return;
		}
	}
}

void control_feed(struct control *c, const uint8_t *buf, size_t n)
{
	pthread_mutex_lock(&c->lock);
	while (n && !c->failure[0]) {
		size_t taken;
		int rc = hcp_reader_push(&c->rd, buf, n, &taken);
		if (rc) {
			fail(c, "corrupt frame on the control channel");
			break;
		}
		buf += taken;
		n -= taken;
		struct hcp_msg m;
		while (!c->failure[0] && (rc = hcp_reader_next(&c->rd, &m)) == 1)
			handle(c, &m);
		if (rc < 0)
			fail(c, "corrupt frame on the control channel");
	}
	pthread_mutex_unlock(&c->lock);
}

int control_signal(struct control *c, int signo)
{
	pthread_mutex_lock(&c->lock);
	int rc = -EAGAIN;
	if (c->started && !c->exited) {
		uint8_t p[4];
		hcp_u32_encode(p, (uint32_t)signo);
		rc = send_frame(c, HCP_SIGNAL, p, 4);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void control_set_stdin_open(struct control *c, bool open)
{
	pthread_mutex_lock(&c->lock);
	c->stdin_open = open;
	pthread_mutex_unlock(&c->lock);
}

int control_stdin(struct control *c, const void *buf, size_t n)
{
	pthread_mutex_lock(&c->lock);
	int rc = !c->spec_sent ? -EAGAIN
		 : (c->stdin_eof_sent || c->exited) ? -EPIPE
		 : n > HCP_MAX_PAYLOAD		    ? -EINVAL
						    : send_frame(c, HCP_STDIN, buf, (uint32_t)n);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int control_stdin_eof(struct control *c)
{
	pthread_mutex_lock(&c->lock);
	int rc = !c->spec_sent ? -EAGAIN : 0;
	if (!rc && !c->stdin_eof_sent && !c->exited) {
		rc = send_frame(c, HCP_STDIN_EOF, NULL, 0);
		c->stdin_eof_sent = rc == 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int control_resize(struct control *c, uint16_t rows, uint16_t cols)
{
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	c->has_winsize = true;
	c->rows = rows;
	c->cols = cols;
	if (c->spec_sent && !c->exited) {
		uint8_t p[HCP_WINSIZE_LEN];
		hcp_winsize_encode(p, rows, cols);
		rc = send_frame(c, HCP_RESIZE, p, sizeof(p));
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

bool control_exit_status(struct control *c, int *status)
{
	pthread_mutex_lock(&c->lock);
	bool ok = c->exited;
	if (ok)
		*status = c->exit_status;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

const char *control_failed(struct control *c)
{
	return c->failure[0] ? c->failure : NULL;
}
