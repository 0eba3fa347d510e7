#include "hcp.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void hcp_u32_encode(uint8_t out[4], uint32_t v)
{
	out[0] = v & 0xff;
	out[1] = (v >> 8) & 0xff;
	out[2] = (v >> 16) & 0xff;
	out[3] = (v >> 24) & 0xff;
}

static bool type_known(uint8_t t)
{
	switch (t) {
	case HCP_READY:
	case HCP_STARTED:
	case HCP_STDOUT:
	case HCP_STDERR:
	case HCP_EXIT:
	case HCP_ERROR:
	case HCP_SPEC:
	case HCP_STDIN:
	case HCP_STDIN_EOF:
	case HCP_SIGNAL:
	case HCP_RESIZE:
	case HCP_EXEC:
	case HCP_MAIN_SIGNAL:
		return true;
	}
	return false;
}

int hcp_header_encode(uint8_t hdr[HCP_HDR_LEN], uint8_t type, uint32_t len)
{
	if (!type_known(type) || len > HCP_MAX_PAYLOAD)
		return -EINVAL;
	hdr[0] = type;
	hdr[1] = hdr[2] = hdr[3] = 0;
	hcp_u32_encode(hdr + 4, len);
	return 0;
}

int hcp_header_decode(const uint8_t hdr[HCP_HDR_LEN], uint8_t *type, uint32_t *len)
{
	uint32_t n = get_le32(hdr + 4);
	if (!type_known(hdr[0]) || hdr[1] || hdr[2] || hdr[3] || n > HCP_MAX_PAYLOAD)
		return -EPROTO;
	*type = hdr[0];
	*len = n;
	return 0;
}

int hcp_u32_decode(const struct hcp_msg *m, uint32_t *v)
{
	if (m->len != 4)
		return -EPROTO;
	*v = get_le32(m->payload);
	return 0;
}

void hcp_winsize_encode(uint8_t out[HCP_WINSIZE_LEN], uint16_t rows, uint16_t cols)
{
	out[0] = rows & 0xff;
	out[1] = rows >> 8;
	out[2] = cols & 0xff;
	out[3] = cols >> 8;
}

int hcp_winsize_decode(const struct hcp_msg *m, uint16_t *rows, uint16_t *cols)
{
	if (m->len != HCP_WINSIZE_LEN)
		return -EPROTO;
	*rows = (uint16_t)(m->payload[0] | m->payload[1] << 8);
	*cols = (uint16_t)(m->payload[2] | m->payload[3] << 8);
	return 0;
}

