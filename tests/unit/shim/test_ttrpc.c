/* ttrpc framing and the concurrent unary server, over real socketpairs. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "shim/ttrpc.h"
#include "ttrpc.pb-c.h"

/* ---- a client, as containerd would be ---- */

static void send_raw_slowly(int fd, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) /* one byte per write: partial reads */
		assert_int_equal(write(fd, p + i, 1), 1);
}

static void send_req(int fd, uint32_t sid, const char *svc, const char *method, const void *payload,
		     size_t len, int slowly)
{
	Ttrpc__Request r = TTRPC__REQUEST__INIT;
	r.service = (char *)svc;
	r.method = (char *)method;
	r.payload.data = (uint8_t *)payload;
	r.payload.len = len;
	size_t n = ttrpc__request__get_packed_size(&r);
	uint8_t *buf = malloc(TTRPC_HDR_LEN + n + 1);
	struct ttrpc_hdr h = {.len = (uint32_t)n, .sid = sid, .type = TTRPC_REQUEST};
	ttrpc_hdr_encode(&h, buf);
	ttrpc__request__pack(&r, buf + TTRPC_HDR_LEN);
	if (slowly)
		send_raw_slowly(fd, buf, TTRPC_HDR_LEN + n);
	else
		assert_int_equal(write(fd, buf, TTRPC_HDR_LEN + n), (ssize_t)(TTRPC_HDR_LEN + n));
	free(buf);
}

struct reply {
	uint32_t sid;
	uint32_t len; /* frame data length */
	int code;
	char message[512];
	char payload[256];
	size_t payload_len;
};

static void read_reply(int fd, struct reply *out)
{
	struct ttrpc_hdr h;
	uint8_t *data;
	struct errmsg err;
	assert_int_equal(ttrpc_read_frame(fd, TTRPC_MAX_DATA, &h, &data, &err), 0);
	assert_int_equal(h.type, TTRPC_RESPONSE);
	assert_int_equal(h.flags, 0);
	memset(out, 0, sizeof(*out));
	out->sid = h.sid;
	out->len = h.len;
	Ttrpc__Response *r = ttrpc__response__unpack(NULL, h.len, data);
	assert_non_null(r);
	if (r->status) {
		out->code = r->status->code;
		snprintf(out->message, sizeof(out->message), "%s", r->status->message);
	}
	assert_true(r->payload.len < sizeof(out->payload));
	if (r->payload.len)
		memcpy(out->payload, r->payload.data, r->payload.len);
	out->payload_len = r->payload.len;
	ttrpc__response__free_unpacked(r, NULL);
	free(data);
}

/* ---- a service under test ---- */

struct gate {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int open;
	int active; /* handlers inside h_block */
};

static void h_echo(void *arg, struct ttrpc_call *call)
{
	(void)arg;
	call->resp = malloc(call->payload_len + 1);
	memcpy(call->resp, call->payload, call->payload_len);
	call->resp_len = call->payload_len;
}

static void h_empty(void *arg, struct ttrpc_call *call)
{
	(void)arg;
	(void)call;
}

static void h_fail(void *arg, struct ttrpc_call *call)
{
	(void)arg;
	ttrpc_fail(call, TTRPC_NOT_FOUND, "no task %.*s", (int)call->payload_len,
		   (const char *)call->payload);
}

/* Blocks until Release, like Wait until the process exits. */
static void h_block(void *arg, struct ttrpc_call *call)
{
	struct gate *g = arg;
	pthread_mutex_lock(&g->m);
	g->active++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->m);
	g->active--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->m);
	call->resp = (uint8_t *)strdup("released");
	call->resp_len = 8;
}

static void h_release(void *arg, struct ttrpc_call *call)
{
	struct gate *g = arg;
	(void)call;
	pthread_mutex_lock(&g->m);
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->m);
}

static const struct ttrpc_method methods[] = {
    {"Echo", h_echo},	{"Empty", h_empty},	{"Fail", h_fail},
    {"Block", h_block}, {"Release", h_release},
};

struct server {
	int cfd; /* client end */
	pthread_t t;
	int rc;
	struct gate gate;
	struct ttrpc_service svc;
	struct errmsg err;
	int sfd;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	s->rc = ttrpc_serve_conn(s->sfd, &s->svc, 1, &s->err);
	return NULL;
}

/* A fresh connection with a server thread on it. */
static void start_server(struct server *s)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	s->cfd = sv[0];
	s->sfd = sv[1];
	assert_int_equal(pthread_create(&s->t, NULL, serve, s), 0);
}

