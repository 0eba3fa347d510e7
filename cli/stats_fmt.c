/* stats_fmt: docker's stats cells from two samples (stats_fmt.h). */
#include "cli/stats_fmt.h"

#include <stdio.h>
#include <string.h>

#include "common/size.h"

void stats_sample_ctr(const struct ctrstats *s, uint64_t at_ns, struct stats_sample *out)
{
	*out = (struct stats_sample){.ok = true, .at_ns = at_ns};
	if (s->has_cgroup) {
		out->cgroup = true;
		out->cpu_ns = s->cpu_ns;
		/* docker: usage less the inactive file cache */
		out->mem_usage = s->mem_usage > s->mem_cache ? s->mem_usage - s->mem_cache : 0;
		out->mem_limit = s->mem_limit;
		out->pids = s->pids;
	}
	out->io = s->has_counters;
	out->c = s->io;
}

void stats_sample_proc(const struct vmstats *p, struct stats_sample *out)
{
	out->ok = true;
	out->cgroup = false;
	out->at_ns = p->at_ns;
	out->cpu_ns = p->cpu_ns;
	out->mem_usage = p->rss_bytes;
	out->mem_limit = 0;
	out->pids = p->threads;
}

/* b - a, or b alone when the counter went backwards (another VM). */
static uint64_t delta(uint64_t a, uint64_t b)
{
	return b >= a ? b - a : b;
}

static void pair(char *out, size_t n, uint64_t x, uint64_t y)
{
	char l[24], r[24];
	size_human_tight(x, l, sizeof(l));
	size_human_tight(y, r, sizeof(r));
	snprintf(out, n, "%s / %s", l, r);
}

void stats_cells(const struct stats_sample *a, const struct stats_sample *b, uint64_t host_mem,
		 struct stats_cells *out)
{
	if (!b->ok) {
		/* docker's row for a container that does not run */
		snprintf(out->cpu, sizeof(out->cpu), "0.00%%");
		snprintf(out->mem_usage, sizeof(out->mem_usage), "0B / 0B");
		snprintf(out->mem_perc, sizeof(out->mem_perc), "0.00%%");
		snprintf(out->net, sizeof(out->net), "0B / 0B");
		snprintf(out->block, sizeof(out->block), "0B / 0B");
		snprintf(out->pids, sizeof(out->pids), "0");
		return;
	}
	snprintf(out->cpu, sizeof(out->cpu), "--");
	if (a->ok && a->cgroup == b->cgroup && b->at_ns > a->at_ns) {
		double pct =
		    (double)delta(a->cpu_ns, b->cpu_ns) * 100.0 / (double)(b->at_ns - a->at_ns);
		snprintf(out->cpu, sizeof(out->cpu), "%.2f%%", pct);
	}
	uint64_t limit = b->mem_limit && b->mem_limit != UINT64_MAX ? b->mem_limit : host_mem;
	char u[24], l[24];
	size_human_binary(b->mem_usage, u, sizeof(u));
	size_human_binary(limit, l, sizeof(l));
	snprintf(out->mem_usage, sizeof(out->mem_usage), "%s / %s", u, l);
	snprintf(out->mem_perc, sizeof(out->mem_perc), "%.2f%%",
		 limit ? (double)b->mem_usage * 100.0 / (double)limit : 0.0);
	snprintf(out->pids, sizeof(out->pids), "%llu", (unsigned long long)b->pids);
	if (b->io) {
		pair(out->net, sizeof(out->net), b->c.net_rx_bytes, b->c.net_tx_bytes);
		pair(out->block, sizeof(out->block), b->c.blk_read_bytes, b->c.blk_write_bytes);
	} else {
		snprintf(out->net, sizeof(out->net), "--");
		snprintf(out->block, sizeof(out->block), "--");
	}
}
