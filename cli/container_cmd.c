#include "container_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/ctrlog.h"
#include "runtime/supervisor.h"
#include "runtime/state.h"
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

static bool supervisor_up(const struct runtime_state *s)
{
	return runtime_status_eff(s, NULL) == RUNTIME_CREATED ||
	       runtime_status_eff(s, NULL) == RUNTIME_RUNNING;
}

/* Run fn on each container named in argv[optind..]; the exit status is 1
 * when any failed. */
static int each(int argc, char **argv, int (*fn)(const char *root, const char *ref, void *ctx),
		void *ctx)
{
	if (optind >= argc) {
		fprintf(stderr, "hull %s: at least one container name or id is needed\n", argv[0]);
		return 2;
	}
	char *root = root_or_report();
	if (!root)
		return 1;
	int status = 0;
	for (int i = optind; i < argc; i++)
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

static bool opts_help(int c, const char *usage)
{
	if (c == 'h') {
		fputs(usage, stdout);
		exit(0);
	}
	fputs(usage, stderr);
	return false;
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

int ps_main(int argc, char **argv)
{
	static const char usage[] = "Usage: hull ps [-a] [-q]\n"
				    "\n"
				    "List containers (running ones; -a: all).\n"
				    "  -a, --all     show all containers, also exited and dead ones\n"
				    "  -q, --quiet   only print container ids\n";
	static const struct option lo[] = { { "all", no_argument, NULL, 'a' },
					    { "quiet", no_argument, NULL, 'q' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	struct ps_ctx p = { 0 };
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "aqh", lo, NULL)) != -1) {
		if (c == 'a')
			p.all = true;
		else if (c == 'q')
			quiet = true;
		else
			return opts_help(c, usage) ? 0 : 2;
	}
	if (optind < argc) {
		fputs(usage, stderr);
		return 2;
	}
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
		static const char *const head[6] = { "CONTAINER ID", "IMAGE",  "COMMAND",
						     "CREATED",	     "STATUS", "NAMES" };
		size_t w[6];
		for (int i = 0; i < 6; i++) {
			w[i] = strlen(head[i]);
			for (size_t r = 0; r < p.n; r++)
				if (width(p.rows[r].cells[i]) > w[i])
					w[i] = width(p.rows[r].cells[i]);
		}
		for (size_t r = quiet ? 1 : 0; r <= p.n; r++) {
			const char *const *cells = r ? (const char *const *)p.rows[r - 1].cells
						     : head;
			if (quiet) {
				printf("%s\n", cells[0]);
				continue;
			}
			for (int i = 0; i < 6; i++)
				printf("%s%*s", cells[i], i < 5 ? (int)(w[i] - width(cells[i]) + 3) : 0,
				       "");
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

int inspect_main(int argc, char **argv)
{
	static const char usage[] = "Usage: hull inspect NAME|ID...\n"
				    "\n"
				    "Print containers' state as a JSON array.\n";
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
		return opts_help(c, usage) ? 0 : 2;
	json_object *arr = json_object_new_array();
	if (!arr)
		return 1;
	int status = each(argc, argv, inspect_one, arr);
	if (status != 2)
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
									   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return status;
}

/* ---- stop, kill ---- */

/* "VERB ARG" to s's monitor; the error goes to stderr. */
static int request(const struct runtime_state *s, const char *verb, int arg)
{
	char req[32];
	struct errmsg err;
	snprintf(req, sizeof(req), "%s %d", verb, arg);
	int rc = supervisor_call(s, req, &err);
	if (rc)
		fprintf(stderr, "hull: %s\n", err.text);
	return rc;
}

static int stop_one(const char *root, const char *ref, void *ctx)
{
	int timeout = *(int *)ctx;
	struct runtime_state s;
	if (lookup(root, ref, &s))
		return -1;
	int rc = 0;
	if (supervisor_up(&s) && !(rc = request(&s, "stop", timeout)))
		supervisor_wait(&s, -1);
	if (!rc)
		printf("%s\n", ref);
	runtime_state_free(&s);
	return rc;
}

int stop_main(int argc, char **argv)
{
	static const char usage[] =
		"Usage: hull stop [-t SECONDS] NAME|ID...\n"
		"\n"
		"Stop containers: their stop signal (the image's StopSignal, else SIGTERM),\n"
		"then SIGKILL after the timeout. Waits until each has ended.\n"
		"  -t, --time SECONDS   seconds to wait before SIGKILL (default: the container's, "
		"10)\n";
	static const struct option lo[] = { { "time", required_argument, NULL, 't' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	int timeout = -1, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:h", lo, NULL)) != -1) {
		if (c == 't') {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0 || v > STOP_MAX_TIMEOUT_S) {
				fprintf(stderr, "hull stop: -t %s: expected a number of seconds\n",
					optarg);
				return 2;
			}
			timeout = (int)v;
		} else {
			return opts_help(c, usage) ? 0 : 2;
		}
	}
	return each(argc, argv, stop_one, &timeout);
}

static int kill_one(const char *root, const char *ref, void *ctx)
{
	struct runtime_state s;
	if (lookup(root, ref, &s))
		return -1;
	int rc = -EINVAL;
	if (!supervisor_up(&s))
		fprintf(stderr, "hull: cannot kill container %s: it is not running\n", ref);
	else if (!(rc = request(&s, "kill", *(int *)ctx)))
		printf("%s\n", ref);
	runtime_state_free(&s);
	return rc;
}

int kill_main(int argc, char **argv)
{
	static const char usage[] = "Usage: hull kill [-s SIGNAL] NAME|ID...\n"
				    "\n"
				    "Send a signal to containers (default SIGKILL).\n"
				    "  -s, --signal SIGNAL   a name (TERM, SIGTERM) or a number\n";
	static const struct option lo[] = { { "signal", required_argument, NULL, 's' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	int sig = SIGKILL, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:h", lo, NULL)) != -1) {
		if (c == 's') {
			if (stop_signal_parse(optarg, &sig)) {
				fprintf(stderr, "hull kill: -s %s: not a signal\n", optarg);
				return 2;
			}
		} else {
			return opts_help(c, usage) ? 0 : 2;
		}
	}
	return each(argc, argv, kill_one, &sig);
}

/* ---- rm ---- */

static int rm_one(const char *root, const char *ref, void *ctx)
{
	bool force = *(bool *)ctx;
	struct runtime_state s;
	if (lookup(root, ref, &s))
		return -1;
	int rc = 0;
	if (supervisor_up(&s)) {
		if (!force) {
			fprintf(stderr,
				"hull: cannot remove container %s: it is running (stop it first, "
				"or use rm -f)\n",
				ref);
			rc = -EBUSY;
		} else if (!(rc = request(&s, "kill", SIGKILL))) {
			supervisor_wait(&s, -1);
		}
	}
	if (!rc) {
		rc = runtime_remove(&s);
		if (rc)
			fprintf(stderr, "hull: cannot remove %s: %s\n", s.dir, strerror(-rc));
		else
			printf("%s\n", ref);
	}
	runtime_state_free(&s);
	return rc;
}

int rm_main(int argc, char **argv)
{
	static const char usage[] = "Usage: hull rm [-f] NAME|ID...\n"
				    "\n"
				    "Remove containers: their state directory and log.\n"
				    "  -f, --force   kill a running container first (SIGKILL)\n";
	static const struct option lo[] = { { "force", no_argument, NULL, 'f' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	bool force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fh", lo, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else
			return opts_help(c, usage) ? 0 : 2;
	}
	return each(argc, argv, rm_one, &force);
}

/* ---- logs ---- */

int logs_main(int argc, char **argv)
{
	static const char usage[] =
		"Usage: hull logs [-f] [-n N] NAME|ID\n"
		"\n"
		"Print a container's output: its stdout to stdout, its stderr to stderr.\n"
		"  -f, --follow     keep printing new output until the container ends\n"
		"  -n, --tail N     only the last N lines (\"all\": every line)\n";
	static const struct option lo[] = { { "follow", no_argument, NULL, 'f' },
					    { "tail", required_argument, NULL, 'n' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	bool follow = false;
	size_t tail = SIZE_MAX;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fn:h", lo, NULL)) != -1) {
		if (c == 'f') {
			follow = true;
		} else if (c == 'n') {
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (!strcmp(optarg, "all")) {
				tail = SIZE_MAX;
			} else if (*end || end == optarg || v < 0) {
				fprintf(stderr, "hull logs: --tail %s: expected a number or all\n",
					optarg);
				return 2;
			} else {
				tail = (size_t)v;
			}
		} else {
			return opts_help(c, usage) ? 0 : 2;
		}
	}
	if (argc - optind != 1) {
		fputs(usage, stderr);
		return 2;
	}
	char *root = root_or_report();
	struct runtime_state s;
	if (!root || lookup(root, argv[optind], &s)) {
		free(root);
		return 1;
	}
	free(root);
	char *path = runtime_path(&s, RUNTIME_LOG_FILE);
	struct ctrlog_reader r;
	int rc = path ? ctrlog_reader_open(path, tail, &r) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "hull: logs %s: %s: %s\n", argv[optind], path ? path : "",
			strerror(-rc));
	} else {
		rc = ctrlog_pump(&r, STDOUT_FILENO, STDERR_FILENO);
		/* follow: the monitor's exit ends the log (it has written its
		 * last record before) */
		while (!rc && follow && runtime_monitor_alive(&s)) {
			int w = supervisor_wait(&s, 200);
			rc = ctrlog_pump(&r, STDOUT_FILENO, STDERR_FILENO);
			if (w == 0)
				break;
		}
		ctrlog_reader_close(&r);
		if (rc)
			fprintf(stderr, "hull: logs %s: %s\n", argv[optind], strerror(-rc));
	}
	free(path);
	runtime_state_free(&s);
	return rc ? 1 : 0;
}
