/* Fuzz guest-init's side of hcp: the byte stream a (hostile or broken) host
 * sends, framed by hcp_reader in chunks whose sizes the input picks, each
 * frame decoded as guest-init decodes it (SPEC, EXEC, SIGNAL, MAIN_SIGNAL,
 * RESIZE). A spec that decodes must encode again and decode to the same
 * spec (the host and the guest agree on every field). */
#include "fuzz/fuzz.h"
#include "proto/hcp.h"

static bool streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool strv_eq(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!streq(a[i], b[i]))
			return false;
	return true;
}

static void spec_same(const struct hcp_spec *a, const struct hcp_spec *b)
{
	FZ_CHECK(strv_eq(a->argv, a->argc, b->argv, b->argc));
	FZ_CHECK(strv_eq(a->envp, a->envc, b->envp, b->envc));
	FZ_CHECK(streq(a->cwd, b->cwd) && streq(a->user, b->user));
	FZ_CHECK(streq(a->hostname, b->hostname) && streq(a->rootfs, b->rootfs));
	FZ_CHECK(a->realtime_ns == b->realtime_ns && a->has_seed == b->has_seed);
	FZ_CHECK(!a->has_seed || memcmp(a->seed, b->seed, HCP_SEED_LEN) == 0);
	FZ_CHECK(a->nvolumes == b->nvolumes);
	for (size_t i = 0; i < a->nvolumes; i++)
		FZ_CHECK(streq(a->volumes[i].tag, b->volumes[i].tag) &&
			 streq(a->volumes[i].path, b->volumes[i].path) &&
			 a->volumes[i].read_only == b->volumes[i].read_only);
	FZ_CHECK(a->tty == b->tty && a->rows == b->rows && a->cols == b->cols);
	FZ_CHECK(streq(a->net_mac, b->net_mac) && streq(a->net_addr, b->net_addr));
	FZ_CHECK(streq(a->net_gw, b->net_gw));
	FZ_CHECK(strv_eq(a->net_dns, a->n_dns, b->net_dns, b->n_dns));
	FZ_CHECK(strv_eq(a->net_hosts, a->n_hosts, b->net_hosts, b->n_hosts));
}

static void spec_frame(const struct hcp_msg *m, bool exec)
{
	struct hcp_spec s;
	int rc = exec ? hcp_exec_decode(m->payload, m->len, &s)
		      : hcp_spec_decode(m->payload, m->len, &s);
	FZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM);
	if (rc)
		return;
	FZ_CHECK(s.argc >= 1 && s.argv && s.argv[s.argc] == NULL);
	FZ_CHECK(exec || (s.cwd && s.rootfs));
	uint8_t *buf = NULL;
	size_t len = 0;
	rc = exec ? hcp_exec_encode(&s, &buf, &len) : hcp_spec_encode(&s, &buf, &len);
	FZ_CHECK(rc == 0);
	struct hcp_spec again;
	rc = exec ? hcp_exec_decode(buf, len, &again) : hcp_spec_decode(buf, len, &again);
	FZ_CHECK(rc == 0);
	spec_same(&s, &again);
	hcp_spec_free(&again);
	free(buf);
	hcp_spec_free(&s);
}

static void frame(const struct hcp_msg *m)
{
	FZ_CHECK(m->len <= HCP_MAX_PAYLOAD);
	uint32_t v;
	uint16_t rows, cols;
	switch (m->type) {
	case HCP_SPEC:
		spec_frame(m, false);
		break;
	case HCP_EXEC:
		spec_frame(m, true);
		break;
	case HCP_SIGNAL:
	case HCP_MAIN_SIGNAL:
		FZ_CHECK((hcp_u32_decode(m, &v) == 0) == (m->len == 4));
		break;
	case HCP_RESIZE:
		FZ_CHECK((hcp_winsize_decode(m, &rows, &cols) == 0) == (m->len == HCP_WINSIZE_LEN));
		break;
	default:
		/* STDIN data is opaque; guest-to-host types are the host's */
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	/* chunk sizes: a byte-at-a-time host, a burst writer, or anything */
	size_t chunk = 1 + fz_u8(&in) * 64u;
	struct hcp_reader r;
	hcp_reader_init(&r);
	while (fz_left(&in)) {
		size_t n, taken = 0;
		const uint8_t *p = fz_bytes(&in, chunk, &n);
		while (n) {
			int rc = hcp_reader_push(&r, p, n, &taken);
			if (rc == -EPROTO)
				goto out;
			FZ_CHECK(rc == 0 && taken <= n);
			p += taken;
			n -= taken;
			struct hcp_msg m;
			unsigned pulled = 0;
			int got;
			while ((got = hcp_reader_next(&r, &m)) == 1) {
				frame(&m);
				pulled++;
			}
			if (got < 0) {
				FZ_CHECK(got == -EPROTO);
				goto out;
			}
			/* the reader refuses bytes only while it holds a frame */
			FZ_CHECK(taken > 0 || pulled > 0);
		}
	}
out:
	hcp_reader_free(&r);
	return 0;
}
