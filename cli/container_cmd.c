#include "container_cmd.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/format.h"
#include "cli/opts.h"
#include "cli/psfilter.h"
#include "common/size.h"
#include "common/timeparse.h"
#include "runtime/ctrlog.h"
#include "runtime/runtime.h"
#include "runtime/supervisor.h"
#include "runtime/stop.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* go-units HumanDuration, which docker ps uses */
void container_human_duration(int64_t ns, char *out, size_t n)
{
	int64_t s = ns / 1000000000, m = s / 60, h = (ns + 1800000000000LL) / 3600000000000LL;
	if (s < 1)
		snprintf(out, n, "Less than a second");
	else if (s == 1)
		snprintf(out, n, "1 second");
	else if (s < 60)
		snprintf(out, n, "%lld seconds", (long long)s);
	else if (m == 1)
		snprintf(out, n, "About a minute");
	else if (m < 60)
		snprintf(out, n, "%lld minutes", (long long)m);
	else if (h == 1)
		snprintf(out, n, "About an hour");
	else if (h < 48)
		snprintf(out, n, "%lld hours", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(out, n, "%lld days", (long long)(h / 24));
	else if (h < 24 * 30 * 2)
		snprintf(out, n, "%lld weeks", (long long)(h / 24 / 7));
	else if (h < 24 * 365 * 2)
		snprintf(out, n, "%lld months", (long long)(h / 24 / 30));
	else
		snprintf(out, n, "%lld years", (long long)(h / 24 / 365));
}

/* Where the state lives, or NULL after saying why. */
static char *root_or_report(void)
{
	char *root;
	struct errmsg err;
	if (runtime_root(&root, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		return NULL;
	}
	return root;
}

/* Run fn on each container named in argv[optind..]; the exit status is 1
 * when any failed. */
static int each(int argc, char **argv, int first,
		int (*fn)(const char *root, const char *ref, void *ctx), void *ctx)
{
	char *root = root_or_report();
	if (!root)
		return 1;
	int status = 0;
	for (int i = first; i < argc; i++)
		if (fn(root, argv[i], ctx))
			status = 1;
	free(root);
	return status;
}

/* One container's operation of each_parallel(), on a thread of its own. */
struct par_job {
	const char *ref;
	int (*op)(const char *ref, void *ctx, struct errmsg *err);
	void *ctx;
	int rc;
	struct errmsg err;
	pthread_t tid;
	bool started;
};

static void *par_run(void *arg)
{
	struct par_job *j = arg;
	j->rc = j->op(j->ref, j->ctx, &j->err);
	return NULL;
}

/* Wait for job j, then print its name or its error, as each() does. */
static int par_finish(struct par_job *j)
{
	if (j->started)
		pthread_join(j->tid, NULL);
	if (j->rc)
		fprintf(stderr, "hull: %s\n", j->err.text);
	else
		printf("%s\n", j->ref);
	return j->rc ? 1 : 0;
}

/* docker's parallelOperation: op on every container named in
 * argv[first..] at once, at most PAR_MAX at a time (docker's 50), since
 * stopping one VM is mostly waiting for its guest and a sequential stop of
 * 50 took minutes. Results are printed in the order of the arguments; the
 * exit status is 1 when any failed. op runs on other threads: it may call
 * only the runtime's thread-safe functions (runtime.h: different
 * containers from different threads), and prints nothing itself. A thread
 * that cannot be started runs its job here instead. */
#define PAR_MAX 50
static int each_parallel(int argc, char **argv, int first,
			 int (*op)(const char *ref, void *ctx, struct errmsg *err), void *ctx)
{
	int n = argc - first, status = 0;
	struct par_job *jobs = calloc((size_t)(n > 0 ? n : 1), sizeof(*jobs));
	if (!jobs) {
		fprintf(stderr, "hull: out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (i >= PAR_MAX)
			status |= par_finish(&jobs[i - PAR_MAX]);
		struct par_job *j = &jobs[i];
		*j = (struct par_job){.ref = argv[first + i], .op = op, .ctx = ctx};
		j->started = !pthread_create(&j->tid, NULL, par_run, j);
		if (!j->started)
			par_run(j);
	}
	for (int i = n > PAR_MAX ? n - PAR_MAX : 0; i < n; i++)
		status |= par_finish(&jobs[i]);
	free(jobs);
	return status;
}

static int lookup(const char *root, const char *ref, struct runtime_state *s)
{
	struct errmsg err;
	int rc = runtime_lookup(root, ref, s, &err);
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	return rc;
}

/* Parse a command's options (cli/opts.h): 0 and *first, else the exit
 * status (0 after --help, 2 for bad usage) with *done. */
static int parse(const struct cmd_opts *c, int argc, char **argv,
		 int (*set)(void *ctx, int id, const char *value), void *ctx, int *first,
		 bool *done)
{
	int rc = opts_parse(c, argc, argv, set, ctx, first);
	*done = rc != OPTS_OK;
	return rc == OPTS_HELP ? 0 : 2;
}

/* ---- ps ---- */

/* docker ps's COMMAND: quoted, truncated at 20 characters with an ellipsis
 * unless trunc is false */
static char *command_text(const struct runtime_state *s, bool trunc)
{
	size_t len = 3;
	for (size_t i = 0; i < s->n_cmd; i++)
		len += strlen(s->cmd[i]) + 1;
	char *t = malloc(len + 8);
	if (!t)
		return NULL;
	char *p = t;
	*p++ = '"';
	for (size_t i = 0; i < s->n_cmd; i++)
		p += sprintf(p, "%s%s", i ? " " : "", s->cmd[i]);
	if (trunc && p - t > 20)
		p = t + 19 + sprintf(t + 19, "\u2026");
	*p++ = '"';
	*p = '\0';
	return t;
}

static char *status_text(const struct runtime_state *s, enum runtime_status eff, int64_t now)
{
	char d[64], *t = NULL;
	switch (eff) {
	case RUNTIME_CREATED:
		return strdup("Created");
	case RUNTIME_RUNNING:
		container_human_duration(now - s->started_ns, d, sizeof(d));
		return asprintf(&t, "Up %s", d) < 0 ? NULL : t;
	case RUNTIME_EXITED: {
		container_human_duration(now - s->finished_ns, d, sizeof(d));
		/* a monitor its seccomp filter stopped is a security event: say
		 * so here, not only in inspect's error (proto/vmmapi.h) */
		const char *sc =
		    s->error ? strstr(s->error, "hull-vmm killed by its seccomp filter") : NULL;
		int w = sc ? (int)strcspn(sc, ")") + (sc[strcspn(sc, ")")] == ')') : 0;
		return asprintf(&t, "Exited (%d) %s ago%s%.*s", s->exit_code, d, sc ? ", " : "", w,
				sc ? sc : "") < 0
			   ? NULL
			   : t;
	}
	default:
		return strdup("Dead");
	}
}

/* docker's CreatedAt: "2026-12-07 05:21:08 +0000 UTC" */
static void created_at(int64_t ns, char *out, size_t n)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
}

/* Disk space of the container's directory (its log, its state): the root
 * filesystem is the image's, shared read-only, and the container's writes
 * stay in its VM's memory. */
static uint64_t dir_bytes(const char *dir)
{
	uint64_t sum = 0;
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	struct stat st;
	while (d && (e = readdir(d)))
		if (!fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_blocks * 512;
	if (d)
		closedir(d);
	return sum;
}

static void add_s(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

/* docker ps's fields of one container */
static json_object *ps_item(const struct runtime_state *s, bool trunc, bool size)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	int64_t now = now_ns();
	enum runtime_status eff = runtime_status_eff(s, NULL);
	char d[64], buf[96], *t;
	t = command_text(s, trunc);
	add_s(o, "Command", t);
	free(t);
	created_at(s->created_ns, buf, sizeof(buf));
	add_s(o, "CreatedAt", buf);
	snprintf(buf, sizeof(buf), "%.*s", trunc ? RUNTIME_SHORT_LEN : RUNTIME_ID_LEN, s->id);
	add_s(o, "ID", buf);
	add_s(o, "Image", s->image);
	size_t len;
	FILE *m = open_memstream(&t, &len);
	for (size_t i = 0; m && i < s->cfg.n_labels; i++)
		fprintf(m, "%s%s", i ? "," : "", s->cfg.labels[i]);
	if (m && !fclose(m)) {
		add_s(o, "Labels", t);
		free(t);
	}
	add_s(o, "LocalVolumes", "0");
	m = open_memstream(&t, &len);
	for (size_t i = 0; m && i < s->cfg.n_binds; i++)
		fprintf(m, "%s%.*s", i ? "," : "", (int)strcspn(s->cfg.binds[i], ":"),
			s->cfg.binds[i]);
	if (m && !fclose(m)) {
		add_s(o, "Mounts", t);
		free(t);
	}
	add_s(o, "Names", s->name);
	add_s(o, "Networks", s->cfg.network);
	m = open_memstream(&t, &len);
	for (size_t i = 0; m && i < s->cfg.n_ports; i++) {
		runtime_port_text(&s->cfg.ports[i], buf, sizeof(buf));
		fprintf(m, "%s%s", i ? ", " : "", buf);
	}
	if (m && !fclose(m)) {
		add_s(o, "Ports", t);
		free(t);
	}
	container_human_duration(now - s->created_ns, d, sizeof(d));
	snprintf(buf, sizeof(buf), "%s ago", d);
	add_s(o, "RunningFor", buf);
	if (size)
		size_human(dir_bytes(s->dir), buf, sizeof(buf));
	add_s(o, "Size", size ? buf : "");
	add_s(o, "State", runtime_status_name(eff));
	t = status_text(s, eff, now);
	add_s(o, "Status", t);
	free(t);
	return o;
}

struct ps_ctx {
	bool all;
	const struct psfilter *filter;
	struct runtime_state *rows;
	size_t n, cap;
};

static int ps_collect(void *ctx, struct runtime_state *s)
{
	struct ps_ctx *p = ctx;
	enum runtime_status eff = runtime_status_eff(s, NULL);
	if (!p->all && eff != RUNTIME_RUNNING)
		return 0;
	if (!psfilter_match(p->filter, s, eff))
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct runtime_state *r = realloc(p->rows, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		p->rows = r;
		p->cap = cap;
	}
	/* the list hands over s: take it whole, leave it empty */
	p->rows[p->n++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

static int by_created_desc(const void *a, const void *b)
{
	const struct runtime_state *x = a, *y = b;
	return x->created_ns < y->created_ns ? 1 : x->created_ns > y->created_ns ? -1 : 0;
}

enum { O_FORMAT = 256, O_FILTER, O_NO_TRUNC };

static const struct opt ps_opts[] = {
    {'a', 'a', "all", NULL, "show all containers, also exited and dead ones"},
    {'q', 'q', "quiet", NULL, "only print container ids"},
    {'f', 'f', "filter", "KEY=VALUE",
     "only containers matching: name=TEXT, id=PREFIX,\n"
     "label=KEY[=VALUE], status=created|running|exited|dead;\n"
     "repeatable (same key: any, different keys: all)"},
    {O_FORMAT, 0, "format", "FORMAT",
     "json (one object per line), table, table TEMPLATE,\n"
     "or a Go template: {{.ID}} {{.Names}} {{json .}}"},
    {'n', 'n', "last", "N", "the N most recently created (any state)"},
    {'l', 'l', "latest", NULL, "the most recently created (any state)"},
    {'s', 's', "size", NULL,
     "add SIZE: the disk space of the container's\n"
     "directory (its log); writes to / stay in the VM"},
    {O_NO_TRUNC, 0, "no-trunc", NULL, "full ids and commands"},
    {0},
};

static const struct cmd_opts ps_cmd = {
    .name = "ps",
    .synopsis = "[OPTIONS]",
    .about = "List containers (running ones; -a: all).\n",
    .opts = ps_opts,
    .min_args = 0,
    .max_args = 0,
    .footer = "Template fields: ID Image Command CreatedAt RunningFor Ports State Status\n"
	      "Size Names Labels Mounts Networks LocalVolumes.\n",
};

struct ps_opts {
	bool all, quiet, size, trunc;
	long last;
	const char *format;
	struct psfilter filter;
};

static int ps_set(void *ctx, int id, const char *v)
{
	struct ps_opts *o = ctx;
	struct errmsg err;
	char *end;
	switch (id) {
	case 'a':
		o->all = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 's':
		o->size = true;
		break;
	case 'l':
		o->last = 1;
		break;
	case O_NO_TRUNC:
		o->trunc = false;
		break;
	case O_FORMAT:
		o->format = v;
		break;
	case 'n':
		o->last = strtol(v, &end, 10);
		if (*end || end == v || o->last < 0) {
			fprintf(stderr, "hull ps: --last %s: expected a number\n", v);
			return -EINVAL;
		}
		break;
	default:
		if (psfilter_add(&o->filter, v, &err)) {
			fprintf(stderr, "hull ps: %s\n", err.text);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct format_header ps_heads[] = {
    {"ID", "CONTAINER ID"},
    {"Image", "IMAGE"},
    {"Command", "COMMAND"},
    {"CreatedAt", "CREATED AT"},
    {"RunningFor", "CREATED"},
    {"Ports", "PORTS"},
    {"State", "STATE"},
    {"Status", "STATUS"},
    {"Size", "SIZE"},
    {"Names", "NAMES"},
    {"Labels", "LABELS"},
    {"Mounts", "MOUNTS"},
    {"Networks", "NETWORKS"},
    {"LocalVolumes", "LOCAL VOLUMES"},
    {0},
};

#define PS_TABLE                                                                                   \
	"table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}"   \
	"\\t{{.Names}}"

int ps_main(int argc, char **argv)
{
	struct ps_opts po = {.trunc = true, .last = -1};
	bool done;
	int first, st = parse(&ps_cmd, argc, argv, ps_set, &po, &first, &done);
	if (done)
		return st;
	struct format *fmt = NULL;
	struct errmsg err;
	if (!po.quiet && format_new(po.format, po.size ? PS_TABLE "\\t{{.Size}}" : PS_TABLE,
				    ps_heads, &fmt, &err)) {
		fprintf(stderr, "hull ps: --format: %s\n", err.text);
		return 2;
	}
	/* docker: -n, -l and a status filter look at every container */
	struct ps_ctx p = {.all = po.all || po.last >= 0 || psfilter_has_status(&po.filter),
			   .filter = &po.filter};
	char *root = root_or_report();
	if (!root) {
		format_free(fmt);
		return 1;
	}
	int rc = runtime_list(root, ps_collect, &p);
	free(root);
	if (rc == -ENOENT)
		rc = 0;
	else if (rc)
		fprintf(stderr, "hull ps: %s\n", strerror(-rc));
	if (!rc) {
		qsort(p.rows, p.n, sizeof(*p.rows), by_created_desc);
		size_t n = po.last >= 0 && (size_t)po.last < p.n ? (size_t)po.last : p.n;
		for (size_t r = 0; !rc && r < n; r++) {
			if (po.quiet) {
				printf("%.*s\n", po.trunc ? RUNTIME_SHORT_LEN : RUNTIME_ID_LEN,
				       p.rows[r].id);
				continue;
			}
			json_object *o = ps_item(&p.rows[r], po.trunc, po.size);
			rc = o ? format_add(fmt, o, &err) : -ENOMEM;
			json_object_put(o);
			if (rc)
				fprintf(stderr, "hull ps: --format: %s\n",
					rc == -ENOMEM ? "out of memory" : err.text);
		}
		if (!rc && fmt)
			rc = format_flush(fmt, stdout);
	}
	for (size_t r = 0; r < p.n; r++)
		runtime_state_free(&p.rows[r]);
	free(p.rows);
	format_free(fmt);
	return rc ? 1 : 0;
}

/* ---- inspect ---- */

/* RFC 3339 with nanoseconds, docker's "0001-01-01T00:00:00Z" for never */
static json_object *time_json(int64_t ns)
{
	char day[32], t[64] = "0001-01-01T00:00:00Z";
	if (ns) {
		time_t sec = (time_t)(ns / 1000000000);
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(t, sizeof(t), "%s.%09lldZ", day, (long long)(ns % 1000000000));
	}
	return json_object_new_string(t);
}

static json_object *strs_json(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* docker's "80/tcp": {"HostIp": ..., "HostPort": ...} maps */
static void ports_json(const struct runtime_config *c, json_object *bindings, json_object *ports)
{
	char ip[INET_ADDRSTRLEN], key[16], hp[8];
	for (size_t i = 0; i < c->n_ports; i++) {
		const struct runtime_port *p = &c->ports[i];
		struct in_addr a = {.s_addr = htonl(p->host_ip)};
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		snprintf(key, sizeof(key), "%u/%s", p->guest_port, p->udp ? "udp" : "tcp");
		snprintf(hp, sizeof(hp), "%u", p->host_port);
		for (int k = 0; k < 2; k++) {
			json_object *m = k ? ports : bindings, *arr;
			if (!json_object_object_get_ex(m, key, &arr)) {
				arr = json_object_new_array();
				json_object_object_add(m, key, arr);
			}
			json_object *e = json_object_new_object();
			json_object_object_add(e, "HostIp", json_object_new_string(ip));
			json_object_object_add(e, "HostPort", json_object_new_string(hp));
			json_object_array_add(arr, e);
		}
	}
}

static json_object *mounts_json(const struct runtime_config *c)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; a && i < c->n_binds; i++) {
		char *b = strdup(c->binds[i]);
		if (!b)
			continue;
		/* HOST:GUEST[:ro]; both absolute paths without ':' (volume.h) */
		char *guest = strchr(b, ':'), *mode = guest ? strchr(guest + 1, ':') : NULL;
		if (guest)
			*guest++ = '\0';
		if (mode)
			*mode++ = '\0';
		json_object *m = json_object_new_object();
		add_s(m, "Type", "bind");
		add_s(m, "Source", b);
		add_s(m, "Destination", guest);
		add_s(m, "Mode", mode ? mode : "");
		json_object_object_add(m, "RW", json_object_new_boolean(!mode));
		add_s(m, "Propagation", "");
		json_object_array_add(a, m);
		free(b);
	}
	return a;
}

/* docker inspect's shape; hull's own facts under "Hull" */
static json_object *inspect_json(const struct runtime_state *s)
{
	const struct runtime_config *c = &s->cfg;
	const char *why;
	enum runtime_status eff = runtime_status_eff(s, &why);
	json_object *o = json_object_new_object(), *st = json_object_new_object(),
		    *cf = json_object_new_object(), *hc = json_object_new_object(),
		    *ns = json_object_new_object(), *hull = json_object_new_object(),
		    *pb = json_object_new_object(), *np = json_object_new_object();
	char name[RUNTIME_NAME_MAX + 2];
	snprintf(name, sizeof(name), "/%s", s->name);
	add_s(o, "Id", s->id);
	json_object_object_add(o, "Created", time_json(s->created_ns));
	add_s(o, "Path", s->n_cmd ? s->cmd[0] : "");
	json_object_object_add(
	    o, "Args", strs_json(s->n_cmd ? s->cmd + 1 : NULL, s->n_cmd ? s->n_cmd - 1 : 0));
	add_s(st, "Status", runtime_status_name(eff));
	json_object_object_add(st, "Running", json_object_new_boolean(eff == RUNTIME_RUNNING));
	json_object_object_add(st, "Paused", json_object_new_boolean(false));
	json_object_object_add(st, "Restarting", json_object_new_boolean(false));
	json_object_object_add(st, "OOMKilled", json_object_new_boolean(false));
	json_object_object_add(st, "Dead", json_object_new_boolean(eff == RUNTIME_DEAD));
	json_object_object_add(st, "Pid",
			       json_object_new_int(eff == RUNTIME_RUNNING ? s->monitor_pid : 0));
	json_object_object_add(st, "ExitCode", json_object_new_int(s->exit_code));
	add_s(st, "Error", s->error ? s->error : why);
	json_object_object_add(st, "StartedAt", time_json(s->started_ns));
	json_object_object_add(st, "FinishedAt", time_json(s->finished_ns));
	json_object_object_add(o, "State", st);
	add_s(o, "Image", s->digest[0] ? s->digest : s->image);
	add_s(o, "Name", name);
	add_s(cf, "Hostname", c->hostname);
	json_object_object_add(cf, "Env", strs_json(c->env, c->n_env));
	json_object_object_add(cf, "Cmd", strs_json(s->cmd, s->n_cmd));
	add_s(cf, "Image", s->image);
	add_s(cf, "WorkingDir", c->workdir);
	json_object_object_add(cf, "Labels", runtime_config_labels_json(c));
	json_object_object_add(cf, "OpenStdin", json_object_new_boolean(c->open_stdin));
	json_object_object_add(cf, "Tty", json_object_new_boolean(c->tty));
	json_object_object_add(o, "Config", cf);
	json_object_object_add(hc, "Binds", strs_json(c->binds, c->n_binds));
	add_s(hc, "NetworkMode", c->network);
	json_object_object_add(hc, "PortBindings", pb);
	json_object_object_add(hc, "AutoRemove", json_object_new_boolean(s->auto_remove));
	json_object_object_add(hc, "Memory", json_object_new_int64((int64_t)c->mem_bytes));
	json_object_object_add(hc, "NanoCpus",
			       json_object_new_int64((int64_t)c->cpus * 1000000000));
	json_object_object_add(o, "HostConfig", hc);
	json_object_object_add(o, "Mounts", mounts_json(c));
	add_s(ns, "IPAddress", c->ip_address);
	json_object_object_add(ns, "Ports", np);
	ports_json(c, pb, np);
	json_object_object_add(o, "NetworkSettings", ns);
	/* hull's own: the VM and where the state lives */
	add_s(hull, "ImageDigest", s->digest);
	json_object_object_add(hull, "Cpus", json_object_new_int64(c->cpus));
	json_object_object_add(hull, "MonitorPid", json_object_new_int(s->monitor_pid));
	json_object_object_add(hull, "MonitorAlive",
			       json_object_new_boolean(runtime_monitor_alive(s)));
	json_object_object_add(hull, "StopSignal", json_object_new_int(s->stop_signal));
	json_object_object_add(hull, "StopTimeout", json_object_new_int(s->stop_timeout));
	add_s(hull, "Dir", s->dir);
	char *p = runtime_path(s, RUNTIME_LOG_FILE);
	add_s(hull, "LogPath", p);
	free(p);
	p = runtime_sock_path(s, RUNTIME_VSOCK_SOCK);
	add_s(hull, "VsockSocket", p);
	free(p);
	p = runtime_sock_path(s, RUNTIME_MONITOR_SOCK);
	add_s(hull, "MonitorSocket", p);
	free(p);
	json_object_object_add(o, "Hull", hull);
	return o;
}

struct inspect_ctx {
	json_object *arr;
	struct format *fmt;
};

static int inspect_one(const char *root, const char *ref, void *ctx)
{
	struct inspect_ctx *ic = ctx;
	struct runtime_state s;
	if (lookup(root, ref, &s))
		return -1;
	json_object *o = inspect_json(&s);
	runtime_state_free(&s);
	if (!o)
		return -ENOMEM;
	if (ic->fmt) {
		struct errmsg err;
		int rc = format_add(ic->fmt, o, &err);
		json_object_put(o);
		if (rc)
			fprintf(stderr, "hull inspect: --format: %s\n",
				rc == -ENOMEM ? "out of memory" : err.text);
		return rc;
	}
	json_object_array_add(ic->arr, o);
	return 0;
}

static const struct opt inspect_opts[] = {
    {'f', 'f', "format", "FORMAT",
     "json (the array, the default), or a Go template:\n"
     "{{.State.Status}} {{json .Config.Labels}}"},
    {0},
};

static const struct cmd_opts inspect_cmd = {
    .name = "inspect",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Print containers' state as a JSON array shaped like docker's (Id, Name, State,\n"
	     "Config, HostConfig, NetworkSettings, Mounts); hull's own facts (the VM's\n"
	     "monitor, sockets, log) under \"Hull\".\n",
    .opts = inspect_opts,
    .min_args = 1,
    .max_args = -1,
};

static int inspect_set(void *ctx, int id, const char *v)
{
	(void)id;
	*(const char **)ctx = v;
	return 0;
}

int inspect_main(int argc, char **argv)
{
	const char *format = NULL;
	bool done;
	int first, st = parse(&inspect_cmd, argc, argv, inspect_set, &format, &first, &done);
	if (done)
		return st;
	struct inspect_ctx ic = {.arr = json_object_new_array()};
	struct errmsg err;
	if (!ic.arr)
		return 1;
	if (format && strcmp(format, "json") && format_new(format, "json", NULL, &ic.fmt, &err)) {
		fprintf(stderr, "hull inspect: --format: %s\n", err.text);
		json_object_put(ic.arr);
		return 2;
	}
	int status = each(argc, argv, first, inspect_one, &ic);
	if (ic.fmt)
		format_flush(ic.fmt, stdout);
	else
		printf("%s\n",
		       json_object_to_json_string_ext(ic.arr, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	format_free(ic.fmt);
	json_object_put(ic.arr);
	return status;
}

/* ---- stop, kill ---- */

static int stop_op(const char *ref, void *ctx, struct errmsg *err)
{
	return rt_stop(ref, *(int *)ctx, err);
}

static const struct opt stop_opts[] = {
    {'t', 't', "time", "SECONDS", "seconds to wait before SIGKILL (default: the container's, 10)"},
    {0},
};

static const struct cmd_opts stop_cmd = {
    .name = "stop",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Stop containers: their stop signal (the image's StopSignal, else SIGTERM),\n"
	     "then SIGKILL after the timeout. Waits until each has ended. Several\n"
	     "containers are stopped at once (up to 50 at a time, as docker).\n",
    .opts = stop_opts,
    .min_args = 1,
    .max_args = -1,
};

static int stop_set(void *ctx, int id, const char *v)
{
	(void)id;
	char *end;
	long t = strtol(v, &end, 10);
	if (*end || end == v || t < 0 || t > STOP_MAX_TIMEOUT_S) {
		fprintf(stderr, "hull stop: -t %s: expected a number of seconds\n", v);
		return -EINVAL;
	}
	*(int *)ctx = (int)t;
	return 0;
}

int stop_main(int argc, char **argv)
{
	int timeout = -1;
	bool done;
	int first, st = parse(&stop_cmd, argc, argv, stop_set, &timeout, &first, &done);
	if (done)
		return st;
	return each_parallel(argc, argv, first, stop_op, &timeout);
}

static int kill_one(const char *root, const char *ref, void *ctx)
{
	(void)root;
	struct errmsg err;
	int rc = rt_kill(ref, *(int *)ctx, &err);
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	else
		printf("%s\n", ref);
	return rc;
}

static const struct opt kill_opts[] = {
    {'s', 's', "signal", "SIGNAL", "a name (TERM, SIGTERM) or a number"},
    {0},
};

static const struct cmd_opts kill_cmd = {
    .name = "kill",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Send a signal to containers (default SIGKILL).\n",
    .opts = kill_opts,
    .min_args = 1,
    .max_args = -1,
};

static int kill_set(void *ctx, int id, const char *v)
{
	(void)id;
	if (stop_signal_parse(v, ctx)) {
		fprintf(stderr, "hull kill: -s %s: not a signal\n", v);
		return -EINVAL;
	}
	return 0;
}

int kill_main(int argc, char **argv)
{
	int sig = SIGKILL;
	bool done;
	int first, st = parse(&kill_cmd, argc, argv, kill_set, &sig, &first, &done);
	if (done)
		return st;
	return each(argc, argv, first, kill_one, &sig);
}

/* ---- rm ---- */

static int rm_op(const char *ref, void *ctx, struct errmsg *err)
{
	return rt_delete(ref, *(bool *)ctx, err);
}

static const struct opt rm_opts[] = {
    {'f', 'f', "force", NULL, "kill a running container first (SIGKILL)"},
    {0},
};

static const struct cmd_opts rm_cmd = {
    .name = "rm",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Remove containers: their state directory and log. Several containers\n"
	     "are removed at once (up to 50 at a time, as docker).\n",
    .opts = rm_opts,
    .min_args = 1,
    .max_args = -1,
};

static int rm_set(void *ctx, int id, const char *v)
{
	(void)id;
	(void)v;
	*(bool *)ctx = true;
	return 0;
}

int rm_main(int argc, char **argv)
{
	bool force = false, done;
	int first, st = parse(&rm_cmd, argc, argv, rm_set, &force, &first, &done);
	if (done)
		return st;
	return each_parallel(argc, argv, first, rm_op, &force);
}

/* ---- logs ---- */

enum { O_SINCE = 256, O_UNTIL };

static const struct opt logs_opts[] = {
    {'f', 'f', "follow", NULL, "keep printing new output until the container ends"},
    {'n', 'n', "tail", "N", "only the last N lines (\"all\": every line)"},
    {'t', 't', "timestamps", NULL, "prefix each line with its time (RFC 3339, UTC)"},
    {O_SINCE, 0, "since", "TIME",
     "only lines from TIME on: RFC 3339 (2026-12-07T05:21:08Z,\n"
     "2026-12-07), Unix seconds, or a duration before now (10m, 1h30m)"},
    {O_UNTIL, 0, "until", "TIME", "only lines up to TIME (as --since)"},
    {0},
};

static const struct cmd_opts logs_cmd = {
    .name = "logs",
    .synopsis = "[OPTIONS] NAME|ID",
    .about = "Print a container's output: its stdout to stdout, its stderr to stderr.\n",
    .opts = logs_opts,
    .min_args = 1,
    .max_args = 1,
};

struct logs_opts {
	bool follow, timestamps;
	size_t tail;
	int64_t since, until;
};

static int logs_set(void *ctx, int id, const char *v)
{
	struct logs_opts *o = ctx;
	if (id == 'f') {
		o->follow = true;
		return 0;
	}
	if (id == 't') {
		o->timestamps = true;
		return 0;
	}
	if (id == O_SINCE || id == O_UNTIL) {
		if (time_parse_point(v, now_ns(), id == O_SINCE ? &o->since : &o->until)) {
			fprintf(stderr,
				"hull logs: --%s %s: expected an RFC 3339 time, Unix seconds or "
				"a duration like 10m\n",
				id == O_SINCE ? "since" : "until", v);
			return -EINVAL;
		}
		return 0;
	}
	char *end;
	long long n = strtoll(v, &end, 10);
	if (!strcmp(v, "all")) {
		o->tail = SIZE_MAX;
	} else if (*end || end == v || n < 0) {
		fprintf(stderr, "hull logs: --tail %s: expected a number or all\n", v);
		return -EINVAL;
	} else {
		o->tail = (size_t)n;
	}
	return 0;
}

int logs_main(int argc, char **argv)
{
	struct logs_opts lo = {.tail = SIZE_MAX};
	bool done;
	int first, st = parse(&logs_cmd, argc, argv, logs_set, &lo, &first, &done);
	if (done)
		return st;
	bool follow = lo.follow;
	size_t tail = lo.tail;
	const char *ref = argv[first];
	char *root = root_or_report();
	struct runtime_state s;
	if (!root || lookup(root, ref, &s)) {
		free(root);
		return 1;
	}
	free(root);
	char *path = runtime_path(&s, RUNTIME_LOG_FILE);
	struct ctrlog_reader r;
	int rc = path ? ctrlog_reader_open(path, tail, &r) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "hull: logs %s: %s: %s\n", ref, path ? path : "", strerror(-rc));
	} else {
		r.since_ns = lo.since;
		r.until_ns = lo.until;
		r.timestamps = lo.timestamps;
		rc = ctrlog_pump(&r, STDOUT_FILENO, STDERR_FILENO);
		/* follow: the monitor's exit ends the log (it has written its
		 * last record before), and so does a record past --until */
		while (!rc && follow && !r.past && runtime_monitor_alive(&s)) {
			int w = supervisor_wait(&s, 200);
			rc = ctrlog_pump(&r, STDOUT_FILENO, STDERR_FILENO);
			if (w == 0)
				break;
		}
		ctrlog_reader_close(&r);
		if (rc)
			fprintf(stderr, "hull: logs %s: %s\n", ref, strerror(-rc));
	}
	free(path);
	runtime_state_free(&s);
	return rc ? 1 : 0;
}
