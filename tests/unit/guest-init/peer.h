/* peer: the host's end of a channel in guest-init tests (a socketpair). */
#ifndef HULL_TEST_GUEST_INIT_PEER_H
#define HULL_TEST_GUEST_INIT_PEER_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/hcp.h"

static inline void peer_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w <= 0)
			abort();
		p += w;
		len -= (size_t)w;
	}
}

static inline void peer_send(int fd, uint8_t type, const void *payload, size_t len)
{
	uint8_t hdr[HCP_HDR_LEN];

	if (hcp_header_encode(hdr, type, (uint32_t)len) < 0)
		abort();
	peer_write_all(fd, hdr, sizeof(hdr));
	if (len)
		peer_write_all(fd, payload, len);
}

static inline void peer_send_u32(int fd, uint8_t type, uint32_t v)
{
	uint8_t b[4];

	hcp_u32_encode(b, v);
	peer_send(fd, type, b, 4);
}

static inline void peer_send_spec(int fd, const struct hcp_spec *s)
{
	uint8_t *buf;
	size_t len;

	if (hcp_spec_encode(s, &buf, &len) < 0)
		abort();
	peer_send(fd, HCP_SPEC, buf, len);
	free(buf);
}

/* Read one frame (blocking, up to timeout_ms per wait). Returns 1, or 0 on
 * EOF/timeout. *payload is malloc'd. */
static inline int peer_recv(int fd, uint8_t *type, uint8_t **payload, uint32_t *len, int timeout_ms)
{
	uint8_t hdr[HCP_HDR_LEN];
	size_t got = 0, want = sizeof(hdr);
	uint8_t *dst = hdr;
	int phase = 0;

	*payload = NULL;
	for (;;) {
		if (got == want) {
			if (phase == 1)
				return 1;
			*type = hdr[0];
			*len = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 |
			       (uint32_t)hdr[7] << 24;
			*payload = malloc(*len + 1);
			if (!*payload)
				abort();
			(*payload)[*len] = 0;
			dst = *payload;
			got = 0;
			want = *len;
			phase = 1;
			continue;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) <= 0)
			return 0;
		ssize_t r = read(fd, dst + got, want - got);
		if (r <= 0)
			return 0;
		got += (size_t)r;
	}
}

#endif
