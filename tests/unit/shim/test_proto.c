/* The project's .proto files against containerd's wire: bytes captured from
 * containerd 1.6.20 (../shared/reference/containerd-shim.md, "Worked bytes")
 * and round trips of the messages the shim decodes and encodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.pb-c.h"
#include "task.pb-c.h"
#include "ttrpc.pb-c.h"

#define PACK(type, msg, buf)                                                                       \
	do {                                                                                       \
		(buf).len = type##__get_packed_size(msg);                                          \
		(buf).data = malloc((buf).len + 1);                                                \
		assert_int_equal(type##__pack(msg, (buf).data), (buf).len);                        \
	} while (0)

static void test_connect_response_bytes(void **state)
{
	(void)state;
	Containerd__Task__V2__ConnectResponse r = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	r.shim_pid = 15777;
	r.task_pid = 15781;
	ProtobufCBinaryData b;
	PACK(containerd__task__v2__connect_response, &r, b);
	static const uint8_t want[] = {0x08, 0xa1, 0x7b, 0x10, 0xa5, 0x7b};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));

	/* wrapped in ttrpc.Response, Go-server style: no status */
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	resp.payload = b;
	ProtobufCBinaryData f;
	PACK(ttrpc__response, &resp, f);
	static const uint8_t frame[] = {0x12, 0x06, 0x08, 0xa1, 0x7b, 0x10, 0xa5, 0x7b};
	assert_int_equal(f.len, sizeof(frame));
	assert_memory_equal(f.data, frame, sizeof(frame));
	free(b.data);
	free(f.data);
}

static void test_wait_response_bytes(void **state)
{
	(void)state;
	static const uint8_t want[] = {0x08, 0x03, 0x12, 0x0c, 0x08, 0xae, 0xc9, 0x92,
				       0xd8, 0x06, 0x10, 0xc1, 0x8d, 0xc9, 0xf5, 0x01};
	Containerd__Task__V2__WaitResponse *w =
	    containerd__task__v2__wait_response__unpack(NULL, sizeof(want), want);
	assert_non_null(w);
	assert_int_equal(w->exit_status, 3);
	assert_non_null(w->exited_at);
	assert_int_equal(w->exited_at->seconds, 1795466414);
	assert_int_equal(w->exited_at->nanos, 515000001);
	ProtobufCBinaryData b;
	PACK(containerd__task__v2__wait_response, w, b);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	free(b.data);
	containerd__task__v2__wait_response__free_unpacked(w, NULL);
}

static void test_error_status_bytes(void **state)
{
	(void)state;
	Ttrpc__Status st = TTRPC__STATUS__INIT;
	st.code = 12;
	st.message = "ResizePty: not implemented";
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	resp.status = &st;
	ProtobufCBinaryData b;
	PACK(ttrpc__response, &resp, b);
	assert_int_equal(b.len, 0x20);
	static const uint8_t head[] = {0x0a, 0x1e, 0x08, 0x0c, 0x12, 0x1a};
	assert_memory_equal(b.data, head, sizeof(head));
	assert_memory_equal(b.data + 6, "ResizePty: not implemented", 26);
	free(b.data);
}

