#include "ttrpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ttrpc.pb-c.h"

void ttrpc_hdr_encode(const struct ttrpc_hdr *h, uint8_t out[TTRPC_HDR_LEN])
{
	out[0] = (uint8_t)(h->len >> 24);
	out[1] = (uint8_t)(h->len >> 16);
	out[2] = (uint8_t)(h->len >> 8);
	out[3] = (uint8_t)h->len;
	out[4] = (uint8_t)(h->sid >> 24);
	out[5] = (uint8_t)(h->sid >> 16);
	out[6] = (uint8_t)(h->sid >> 8);
	out[7] = (uint8_t)h->sid;
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h)
{
	h->len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	h->sid = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	h->type = in[8];
	h->flags = in[9];
}

/* Read exactly n bytes; *got says how many arrived before EOF. */
static int read_full(int fd, void *buf, size_t n, size_t *got)
{
	uint8_t *p = buf;
	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, p + *got, n - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		*got += (size_t)r;
	}
	return 0;
}

int ttrpc_read_frame(int fd, size_t max, struct ttrpc_hdr *h, uint8_t **data, struct errmsg *err)
{
	uint8_t hb[TTRPC_HDR_LEN];
	size_t got;
	*data = NULL;
	int rc = read_full(fd, hb, sizeof(hb), &got);
	if (rc < 0)
		return errmsg_set(err, rc, "ttrpc: reading a frame header: %s", strerror(-rc));
	if (got == 0)
		return -ENODATA;
	if (got < sizeof(hb))
		return errmsg_set(err, -EPROTO,
				  "ttrpc: stream ended inside a frame header (%zu of %d bytes)",
				  got, TTRPC_HDR_LEN);
	ttrpc_hdr_decode(hb, h);
	if (h->len > max) {
		/* Drain the frame so the stream stays in sync; never buffer it. */
		uint8_t sink[4096];
		size_t left = h->len;
		while (left) {
			size_t n = left < sizeof(sink) ? left : sizeof(sink);
			rc = read_full(fd, sink, n, &got);
			if (rc < 0)
				return errmsg_set(err, rc, "ttrpc: draining an oversized frame: %s",
						  strerror(-rc));
			if (got < n)
				return errmsg_set(err, -EPROTO,
						  "ttrpc: stream ended inside an oversized frame");
			left -= n;
		}
		return errmsg_set(err, -EMSGSIZE,
				  "ttrpc: frame on stream %u is %u bytes, over the %zu-byte limit",
				  h->sid, h->len, max);
	}
	if (h->len == 0)
		return 0;
	uint8_t *buf = malloc(h->len);
	if (!buf)
		return errmsg_set(err, -ENOMEM, "ttrpc: no memory for a %u-byte frame", h->len);
	rc = read_full(fd, buf, h->len, &got);
	if (rc < 0 || got < h->len) {
		free(buf);
		if (rc < 0)
			return errmsg_set(err, rc, "ttrpc: reading frame data: %s", strerror(-rc));
		return errmsg_set(err, -EPROTO,
				  "ttrpc: stream ended inside a frame (%zu of %u bytes)", got,
				  h->len);
	}
	*data = buf;
	return 0;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		/* MSG_NOSIGNAL: a client gone away is -EPIPE, not a dead shim. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ttrpc_write_frame(int fd, uint32_t sid, uint8_t type, uint8_t flags, const void *data,
		      size_t len)
{
	if (len > TTRPC_MAX_DATA)
		return -EMSGSIZE;
	uint8_t *buf = malloc(TTRPC_HDR_LEN + len);
	if (!buf)
		return -ENOMEM;
	struct ttrpc_hdr h = {.len = (uint32_t)len, .sid = sid, .type = type, .flags = flags};
	ttrpc_hdr_encode(&h, buf);
	if (len)
		memcpy(buf + TTRPC_HDR_LEN, data, len);
	int rc = send_all(fd, buf, TTRPC_HDR_LEN + len);
	free(buf);
	return rc;
}

void ttrpc_fail(struct ttrpc_call *call, uint32_t code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
	va_end(ap);
	call->code = code;
}

/* One connection, shared by its reader and its running calls. */
struct conn {
	int fd;
	pthread_mutex_t lock; /* serializes frame writes; guards refs, inflight */
	unsigned refs;	      /* the reader + each running call */
	unsigned inflight;
	const struct ttrpc_service *services;
	size_t n_services;
};

static void conn_put(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	unsigned left = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (left)
		return;
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Answer stream `sid`: payload on success, status when code != 0. A peer that
 * went away is not an error worth reporting: the call's effect stands. */
static void conn_reply(struct conn *c, uint32_t sid, uint32_t code, const char *message,
		       const uint8_t *payload, size_t len)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	Ttrpc__Status st = TTRPC__STATUS__INIT;
	if (code) {
		st.code = (int32_t)code;
		st.message = (char *)message;
		resp.status = &st;
	} else {
		resp.payload.data = (uint8_t *)payload;
		resp.payload.len = len;
	}
	size_t n = ttrpc__response__get_packed_size(&resp);
	if (n > TTRPC_MAX_DATA) {
		conn_reply(c, sid, TTRPC_RESOURCE_EXHAUSTED, "response over the 4 MiB frame limit",
			   NULL, 0);
		return;
	}
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return;
	ttrpc__response__pack(&resp, buf);
	pthread_mutex_lock(&c->lock);
	(void)ttrpc_write_frame(c->fd, sid, TTRPC_RESPONSE, 0, buf, n);
	pthread_mutex_unlock(&c->lock);
	free(buf);
}

static void dispatch(struct conn *c, const Ttrpc__Request *req, struct ttrpc_call *call)
{
	const struct ttrpc_service *svc = NULL;
	for (size_t i = 0; i < c->n_services && !svc; i++)
		if (strcmp(c->services[i].name, req->service) == 0)
			svc = &c->services[i];
	if (!svc) {
		ttrpc_fail(call, TTRPC_UNIMPLEMENTED, "service %s is not implemented",
			   req->service);
		return;
	}
	for (size_t i = 0; i < svc->n_methods; i++) {
		if (strcmp(svc->methods[i].name, req->method) == 0) {
			svc->methods[i].fn(svc->arg, call);
			return;
		}
	}
	ttrpc_fail(call, TTRPC_UNIMPLEMENTED, "method %s.%s is not implemented", req->service,
		   req->method);
}

struct job {
	struct conn *c;
	uint32_t sid;
	Ttrpc__Request *req;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	struct ttrpc_call call = {
	    .service = j->req->service,
	    .method = j->req->method,
	    .payload = j->req->payload.data,
	    .payload_len = j->req->payload.len,
	    .timeout_nano = j->req->timeout_nano,
	};
	dispatch(j->c, j->req, &call);
	if (call.code)
		conn_reply(j->c, j->sid, call.code, call.message, NULL, 0);
	else
		conn_reply(j->c, j->sid, 0, NULL, call.resp, call.resp_len);
	free(call.resp);
	ttrpc__request__free_unpacked(j->req, NULL);
	pthread_mutex_lock(&j->c->lock);
	j->c->inflight--;
	pthread_mutex_unlock(&j->c->lock);
	conn_put(j->c);
	free(j);
	return NULL;
}

/* Start a call on a thread of its own, or answer why not. */
static void start_call(struct conn *c, uint32_t sid, Ttrpc__Request *req)
{
	struct job *j = malloc(sizeof(*j));
	pthread_mutex_lock(&c->lock);
	int full = c->inflight >= TTRPC_MAX_INFLIGHT;
	if (j && !full) {
		c->inflight++;
		c->refs++;
	}
	pthread_mutex_unlock(&c->lock);
	if (!j || full) {
		free(j);
		ttrpc__request__free_unpacked(req, NULL);
		conn_reply(c, sid, TTRPC_RESOURCE_EXHAUSTED,
			   full ? "too many calls in flight on this connection" : "out of memory",
			   NULL, 0);
		return;
	}
	*j = (struct job){.c = c, .sid = sid, .req = req};
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, job_run, j);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return;
	pthread_mutex_lock(&c->lock);
	c->inflight--;
	c->refs--;
	pthread_mutex_unlock(&c->lock);
	ttrpc__request__free_unpacked(req, NULL);
	free(j);
	conn_reply(c, sid, TTRPC_RESOURCE_EXHAUSTED, "cannot start a thread for this call", NULL,
		   0);
}

