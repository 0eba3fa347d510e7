#include "container_cmd.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/opts.h"
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

struct ps_row {
	char *cells[6];
	int64_t created;
};

struct ps_ctx {
	bool all;
	struct ps_row *rows;
	size_t n, cap;
};

static char *command_text(const struct runtime_state *s)
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
	/* docker truncates at 20 characters with an ellipsis */
	if (p - t > 20)
		p = t + 19 + sprintf(t + 19, "\u2026");
	*p++ = '"';
	*p = '\0';
	return t;
}

static char *status_text(const struct runtime_state *s, int64_t now)
{
	char d[64], *t = NULL;
	switch (runtime_status_eff(s, NULL)) {
	case RUNTIME_CREATED:
		return strdup("Created");
	case RUNTIME_RUNNING:
		container_human_duration(now - s->started_ns, d, sizeof(d));
		return asprintf(&t, "Up %s", d) < 0 ? NULL : t;
	case RUNTIME_EXITED:
		container_human_duration(now - s->finished_ns, d, sizeof(d));
		return asprintf(&t, "Exited (%d) %s ago", s->exit_code, d) < 0 ? NULL : t;
	default:
		return strdup("Dead");
	}
}

static int ps_collect(void *ctx, struct runtime_state *s)
{
	struct ps_ctx *p = ctx;
	if (!p->all && runtime_status_eff(s, NULL) != RUNTIME_RUNNING)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct ps_row *r = realloc(p->rows, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		p->rows = r;
		p->cap = cap;
	}
	struct ps_row *r = &p->rows[p->n++];
	int64_t now = now_ns();
	char d[64], *created = NULL;
	container_human_duration(now - s->created_ns, d, sizeof(d));
	if (asprintf(&created, "%s ago", d) < 0)
		created = NULL;
	r->created = s->created_ns;
	r->cells[0] = strndup(s->id, 12);
	r->cells[1] = strdup(s->image);
	r->cells[2] = command_text(s);
	r->cells[3] = created;
	r->cells[4] = status_text(s, now);
	r->cells[5] = strdup(s->name);
	for (int i = 0; i < 6; i++)
		if (!r->cells[i])
			return -ENOMEM;
	return 0;
}