static void test_create_request_round_trip(void **state)
{
	(void)state;
	Containerd__Task__V2__Mount m = CONTAINERD__TASK__V2__MOUNT__INIT;
	char *opts[] = {"index=off", "workdir=/c/snapshots/8/work", "upperdir=/c/snapshots/8/fs",
			"lowerdir=/c/snapshots/1/fs"};
	m.type = "overlay";
	m.source = "overlay";
	m.n_options = 4;
	m.options = opts;
	Containerd__Task__V2__Mount *mounts[] = {&m};
	Google__Protobuf__Any opt = GOOGLE__PROTOBUF__ANY__INIT;
	opt.type_url = "containerd.runc.v1.Options";
	opt.value.data = (uint8_t *)"\x30\x01";
	opt.value.len = 2;
	Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	r.id = "t7";
	r.bundle = "/run/c/io.containerd.runtime.v2.task/default/t7";
	r.n_rootfs = 1;
	r.rootfs = mounts;
	r.terminal = 1;
	r.stdin = "/run/fifo/1/t7-stdin";
	r.stdout = "/run/fifo/1/t7-stdout";
	r.options = &opt;
	ProtobufCBinaryData b;
	PACK(containerd__task__v2__create_task_request, &r, b);
	/* field 1 (id) first, length-delimited: tag 0x0a, len 2 */
	assert_int_equal(b.data[0], 0x0a);
	assert_int_equal(b.data[1], 2);

	Containerd__Task__V2__CreateTaskRequest *d =
	    containerd__task__v2__create_task_request__unpack(NULL, b.len, b.data);
	assert_non_null(d);
	assert_string_equal(d->id, "t7");
	assert_string_equal(d->bundle, r.bundle);
	assert_int_equal(d->n_rootfs, 1);
	assert_string_equal(d->rootfs[0]->type, "overlay");
	assert_int_equal(d->rootfs[0]->n_options, 4);
	assert_string_equal(d->rootfs[0]->options[3], "lowerdir=/c/snapshots/1/fs");
	assert_true(d->terminal);
	assert_string_equal(d->stdout, r.stdout);
	assert_string_equal(d->stderr, ""); /* absent in tty mode: empty, not NULL */
	assert_non_null(d->options);
	assert_string_equal(d->options->type_url, "containerd.runc.v1.Options");
	assert_int_equal(d->options->value.len, 2);
	containerd__task__v2__create_task_request__free_unpacked(d, NULL);
	free(b.data);
}

/* Unknown fields (a newer containerd) are skipped; truncated input fails. */
static void test_unknown_fields_and_truncation(void **state)
{
	(void)state;
	/* KillRequest{id "t1", signal 9, all true} + field 15 varint + field 14 bytes */
	static const uint8_t in[] = {0x0a, 0x02, 't',  '1',  0x18, 0x09, 0x20, 0x01,
				     0x78, 0x05, 0x72, 0x03, 'a',  'b',	 'c'};
	Containerd__Task__V2__KillRequest *k =
	    containerd__task__v2__kill_request__unpack(NULL, sizeof(in), in);
	assert_non_null(k);
	assert_string_equal(k->id, "t1");
	assert_string_equal(k->exec_id, "");
	assert_int_equal(k->signal, 9);
	assert_true(k->all);
	containerd__task__v2__kill_request__free_unpacked(k, NULL);
	for (size_t n = 1; n < 8; n++) {
		if (n == 4 || n == 6) /* cut between whole fields is a valid prefix */
			continue;
		assert_null(containerd__task__v2__kill_request__unpack(NULL, n, in));
	}
	/* wrong wire type for a string field */
	static const uint8_t bad[] = {0x08, 0x01};
	assert_null(containerd__task__v2__kill_request__unpack(NULL, sizeof(bad), bad));
}

static void test_event_round_trip(void **state)
{
	(void)state;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = 1795466414;
	ts.nanos = 1;
	Containerd__Events__TaskExit e = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	e.container_id = "c1";
	e.id = "c1";
	e.pid = 42;
	e.exit_status = 137;
	e.exited_at = &ts;
	ProtobufCBinaryData b;
	PACK(containerd__events__task_exit, &e, b);
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = "containerd.events.TaskExit";
	any.value = b;
	ProtobufCBinaryData a;
	PACK(google__protobuf__any, &any, a);
	Google__Protobuf__Any *da = google__protobuf__any__unpack(NULL, a.len, a.data);
	assert_non_null(da);
	assert_string_equal(da->type_url, "containerd.events.TaskExit");
	Containerd__Events__TaskExit *de =
	    containerd__events__task_exit__unpack(NULL, da->value.len, da->value.data);
	assert_non_null(de);
	assert_string_equal(de->container_id, "c1");
	assert_int_equal(de->pid, 42);
	assert_int_equal(de->exit_status, 137);
	assert_int_equal(de->exited_at->seconds, 1795466414);
	containerd__events__task_exit__free_unpacked(de, NULL);
	google__protobuf__any__free_unpacked(da, NULL);
	free(a.data);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_response_bytes),
	    cmocka_unit_test(test_wait_response_bytes),
	    cmocka_unit_test(test_error_status_bytes),
	    cmocka_unit_test(test_create_request_round_trip),
	    cmocka_unit_test(test_unknown_fields_and_truncation),
	    cmocka_unit_test(test_event_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
