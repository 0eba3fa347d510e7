/* ctrstats: the supervisor's stats line, written and strictly read. */
#include "runtime/ctrstats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NKEYS 17

static const char *const keys[NKEYS] = {"vmm",	"cg",  "mem", "memlim", "memcache", "cpu",
					"pids", "io",  "rxb", "rxp",	"txb",	    "txp",
					"rdb",	"rdn", "wrb", "wrn",	NULL};

/* The values in keys' order (the last slot unused). */
/* A decimal u64 at *pp (advanced past it): 0, or the problem. */
static const char *number(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	if (*p < '0' || *p > '9')
		return "not a decimal number";
	uint64_t x = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(*p - '0'), &x))
			return "out of range";
	*pp = p;
	*out = x;
	return NULL;
}

/* The optional " kvm.NAME=N" pairs after wrn: known names, each after the
 * one before it in vmmapi_kstat_name()'s order (so at most once each). */
static int parse_kvm(const char *p, struct vmmapi_counters *c, struct errmsg *err)
{
	unsigned next = 0;
	while (!strncmp(p, " kvm.", 5)) {
		p += 5;
		size_t nl = strcspn(p, "= ");
		unsigned i = next;
		while (i < VMMAPI_KSTATS &&
		       (strlen(vmmapi_kstat_name(i)) != nl || strncmp(vmmapi_kstat_name(i), p, nl)))
			i++;
		if (i == VMMAPI_KSTATS || p[nl] != '=')
			return errmsg_set(err, -EBADMSG,
					  "stats: kvm.%.*s: unknown, doubled or out of order",
					  (int)(nl > 48 ? 48 : nl), p);
		p += nl + 1;
		const char *bad = number(&p, &c->kvm[i]);
		if (bad)
			return errmsg_set(err, -EBADMSG, "stats: kvm.%s: %s", vmmapi_kstat_name(i),
					  bad);
		c->kvm_present |= 1ull << i;
		next = i + 1;
	}
	if (*p)
		return errmsg_set(err, -EBADMSG, "stats: trailing text after %s",
				  next ? "the KVM stats" : "wrn");
	return 0;
}

static void to_values(const struct ctrstats *s, uint64_t v[NKEYS])
{
	const struct vmmapi_counters *c = &s->io;
	uint64_t x[NKEYS] = {(uint64_t)(s->vmm > 0 ? s->vmm : 0),
			     s->has_cgroup,
			     s->mem_usage,
			     s->mem_limit,
			     s->mem_cache,
			     s->cpu_ns,
			     s->pids,
			     s->has_counters,
			     c->net_rx_bytes,
			     c->net_rx_frames,
			     c->net_tx_bytes,
			     c->net_tx_frames,
			     c->blk_read_bytes,
			     c->blk_reads,
			     c->blk_write_bytes,
			     c->blk_writes,
			     0};
	memcpy(v, x, sizeof(x));
}

int ctrstats_format(const struct ctrstats *s, char *buf, size_t cap)
{
	uint64_t v[NKEYS];
	to_values(s, v);
	int w = snprintf(buf, cap, "stats1");
	size_t n = w < 0 ? cap : (size_t)w;
	for (int i = 0; keys[i] && n < cap; i++) {
		w = snprintf(buf + n, cap - n, " %s=%" PRIu64, keys[i], v[i]);
		n = w < 0 ? cap : n + (size_t)w;
	}
	for (unsigned i = 0; i < VMMAPI_KSTATS && n < cap; i++) {
		if (!s->has_counters || !(s->io.kvm_present >> i & 1))
			continue;
		w = snprintf(buf + n, cap - n, " kvm.%s=%" PRIu64, vmmapi_kstat_name(i),
			     s->io.kvm[i]);
		n = w < 0 ? cap : n + (size_t)w;
	}
	return n < cap ? 0 : -ENOSPC;
}

int ctrstats_parse(const char *line, struct ctrstats *out, struct errmsg *err)
{
	*out = (struct ctrstats){0};
	if (strncmp(line, "stats1", 6))
		return errmsg_set(err, -EBADMSG, "stats: not a stats1 line");
	const char *p = line + 6;
	uint64_t v[NKEYS] = {0};
	for (int i = 0; keys[i]; i++) {
		size_t kl = strlen(keys[i]);
		if (p[0] != ' ' || strncmp(p + 1, keys[i], kl) || p[1 + kl] != '=')
			return errmsg_set(err, -EBADMSG, "stats: %s: missing or out of order",
					  keys[i]);
		p += 2 + kl;
		const char *bad = number(&p, &v[i]);
		if (bad)
			return errmsg_set(err, -EBADMSG, "stats: %s: %s", keys[i], bad);
	}
	struct vmmapi_counters kvm = {0};
	int rc = parse_kvm(p, &kvm, err);
	if (rc)
		return rc;
	if (v[0] > INT32_MAX)
		return errmsg_set(err, -EBADMSG, "stats: vmm: not a pid");
	if (v[1] > 1 || v[7] > 1)
		return errmsg_set(err, -EBADMSG, "stats: %s: not 0 or 1", v[1] > 1 ? "cg" : "io");
	out->vmm = (pid_t)v[0];
	out->has_cgroup = v[1];
	out->mem_usage = v[2];
	out->mem_limit = v[3];
	out->mem_cache = v[4];
	out->cpu_ns = v[5];
	out->pids = v[6];
	out->has_counters = v[7];
	out->io = (struct vmmapi_counters){.net_rx_bytes = v[8],
					   .net_rx_frames = v[9],
					   .net_tx_bytes = v[10],
					   .net_tx_frames = v[11],
					   .blk_read_bytes = v[12],
					   .blk_reads = v[13],
					   .blk_write_bytes = v[14],
					   .blk_writes = v[15]};
	if (kvm.kvm_present && !out->has_counters)
		return errmsg_set(err, -EBADMSG, "stats: KVM stats with io=0");
	out->io.kvm_present = kvm.kvm_present;
	memcpy(out->io.kvm, kvm.kvm, sizeof(kvm.kvm));
	return 0;
}