/* Hang up and wait until the reader stopped; returns its result. */
static int stop_server(struct server *s)
{
	if (s->cfd >= 0)
		close(s->cfd);
	s->cfd = -1;
	pthread_join(s->t, NULL);
	return s->rc;
}

/* Static: handlers blocked in a gate may still be leaving it after a test. */
static struct server the_server;

static int setup(void **state)
{
	struct server *s = &the_server;
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->gate.m, NULL);
	pthread_cond_init(&s->gate.cv, NULL);
	s->svc = (struct ttrpc_service){"test.v1.Svc", methods,
					sizeof(methods) / sizeof(methods[0]), &s->gate};
	start_server(s);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct server *s = *state;
	stop_server(s);
	h_release(&s->gate, NULL);
	/* Wait until no handler is inside the gate before it is reused. */
	pthread_mutex_lock(&s->gate.m);
	while (s->gate.active)
		pthread_cond_wait(&s->gate.cv, &s->gate.m);
	pthread_mutex_unlock(&s->gate.m);
	return 0;
}

/* ---- framing ---- */

static void test_header_bytes(void **state)
{
	(void)state;
	/* containerd 1.6.20's Connect{id:"t7"} on stream 3, as captured. */
	static const uint8_t want[] = {0,    0,	   0,	0x28, 0,    0,	  0,	3,    1,   0,
				       0x0a, 0x17, 'c', 'o',  'n',  't',  'a',	'i',  'n', 'e',
				       'r',  'd',  '.', 't',  'a',  's',  'k',	'.',  'v', '2',
				       '.',  'T',  'a', 's',  'k',  0x12, 0x07, 'C',  'o', 'n',
				       'n',  'e',  'c', 't',  0x1a, 0x04, 0x0a, 0x02, 't', '7'};
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	static const uint8_t conn_req[] = {0x0a, 0x02, 't', '7'};
	send_req(sv[0], 3, "containerd.task.v2.Task", "Connect", conn_req, sizeof(conn_req), 0);
	uint8_t got[sizeof(want) + 1];
	assert_int_equal(read(sv[1], got, sizeof(got)), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));

	struct ttrpc_hdr h;
	ttrpc_hdr_decode(want, &h);
	assert_int_equal(h.len, 0x28);
	assert_int_equal(h.sid, 3);
	assert_int_equal(h.type, TTRPC_REQUEST);
	uint8_t back[TTRPC_HDR_LEN];
	struct ttrpc_hdr big = {.len = 0x01020304, .sid = 0xfffffffe, .type = 3, .flags = 5};
	ttrpc_hdr_encode(&big, back);
	ttrpc_hdr_decode(back, &h);
	assert_int_equal(h.len, big.len);
	assert_int_equal(h.sid, big.sid);
	assert_int_equal(h.type, big.type);
	assert_int_equal(h.flags, big.flags);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_partial_and_eof(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	uint8_t frame[TTRPC_HDR_LEN + 3];
	struct ttrpc_hdr h = {.len = 3, .sid = 7, .type = TTRPC_DATA, .flags = 4};
	ttrpc_hdr_encode(&h, frame);
	memcpy(frame + TTRPC_HDR_LEN, "abc", 3);
	send_raw_slowly(sv[0], frame, sizeof(frame));
	/* then a truncated frame: header promises 5 bytes, 2 arrive */
	h.len = 5;
	ttrpc_hdr_encode(&h, frame);
	memcpy(frame + TTRPC_HDR_LEN, "xy", 2);
	send_raw_slowly(sv[0], frame, TTRPC_HDR_LEN + 2);
	shutdown(sv[0], SHUT_WR);

	struct ttrpc_hdr got;
	uint8_t *data;
	struct errmsg err;
	assert_int_equal(ttrpc_read_frame(sv[1], 16, &got, &data, &err), 0);
	assert_int_equal(got.len, 3);
	assert_int_equal(got.sid, 7);
	assert_int_equal(got.flags, 4);
	assert_memory_equal(data, "abc", 3);
	free(data);
	assert_int_equal(ttrpc_read_frame(sv[1], 16, &got, &data, &err), -EPROTO);
	assert_null(data);
	assert_non_null(strstr(err.text, "2 of 5"));
	assert_int_equal(ttrpc_read_frame(sv[1], 16, &got, &data, &err), -ENODATA);
	close(sv[0]);
	close(sv[1]);

	/* EOF inside a header */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], frame, 4), 4);
	shutdown(sv[0], SHUT_WR);
	assert_int_equal(ttrpc_read_frame(sv[1], 16, &got, &data, &err), -EPROTO);
	assert_non_null(strstr(err.text, "header"));
	close(sv[0]);
	close(sv[1]);
}