void hcp_reader_init(struct hcp_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void hcp_reader_free(struct hcp_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Length of the frame at the head of the buffer, 0 if the header is not
 * complete yet, -EPROTO if the header is invalid. */
static long head_frame_len(const struct hcp_reader *r)
{
	if (r->len < HCP_HDR_LEN)
		return 0;
	uint8_t type;
	uint32_t len;
	if (hcp_header_decode(r->buf, &type, &len))
		return -EPROTO;
	return (long)(HCP_HDR_LEN + len);
}

/* Drop the frame handed out by the last _next. */
static void drop_consumed(struct hcp_reader *r)
{
	if (r->consumed) {
		memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
		r->len -= r->consumed;
		r->consumed = 0;
	}
}

int hcp_reader_push(struct hcp_reader *r, const uint8_t *data, size_t n, size_t *taken)
{
	*taken = 0;
	if (r->error)
		return r->error;
	drop_consumed(r);
	/* Take only as much as completes the head frame: bounded memory. */
	long need = head_frame_len(r);
	if (need < 0)
		return r->error = -EPROTO;
	size_t want;
	if (need == 0)
		want = HCP_HDR_LEN - r->len;
	else
		want = (size_t)need > r->len ? (size_t)need - r->len : 0;
	if (want > n)
		want = n;
	if (want == 0)
		return 0;
	if (r->len + want > r->cap) {
		size_t cap = HCP_HDR_LEN + HCP_MAX_PAYLOAD;
		uint8_t *nb = realloc(r->buf, cap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, want);
	r->len += want;
	*taken = want;
	/* If that completed the header, the caller pushes again for the payload. */
	if (head_frame_len(r) < 0)
		return r->error = -EPROTO;
	return 0;
}

int hcp_reader_next(struct hcp_reader *r, struct hcp_msg *m)
{
	if (r->error)
		return r->error;
	drop_consumed(r);
	long need = head_frame_len(r);
	if (need < 0)
		return r->error = -EPROTO;
	if (need == 0 || r->len < (size_t)need)
		return 0;
	m->type = r->buf[0];
	m->len = get_le32(r->buf + 4);
	m->payload = r->buf + HCP_HDR_LEN;
	r->consumed = (size_t)need;
	return 1;
}

/* ---- spec ---- */

static size_t strs_size(char *const *v, size_t n)
{
	size_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += 5 + strlen(v[i]);
	return s;
}

static uint8_t *put_rec(uint8_t *p, uint8_t tag, const char *s)
{
	size_t n = strlen(s);
	*p++ = tag;
	hcp_u32_encode(p, (uint32_t)n);
	p += 4;
	memcpy(p, s, n);
	return p + n;
}

static int spec_write(const struct hcp_spec *s, char *const *vols, size_t vsize, uint8_t **out,
		      size_t *outlen);

/* "TAG:ro:/path": the tag is a name, so the path may hold ':' */
static char *volume_str(const struct hcp_volume *v)
{
	char *s;
	return asprintf(&s, "%s:%s:%s", v->tag, v->read_only ? "ro" : "rw", v->path) < 0 ? NULL : s;
}

static bool tag_ok(const char *t, size_t n)
{
	if (n == 0 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '-')
			return false;
	return true;
}

static int parse_volume(const char *str, struct hcp_volume *v)
{
	const char *c1 = strchr(str, ':');
	if (!c1 || !tag_ok(str, (size_t)(c1 - str)) || strlen(c1) < 5 || c1[3] != ':' ||
	    c1[4] != '/')
		return -EPROTO;
	bool ro = strncmp(c1 + 1, "ro", 2) == 0;
	if (!ro && strncmp(c1 + 1, "rw", 2) != 0)
		return -EPROTO;
	v->tag = strndup(str, (size_t)(c1 - str));
	v->path = strdup(c1 + 4);
	v->read_only = ro;
	if (!v->tag || !v->path) {
		free(v->tag);
		free(v->path);
		return -ENOMEM;
	}
	return 0;
}

static size_t opt_size(const char *str)
{
	return str ? 5 + strlen(str) : 0;
}

/* Which single-valued fields a SPEC needs and an EXEC must not carry (an
 * EXEC's ULIMITs are its own rlimits: see hcp.h). */
static bool fields_fit(const struct hcp_spec *s, bool exec)
{
	if (exec)
		return !s->rootfs && !s->hostname && !s->realtime_ns && !s->has_seed &&
		       !s->nvolumes && !s->net_mac && !s->net_addr && !s->net_gw && !s->n_dns &&
		       !s->n_hosts && !s->read_only && !s->n_tmpfs && !s->shm_size &&
		       !s->has_caps && !s->no_new_privs && !s->restart;
	return s->cwd && s->rootfs;
}

/* exec: the HCP_EXEC variant (see hcp.h). */
static int spec_encode(const struct hcp_spec *s, bool exec, uint8_t **out, size_t *outlen)
{
	if (!s->argc || !s->argv || s->argc > HCP_SPEC_MAX_STRINGS ||
	    s->envc > HCP_SPEC_MAX_STRINGS || s->nvolumes > HCP_MAX_VOLUMES)
		return -EINVAL;
	if (!fields_fit(s, exec))
		return -EINVAL;
	char *vols[HCP_MAX_VOLUMES] = {0};
	size_t vsize = 0;
	int vrc = 0;
	for (size_t i = 0; i < s->nvolumes; i++) {
		if (!tag_ok(s->volumes[i].tag, strlen(s->volumes[i].tag)) ||
		    s->volumes[i].path[0] != '/')
			vrc = -EINVAL;
		else if (!(vols[i] = volume_str(&s->volumes[i])))
			vrc = -ENOMEM;
		else
			vsize += 5 + strlen(vols[i]);
	}
	int rc = vrc ? vrc : spec_write(s, vols, vsize, out, outlen);
	for (size_t i = 0; i < s->nvolumes; i++)
		free(vols[i]);
	return rc;
}

/* The confinement records other than TMPFS, each as its tag byte followed
 * by the record's text (malloc'd). */
static void free_confine(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static size_t confine_size(char **v, size_t n)
{
	size_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += 4 + strlen(v[i]); /* tag byte + u32 len + text */
	return s;
}

/* v[(*k)++] = the formatted text; -ENOMEM leaves v[*k] NULL */
static int __attribute__((format(printf, 3, 4))) conf_add(char **v, size_t *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&v[*k], fmt, ap);
	va_end(ap);
	if (n < 0) {
		v[*k] = NULL;
		return -ENOMEM;
	}
	(*k)++;
	return 0;
}

static int confine_strs(const struct hcp_spec *s, char ***out, size_t *n)
{
	if (s->n_tmpfs > HCP_MAX_TMPFS || s->n_ulimits > HCP_MAX_ULIMITS ||
	    s->restart_max > HCP_MAX_RESTARTS ||
	    (s->restart != HCP_RESTART_ON_FAILURE && s->restart_max))
		return -EINVAL;
	for (size_t i = 0; i < s->n_ulimits; i++)
		if (s->ulimits[i].resource >= HCP_RLIMIT_COUNT ||
		    s->ulimits[i].soft > s->ulimits[i].hard)
			return -EINVAL;
	char **v = calloc(s->n_ulimits + 5, sizeof(char *));
	size_t k = 0;
	int rc = v ? 0 : -ENOMEM;
	for (size_t i = 0; !rc && i < s->n_ulimits; i++)
		rc = conf_add(
		    v, &k, "%c%u %llu %llu", HCP_SPEC_ULIMIT, (unsigned)s->ulimits[i].resource,
		    (unsigned long long)s->ulimits[i].soft, (unsigned long long)s->ulimits[i].hard);
	if (!rc && s->read_only)
		rc = conf_add(v, &k, "%c1", HCP_SPEC_READ_ONLY);
	if (!rc && s->shm_size)
		rc = conf_add(v, &k, "%c%llu", HCP_SPEC_SHM_SIZE, (unsigned long long)s->shm_size);
	if (!rc && s->has_caps)
		rc = conf_add(v, &k, "%c%016llx", HCP_SPEC_CAPS, (unsigned long long)s->caps);
	if (!rc && s->no_new_privs)
		rc = conf_add(v, &k, "%c1", HCP_SPEC_NO_NEW_PRIVS);
	if (!rc && s->restart == HCP_RESTART_ALWAYS)
		rc = conf_add(v, &k, "%calways", HCP_SPEC_RESTART);
	else if (!rc && s->restart == HCP_RESTART_ON_FAILURE)
		rc = conf_add(v, &k, "%con-failure:%u", HCP_SPEC_RESTART, (unsigned)s->restart_max);
	if (rc) {
		free_confine(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

static int spec_write(const struct hcp_spec *s, char *const *vols, size_t vsize, uint8_t **out,
		      size_t *outlen)
{
	size_t n = strs_size(s->argv, s->argc) + strs_size(s->envp, s->envc) + opt_size(s->cwd) +
		   opt_size(s->rootfs) + vsize;
	if (s->user)
		n += 5 + strlen(s->user);
	if (s->hostname)
		n += 5 + strlen(s->hostname);
	char tbuf[24], sbuf[2 * HCP_SEED_LEN + 1];
	if (s->realtime_ns) {
		snprintf(tbuf, sizeof(tbuf), "%llu", (unsigned long long)s->realtime_ns);
		n += 5 + strlen(tbuf);
	}
	const char *net_single[] = {s->net_mac, s->net_addr, s->net_gw};
	for (size_t i = 0; i < 3; i++)
		n += net_single[i] ? 5 + strlen(net_single[i]) : 0;
	if (s->n_dns > HCP_SPEC_MAX_STRINGS || s->n_hosts > HCP_SPEC_MAX_STRINGS)
		return -EINVAL;
	n += strs_size(s->net_dns, s->n_dns) + strs_size(s->net_hosts, s->n_hosts);
	if (s->has_seed) {
		for (int i = 0; i < HCP_SEED_LEN; i++)
			snprintf(sbuf + 2 * i, 3, "%02x", s->seed[i]);
		n += 5 + 2 * HCP_SEED_LEN;
	}
	char **conf = NULL;
	size_t nconf = 0;
	int crc = confine_strs(s, &conf, &nconf);
	if (crc)
		return crc;
	n += strs_size(s->tmpfs, s->n_tmpfs) + confine_size(conf, nconf);
	char wbuf[16];
	if (s->tty) {
		snprintf(wbuf, sizeof(wbuf), "%u %u", (unsigned)s->rows, (unsigned)s->cols);
		n += 5 + strlen(wbuf);
	}
	uint8_t *buf = n > HCP_MAX_PAYLOAD ? NULL : malloc(n ? n : 1), *p = buf;
	if (!buf) {
		free_confine(conf, nconf);
		return n > HCP_MAX_PAYLOAD ? -EINVAL : -ENOMEM;
	}
	for (size_t i = 0; i < s->argc; i++)
		p = put_rec(p, HCP_SPEC_ARG, s->argv[i]);
	for (size_t i = 0; i < s->envc; i++)
		p = put_rec(p, HCP_SPEC_ENV, s->envp[i]);
	if (s->cwd)
		p = put_rec(p, HCP_SPEC_CWD, s->cwd);
	if (s->rootfs)
		p = put_rec(p, HCP_SPEC_ROOTFS, s->rootfs);
	if (s->user)
		p = put_rec(p, HCP_SPEC_USER, s->user);
	if (s->hostname)
		p = put_rec(p, HCP_SPEC_HOSTNAME, s->hostname);
	if (s->realtime_ns)
		p = put_rec(p, HCP_SPEC_TIME, tbuf);
	if (s->has_seed)
		p = put_rec(p, HCP_SPEC_SEED, sbuf);
	for (size_t i = 0; i < s->nvolumes; i++)
		p = put_rec(p, HCP_SPEC_VOLUME, vols[i]);
	if (s->tty)
		p = put_rec(p, HCP_SPEC_TTY, wbuf);
	for (size_t i = 0; i < 3; i++)
		if (net_single[i])
			p = put_rec(p, (uint8_t)(HCP_SPEC_NET_MAC + i), net_single[i]);
	for (size_t i = 0; i < s->n_dns; i++)
		p = put_rec(p, HCP_SPEC_NET_DNS, s->net_dns[i]);
	for (size_t i = 0; i < s->n_hosts; i++)
		p = put_rec(p, HCP_SPEC_NET_HOST, s->net_hosts[i]);
	for (size_t i = 0; i < s->n_tmpfs; i++)
		p = put_rec(p, HCP_SPEC_TMPFS, s->tmpfs[i]);
	for (size_t i = 0; i < nconf; i++)
		p = put_rec(p, (uint8_t)conf[i][0], conf[i] + 1);
	free_confine(conf, nconf);
	*out = buf;
	*outlen = (size_t)(p - buf);
	return 0;
}

int hcp_spec_encode(const struct hcp_spec *s, uint8_t **out, size_t *outlen)
{
	return spec_encode(s, false, out, outlen);
}

int hcp_exec_encode(const struct hcp_spec *s, uint8_t **out, size_t *outlen)
{
	return spec_encode(s, true, out, outlen);
}

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void hcp_spec_free(struct hcp_spec *s)
{
	free_strv(s->argv, s->argc);
	free_strv(s->envp, s->envc);
	free(s->cwd);
	free(s->user);
	free(s->hostname);
	free(s->rootfs);
	for (size_t i = 0; i < s->nvolumes; i++) {
		free(s->volumes[i].tag);
		free(s->volumes[i].path);
	}
	free(s->volumes);
	free(s->net_mac);
	free(s->net_addr);
	free(s->net_gw);
	free_strv(s->net_dns, s->n_dns);
	free_strv(s->net_hosts, s->n_hosts);
	free_strv(s->tmpfs, s->n_tmpfs);
	free(s->ulimits);
	memset(s, 0, sizeof(*s));
}

static int push_str(char ***v, size_t *n, char *str)
{
	if (*n >= HCP_SPEC_MAX_STRINGS)
		return -EPROTO;
	/* keep the array NULL-terminated at every step */
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = str;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* Decimal digits only, 0..UINT64_MAX; *end at the first non-digit. */
static int parse_dec(const char *str, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *c = str;
	for (; *c >= '0' && *c <= '9'; c++) {
		uint64_t d = (uint64_t)(*c - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EPROTO;
		v = v * 10 + d;
	}
	if (c == str)
		return -EPROTO;
	*out = v;
	*end = c;
	return 0;
}

/* "RES SOFT HARD" */
static int add_ulimit(struct hcp_spec *s, const char *str)
{
	uint64_t r, soft, hard;
	const char *e;
	if (s->n_ulimits >= HCP_MAX_ULIMITS || parse_dec(str, &r, &e) || *e != ' ' ||
	    parse_dec(e + 1, &soft, &e) || *e != ' ' || parse_dec(e + 1, &hard, &e) || *e ||
	    r >= HCP_RLIMIT_COUNT || soft > hard)
		return -EPROTO;
	struct hcp_ulimit *nu = realloc(s->ulimits, (s->n_ulimits + 1) * sizeof(*nu));
	if (!nu)
		return -ENOMEM;
	s->ulimits = nu;
	nu[s->n_ulimits++] = (struct hcp_ulimit){(uint32_t)r, soft, hard};
	return 0;
}

static int parse_flag(const char *str, bool *out)
{
	if (*out || strcmp(str, "1"))
		return -EPROTO;
	*out = true;
	return 0;
}

static int parse_restart(const char *str, struct hcp_spec *s)
{
	uint64_t n;
	const char *e;
	if (s->restart != HCP_RESTART_NO)
		return -EPROTO;
	if (!strcmp(str, "always")) {
		s->restart = HCP_RESTART_ALWAYS;
		return 0;
	}
	if (strncmp(str, "on-failure:", 11) || parse_dec(str + 11, &n, &e) || *e ||
	    n > HCP_MAX_RESTARTS)
		return -EPROTO;
	s->restart = HCP_RESTART_ON_FAILURE;
	s->restart_max = (uint32_t)n;
	return 0;
}

static int hexval(char c);

/* the confinement tags (25-31); str stays the caller's */
static int decode_confine(struct hcp_spec *s, uint8_t tag, const char *str)
{
	uint64_t v;
	const char *e;
	struct hcp_tmpfs t;
	const char *why;
	switch (tag) {
	case HCP_SPEC_READ_ONLY:
		return parse_flag(str, &s->read_only);
	case HCP_SPEC_NO_NEW_PRIVS:
		return parse_flag(str, &s->no_new_privs);
	case HCP_SPEC_ULIMIT:
		return add_ulimit(s, str);
	case HCP_SPEC_SHM_SIZE:
		if (s->shm_size || parse_dec(str, &v, &e) || *e || !v)
			return -EPROTO;
		s->shm_size = v;
		return 0;
	case HCP_SPEC_CAPS:
		if (s->has_caps || strlen(str) != 16)
			return -EPROTO;
		v = 0;
		for (int i = 0; i < 16; i++) {
			int h = hexval(str[i]);
			if (h < 0)
				return -EPROTO;
			v = v << 4 | (uint64_t)h;
		}
		s->caps = v;
		s->has_caps = true;
		return 0;
	case HCP_SPEC_RESTART:
		return parse_restart(str, s);
	case HCP_SPEC_TMPFS: {
		if (s->n_tmpfs >= HCP_MAX_TMPFS || hcp_tmpfs_parse(str, &t, &why))
			return -EPROTO;
		char *copy = strdup(str);
		if (!copy)
			return -ENOMEM;
		int rc = push_str(&s->tmpfs, &s->n_tmpfs, copy);
		if (rc)
			free(copy);
		return rc;
	}
	default:
		return -EPROTO;
	}
}

static int parse_time(const char *str, uint64_t *out)
{
	uint64_t v = 0;
	if (!*str || strlen(str) > 20)
		return -EPROTO;
	for (const char *c = str; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EPROTO;
		uint64_t d = (uint64_t)(*c - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EPROTO;
		v = v * 10 + d;
	}
	if (v == 0)
		return -EPROTO;
	*out = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_seed(const char *str, uint8_t seed[HCP_SEED_LEN])
{
	if (strlen(str) != 2 * HCP_SEED_LEN)
		return -EPROTO;
	for (int i = 0; i < HCP_SEED_LEN; i++) {
		int hi = hexval(str[2 * i]), lo = hexval(str[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EPROTO;
		seed[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int add_volume(struct hcp_spec *s, const char *str)
{
	if (s->nvolumes >= HCP_MAX_VOLUMES)
		return -EPROTO;
	struct hcp_volume *nv = realloc(s->volumes, (s->nvolumes + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	s->volumes = nv;
	int rc = parse_volume(str, &nv[s->nvolumes]);
	if (!rc)
		s->nvolumes++;
	return rc;
}

/* Decimal 0..max, digits only. */
static int parse_small(const char *str, size_t n, unsigned max, uint16_t *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return -EPROTO;
	for (size_t i = 0; i < n; i++) {
		if (str[i] < '0' || str[i] > '9')
			return -EPROTO;
		v = v * 10 + (unsigned)(str[i] - '0');
	}
	if (v > max)
		return -EPROTO;
	*out = (uint16_t)v;
	return 0;
}

/* "ROWS COLS" */
static int parse_tty(const char *str, uint16_t *rows, uint16_t *cols)
{
	const char *sp = strchr(str, ' ');
	if (!sp)
		return -EPROTO;
	int rc = parse_small(str, (size_t)(sp - str), UINT16_MAX, rows);
	return rc ? rc : parse_small(sp + 1, strlen(sp + 1), UINT16_MAX, cols);
}

static int spec_decode(const uint8_t *buf, size_t len, bool exec, struct hcp_spec *s)
{
	memset(s, 0, sizeof(*s));
	size_t off = 0;
	int rc = 0;
	while (off < len) {
		if (len - off < 5) {
			rc = -EPROTO;
			break;
		}
		uint8_t tag = buf[off];
		uint32_t n = get_le32(buf + off + 1);
		off += 5;
		if (n > len - off || memchr(buf + off, 0, n)) {
			rc = -EPROTO;
			break;
		}
		char *str = strndup((const char *)buf + off, n);
		if (!str) {
			rc = -ENOMEM;
			break;
		}
		off += n;
		char **single = NULL;
		switch (tag) {
		case HCP_SPEC_ARG:
			rc = push_str(&s->argv, &s->argc, str);
			break;
		case HCP_SPEC_ENV:
			rc = push_str(&s->envp, &s->envc, str);
			break;
		case HCP_SPEC_CWD:
			single = &s->cwd;
			break;
		case HCP_SPEC_USER:
			single = &s->user;
			break;
		case HCP_SPEC_HOSTNAME:
			single = &s->hostname;
			break;
		case HCP_SPEC_ROOTFS:
			single = &s->rootfs;
			break;
		case HCP_SPEC_TIME:
			rc = s->realtime_ns ? -EPROTO : parse_time(str, &s->realtime_ns);
			free(str);
			str = NULL;
			break;
		case HCP_SPEC_NET_MAC:
			single = &s->net_mac;
			break;
		case HCP_SPEC_NET_ADDR:
			single = &s->net_addr;
			break;
		case HCP_SPEC_NET_GW:
			single = &s->net_gw;
			break;
		case HCP_SPEC_NET_DNS:
			rc = push_str(&s->net_dns, &s->n_dns, str);
			break;
		case HCP_SPEC_NET_HOST:
			rc = push_str(&s->net_hosts, &s->n_hosts, str);
			break;
		case HCP_SPEC_SEED:
			rc = s->has_seed ? -EPROTO : parse_seed(str, s->seed);
			s->has_seed = rc == 0;
			free(str);
			str = NULL;
			break;
		case HCP_SPEC_VOLUME:
			rc = add_volume(s, str);
			free(str);
			str = NULL;
			break;
		case HCP_SPEC_TTY:
			rc = s->tty ? -EPROTO : parse_tty(str, &s->rows, &s->cols);
			s->tty = rc == 0;
			free(str);
			str = NULL;
			break;
		default:
			rc = decode_confine(s, tag, str);
			free(str);
			str = NULL;
		}
		if (single && !*single)
			*single = str;
		else if (single)
			rc = -EPROTO; /* duplicate */
		if (rc) {
			free(str);
			break;
		}
	}
	if (!rc && (!s->argc || (s->cwd && s->cwd[0] != '/')))
		rc = -EPROTO;
	if (!rc && !fields_fit(s, exec))
		rc = -EPROTO;
	if (!rc && !s->envp) {
		/* an empty environment is still a valid, NULL-terminated array */
		s->envp = calloc(1, sizeof(char *));
		if (!s->envp)
			rc = -ENOMEM;
	}
	if (rc)
		hcp_spec_free(s);
	return rc;
}

int hcp_spec_decode(const uint8_t *buf, size_t len, struct hcp_spec *s)
{
	return spec_decode(buf, len, false, s);
}

int hcp_exec_decode(const uint8_t *buf, size_t len, struct hcp_spec *s)
{
	return spec_decode(buf, len, true, s);
}
