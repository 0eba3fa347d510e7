#include "stats_cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/opts.h"
#include "common/size.h"
#include "runtime/runtime.h"
#include "runtime/vmstats.h"

enum { O_NO_STREAM = 256, O_ALL };

static const struct opt stats_opts[] = {
    {O_NO_STREAM, 0, "no-stream", NULL, "print one sample and end (default: refresh every second)"},
    {'a', 'a', "all", NULL, "show every container (default: running ones)"},
    {0},
};

static const struct cmd_opts stats_cmd = {
    .name = "stats",
    .synopsis = "[OPTIONS] [NAME|ID...]",
    .about = "Show what containers cost the host, measured on each one's VM monitor (hull-vmm)\n"
	     "from /proc: CPU % (of one host CPU, over the last second; the vCPUs included),\n"
	     "MEM USAGE (resident memory: the guest RAM touched so far plus the monitor's\n"
	     "own), BLOCK I/O (the monitor's reads/writes: image, volumes, templates). NET I/O\n"
	     "is not measured yet (the monitor exposes no counters): it shows --.\n",
    .opts = stats_opts,
    .min_args = 0,
    .max_args = -1,
};

struct row {
	char id[RUNTIME_SHORT_LEN + 1];
	char name[RUNTIME_NAME_MAX + 1];
	pid_t vmm; /* 0: not running */
	struct vmstats a, b;
	bool have_a, have_b;
};

struct rows {
	struct row *r;
	size_t n;
	bool all;
};

static int add(struct rows *rs, const struct runtime_state *s)
{
	struct row *r = realloc(rs->r, (rs->n + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	rs->r = r;
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%.12s", s->id);
	snprintf(r->name, sizeof(r->name), "%s", s->name);
	if (runtime_status_eff(s, NULL) == RUNTIME_RUNNING && vmstats_find(s->monitor_pid, &r->vmm))
		r->vmm = 0;
	return 0;
}

static int collect(void *ctx, struct runtime_state *s)
{
	struct rows *rs = ctx;
	if (!rs->all && runtime_status_eff(s, NULL) != RUNTIME_RUNNING)
		return 0;
	return add(rs, s);
}

/* The containers to show now: those named, or every (running) one. */
static int gather(struct rows *rs, char **names, int n)
{
	rs->n = 0;
	struct errmsg err;
	if (!n) {
		if (rt_list(collect, rs, &err)) {
			fprintf(stderr, "hull: stats: %s\n", err.text);
			return -1;
		}
		return 0;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct runtime_state s;
		if (rt_inspect(names[i], &s, &err)) {
			fprintf(stderr, "hull: %s\n", err.text);
			rc = -1;
			continue;
		}
		if (add(rs, &s))
			rc = -1;
		runtime_state_free(&s);
	}
	return rc;
}

static void sample_all(struct rows *rs, bool second)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct row *r = &rs->r[i];
		if (!r->vmm)
			continue;
		bool ok = !vmstats_sample(r->vmm, second ? &r->b : &r->a);
		if (second)
			r->have_b = ok;
		else
			r->have_a = ok;
	}
}

static void print(const struct rows *rs)
{
	printf("%-14s %-24s %-8s %-12s %-8s %s\n", "CONTAINER ID", "NAME", "CPU %", "MEM USAGE",
	       "NET I/O", "BLOCK I/O");
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->r[i];
		char cpu[16] = "--", mem[32] = "--", io[80] = "--", rd[32], wr[32];
		if (r->have_a && r->have_b) {
			snprintf(cpu, sizeof(cpu), "%.2f%%", vmstats_cpu_percent(&r->a, &r->b));
			size_human_binary(r->b.rss_bytes, mem, sizeof(mem));
			size_human(r->b.read_bytes, rd, sizeof(rd));
			size_human(r->b.write_bytes, wr, sizeof(wr));
			snprintf(io, sizeof(io), "%s / %s", rd, wr);
		}
		printf("%-14s %-24s %-8s %-12s %-8s %s\n", r->id, r->name, cpu, mem, "--", io);
	}
	fflush(stdout);
}

struct stats_opts {
	bool no_stream, all;
};

static int stats_set(void *ctx, int id, const char *v)
{
	(void)v;
	struct stats_opts *o = ctx;
	if (id == O_NO_STREAM)
		o->no_stream = true;
	else
		o->all = true;
	return 0;
}

int stats_main(int argc, char **argv)
{
	struct stats_opts o = {0};
	int first, rc = opts_parse(&stats_cmd, argc, argv, stats_set, &o, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	struct rows rs = {.all = o.all};
	bool tty = isatty(STDOUT_FILENO);
	int status = 0;
	for (;;) {
		if (gather(&rs, argv + first, argc - first))
			status = 1;
		if (status && !o.no_stream)
			break; /* docker: an unknown name ends the stream at once */
		sample_all(&rs, false);
		struct timespec one = {1, 0};
		nanosleep(&one, NULL);
		sample_all(&rs, true);
		if (tty && !o.no_stream)
			fputs("\033[2J\033[H", stdout); /* docker redraws the screen */
		print(&rs);
		if (o.no_stream)
			break;
	}
	free(rs.r);
	return status;
}