static void test_read_oversized_skips(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	uint8_t frame[TTRPC_HDR_LEN + 100];
	memset(frame, 0xee, sizeof(frame));
	struct ttrpc_hdr h = {.len = 100, .sid = 9, .type = TTRPC_REQUEST};
	ttrpc_hdr_encode(&h, frame);
	assert_int_equal(write(sv[0], frame, sizeof(frame)), sizeof(frame));
	h.len = 1;
	h.sid = 11;
	ttrpc_hdr_encode(&h, frame);
	frame[TTRPC_HDR_LEN] = 'z';
	assert_int_equal(write(sv[0], frame, TTRPC_HDR_LEN + 1), TTRPC_HDR_LEN + 1);

	struct ttrpc_hdr got;
	uint8_t *data;
	struct errmsg err;
	assert_int_equal(ttrpc_read_frame(sv[1], 64, &got, &data, &err), -EMSGSIZE);
	assert_null(data);
	assert_int_equal(got.sid, 9);
	assert_non_null(strstr(err.text, "over the 64-byte limit"));
	assert_int_equal(ttrpc_read_frame(sv[1], 64, &got, &data, &err), 0);
	assert_int_equal(got.sid, 11);
	assert_int_equal(data[0], 'z');
	free(data);
	assert_int_equal(ttrpc_write_frame(sv[0], 1, TTRPC_RESPONSE, 0, "", TTRPC_MAX_DATA + 1),
			 -EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
}

/* ---- the server ---- */

static void test_echo_and_empty(void **state)
{
	struct server *s = *state;
	send_req(s->cfd, 1, "test.v1.Svc", "Echo", "hello", 5, 1);
	struct reply r;
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 1);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.payload_len, 5);
	assert_memory_equal(r.payload, "hello", 5);

	/* An Empty result is a zero-length frame, as the Go server sends it. */
	send_req(s->cfd, 3, "test.v1.Svc", "Empty", NULL, 0, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 3);
	assert_int_equal(r.len, 0);

	send_req(s->cfd, 5, "test.v1.Svc", "Fail", "t1", 2, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.code, TTRPC_NOT_FOUND);
	assert_string_equal(r.message, "no task t1");
}

static void test_unknown_service_and_method(void **state)
{
	struct server *s = *state;
	struct reply r;
	send_req(s->cfd, 1, "containerd.task.v3.Task", "Create", NULL, 0, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 1);
	assert_int_equal(r.code, TTRPC_UNIMPLEMENTED);
	assert_non_null(strstr(r.message, "service containerd.task.v3.Task"));

	send_req(s->cfd, 3, "test.v1.Svc", "Checkpoint", NULL, 0, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 3);
	assert_int_equal(r.code, TTRPC_UNIMPLEMENTED);
	assert_non_null(strstr(r.message, "Checkpoint"));
}

static void write_frame_raw(int fd, uint32_t len, uint32_t sid, uint8_t type, const void *data,
			    size_t n)
{
	uint8_t hb[TTRPC_HDR_LEN];
	struct ttrpc_hdr h = {.len = len, .sid = sid, .type = type};
	ttrpc_hdr_encode(&h, hb);
	assert_int_equal(write(fd, hb, sizeof(hb)), sizeof(hb));
	if (n)
		assert_int_equal(write(fd, data, n), (ssize_t)n);
}

static void *write_big(void *arg)
{
	int fd = *(int *)arg;
	size_t n = TTRPC_MAX_DATA + 1;
	uint8_t *junk = calloc(1, n);
	write_frame_raw(fd, (uint32_t)n, 1, TTRPC_REQUEST, junk, n);
	free(junk);
	return NULL;
}

