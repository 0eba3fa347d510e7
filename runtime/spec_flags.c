#include "spec_flags.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#define ENV_FILE_MAX (1u << 20)

/* ---- --env-file ---- */

int spec_env_line(const char *line, char **out, struct errmsg *err)
{
	*out = NULL;
	while (isspace((unsigned char)*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	size_t klen = strcspn(line, "=");
	if (klen == 0)
		return errmsg_set(err, -EINVAL, "no variable name before '=' in \"%s\"", line);
	for (size_t i = 0; i < klen; i++)
		if (isspace((unsigned char)line[i]))
			return errmsg_set(err, -EINVAL, "variable '%.*s' contains whitespace",
					  (int)klen, line);
	if (!(*out = strdup(line)))
		return errmsg_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int push_val(char ***vals, size_t *n, char *v)
{
	char **nv = realloc(*vals, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = v;
	nv[*n] = NULL;
	*vals = nv;
	return 0;
}

int spec_env_file(const char *path, char ***vals, size_t *n, struct errmsg *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errmsg_set(err, -errno, "--env-file %s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t len;
	int rc = 0;
	for (unsigned no = 1; !rc && (len = getline(&line, &cap, f)) >= 0; no++) {
		total += (size_t)len;
		if (total > ENV_FILE_MAX) {
			rc = errmsg_set(err, -EFBIG, "--env-file %s: larger than %u bytes", path,
					ENV_FILE_MAX);
			break;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (memchr(line, '\0', (size_t)len)) {
			rc = errmsg_set(err, -EINVAL, "--env-file %s, line %u: a NUL byte", path,
					no);
			break;
		}
		char *v;
		struct errmsg lerr;
		rc = spec_env_line(line, &v, &lerr);
		if (rc)
			errmsg_set(err, rc, "--env-file %s, line %u: %s", path, no, lerr.text);
		else if (v && push_val(vals, n, v)) {
			free(v);
			rc = errmsg_set(err, -ENOMEM, "out of memory");
		}
	}
	if (!rc && ferror(f))
		rc = errmsg_set(err, -EIO, "--env-file %s: read error", path);
	free(line);
	fclose(f);
	return rc;
}

/* ---- --ulimit ---- */

static const struct {
	const char *name;
	int res;
} ulimits[] = {
    {"as", RLIMIT_AS},		 {"core", RLIMIT_CORE},		{"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},	 {"fsize", RLIMIT_FSIZE},	{"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},	 {"nproc", RLIMIT_NPROC},	{"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},	 {"rttime", RLIMIT_RTTIME},	{"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

/* a decimal number, or -1 for unlimited */
static int limit_value(const char *s, size_t n, uint64_t *out)
{
	if (n == 2 && !strncmp(s, "-1", 2)) {
		*out = UINT64_MAX;
		return 0;
	}
	uint64_t v = 0;
	if (n == 0 || n > 19)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* RLIMIT_* of docker's name (the first n bytes of name), or -1 */
static int ulimit_res(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(ulimits) / sizeof(ulimits[0]); i++)
		if (strlen(ulimits[i].name) == n && !strncmp(name, ulimits[i].name, n))
			return ulimits[i].res;
	return -1;
}

int spec_ulimit(const char *val, struct hcp_ulimit *out, struct errmsg *err)
{
	const char *eq = strchr(val, '=');
	int res = eq ? ulimit_res(val, (size_t)(eq - val)) : -1;
	if (res < 0)
		return errmsg_set(
		    err, -EINVAL,
		    "--ulimit %s: expected NAME=SOFT[:HARD], NAME one of as, core, "
		    "cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, "
		    "rss, rtprio, rttime, sigpending, stack",
		    val);
	const char *soft = eq + 1, *colon = strchr(soft, ':');
	size_t sl = colon ? (size_t)(colon - soft) : strlen(soft);
	uint64_t s, h;
	if (limit_value(soft, sl, &s) || (colon && limit_value(colon + 1, strlen(colon + 1), &h)))
		return errmsg_set(err, -EINVAL,
				  "--ulimit %s: limits are numbers (-1: unlimited), SOFT[:HARD]",
				  val);
	if (!colon)
		h = s;
	if (s > h)
		return errmsg_set(err, -EINVAL, "--ulimit %s: the soft limit exceeds the hard one",
				  val);
	*out = (struct hcp_ulimit){(uint32_t)res, s, h};
	return 0;
}

int spec_rlimit(const char *type, uint64_t soft, uint64_t hard, struct hcp_ulimit *out,
		struct errmsg *err)
{
	/* "RLIMIT_NOFILE" is --ulimit's "nofile" */
	char name[16];
	size_t n = strncmp(type, "RLIMIT_", 7) ? 0 : strlen(type + 7);
	for (size_t i = 0; i < n && n < sizeof(name); i++)
		name[i] = isupper((unsigned char)type[7 + i]) ? (char)tolower(type[7 + i]) : '\0';
	int res = n && n < sizeof(name) && !memchr(name, '\0', n) ? ulimit_res(name, n) : -1;
	if (res < 0)
		return errmsg_set(err, -EINVAL,
				  "%s: not a resource limit (RLIMIT_ and one of --ulimit's names: "
				  "RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE...)",
				  type);
	if (soft > hard)
		return errmsg_set(err, -EINVAL,
				  "%s: the soft limit %llu exceeds the hard one, %llu", type,
				  (unsigned long long)soft, (unsigned long long)hard);
	*out = (struct hcp_ulimit){(uint32_t)res, soft, hard};
	return 0;
}

/* ---- --mount ---- */

void spec_mount_free(struct spec_mount *m)
{
	free(m->volume);
	free(m->tmpfs_spec);
	memset(m, 0, sizeof(*m));
}

static bool key_is(const char *k, size_t kl, const char *name)
{
	return strlen(name) == kl && !strncmp(k, name, kl);
}

struct mount_fields {
	const char *type, *src, *dst, *size, *mode;
	size_t type_l, src_l, dst_l, size_l, mode_l;
	bool ro;
};

static int mount_field(const char *val, const char *k, size_t n, struct mount_fields *f,
		       struct errmsg *err)
{
	const char *eq = memchr(k, '=', n);
	size_t kl = eq ? (size_t)(eq - k) : n, vl = eq ? n - kl - 1 : 0;
	const char *v = eq ? eq + 1 : NULL;
	if (key_is(k, kl, "readonly") || key_is(k, kl, "ro")) {
		if (!v || (vl == 4 && !strncmp(v, "true", 4)) || (vl == 1 && *v == '1'))
			f->ro = true;
		else if ((vl == 5 && !strncmp(v, "false", 5)) || (vl == 1 && *v == '0'))
			f->ro = false;
		else
			return errmsg_set(err, -EINVAL, "--mount %s: readonly takes true or false",
					  val);
		return 0;
	}
	const char **slot = NULL;
	size_t *len = NULL;
	if (key_is(k, kl, "type"))
		slot = &f->type, len = &f->type_l;
	else if (key_is(k, kl, "source") || key_is(k, kl, "src"))
		slot = &f->src, len = &f->src_l;
	else if (key_is(k, kl, "target") || key_is(k, kl, "destination") || key_is(k, kl, "dst"))
		slot = &f->dst, len = &f->dst_l;
	else if (key_is(k, kl, "tmpfs-size"))
		slot = &f->size, len = &f->size_l;
	else if (key_is(k, kl, "tmpfs-mode"))
		slot = &f->mode, len = &f->mode_l;
	else if (key_is(k, kl, "consistency"))
		return 0; /* docker ignores it on Linux too */
	if (!slot)
		return errmsg_set(err, -EINVAL,
				  "--mount %s: unknown key '%.*s' (known: type, source, target, "
				  "readonly, tmpfs-size, tmpfs-mode)",
				  val, (int)kl, k);
	if (!v || !vl)
		return errmsg_set(err, -EINVAL, "--mount %s: '%.*s' needs a value", val, (int)kl,
				  k);
	*slot = v;
	*len = vl;
	return 0;
}

int spec_mount(const char *val, struct spec_mount *out, struct errmsg *err)
{
	struct mount_fields f = {0};
	memset(out, 0, sizeof(*out));
	for (const char *p = val; *p;) {
		size_t n = strcspn(p, ",");
		int rc = n ? mount_field(val, p, n, &f, err) : 0;
		if (rc)
			return rc;
		p += n + (p[n] == ',');
	}
	bool bind = f.type && f.type_l == 4 && !strncmp(f.type, "bind", 4);
	bool tmpfs = f.type && f.type_l == 5 && !strncmp(f.type, "tmpfs", 5);
	if (!bind && !tmpfs)
		return errmsg_set(err, -EINVAL,
				  "--mount %s: type=bind or type=tmpfs (hull has no named volumes)",
				  val);
	if (!f.dst || memchr(f.dst, ':', f.dst_l))
		return errmsg_set(err, -EINVAL, "--mount %s: needs target=PATH (without ':')", val);
	int n;
	if (bind) {
		if (!f.src || f.size || f.mode)
			return errmsg_set(err, -EINVAL,
					  "--mount %s: a bind mount needs source=HOSTDIR and takes "
					  "no tmpfs- keys",
					  val);
		n = asprintf(&out->volume, "%.*s:%.*s%s", (int)f.src_l, f.src, (int)f.dst_l, f.dst,
			     f.ro ? ":ro" : "");
	} else {
		if (f.src)
			return errmsg_set(err, -EINVAL, "--mount %s: a tmpfs has no source", val);
		out->tmpfs = true;
		char o[160] = "";
		size_t ol = 0;
		if (f.ro)
			ol += (size_t)snprintf(o + ol, sizeof(o) - ol, ",ro");
		if (f.size && ol < sizeof(o))
			ol += (size_t)snprintf(o + ol, sizeof(o) - ol, ",size=%.*s", (int)f.size_l,
					       f.size);
		if (f.mode && ol < sizeof(o))
			ol += (size_t)snprintf(o + ol, sizeof(o) - ol, ",mode=%.*s", (int)f.mode_l,
					       f.mode);
		if (ol >= sizeof(o))
			return errmsg_set(err, -EINVAL, "--mount %s: options too long", val);
		n = asprintf(&out->tmpfs_spec, "%.*s%s%s", (int)f.dst_l, f.dst, ol ? ":" : "",
			     ol ? o + 1 : "");
	}
	if (n < 0) {
		out->volume = out->tmpfs_spec = NULL;
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- --restart ---- */

int spec_restart(const char *val, enum hcp_restart *mode, uint32_t *max, struct errmsg *err)
{
	*max = 0;
	if (!strcmp(val, "no")) {
		*mode = HCP_RESTART_NO;
		return 0;
	}
	/* unless-stopped differs from always only when docker's daemon
	 * restarts; hull has no daemon */
	if (!strcmp(val, "always") || !strcmp(val, "unless-stopped")) {
		*mode = HCP_RESTART_ALWAYS;
		return 0;
	}
	if (!strncmp(val, "on-failure", 10) && (!val[10] || val[10] == ':')) {
		*mode = HCP_RESTART_ON_FAILURE;
		if (!val[10])
			return 0;
		char *end;
		errno = 0;
		unsigned long n = strtoul(val + 11, &end, 10);
		if (isdigit((unsigned char)val[11]) && !*end && !errno && n <= HCP_MAX_RESTARTS) {
			*max = (uint32_t)n;
			return 0;
		}
		return errmsg_set(err, -EINVAL,
				  "--restart %s: the retry count is a number from 0 to %u", val,
				  HCP_MAX_RESTARTS);
	}
	if (strchr(val, ':'))
		return errmsg_set(err, -EINVAL,
				  "--restart %s: only on-failure takes a maximum retry count", val);
	return errmsg_set(err, -EINVAL,
			  "--restart %s: expected no, always, unless-stopped or on-failure[:N]",
			  val);
}

/* ---- --add-host ---- */

static bool hostname_ok(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr("-._", h[i]))
			return false;
	return true;
}

int spec_add_host(const char *val, const char *gateway, char **line, struct errmsg *err)
{
	size_t hl = strcspn(val, ":=");
	if (!val[hl] || !hostname_ok(val, hl))
		return errmsg_set(err, -EINVAL,
				  "--add-host %s: expected NAME:IP (NAME of letters, digits, '-', "
				  "'.', '_')",
				  val);
	const char *ip = val + hl + 1;
	if (!strcmp(ip, "host-gateway")) {
		if (!gateway)
			return errmsg_set(err, -EINVAL,
					  "--add-host %s: host-gateway needs --network slirp", val);
		ip = gateway;
	}
	struct in6_addr a;
	if (inet_pton(AF_INET, ip, &a) != 1 && inet_pton(AF_INET6, ip, &a) != 1)
		return errmsg_set(err, -EINVAL,
				  "--add-host %s: \"%s\" is not an IPv4 or IPv6 address", val, ip);
	if (asprintf(line, "%s %.*s", ip, (int)hl, val) < 0) {
		*line = NULL;
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- capabilities ---- */

static const char *const cap_names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};
#define N_CAPS (sizeof(cap_names) / sizeof(cap_names[0]))
#define ALL_CAPS ((1ull << N_CAPS) - 1)

uint64_t spec_default_caps(void)
{
	/* docker's (moby's oci/caps/defaults.go) */
	static const int def[] = {0, 1, 4, 3, 27, 13, 6, 7, 31, 8, 10, 18, 5, 29};
	uint64_t m = 0;
	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
		m |= 1ull << def[i];
	return m;
}

/* a name -> its bit mask (ALL: every one); 0 when unknown */
static uint64_t cap_bit(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	if (!strcasecmp(name, "ALL"))
		return ALL_CAPS;
	for (size_t i = 0; i < N_CAPS; i++)
		if (!strcasecmp(name, cap_names[i]))
			return 1ull << i;
	return 0;
}

int spec_caps(bool privileged, char *const *add, size_t n_add, char *const *drop, size_t n_drop,
	      uint64_t *caps, struct errmsg *err)
{
	uint64_t m = privileged ? ALL_CAPS : spec_default_caps();
	for (size_t i = 0; i < n_add + n_drop; i++) {
		const char *name = i < n_add ? add[i] : drop[i - n_add];
		uint64_t b = cap_bit(name);
		if (!b)
			return errmsg_set(err, -EINVAL,
					  "--cap-%s %s: unknown capability (names as in "
					  "capabilities(7), with or without CAP_, or ALL)",
					  i < n_add ? "add" : "drop", name);
		if (i < n_add)
			m |= b;
		else
			m &= ~b;
	}
	*caps = m;
	return 0;
}

int spec_security_opt(const char *val, bool *no_new_privs, struct errmsg *err)
{
	if (!strncmp(val, "no-new-privileges", 17)) {
		const char *v = val + 17;
		if (!*v || !strcmp(v, ":true") || !strcmp(v, "=true")) {
			*no_new_privs = true;
			return 0;
		}
		if (!strcmp(v, ":false") || !strcmp(v, "=false")) {
			*no_new_privs = false;
			return 0;
		}
	}
	if (!strcmp(val, "seccomp=unconfined") || !strcmp(val, "seccomp:unconfined") ||
	    !strcmp(val, "apparmor=unconfined") || !strcmp(val, "apparmor:unconfined") ||
	    !strcmp(val, "label=disable") || !strcmp(val, "label:disable"))
		return 0;
	if (!strncmp(val, "seccomp", 7))
		return errmsg_set(err, -ENOTSUP,
				  "--security-opt %s: hull loads no seccomp profile in the guest "
				  "(the VM is the boundary); only seccomp=unconfined is accepted",
				  val);
	return errmsg_set(err, -EINVAL,
			  "--security-opt %s: expected no-new-privileges[:true|false], "
			  "seccomp=unconfined, apparmor=unconfined or label=disable (the guest has "
			  "no LSM)",
			  val);
}

/* ---- --platform, --cpus ---- */

int spec_platform(const char *val, struct errmsg *err)
{
	static const char *const ok[] = {"linux/amd64", "linux/x86_64",	  "amd64",
					 "x86_64",	"linux/amd64/v1", "linux/amd64/v2"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcasecmp(val, ok[i]))
			return 0;
	return errmsg_set(err, -ENOTSUP,
			  "--platform %s: hull runs linux/amd64 images only (the guest is an "
			  "x86-64 VM on this host; there is no emulation)",
			  val);
}

int spec_cpus(const char *val, unsigned max, unsigned *vcpus, uint32_t *quota_milli,
	      struct errmsg *err)
{
	size_t d = strspn(val, "0123456789");
	const char *frac = val[d] == '.' ? val + d + 1 : NULL;
	size_t fd = frac ? strspn(frac, "0123456789") : 0;
	if (d == 0 || d > 6 || (val[d] && !frac) || (frac && fd != strlen(frac)) || (frac && !fd))
		return errmsg_set(err, -EINVAL, "--cpus %s: expected a number, e.g. 2 or 1.5", val);
	if (fd > 3 && strspn(frac + 3, "0") != fd - 3)
		return errmsg_set(err, -EINVAL, "--cpus %s: at most three decimals (1/1000 CPU)",
				  val);
	unsigned long n = strtoul(val, NULL, 10);
	unsigned long milli = n * 1000;
	for (size_t i = 0, scale = 100; frac && i < 3 && i < fd; i++, scale /= 10)
		milli += (unsigned long)(frac[i] - '0') * scale;
	if (milli == 0 || milli > (unsigned long)max * 1000)
		return errmsg_set(err, -EINVAL, "--cpus %s: expected a number above 0, at most %u",
				  val, max);
	/* a fraction: as many vCPUs as it rounds up to, held to the quota */
	*vcpus = (unsigned)((milli + 999) / 1000);
	*quota_milli = milli % 1000 ? (uint32_t)milli : 0;
	return 0;
}
