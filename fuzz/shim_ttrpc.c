/* libFuzzer harness: the shim's decoders on hostile bytes from containerd's
 * side of the socket -- ttrpc frames (ttrpc_read_frame with a small limit, so
 * oversize handling runs too), ttrpc.Request/Response, and every task v2
 * request message, chosen by the method name the frame names, as the
 * service would decode it. Invariant beyond memory safety: a message that
 * decodes re-encodes to bytes that decode again to the same size. Seeds:
 * mkseeds' shim-ttrpc (frames made with the shim's own encoders). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "shim/ttrpc.h"
#include "task.pb-c.h"
#include "ttrpc.pb-c.h"

static const struct {
	const char *method;
	const ProtobufCMessageDescriptor *desc;
} requests[] = {
    {"State", &containerd__task__v2__state_request__descriptor},
    {"Create", &containerd__task__v2__create_task_request__descriptor},
    {"Start", &containerd__task__v2__start_request__descriptor},
    {"Delete", &containerd__task__v2__delete_request__descriptor},
    {"Pids", &containerd__task__v2__pids_request__descriptor},
    {"Pause", &containerd__task__v2__pause_request__descriptor},
    {"Resume", &containerd__task__v2__resume_request__descriptor},
    {"Kill", &containerd__task__v2__kill_request__descriptor},
    {"Exec", &containerd__task__v2__exec_process_request__descriptor},
    {"ResizePty", &containerd__task__v2__resize_pty_request__descriptor},
    {"CloseIO", &containerd__task__v2__close_iorequest__descriptor},
    {"Wait", &containerd__task__v2__wait_request__descriptor},
    {"Stats", &containerd__task__v2__stats_request__descriptor},
    {"Connect", &containerd__task__v2__connect_request__descriptor},
    {"Shutdown", &containerd__task__v2__shutdown_request__descriptor},
};

/* Decode, re-encode, decode again: sizes agree. */
static void round_trip(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
	if (!m)
		return;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	FZ_CHECK(buf);
	FZ_CHECK(protobuf_c_message_pack(m, buf) == len);
	ProtobufCMessage *again = protobuf_c_message_unpack(d, NULL, len, buf);
	FZ_CHECK(again);
	FZ_CHECK(protobuf_c_message_get_packed_size(again) == len);
	protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int p[2];
	if (size > 65536 || pipe(p) < 0) /* a pipe holds 64 KiB without a reader */
		return 0;
	if (write(p[1], data, size) != (ssize_t)size)
		abort();
	close(p[1]);
	for (;;) {
		struct ttrpc_hdr h;
		uint8_t *d;
		struct errmsg err = {{0}};
		int rc = ttrpc_read_frame(p[0], 1024, &h, &d, &err);
		if (rc == -EMSGSIZE) {
			FZ_CHECK(h.len > 1024 && d == NULL && err.text[0]);
			continue;
		}
		if (rc < 0) {
			FZ_CHECK(rc == -ENODATA || rc == -EPROTO);
			FZ_CHECK(d == NULL);
			break;
		}
		FZ_CHECK(h.len == 0 || d != NULL);
		if (h.type == TTRPC_RESPONSE) {
			round_trip(&ttrpc__response__descriptor, d, h.len);
		} else if (h.type == TTRPC_REQUEST) {
			Ttrpc__Request *r = ttrpc__request__unpack(NULL, h.len, d);
			if (r) {
				FZ_CHECK(r->service && r->method);
				for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
					if (strcmp(requests[i].method, r->method) == 0)
						round_trip(requests[i].desc, r->payload.data,
							   r->payload.len);
				ttrpc__request__free_unpacked(r, NULL);
			}
		}
		free(d);
	}
	close(p[0]);
	return 0;
}