static void test_malformed_and_oversized(void **state)
{
	struct server *s = *state;
	struct reply r;
	/* 4 MiB + 1: drained, answered RESOURCE_EXHAUSTED, connection lives on */
	pthread_t w;
	assert_int_equal(pthread_create(&w, NULL, write_big, &s->cfd), 0);
	read_reply(s->cfd, &r);
	pthread_join(w, NULL);
	assert_int_equal(r.sid, 1);
	assert_int_equal(r.code, TTRPC_RESOURCE_EXHAUSTED);

	/* not a protobuf: field 1 claims 100 bytes, 2 follow */
	static const uint8_t bad[] = {0x0a, 100, 'a', 'b'};
	write_frame_raw(s->cfd, sizeof(bad), 3, TTRPC_REQUEST, bad, sizeof(bad));
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 3);
	assert_int_equal(r.code, TTRPC_INVALID_ARGUMENT);

	/* even stream id, then one not above the last */
	send_req(s->cfd, 4, "test.v1.Svc", "Echo", "x", 1, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 4);
	assert_int_equal(r.code, TTRPC_INVALID_ARGUMENT);
	assert_non_null(strstr(r.message, "even"));
	send_req(s->cfd, 3, "test.v1.Svc", "Echo", "x", 1, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.code, TTRPC_INVALID_ARGUMENT);
	assert_non_null(strstr(r.message, "previous"));

	/* a data frame and a response frame from the client are skipped */
	write_frame_raw(s->cfd, 2, 5, TTRPC_DATA, "zz", 2);
	write_frame_raw(s->cfd, 0, 5, TTRPC_RESPONSE, NULL, 0);
	send_req(s->cfd, 7, "test.v1.Svc", "Echo", "ok", 2, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 7);
	assert_int_equal(r.code, 0);
	assert_memory_equal(r.payload, "ok", 2);

	/* a truncated frame then EOF ends the connection with an error */
	write_frame_raw(s->cfd, 50, 9, TTRPC_REQUEST, "abc", 3);
	shutdown(s->cfd, SHUT_WR);
	assert_int_equal(stop_server(s), -EPROTO);
	assert_non_null(strstr(s->err.text, "ended inside a frame"));
	start_server(s); /* for teardown */
}

static void test_interleaved_streams(void **state)
{
	struct server *s = *state;
	struct reply r;
	/* Block (like Wait) on stream 1; Echo on 3 is answered meanwhile. */
	send_req(s->cfd, 1, "test.v1.Svc", "Block", NULL, 0, 0);
	send_req(s->cfd, 3, "test.v1.Svc", "Echo", "e3", 2, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, 3);
	assert_memory_equal(r.payload, "e3", 2);
	send_req(s->cfd, 5, "test.v1.Svc", "Release", NULL, 0, 0);
	int seen1 = 0, seen5 = 0;
	for (int i = 0; i < 2; i++) {
		read_reply(s->cfd, &r);
		assert_int_equal(r.code, 0);
		if (r.sid == 1) {
			seen1++;
			assert_memory_equal(r.payload, "released", 8);
		} else {
			assert_int_equal(r.sid, 5);
			seen5++;
		}
	}
	assert_int_equal(seen1, 1);
	assert_int_equal(seen5, 1);
	assert_int_equal(stop_server(s), 0); /* clean close */
	start_server(s);
}

static void test_inflight_limit(void **state)
{
	struct server *s = *state;
	struct reply r;
	uint32_t sid = 1;
	for (int i = 0; i < TTRPC_MAX_INFLIGHT; i++, sid += 2)
		send_req(s->cfd, sid, "test.v1.Svc", "Block", NULL, 0, 0);
	send_req(s->cfd, sid, "test.v1.Svc", "Echo", "x", 1, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, sid);
	assert_int_equal(r.code, TTRPC_RESOURCE_EXHAUSTED);
	sid += 2;
	h_release(&s->gate, NULL);
	for (int i = 0; i < TTRPC_MAX_INFLIGHT; i++) {
		read_reply(s->cfd, &r);
		assert_int_equal(r.code, 0);
	}
	send_req(s->cfd, sid, "test.v1.Svc", "Echo", "y", 1, 0);
	read_reply(s->cfd, &r);
	assert_int_equal(r.sid, sid);
	assert_int_equal(r.code, 0);
}

/* A handler still blocked when the client hangs up answers into a closed
 * socket later: no crash, no SIGPIPE, the fd is released by the last call. */
static void test_close_while_blocked(void **state)
{
	struct server *s = *state;
	send_req(s->cfd, 1, "test.v1.Svc", "Block", NULL, 0, 0);
	/* the call must be running before the hang-up for this to mean anything */
	pthread_mutex_lock(&s->gate.m);
	while (!s->gate.active)
		pthread_cond_wait(&s->gate.cv, &s->gate.m);
	pthread_mutex_unlock(&s->gate.m);
	assert_int_equal(stop_server(s), 0);
	h_release(&s->gate, NULL);
	start_server(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_bytes),
	    cmocka_unit_test(test_read_partial_and_eof),
	    cmocka_unit_test(test_read_oversized_skips),
	    cmocka_unit_test_setup_teardown(test_echo_and_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_service_and_method, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_and_oversized, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interleaved_streams, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_while_blocked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
