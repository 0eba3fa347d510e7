/* Fuzz the 9P2000.L server (p9/) with message sequences against a real
 * host directory (volume.h: a volume with planted symlinks next to a tree
 * that must not change). Each input gets a fresh volume and server; the
 * session is opened first (Tversion, Tattach of fid 0 to the root), then
 * the input's messages follow: a u16 length and that many bytes each, the
 * size field set to the length (so mutations change contents, not
 * framing). The first byte picks read-only and passthrough ownership.
 * Checks: every answer fits the buffer and carries the request's tag, and
 * nothing outside the volume changed. */
#include "fuzz/fuzz.h"
#include "fuzz/p9msg.h"
#include "fuzz/volume.h"
#include "p9/p9.h"

static struct vol vol;
static uint8_t *out;

static void cleanup(void)
{
	vol_free(&vol);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vol_init(&vol, "p9");
	atexit(cleanup);
	out = malloc(P9_MSIZE_MAX);
	FZ_CHECK(out);
	return 0;
}

static void serve(struct p9_server *s, const uint8_t *msg, size_t len)
{
	long n = p9_server_handle(s, msg, len, out, P9_MSIZE_MAX);
	if (n == -EBADMSG) {
		FZ_CHECK(len < P9_HDR_LEN);
		return;
	}
	FZ_CHECK(n >= (long)P9_HDR_LEN && n <= (long)P9_MSIZE_MAX);
	uint32_t size = (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
			(uint32_t)out[3] << 24;
	FZ_CHECK(size == (uint32_t)n);
	FZ_CHECK(out[4] == msg[4] + 1 || out[4] == 7 /* Rlerror */);
	FZ_CHECK(memcmp(out + 5, msg + 5, 2) == 0);
	if (getenv("HULL_FUZZ_DEBUG")) /* for whoever writes seeds */
		fprintf(stderr, "p9: T%u -> R%u (errno %d)\n", msg[4], out[4],
			out[4] == 7 ? out[7] | out[8] << 8 : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	uint8_t flags = fz_u8(&in);
	vol_reset(&vol);
	struct p9_server *s;
	struct errmsg err;
	FZ_CHECK(p9_server_new(&s, vol.vol, flags & 1, (enum p9_owners)((flags >> 1) % 3), &err) ==
		 0);
	struct p9m m;
	serve(s, m.b, fz_p9_version(&m, 64 * 1024));
	serve(s, m.b, fz_p9_attach(&m));
	uint8_t *msg = malloc(65536);
	FZ_CHECK(msg);
	while (fz_left(&in)) {
		size_t n;
		const uint8_t *p = fz_bytes(&in, fz_u16(&in), &n);
		memcpy(msg, p, n);
		if (n >= 4)
			for (unsigned i = 0; i < 4; i++)
				msg[i] = (uint8_t)(n >> (8 * i));
		if (n == 0)
			p9_server_reset(s);
		else
			serve(s, msg, n);
	}
	free(msg);
	p9_server_free(s);
	vol_check(&vol);
	return 0;
}
