/* ttrpc: containerd's RPC protocol over a Unix stream socket, server side.
 *
 * Wire format (containerd/ttrpc PROTOCOL.md): a 10-byte header -- data length
 * (uint32 BE, excluding the header), stream id (uint32 BE), message type
 * (1 request, 2 response, 3 data), flags -- then `length` bytes of protobuf:
 * ttrpc.Request for a request, ttrpc.Response for a response (shim/proto/ttrpc.proto).
 *
 * Contract:
 * - The peer is hostile. Frames longer than TTRPC_MAX_DATA are read and
 *   discarded (never buffered) and answered RESOURCE_EXHAUSTED; requests that
 *   do not decode, or whose stream id is even or not above the previous one,
 *   are answered INVALID_ARGUMENT on their stream id; unknown services and
 *   methods get UNIMPLEMENTED naming what was asked for. Frames of other types
 *   are skipped (unary-only server, as Go ttrpc 1.1). A connection has at most
 *   TTRPC_MAX_INFLIGHT calls running; more get RESOURCE_EXHAUSTED.
 * - Each unary call runs on its own thread, so a handler may block (Wait)
 *   while later calls on the same connection are served and answered out of
 *   order. Every response frame is written with one locked write, so frames
 *   never interleave. Handlers must be thread-safe among themselves.
 * - Functions return 0 or -errno; struct errmsg says which input failed how.
 */
#ifndef HULL_SHIM_TTRPC_H
#define HULL_SHIM_TTRPC_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define TTRPC_HDR_LEN 10
#define TTRPC_MAX_DATA (4u << 20) /* ttrpc's messageLengthMax */
#define TTRPC_MAX_INFLIGHT 64

enum ttrpc_type { TTRPC_REQUEST = 1, TTRPC_RESPONSE = 2, TTRPC_DATA = 3 };

/* gRPC status codes used on the wire. */
enum ttrpc_code {
	TTRPC_OK = 0,
	TTRPC_CANCELLED = 1,
	TTRPC_UNKNOWN = 2,
	TTRPC_INVALID_ARGUMENT = 3,
	TTRPC_DEADLINE_EXCEEDED = 4,
	TTRPC_NOT_FOUND = 5,
	TTRPC_ALREADY_EXISTS = 6,
	TTRPC_PERMISSION_DENIED = 7,
	TTRPC_RESOURCE_EXHAUSTED = 8,
	TTRPC_FAILED_PRECONDITION = 9,
	TTRPC_ABORTED = 10,
	TTRPC_OUT_OF_RANGE = 11,
	TTRPC_UNIMPLEMENTED = 12,
	TTRPC_INTERNAL = 13,
	TTRPC_UNAVAILABLE = 14,
};

struct ttrpc_hdr {
	uint32_t len;
	uint32_t sid;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_hdr_encode(const struct ttrpc_hdr *h, uint8_t out[TTRPC_HDR_LEN]);
void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h);

/* Read one frame from blocking fd `fd`, retrying short reads and EINTR. On 0,
 * *data is a malloc'd buffer of h->len bytes (NULL when h->len is 0) the
 * caller frees. -ENODATA: the peer closed cleanly before a header began.
 * -EPROTO: the stream ended inside a frame. -EMSGSIZE: h->len exceeded `max`;
 * the data was read and dropped, *h is valid, so the caller can answer the
 * stream and go on. Other -errno from read(2). */
int ttrpc_read_frame(int fd, size_t max, struct ttrpc_hdr *h, uint8_t **data, struct errmsg *err);

/* Write header and data as one buffer (one write unless the kernel splits
 * it); callers sharing an fd serialize calls. 0 or -errno (-EMSGSIZE when
 * len exceeds TTRPC_MAX_DATA). */
int ttrpc_write_frame(int fd, uint32_t sid, uint8_t type, uint8_t flags, const void *data,
		      size_t len);

/* One unary call as a handler sees it. The handler sets either `resp`
 * (malloc'd serialized response; NULL/0 for google.protobuf.Empty, the
 * server frees it) or `code` != 0 with `message`. */
struct ttrpc_call {
	const char *service;
	const char *method;
	const uint8_t *payload;
	size_t payload_len;
	int64_t timeout_nano; /* 0: none; advisory */
	uint8_t *resp;
	size_t resp_len;
	uint32_t code;
	char message[512];
};

/* Set an error status on `call` (message printf-style); returns nothing so
 * handlers write `return ttrpc_fail(call, ...)` in void functions. */
__attribute__((format(printf, 3, 4))) void ttrpc_fail(struct ttrpc_call *call, uint32_t code,
						      const char *fmt, ...);

typedef void (*ttrpc_handler_fn)(void *arg, struct ttrpc_call *call);

struct ttrpc_method {
	const char *name; /* bare rpc name, e.g. "Wait" */
	ttrpc_handler_fn fn;
};

struct ttrpc_service {
	const char *name; /* fully qualified, e.g. "containerd.task.v2.Task" */
	const struct ttrpc_method *methods;
	size_t n_methods;
	void *arg; /* passed to every handler of this service */
};

/* Serve one connection on `fd` until the peer closes it or the stream breaks.
 * Blocks the calling thread on reads; handlers run on threads of their own.
 * Takes ownership of fd: it is closed when the reader has stopped and the
 * last running call has answered (possibly after this returns). `services`
 * must outlive every call. Returns 0 on a clean close, else -errno with err. */
int ttrpc_serve_conn(int fd, const struct ttrpc_service *services, size_t n_services,
		     struct errmsg *err);

#endif
