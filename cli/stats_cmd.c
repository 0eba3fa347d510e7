#include "stats_cmd.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/format.h"
#include "cli/opts.h"
#include "cli/stats_fmt.h"
#include "common/clock.h"
#include "runtime/ctrstats.h"
#include "runtime/runtime.h"
#include "runtime/vmstats.h"

enum { O_NO_STREAM = 256, O_FORMAT, O_NO_TRUNC };

static const struct opt stats_opts[] = {
    {'a', 'a', "all", NULL, "show every container (default: running ones)"},
    {O_FORMAT, 0, "format", "STRING",
     "format the output: table (the default), table TEMPLATE, json (one\n"
     "object per line and sample) or a Go template: {{.ID}}, {{.Name}},\n"
     "{{.Container}}, {{.CPUPerc}}, {{.MemUsage}}, {{.MemPerc}}, {{.NetIO}},\n"
     "{{.BlockIO}}, {{.PIDs}}, {{json .}}; hull's own {{.KVM}} (below)"},
    {O_NO_STREAM, 0, "no-stream", NULL, "print one sample and end (default: refresh every second)"},
    {O_NO_TRUNC, 0, "no-trunc", NULL, "show whole container IDs"},
    {0},
};

static const struct cmd_opts stats_cmd = {
    .name = "stats",
    .synopsis = "[OPTIONS] [NAME|ID...]",
    .about = "Show what containers' VMs cost and move, as docker stats does: a new table every\n"
	     "second until Ctrl-C or the containers shown have ended (--no-stream: once).\n"
	     "As root each VM's helpers (hull-vmm and hull-slirp) run in a cgroup of their\n"
	     "own: CPU % (of one host CPU, over the last second; the vCPUs included), MEM\n"
	     "USAGE / LIMIT (the cgroup's memory less its inactive page cache, over its\n"
	     "limit: the VM's memory plus the helpers' overhead), MEM % and PIDS (the\n"
	     "cgroup's tasks) come from that cgroup. Without one (hull as an ordinary user)\n"
	     "they come from /proc of hull-vmm: its CPU time, its resident memory over the\n"
	     "host's memory, its threads. NET I/O is what the guest's network device\n"
	     "received / sent and BLOCK I/O what the guest read / wrote on its disks,\n"
	     "counted by hull-vmm's virtio devices (not the host's view of the monitor's\n"
	     "files, which also counts template and image reads), from the VM's start or\n"
	     "its restore. The guest's only disk, the image, is read-only (the container's\n"
	     "writes stay in the VM's memory; volumes are 9p): the written side stays 0B.\n"
	     "KVM (json and templates only, not a table column): KVM's own statistics of\n"
	     "the VM (KVM_GET_STATS_FD), raw counts since the VM's start or restore, by\n"
	     "KVM's names: exits, io_exits, mmio_exits, halt_exits, irq_exits,\n"
	     "signal_exits, irq_window_exits, request_irq_exits, insn_emulation,\n"
	     "insn_emulation_fail, pf_taken, pf_guest, pf_fixed, pf_emulate,\n"
	     "irq_injections, hypercalls, tlb_flush, halt_wait_ns (vCPU stats, summed\n"
	     "over the vCPUs), pages_4k, pages_2m (the VM's); a stat this host's KVM\n"
	     "lacks is absent. E.g. --no-stream --format '{{json .KVM}}'.\n",
    .opts = stats_opts,
    .min_args = 0,
    .max_args = -1,
};

struct row {
	char id[RUNTIME_ID_LEN + 1];
	char name[RUNTIME_NAME_MAX + 1];
	const char *arg; /* the name given, or NULL */
	struct stats_sample s;
};

struct rows {
	struct row *r;
	size_t n;
	bool all;
};

/* One sample of s: its supervisor's figures, /proc where it has no
 * cgroup (or does not answer: a supervisor of an older hull). */