int ttrpc_serve_conn(int fd, const struct ttrpc_service *services, size_t n_services,
		     struct errmsg *err)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return errmsg_set(err, -ENOMEM, "ttrpc: no memory for a connection");
	}
	c->fd = fd;
	c->refs = 1;
	c->services = services;
	c->n_services = n_services;
	pthread_mutex_init(&c->lock, NULL);

	uint32_t last_sid = 0;
	int rc;
	for (;;) {
		struct ttrpc_hdr h;
		uint8_t *data;
		rc = ttrpc_read_frame(fd, TTRPC_MAX_DATA, &h, &data, err);
		if (rc == -EMSGSIZE) {
			if (h.type == TTRPC_REQUEST)
				conn_reply(c, h.sid, TTRPC_RESOURCE_EXHAUSTED, err ? err->text : "",
					   NULL, 0);
			continue;
		}
		if (rc == -ENODATA) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		if (h.type != TTRPC_REQUEST) {
			free(data); /* responses/data frames from a client: unary server skips */
			continue;
		}
		if (h.sid % 2 == 0 || h.sid <= last_sid) {
			free(data);
			char msg[128];
			snprintf(msg, sizeof(msg), "stream id %u is %s", h.sid,
				 h.sid % 2 == 0 ? "even (client streams are odd)"
						: "not above the previous one");
			conn_reply(c, h.sid, TTRPC_INVALID_ARGUMENT, msg, NULL, 0);
			continue;
		}
		last_sid = h.sid;
		Ttrpc__Request *req = ttrpc__request__unpack(NULL, h.len, data);
		free(data);
		if (!req) {
			conn_reply(c, h.sid, TTRPC_INVALID_ARGUMENT,
				   "request is not a valid ttrpc.Request protobuf", NULL, 0);
			continue;
		}
		start_call(c, h.sid, req);
	}
	conn_put(c);
	return rc;
}
