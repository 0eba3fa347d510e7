#include "state.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/readfile.h"

static const char *const status_names[] = {"created", "running", "exited", "dead"};

const char *runtime_status_name(enum runtime_status st)
{
	return (unsigned)st < 4 ? status_names[st] : "unknown";
}

#define ROOT_WAY_OUT                                                                               \
	"choose another with hull --root DIR (containers then live in DIR/run), "                  \
	"HULL_ROOT=DIR, or HULL_RUNTIME_DIR=DIR"

int runtime_root(char **out, struct errmsg *err)
{
	const char *env = getenv("HULL_RUNTIME_DIR");
	const char *root = getenv("HULL_ROOT");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	if (env && env[0])
		n = asprintf(out, "%s", env);
	else if (root && root[0])
		n = asprintf(out, "%s/run", root);
	else if (xdg && xdg[0])
		n = asprintf(out, "%s/hull", xdg);
	else
		n = asprintf(out, "/run/hull");
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	/* the VM's sockets (<root>/<short>/vsock.sock) must stay short */
	if (strlen(*out) > RUNTIME_ROOT_MAX) {
		errmsg_set(err, -ENAMETOOLONG,
			   "runtime directory %s (containers' state): longer than %d characters, "
			   "too long for the VM's sockets; set HULL_RUNTIME_DIR to a shorter path",
			   *out, RUNTIME_ROOT_MAX);
		free(*out);
		*out = NULL;
		return -ENAMETOOLONG;
	}
	/* --root DIR may name a directory that does not exist yet */
	if (!(env && env[0]) && root && root[0] && mkdir(root, 0700) && errno != EEXIST) {
		int rc = -errno;
		errmsg_set(err, rc, "state directory %s: %s; " ROOT_WAY_OUT, root, strerror(errno));
		free(*out);
		*out = NULL;
		return rc;
	}
	int rc = 0;
	if (mkdir(*out, 0700) && errno != EEXIST)
		rc = errmsg_set(err, -errno,
				"runtime directory %s (containers' state): %s; " ROOT_WAY_OUT, *out,
				strerror(errno));
	else
		rc = runtime_root_check(*out, err);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int runtime_root_check(const char *dir, struct errmsg *err)
{
	/* O_NOFOLLOW: a symlink is refused as such, never followed */
	int fd = open(dir, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	const char *why = NULL;
	char buf[96];
	if (fd < 0 || fstat(fd, &st) < 0) {
		why = strerror(errno);
	} else if (S_ISLNK(st.st_mode)) {
		why = "a symlink (hull follows none here)";
	} else if (!S_ISDIR(st.st_mode)) {
		why = "not a directory";
	} else if (st.st_uid != geteuid()) {
		snprintf(buf, sizeof(buf), "owned by uid %u, not by you (uid %u)",
			 (unsigned)st.st_uid, (unsigned)geteuid());
		why = buf;
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(buf, sizeof(buf), "writable by others (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		why = buf;
	}
	if (fd >= 0)
		close(fd);
	if (!why)
		return 0;
	return errmsg_set(err, -EPERM,
			  "runtime directory %s: %s; hull keeps containers' state, logs and "
			  "sockets there and refuses it; " ROOT_WAY_OUT
			  " (a directory of your own, "
			  "mode 0700)",
			  dir, why);
}

char *runtime_path(const struct runtime_state *s, const char *file)
{
	char *p;
	return asprintf(&p, "%s/%s", s->dir, file) < 0 ? NULL : p;
}

/* <root>/<short id>, from the container directory <root>/<id> */
static char *short_link(const struct runtime_state *s)
{
	char *p;
	size_t n = strlen(s->dir);
	if (n < RUNTIME_ID_LEN)
		return NULL;
	return asprintf(&p, "%.*s%.*s", (int)(n - RUNTIME_ID_LEN), s->dir, RUNTIME_SHORT_LEN,
			s->id) < 0
		   ? NULL
		   : p;
}

char *runtime_sock_path(const struct runtime_state *s, const char *file)
{
	char *l = short_link(s), *p;
	if (!l || asprintf(&p, "%s/%s", l, file) < 0)
		p = NULL;
	free(l);
	return p;
}

/* ---- state.json codec ---- */

static void add_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void add_path(json_object *o, const struct runtime_state *s, const char *k, const char *file,
		     char *(*path)(const struct runtime_state *, const char *))
{
	char *p = s->dir ? path(s, file) : NULL;
	add_str(o, k, p);
	free(p);
}

int runtime_state_encode(const struct runtime_state *s, char **json)
{
	json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "version", json_object_new_int(1));
	add_str(o, "id", s->id);
	add_str(o, "name", s->name);
	add_str(o, "image", s->image);
	add_str(o, "image_digest", s->digest);
	json_object *cmd = json_object_new_array();
	for (size_t i = 0; i < s->n_cmd; i++)
		json_object_array_add(cmd, json_object_new_string(s->cmd[i]));
	json_object_object_add(o, "command", cmd);
	json_object_object_add(o, "created_ns", json_object_new_int64(s->created_ns));
	json_object_object_add(o, "started_ns", json_object_new_int64(s->started_ns));
	json_object_object_add(o, "finished_ns", json_object_new_int64(s->finished_ns));
	add_str(o, "status", runtime_status_name(s->status));
	json_object_object_add(o, "exit_code", json_object_new_int(s->exit_code));
	add_str(o, "error", s->error);
	json_object_object_add(o, "monitor_pid", json_object_new_int(s->monitor_pid));
	json_object_object_add(o, "monitor_start", json_object_new_uint64(s->monitor_start));
	json_object_object_add(o, "stop_signal", json_object_new_int(s->stop_signal));
	json_object_object_add(o, "stop_timeout", json_object_new_int(s->stop_timeout));
	json_object_object_add(o, "auto_remove", json_object_new_boolean(s->auto_remove));
	runtime_config_encode(&s->cfg, o);
	json_object *args = json_object_new_array();
	for (size_t i = 0; i < s->n_args; i++)
		json_object_array_add(args, json_object_new_string(s->args[i]));
	json_object_object_add(o, "args", args);
	add_path(o, s, "log_path", RUNTIME_LOG_FILE, runtime_path);
	add_path(o, s, "vsock_socket", RUNTIME_VSOCK_SOCK, runtime_sock_path);
	add_path(o, s, "monitor_socket", RUNTIME_MONITOR_SOCK, runtime_sock_path);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	*json = t ? strdup(t) : NULL;
	json_object_put(o);
	return *json ? 0 : -ENOMEM;
}

static int bad(struct errmsg *err, const char *field)
{
	return errmsg_set(err, -EINVAL, "state.json: field \"%s\" missing or invalid", field);
}

static int get_typed(json_object *o, const char *k, json_type t, bool opt, json_object **v)
{
	*v = NULL;
	if (!json_object_object_get_ex(o, k, v))
		return opt ? 0 : -EINVAL;
	return json_object_is_type(*v, t) ? 0 : -EINVAL;
}

static int get_int(json_object *o, const char *k, int64_t lo, int64_t hi, int64_t *out)
{
	json_object *v;
	if (get_typed(o, k, json_type_int, false, &v))
		return -EINVAL;
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

/* "args": optional (containers recorded before it existed) */
static int decode_args(json_object *o, struct runtime_state *s)
{
	json_object *v;
	if (get_typed(o, "args", json_type_array, true, &v))
		return -EINVAL;
	size_t n = v ? json_object_array_length(v) : 0;
	if (n > RUNTIME_MAX_ARGS)
		return -EINVAL;
	if (!(s->args = calloc(n + 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(v, i);
		if (!json_object_is_type(a, json_type_string))
			return -EINVAL;
		if (!(s->args[i] = strdup(json_object_get_string(a))))
			return -ENOMEM;
		s->n_args++;
	}
	return 0;
}

static bool is_hex_id(const char *s)
{
	if (strlen(s) != RUNTIME_ID_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

static int decode_fields(json_object *o, struct runtime_state *s, struct errmsg *err)
{
	json_object *v;
	int64_t x;
	if (get_typed(o, "id", json_type_string, false, &v) ||
	    !is_hex_id(json_object_get_string(v)))
		return bad(err, "id");
	memcpy(s->id, json_object_get_string(v), RUNTIME_ID_LEN + 1);
	if (get_typed(o, "name", json_type_string, false, &v) ||
	    runtime_name_check(json_object_get_string(v), NULL))
		return bad(err, "name");
	strcpy(s->name, json_object_get_string(v));
	if (get_typed(o, "image", json_type_string, false, &v) ||
	    !(s->image = strdup(json_object_get_string(v))))
		return bad(err, "image");
	if (get_typed(o, "image_digest", json_type_string, true, &v) ||
	    (v && json_object_get_string_len(v) >= (int)sizeof(s->digest)))
		return bad(err, "image_digest");
	if (v)
		strcpy(s->digest, json_object_get_string(v));
	if (get_typed(o, "command", json_type_array, false, &v))
		return bad(err, "command");
	size_t n = json_object_array_length(v);
	if (!(s->cmd = calloc(n + 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(v, i);
		if (!json_object_is_type(a, json_type_string) ||
		    !(s->cmd[i] = strdup(json_object_get_string(a))))
			return bad(err, "command");
		s->n_cmd++;
	}
	if (get_int(o, "created_ns", 0, INT64_MAX, &s->created_ns))
		return bad(err, "created_ns");
	if (get_int(o, "started_ns", 0, INT64_MAX, &s->started_ns))
		return bad(err, "started_ns");
	if (get_int(o, "finished_ns", 0, INT64_MAX, &s->finished_ns))
		return bad(err, "finished_ns");
	if (get_typed(o, "status", json_type_string, false, &v))
		return bad(err, "status");
	s->status = (enum runtime_status) - 1;
	for (int i = 0; i < 4; i++)
		if (!strcmp(json_object_get_string(v), status_names[i]))
			s->status = (enum runtime_status)i;
	if (s->status == (enum runtime_status) - 1)
		return bad(err, "status");
	if (get_int(o, "exit_code", 0, 255, &x))
		return bad(err, "exit_code");
	s->exit_code = (int)x;
	if (get_typed(o, "error", json_type_string, true, &v))
		return bad(err, "error");
	if (v && !(s->error = strdup(json_object_get_string(v))))
		return -ENOMEM;
	if (get_int(o, "monitor_pid", 0, INT32_MAX, &x))
		return bad(err, "monitor_pid");
	s->monitor_pid = (pid_t)x;
	if (get_int(o, "monitor_start", 0, INT64_MAX, &x))
		return bad(err, "monitor_start");
	s->monitor_start = (uint64_t)x;
	if (get_int(o, "stop_signal", 0, 64, &x))
		return bad(err, "stop_signal");
	s->stop_signal = (int)x;
	if (get_int(o, "stop_timeout", -1, INT32_MAX, &x))
		return bad(err, "stop_timeout");
	s->stop_timeout = (int)x;
	if (get_typed(o, "auto_remove", json_type_boolean, false, &v))
		return bad(err, "auto_remove");
	s->auto_remove = json_object_get_boolean(v);
	int rc = decode_args(o, s);
	if (rc)
		return rc == -ENOMEM ? rc : bad(err, "args");
	return runtime_config_decode(o, &s->cfg, err);
}

int runtime_state_decode(const char *json, size_t len, struct runtime_state *s, struct errmsg *err)
{
	memset(s, 0, sizeof(*s));
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	bool ok = json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	int rc;
	if (!ok || !json_object_is_type(o, json_type_object))
		rc = errmsg_set(err, -EINVAL, "state.json: not a JSON object");
	else
		rc = decode_fields(o, s, err);
	json_object_put(o);
	if (rc)
		runtime_state_free(s);
	return rc;
}

void runtime_state_free(struct runtime_state *s)
{
	for (size_t i = 0; s->cmd && i < s->n_cmd; i++)
		free(s->cmd[i]);
	free(s->cmd);
	for (size_t i = 0; s->args && i < s->n_args; i++)
		free(s->args[i]);
	free(s->args);
	free(s->image);
	free(s->error);
	free(s->dir);
	runtime_config_free(&s->cfg);
	memset(s, 0, sizeof(*s));
}

/* ---- names ---- */

int runtime_name_check(const char *name, struct errmsg *err)
{
	size_t n = strlen(name);
	if (!n || n > RUNTIME_NAME_MAX)
		return errmsg_set(err, -EINVAL, "name \"%s\": must be 1 to %d characters", name,
				  RUNTIME_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return errmsg_set(err, -EINVAL,
					  "name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
					  name);
	}
	return 0;
}

/* docker's generator (moby/pkg/namesgenerator), a shorter list. */
static const char *const adjectives[] = {
    "admiring", "amazing", "bold",     "brave",	   "busy",    "clever", "cool",
    "dazzling", "eager",   "elegant",  "focused",  "gallant", "happy",	"hopeful",
    "jolly",	"keen",	   "laughing", "loving",   "modest",  "nifty",	"peaceful",
    "quirky",	"relaxed", "serene",   "sharp",	   "stoic",   "sweet",	"tender",
    "upbeat",	"vibrant", "wizardly", "youthful", "zealous",
};
static const char *const scientists[] = {
    "agnesi",  "babbage",  "bohr",     "curie",	 "darwin",  "einstein", "euler",
    "fermat",  "feynman",  "gauss",    "hopper", "hypatia", "kepler",	"knuth",
    "lamarr",  "lovelace", "meitner",  "newton", "noether", "pascal",	"ritchie",
    "shannon", "thompson", "torvalds", "turing", "wozniak",
};

static uint32_t rnd32(void)
{
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)getpid() * 2654435761u;
	return r;
}

static void gen_name(char *out, size_t n, int attempt)
{
	const char *a = adjectives[rnd32() % (sizeof(adjectives) / sizeof(*adjectives))];
	const char *b = scientists[rnd32() % (sizeof(scientists) / sizeof(*scientists))];
	if (attempt < 8)
		snprintf(out, n, "%s_%s", a, b);
	else
		snprintf(out, n, "%s_%s%u", a, b, rnd32() % 100);
}

/* ---- locking and files ---- */

int runtime_lock(const char *root)
{
	char *p;
	if (asprintf(&p, "%s/lock", root) < 0)
		return -ENOMEM;
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(p);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int rc = -errno;
			close(fd);
			return rc;
		}
	}
	return fd;
}

void runtime_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

static int write_state(const struct runtime_state *s)
{
	char *json = NULL, *tmp = NULL, *dst = runtime_path(s, RUNTIME_STATE_FILE);
	int rc = runtime_state_encode(s, &json);
	if (!rc && (!dst || asprintf(&tmp, "%s.tmp.%d", dst, (int)getpid()) < 0)) {
		tmp = NULL;
		rc = -ENOMEM;
	}
	int fd = rc ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (!rc && fd < 0)
		rc = -errno;
	if (!rc) {
		size_t len = strlen(json), off = 0;
		while (!rc && off < len) {
			ssize_t w = write(fd, json + off, len - off);
			if (w < 0 && errno != EINTR)
				rc = -errno;
			else if (w > 0)
				off += (size_t)w;
		}
		if (!rc && fsync(fd) < 0)
			rc = -errno;
		close(fd);
		if (!rc && rename(tmp, dst) < 0)
			rc = -errno;
		if (rc)
			unlink(tmp);
	}
	free(json);
	free(tmp);
	free(dst);
	return rc;
}

/* Take the lock of the root s lives under. */
static int lock_of(const struct runtime_state *s)
{
	char *root = strdup(s->dir);
	if (!root)
		return -ENOMEM;
	char *slash = strrchr(root, '/');
	if (slash)
		*slash = '\0';
	int lk = runtime_lock(root);
	free(root);
	return lk;
}

int runtime_save(const struct runtime_state *s)
{
	int lk = lock_of(s);
	if (lk < 0)
		return lk;
	/* the name is the file's once registered: hull rename may have changed
	 * it since this process loaded the record */
	struct runtime_state cur;
	int rc = runtime_load(s->dir, &cur, NULL);
	if (!rc) {
		struct runtime_state w = *s; /* shallow: write_state only reads */
		memcpy(w.name, cur.name, sizeof(w.name));
		rc = write_state(&w);
		runtime_state_free(&cur);
	} else if (rc != -ENOMEM) {
		struct stat st;
		rc = stat(s->dir, &st) < 0 ? -errno : write_state(s);
	}
	runtime_unlock(lk);
	return rc;
}

int runtime_load(const char *dir, struct runtime_state *s, struct errmsg *err)
{
	char *p, *buf;
	size_t len;
	memset(s, 0, sizeof(*s));
	if (asprintf(&p, "%s/%s", dir, RUNTIME_STATE_FILE) < 0)
		return -ENOMEM;
	int rc = readfile_nofollow(p, RUNTIME_STATE_MAX, &buf, &len);
	if (rc) {
		errmsg_set(err, rc, "%s: %s", p, strerror(-rc));
		free(p);
		return rc;
	}
	free(p);
	rc = runtime_state_decode(buf, len, s, err);
	free(buf);
	if (!rc && !(s->dir = strdup(dir))) {
		runtime_state_free(s);
		rc = -ENOMEM;
	}
	return rc;
}

int runtime_list(const char *root, int (*fn)(void *ctx, struct runtime_state *s), void *ctx)
{
	DIR *d = opendir(root);
	if (!d)
		return -errno;
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (!is_hex_id(e->d_name))
			continue;
		char *dir;
		if (asprintf(&dir, "%s/%s", root, e->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		struct runtime_state s;
		if (!runtime_load(dir, &s, NULL)) {
			rc = fn(ctx, &s);
			runtime_state_free(&s);
		}
		free(dir);
	}
	closedir(d);
	return rc;
}

static int name_taken(void *ctx, struct runtime_state *s)
{
	return strcmp(s->name, ctx) ? 0 : 1;
}

int runtime_create(const char *root, struct runtime_state *s, struct errmsg *err)
{
	if (s->name[0] && runtime_name_check(s->name, err))
		return -EINVAL;
	int lk = runtime_lock(root);
	if (lk < 0)
		return errmsg_set(err, lk, "runtime directory %s: lock: %s", root, strerror(-lk));
	int rc = 0;
	if (s->name[0]) {
		if (runtime_list(root, name_taken, s->name) == 1)
			rc = errmsg_set(err, -EEXIST, "the container name \"%s\" is already in use",
					s->name);
	} else {
		int i = 0;
		do
			gen_name(s->name, sizeof(s->name), i);
		while (runtime_list(root, name_taken, s->name) == 1 && ++i < 64);
	}
	/* a fresh id whose short form is free too (the link is made first) */
	char *link = NULL;
	for (int tries = 0; !rc && !link; tries++) {
		uint8_t r[RUNTIME_ID_LEN / 2];
		if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
			rc = errmsg_set(err, -EIO, "getrandom: %s", strerror(errno));
			break;
		}
		for (size_t i = 0; i < sizeof(r); i++)
			sprintf(s->id + 2 * i, "%02x", r[i]);
		if (asprintf(&link, "%s/%.*s", root, RUNTIME_SHORT_LEN, s->id) < 0) {
			link = NULL;
			rc = -ENOMEM;
		} else if (symlink(s->id, link) < 0) {
			if (errno != EEXIST || tries > 8)
				rc = errmsg_set(err, -errno, "%s: %s", link, strerror(errno));
			free(link);
			link = NULL;
		}
	}
	if (!rc && asprintf(&s->dir, "%s/%s", root, s->id) < 0) {
		s->dir = NULL;
		rc = -ENOMEM;
	}
	if (!rc && mkdir(s->dir, 0700) < 0)
		rc = errmsg_set(err, -errno, "%s: %s", s->dir, strerror(errno));
	else if (!rc && (rc = write_state(s))) {
		errmsg_set(err, rc, "%s: writing the state: %s", s->dir, strerror(-rc));
		rmdir(s->dir);
	}
	if (rc && link)
		unlink(link);
	free(link);
	if (rc) {
		free(s->dir);
		s->dir = NULL;
	}
	runtime_unlock(lk);
	return rc;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int runtime_claim(const char *root, const char *ref, struct runtime_state *s, struct errmsg *err)
{
	int lk = runtime_lock(root);
	if (lk < 0)
		return errmsg_set(err, lk, "runtime directory %s: lock: %s", root, strerror(-lk));
	int rc = runtime_lookup(root, ref, s, err);
	if (!rc && (s->monitor_pid && runtime_monitor_alive(s)))
		rc = errmsg_set(err, -EBUSY, "container %s is already %s", ref,
				s->status == RUNTIME_CREATED ? "starting" : "running");
	if (!rc) {
		s->monitor_pid = getpid();
		if (runtime_proc_start(s->monitor_pid, &s->monitor_start))
			s->monitor_start = 0;
		s->status = RUNTIME_CREATED;
		s->exit_code = 0;
		free(s->error);
		s->error = NULL;
		s->started_ns = s->finished_ns = 0;
		if (!s->created_ns)
			s->created_ns = realtime_ns();
		if ((rc = write_state(s)))
			errmsg_set(err, rc, "%s: writing the state: %s", s->dir, strerror(-rc));
	}
	if (rc)
		runtime_state_free(s);
	runtime_unlock(lk);
	return rc;
}

int runtime_rename(const char *root, const char *ref, const char *name, struct errmsg *err)
{
	if (runtime_name_check(name, err))
		return -EINVAL;
	int lk = runtime_lock(root);
	if (lk < 0)
		return errmsg_set(err, lk, "runtime directory %s: lock: %s", root, strerror(-lk));
	struct runtime_state s;
	int rc = runtime_lookup(root, ref, &s, err);
	if (!rc && strcmp(s.name, name) && runtime_list(root, name_taken, (void *)name) == 1)
		rc = errmsg_set(err, -EEXIST, "the container name \"%s\" is already in use", name);
	if (!rc) {
		snprintf(s.name, sizeof(s.name), "%s", name);
		if ((rc = write_state(&s)))
			errmsg_set(err, rc, "%s: writing the state: %s", s.dir, strerror(-rc));
	}
	runtime_state_free(&s);
	runtime_unlock(lk);
	return rc;
}

struct find_ctx {
	const char *ref;
	char *by_id, *by_name, *by_prefix;
	int n_prefix;
};

static int find_one(void *ctx, struct runtime_state *s)
{
	struct find_ctx *f = ctx;
	if (!strcmp(s->id, f->ref) && !f->by_id)
		f->by_id = strdup(s->dir);
	if (!strcmp(s->name, f->ref) && !f->by_name)
		f->by_name = strdup(s->dir);
	if (!strncmp(s->id, f->ref, strlen(f->ref))) {
		f->n_prefix++;
		if (!f->by_prefix)
			f->by_prefix = strdup(s->dir);
	}
	return 0;
}

int runtime_lookup(const char *root, const char *ref, struct runtime_state *s, struct errmsg *err)
{
	memset(s, 0, sizeof(*s));
	if (!ref[0])
		return errmsg_set(err, -ENOENT, "no such container: \"\"");
	struct find_ctx f = {.ref = ref};
	int rc = runtime_list(root, find_one, &f);
	if (rc < 0 && rc != -ENOENT)
		return errmsg_set(err, rc, "runtime directory %s: %s", root, strerror(-rc));
	const char *dir = f.by_id	    ? f.by_id
			  : f.by_name	    ? f.by_name
			  : f.n_prefix == 1 ? f.by_prefix
					    : NULL;
	if (dir)
		rc = runtime_load(dir, s, err);
	else if (f.n_prefix > 1)
		rc = errmsg_set(err, -EEXIST, "%s: more than one container id starts with it", ref);
	else
		rc = errmsg_set(err, -ENOENT, "no such container: %s", ref);
	free(f.by_id);
	free(f.by_name);
	free(f.by_prefix);
	return rc;
}

int runtime_running_sock(const char *ref, char **path, struct errmsg *err)
{
	char *root;
	struct runtime_state s;
	*path = NULL;
	int rc = runtime_root(&root, err);
	if (rc)
		return rc;
	rc = runtime_lookup(root, ref, &s, err);
	free(root);
	if (rc)
		return rc;
	if (runtime_status_eff(&s, NULL) != RUNTIME_RUNNING)
		rc = errmsg_set(err, -EINVAL, "container %s is not running (%s)", ref,
				runtime_status_name(runtime_status_eff(&s, NULL)));
	else if (!(*path = runtime_sock_path(&s, RUNTIME_VSOCK_SOCK)))
		rc = -ENOMEM;
	runtime_state_free(&s);
	return rc;
}

static int remove_locked(const struct runtime_state *s)
{
	DIR *d = opendir(s->dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	/* only hull writes here, and only plain files and sockets */
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	if (rmdir(s->dir) < 0 && errno != ENOENT)
		return -errno;
	char *l = short_link(s), target[RUNTIME_ID_LEN + 1];
	ssize_t n = l ? readlink(l, target, sizeof(target)) : -1;
	if (n == RUNTIME_ID_LEN && !memcmp(target, s->id, RUNTIME_ID_LEN))
		unlink(l);
	free(l);
	return 0;
}

int runtime_remove(const struct runtime_state *s)
{
	int lk = lock_of(s);
	if (lk < 0)
		return lk;
	int rc = remove_locked(s);
	runtime_unlock(lk);
	return rc;
}

/* ---- monitor liveness ---- */

/* The fields of /proc/<pid>/stat after comm (from field 3, the state) in
 * buf; -ESRCH when pid is gone or a zombie. */
static int proc_stat_tail(pid_t pid, char *buf, size_t size, const char **tail)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	/* procfs files have no size: readfile() does not fit */
	int fd = pid > 0 ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t len = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return -ESRCH;
	buf[len] = '\0';
	/* comm (field 2) may hold spaces and ')': fields resume after the last ')' */
	char *q = strrchr(buf, ')');
	/* a zombie has ended: only its parent has not looked yet */
	if (!q || q[1] != ' ' || q[2] == 'Z' || q[2] == 'X')
		return -ESRCH;
	*tail = q + 1;
	return 0;
}

/* Field number `field` (proc(5)'s numbering, > 3) of a stat tail. */
static int stat_field(const char *f, int field, unsigned long long *v)
{
	for (int i = 3; i < field; i++) {
		f += strspn(f, " ");
		f += strcspn(f, " ");
	}
	char *end;
	*v = strtoull(f, &end, 10);
	if (end == f || (*end != ' ' && *end != '\n' && *end))
		return -ESRCH;
	return 0;
}

int runtime_proc_start(pid_t pid, uint64_t *start)
{
	char buf[1024];
	const char *f;
	unsigned long long v;
	if (proc_stat_tail(pid, buf, sizeof(buf), &f) < 0 || stat_field(f, 22, &v) < 0)
		return -ESRCH;
	*start = v;
	return 0;
}

int runtime_proc_usage(pid_t pid, struct runtime_proc_usage *u)
{
	char buf[1024];
	const char *f;
	unsigned long long ut, st, rss;
	if (proc_stat_tail(pid, buf, sizeof(buf), &f) < 0 || stat_field(f, 14, &ut) < 0 ||
	    stat_field(f, 15, &st) < 0 || stat_field(f, 24, &rss) < 0)
		return -ESRCH;
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	if (hz <= 0 || page <= 0)
		return -EINVAL;
	u->user_ns = ut * (1000000000ull / (unsigned long long)hz);
	u->system_ns = st * (1000000000ull / (unsigned long long)hz);
	u->rss_bytes = rss * (unsigned long long)page;
	return 0;
}

bool runtime_monitor_alive(const struct runtime_state *s)
{
	uint64_t st;
	if (s->monitor_pid <= 0 || runtime_proc_start(s->monitor_pid, &st))
		return false;
	return st == s->monitor_start;
}

enum runtime_status runtime_status_eff(const struct runtime_state *s, const char **why)
{
	if (why)
		*why = NULL;
	if (s->status == RUNTIME_CREATED && !s->monitor_pid)
		return RUNTIME_CREATED; /* hull create: no monitor until hull start */
	if ((s->status == RUNTIME_CREATED || s->status == RUNTIME_RUNNING) &&
	    !runtime_monitor_alive(s)) {
		if (why)
			*why = "monitor died";
		return RUNTIME_DEAD;
	}
	return s->status;
}