static void sample(const struct runtime_state *s, struct stats_sample *out)
{
	*out = (struct stats_sample){0};
	if (runtime_status_eff(s, NULL) != RUNTIME_RUNNING)
		return;
	struct ctrstats cs;
	pid_t vmm = 0;
	if (!rt_stats(s, &cs, NULL)) {
		stats_sample_ctr(&cs, clock_now_ns(), out);
		if (out->cgroup)
			return;
		vmm = cs.vmm;
	} else if (vmstats_find(s->monitor_pid, &vmm)) {
		return;
	}
	struct vmstats p;
	if (vmm > 0 && !vmstats_sample(vmm, &p))
		stats_sample_proc(&p, out);
	else
		out->ok = false;
}

static int add(struct rows *rs, const struct runtime_state *s, const char *arg)
{
	struct row *r = realloc(rs->r, (rs->n + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	rs->r = r;
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", s->id);
	snprintf(r->name, sizeof(r->name), "%s", s->name);
	r->arg = arg;
	sample(s, &r->s);
	return 0;
}

static int collect(void *ctx, struct runtime_state *s)
{
	struct rows *rs = ctx;
	if (!rs->all && runtime_status_eff(s, NULL) != RUNTIME_RUNNING)
		return 0;
	return add(rs, s, NULL);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

/* The containers to show now, sampled: those named, or every (running)
 * one. A name not found: reported (first: an error) or, later in a stream
 * (removed meanwhile), shown as not running. */
static int gather(struct rows *rs, char **names, int n, bool first)
{
	rs->n = 0;
	struct errmsg err;
	if (!n) {
		if (rt_list(collect, rs, &err)) {
			fprintf(stderr, "hull stats: %s\n", err.text);
			return -1;
		}
		qsort(rs->r, rs->n, sizeof(*rs->r), by_name);
		return 0;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct runtime_state s;
		if (rt_inspect(names[i], &s, &err)) {
			if (first) {
				fprintf(stderr, "hull stats: %s\n", err.text);
				rc = -1;
				continue;
			}
			memset(&s, 0, sizeof(s));
			snprintf(s.name, sizeof(s.name), "%s", names[i]);
			s.status = RUNTIME_EXITED;
			if (add(rs, &s, names[i]))
				rc = -1;
			continue;
		}
		if (add(rs, &s, names[i]))
			rc = -1;
		runtime_state_free(&s);
	}
	return rc;
}

static const struct stats_sample *previous(const struct rows *prev, const char *id)
{
	for (size_t i = 0; i < prev->n; i++)
		if (!strcmp(prev->r[i].id, id))
			return &prev->r[i].s;
	return NULL;
}

/* {"exits": N, "insn_emulation": N, ...}: the stats the monitor knew. */
static json_object *kvm_object(const struct stats_sample *s)
{
	json_object *k = json_object_new_object();
	for (unsigned i = 0; k && s->ok && s->io && i < VMMAPI_KSTATS; i++) {
		if (!(s->c.kvm_present >> i & 1))
			continue;
		json_object *v = json_object_new_uint64(s->c.kvm[i]);
		if (!v || json_object_object_add(k, vmmapi_kstat_name(i), v)) {
			json_object_put(v);
			json_object_put(k);
			return NULL;
		}
	}
	return k;
}

static json_object *item(const struct row *r, const struct stats_sample *before, bool trunc,
			 uint64_t host_mem)
{
	static const struct stats_sample none = {0};
	struct stats_cells c;
	stats_cells(before ? before : &none, &r->s, host_mem, &c);
	char id[RUNTIME_ID_LEN + 1];
	snprintf(id, sizeof(id), "%.*s", trunc ? RUNTIME_SHORT_LEN : RUNTIME_ID_LEN, r->id);
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	const char *kv[][2] = {
	    {"BlockIO", c.block}, {"CPUPerc", c.cpu},	   {"Container", r->arg ? r->arg : id},
	    {"ID", id},		  {"MemPerc", c.mem_perc}, {"MemUsage", c.mem_usage},
	    {"Name", r->name},	  {"NetIO", c.net},	   {"PIDs", c.pids}};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		json_object *v = json_object_new_string(kv[i][1]);
		if (!v || json_object_object_add(o, kv[i][0], v)) {
			json_object_put(v);
			json_object_put(o);
			return NULL;
		}
	}
	/* hull's own: KVM's counts for the VM, raw and cumulative (a bench
	 * subtracts two samples); {} when the monitor did not say */
	json_object *k = kvm_object(&r->s);
	if (!k || json_object_object_add(o, "KVM", k)) {
		json_object_put(k);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const struct format_header stats_heads[] = {
    {"ID", "CONTAINER ID"},
    {"Name", "NAME"},
    {"Container", "CONTAINER"},
    {"CPUPerc", "CPU %"},
    {"MemUsage", "MEM USAGE / LIMIT"},
    {"MemPerc", "MEM %"},
    {"NetIO", "NET I/O"},
    {"BlockIO", "BLOCK I/O"},
    {"PIDs", "PIDS"},
    {0},
};

#define STATS_TABLE                                                                                \
	"table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}"     \
	"\\t{{.BlockIO}}\\t{{.PIDs}}"

struct stats_opts {
	bool no_stream, all, no_trunc;
	const char *format;
};

static int stats_set(void *ctx, int id, const char *v)
{
	struct stats_opts *o = ctx;
	if (id == O_NO_STREAM)
		o->no_stream = true;
	else if (id == O_NO_TRUNC)
		o->no_trunc = true;
	else if (id == O_FORMAT)
		o->format = v;
	else
		o->all = true;
	return 0;
}

/* One table (or one line per container) of cur against prev. */
static int show(const struct stats_opts *o, const struct rows *prev, const struct rows *cur,
		bool clear, uint64_t host_mem)
{
	struct format *fmt;
	struct errmsg err;
	if (format_new(o->format, STATS_TABLE, stats_heads, &fmt, &err)) {
		fprintf(stderr, "hull stats: --format: %s\n", err.text);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; !rc && i < cur->n; i++) {
		json_object *obj =
		    item(&cur->r[i], previous(prev, cur->r[i].id), !o->no_trunc, host_mem);
		rc = obj ? format_add(fmt, obj, &err) : -ENOMEM;
		json_object_put(obj);
		if (rc)
			fprintf(stderr, "hull stats: --format: %s\n",
				rc == -ENOMEM ? "out of memory" : err.text);
	}
	if (!rc) {
		if (clear)
			fputs("\033[2J\033[H", stdout); /* docker redraws the screen */
		rc = format_flush(fmt, stdout);
		fflush(stdout);
	}
	format_free(fmt);
	return rc ? -1 : 0;
}

static bool any_running(const struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].s.ok)
			return true;
	return false;
}

static void one_second(void)
{
	struct timespec one = {1, 0};
	while (nanosleep(&one, &one) && errno == EINTR)
		;
}

int stats_main(int argc, char **argv)
{
	struct stats_opts o = {0};
	int first, rc = opts_parse(&stats_cmd, argc, argv, stats_set, &o, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	/* a template error is the user's: said before anything is sampled */
	struct format *check;
	struct errmsg err;
	if (format_new(o.format, STATS_TABLE, stats_heads, &check, &err)) {
		fprintf(stderr, "hull stats: --format: %s\n", err.text);
		return 2;
	}
	bool clear = isatty(STDOUT_FILENO) && !o.no_stream && !format_is_json(check);
	format_free(check);
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t host_mem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
	char **names = argv + first;
	int n = argc - first;
	struct rows prev = {.all = o.all}, cur = {.all = o.all};
	int status = 0;
	bool seen_running = false;
	if (gather(&prev, names, n, true)) {
		status = 1; /* docker: an unknown name ends it at once */
		goto out;
	}
	for (;;) {
		one_second(); /* CPU % is the use over this second */
		if (gather(&cur, names, n, false)) {
			status = 1;
			break;
		}
		if (show(&o, &prev, &cur, clear, host_mem)) {
			status = 1;
			break;
		}
		bool running = any_running(&cur);
		seen_running |= running;
		/* the stream ends with the containers it showed */
		if (o.no_stream || (!running && (n > 0 || seen_running)))
			break;
		struct rows t = prev;
		prev = cur;
		cur = t;
	}
out:
	free(prev.r);
	free(cur.r);
	return status;
}
