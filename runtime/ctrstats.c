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
		if (*p < '0' || *p > '9')
			return errmsg_set(err, -EBADMSG, "stats: %s: not a decimal number",
					  keys[i]);
		uint64_t x = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			if (__builtin_mul_overflow(x, 10, &x) ||
			    __builtin_add_overflow(x, (uint64_t)(*p - '0'), &x))
				return errmsg_set(err, -EBADMSG, "stats: %s: out of range",
						  keys[i]);
		v[i] = x;
	}
	if (*p)
		return errmsg_set(err, -EBADMSG, "stats: trailing text after wrn");
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
	return 0;
}