static int by_created_desc(const void *a, const void *b)
{
	const struct ps_row *x = a, *y = b;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

/* Display width of a UTF-8 string (the ellipsis is one column). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static const struct opt ps_opts[] = {
    {'a', 'a', "all", NULL, "show all containers, also exited and dead ones"},
    {'q', 'q', "quiet", NULL, "only print container ids"},
    {0},
};

static const struct cmd_opts ps_cmd = {
    .name = "ps",
    .synopsis = "[OPTIONS]",
    .about = "List containers (running ones; -a: all).\n",
    .opts = ps_opts,
    .min_args = 0,
    .max_args = 0,
};

struct ps_opts {
	bool all, quiet;
};

static int ps_set(void *ctx, int id, const char *v)
{
	(void)v;
	struct ps_opts *o = ctx;
	if (id == 'a')
		o->all = true;
	else
		o->quiet = true;
	return 0;
}

int ps_main(int argc, char **argv)
{
	struct ps_opts po = {0};
	bool done;
	int first, st = parse(&ps_cmd, argc, argv, ps_set, &po, &first, &done);
	if (done)
		return st;
	struct ps_ctx p = {.all = po.all};
	bool quiet = po.quiet;
	char *root = root_or_report();
	if (!root)
		return 1;
	int rc = runtime_list(root, ps_collect, &p);
	free(root);
	if (rc && rc != -ENOENT) {
		fprintf(stderr, "hull: ps: %s\n", strerror(-rc));
	} else {
		rc = 0;
		qsort(p.rows, p.n, sizeof(*p.rows), by_created_desc);
		static const char *const head[6] = {"CONTAINER ID", "IMAGE",  "COMMAND",
						    "CREATED",	    "STATUS", "NAMES"};
		size_t w[6];
		for (int i = 0; i < 6; i++) {
			w[i] = strlen(head[i]);
			for (size_t r = 0; r < p.n; r++)
				if (width(p.rows[r].cells[i]) > w[i])
					w[i] = width(p.rows[r].cells[i]);
		}
		for (size_t r = quiet ? 1 : 0; r <= p.n; r++) {
			const char *const *cells =
			    r ? (const char *const *)p.rows[r - 1].cells : head;
			if (quiet) {
				printf("%s\n", cells[0]);
				continue;
			}
			for (int i = 0; i < 6; i++)
				printf("%s%*s", cells[i],
				       i < 5 ? (int)(w[i] - width(cells[i]) + 3) : 0, "");
			putchar('\n');
		}
	}
	for (size_t r = 0; r < p.n; r++)
		for (int i = 0; i < 6; i++)
			free(p.rows[r].cells[i]);
	free(p.rows);
	return rc ? 1 : 0;
}

/* ---- inspect ---- */

static void add_time(json_object *o, const char *k, int64_t ns)
{
	char day[32], t[64] = "0001-01-01T00:00:00Z"; /* docker's zero time */
	if (ns) {
		time_t sec = (time_t)(ns / 1000000000);
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(t, sizeof(t), "%s.%09lldZ", day, (long long)(ns % 1000000000));
	}
	json_object_object_add(o, k, json_object_new_string(t));
}

static int inspect_one(const char *root, const char *ref, void *ctx)
{
	json_object *arr = ctx;
	struct runtime_state s;
	if (lookup(root, ref, &s))
		return -1;
	char *text = NULL;
	json_object *o = runtime_state_encode(&s, &text) ? NULL : json_tokener_parse(text);
	free(text);
	if (!o) {
		runtime_state_free(&s);
		return -ENOMEM;
	}
	/* derived: what is true now, not only what was last recorded */
	const char *why;
	enum runtime_status eff = runtime_status_eff(&s, &why);
	json_object *st = json_object_new_object();
	json_object_object_add(st, "status", json_object_new_string(runtime_status_name(eff)));
	json_object_object_add(st, "running", json_object_new_boolean(eff == RUNTIME_RUNNING));
	json_object_object_add(st, "dead", json_object_new_boolean(eff == RUNTIME_DEAD));
	if (why)
		json_object_object_add(st, "dead_reason", json_object_new_string(why));
	json_object_object_add(st, "monitor_alive",
			       json_object_new_boolean(runtime_monitor_alive(&s)));
	json_object_object_add(st, "exit_code", json_object_new_int(s.exit_code));
	add_time(st, "created_at", s.created_ns);
	add_time(st, "started_at", s.started_ns);
	add_time(st, "finished_at", s.finished_ns);
	json_object_object_add(o, "state", st);
	json_object_object_add(o, "dir", json_object_new_string(s.dir));
	json_object_array_add(arr, o);
	runtime_state_free(&s);
	return 0;
}

static const struct cmd_opts inspect_cmd = {
    .name = "inspect",
    .synopsis = "NAME|ID...",
    .about = "Print containers' state as a JSON array.\n",
    .opts = NULL,
    .min_args = 1,
    .max_args = -1,
};

int inspect_main(int argc, char **argv)
{
	bool done;
	int first, st = parse(&inspect_cmd, argc, argv, NULL, NULL, &first, &done);
	if (done)
		return st;
	json_object *arr = json_object_new_array();
	if (!arr)
		return 1;
	int status = each(argc, argv, first, inspect_one, arr);
	if (status != 2)
		printf("%s\n", json_object_to_json_string_ext(
				   arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return status;
}

/* ---- stop, kill ---- */

static int stop_one(const char *root, const char *ref, void *ctx)
{
	(void)root;
	struct errmsg err;
	int rc = rt_stop(ref, *(int *)ctx, &err);
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	else
		printf("%s\n", ref);
	return rc;
}

static const struct opt stop_opts[] = {
    {'t', 't', "time", "SECONDS", "seconds to wait before SIGKILL (default: the container's, 10)"},
    {0},
};

static const struct cmd_opts stop_cmd = {
    .name = "stop",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Stop containers: their stop signal (the image's StopSignal, else SIGTERM),\n"
	     "then SIGKILL after the timeout. Waits until each has ended.\n",
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
	return each(argc, argv, first, stop_one, &timeout);
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

static int rm_one(const char *root, const char *ref, void *ctx)
{
	(void)root;
	struct errmsg err;
	int rc = rt_delete(ref, *(bool *)ctx, &err);
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	else
		printf("%s\n", ref);
	return rc;
}

static const struct opt rm_opts[] = {
    {'f', 'f', "force", NULL, "kill a running container first (SIGKILL)"},
    {0},
};

static const struct cmd_opts rm_cmd = {
    .name = "rm",
    .synopsis = "[OPTIONS] NAME|ID...",
    .about = "Remove containers: their state directory and log.\n",
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
	return each(argc, argv, first, rm_one, &force);
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
