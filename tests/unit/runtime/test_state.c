/* runtime: the state file codec, registration, lookup by id/name/prefix,
 * stale detection, removal. Runs against a temp runtime root. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "runtime/state.h"

static char *argv_[] = {"sh", "-c", "echo \"hi\"\n", NULL};

static void fill(struct runtime_state *s)
{
	memset(s, 0, sizeof(*s));
	s->image = strdup("/img/x.oci");
	strcpy(s->digest, "sha256:0123");
	s->cmd = calloc(4, sizeof(char *));
	for (int i = 0; i < 3; i++)
		s->cmd[i] = strdup(argv_[i]);
	s->n_cmd = 3;
	s->created_ns = 1700000000123456789;
	s->status = RUNTIME_RUNNING;
	s->stop_signal = SIGTERM;
	s->stop_timeout = 10;
	s->monitor_pid = getpid();
	assert_int_equal(runtime_proc_start(getpid(), &s->monitor_start), 0);
}

static void test_codec_roundtrip(void **st)
{
	(void)st;
	struct runtime_state a, b;
	fill(&a);
	memset(a.id, 'a', RUNTIME_ID_LEN);
	strcpy(a.name, "web.1");
	a.started_ns = 5;
	a.finished_ns = 6;
	a.exit_code = 143;
	a.status = RUNTIME_EXITED;
	a.error = strdup("boom \"quoted\"");
	a.auto_remove = true;
	assert_true(asprintf(&a.dir, "/run/hull/%s", a.id) > 0);
	char *json, *want;
	assert_int_equal(runtime_state_encode(&a, &json), 0);
	assert_true(asprintf(&want, "\"log_path\":\"%s/container.log\"", a.dir) > 0);
	assert_non_null(strstr(json, want));
	free(want);
	assert_non_null(strstr(json, "\"vsock_socket\":\"/run/hull/aaaaaaaaaaaa/vsock.sock\""));
	assert_non_null(strstr(json, "\"monitor_socket\":\"/run/hull/aaaaaaaaaaaa/monitor.sock\""));
	struct errmsg err;
	assert_int_equal(runtime_state_decode(json, strlen(json), &b, &err), 0);
	assert_string_equal(b.id, a.id);
	assert_string_equal(b.name, "web.1");
	assert_string_equal(b.image, a.image);
	assert_string_equal(b.digest, a.digest);
	assert_int_equal(b.n_cmd, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(b.cmd[i], argv_[i]);
	assert_null(b.cmd[3]);
	assert_true(b.created_ns == a.created_ns && b.started_ns == 5 && b.finished_ns == 6);
	assert_int_equal(b.status, RUNTIME_EXITED);
	assert_int_equal(b.exit_code, 143);
	assert_string_equal(b.error, a.error);
	assert_int_equal(b.monitor_pid, a.monitor_pid);
	assert_true(b.monitor_start == a.monitor_start);
	assert_int_equal(b.stop_signal, SIGTERM);
	assert_int_equal(b.stop_timeout, 10);
	assert_true(b.auto_remove);
	assert_null(b.dir); /* never taken from the file */
	free(json);
	runtime_state_free(&a);
	runtime_state_free(&b);
}

/* Encode a good state, replace one field's text, expect a refusal naming it. */
static void expect_bad(const char *from, const char *to, const char *field)
{
	struct runtime_state a, b;
	fill(&a);
	memset(a.id, 'b', RUNTIME_ID_LEN);
	strcpy(a.name, "x");
	char *json;
	assert_int_equal(runtime_state_encode(&a, &json), 0);
	char *at = strstr(json, from);
	assert_non_null(at);
	char *edited = malloc(strlen(json) + strlen(to) + 1);
	sprintf(edited, "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
	struct errmsg err = {{0}};
	assert_int_equal(runtime_state_decode(edited, strlen(edited), &b, &err), -EINVAL);
	assert_non_null(strstr(err.text, field));
	assert_null(b.image); /* nothing half-filled */
	free(edited);
	free(json);
	runtime_state_free(&a);
}

static void test_codec_rejects(void **st)
{
	(void)st;
	expect_bad("\"status\":\"running\"", "\"status\":\"zombie\"", "status");
	expect_bad("\"exit_code\":0", "\"exit_code\":256", "exit_code");
	expect_bad("\"exit_code\":0", "\"exit_code\":\"0\"", "exit_code");
	expect_bad("\"name\":\"x\"", "\"name\":\"../x\"", "name");
	expect_bad("\"id\":\"bbbb", "\"id\":\"Xbbb", "id");
	expect_bad("\"monitor_pid\":", "\"monitor_pid\":-", "monitor_pid");
	expect_bad("\"command\":[", "\"command\":[1,", "command");
	expect_bad("\"auto_remove\":false", "\"auto_remove\":0", "auto_remove");
	expect_bad("\"created_ns\":", "\"created\":", "created_ns");
	struct runtime_state b;
	struct errmsg err;
	assert_int_equal(runtime_state_decode("[1]", 3, &b, &err), -EINVAL);
	assert_int_equal(runtime_state_decode("{\"id\":", 6, &b, &err), -EINVAL);
}

static void test_names(void **st)
{
	(void)st;
	assert_int_equal(runtime_name_check("a", NULL), 0);
	assert_int_equal(runtime_name_check("web_1.x-y", NULL), 0);
	assert_int_equal(runtime_name_check("", NULL), -EINVAL);
	assert_int_equal(runtime_name_check("_x", NULL), -EINVAL);
	assert_int_equal(runtime_name_check("a/b", NULL), -EINVAL);
	assert_int_equal(runtime_name_check("a b", NULL), -EINVAL);
	char big[RUNTIME_NAME_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(runtime_name_check(big, NULL), -EINVAL);
	big[RUNTIME_NAME_MAX] = '\0';
	assert_int_equal(runtime_name_check(big, NULL), 0);
}

static char *mkroot(void)
{
	char tmpl[] = "/tmp/hull-rt.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char *env;
	assert_true(asprintf(&env, "%s/run", tmpl) > 0);
	setenv("HULL_RUNTIME_DIR", env, 1);
	free(env);
	char *root;
	assert_int_equal(runtime_root(&root, NULL), 0);
	struct stat sb;
	assert_int_equal(stat(root, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	return root;
}

static void rmroot(char *root)
{
	char *cmd;
	*strrchr(root, '/') = '\0'; /* the mkdtemp() dir holding run/ */
	assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(root);
}

static void create(const char *root, const char *name, struct runtime_state *s)
{
	fill(s);
	if (name)
		strcpy(s->name, name);
	struct errmsg err;
	assert_int_equal(runtime_create(root, s, &err), 0);
}

static void test_create_lookup(void **st)
{
	(void)st;
	char *root = mkroot();
	struct runtime_state a, b, c, got;
	struct errmsg err = {{0}};
	create(root, "web", &a);
	create(root, NULL, &b);
	/* sockets are named through the short id, a link to the directory */
	char *sock = runtime_sock_path(&a, RUNTIME_VSOCK_SOCK), *want, target[80];
	assert_true(asprintf(&want, "%s/%.12s/vsock.sock", root, a.id) > 0);
	assert_string_equal(sock, want);
	*strrchr(want, '/') = '\0';
	ssize_t tn = readlink(want, target, sizeof(target));
	assert_int_equal(tn, RUNTIME_ID_LEN);
	assert_memory_equal(target, a.id, RUNTIME_ID_LEN);
	free(sock);
	free(want);
	assert_int_equal(strlen(b.id), RUNTIME_ID_LEN);
	assert_non_null(strchr(b.name, '_')); /* docker-style adjective_name */
	assert_int_equal(runtime_name_check(b.name, NULL), 0);

	/* a taken name is refused, and nothing is left of the attempt */
	fill(&c);
	strcpy(c.name, "web");
	assert_int_equal(runtime_create(root, &c, &err), -EEXIST);
	assert_non_null(strstr(err.text, "\"web\" is already in use"));
	assert_null(c.dir);
	runtime_state_free(&c);

	assert_int_equal(runtime_lookup(root, "web", &got, &err), 0);
	assert_string_equal(got.id, a.id);
	assert_string_equal(got.dir, a.dir);
	runtime_state_free(&got);
	assert_int_equal(runtime_lookup(root, b.id, &got, &err), 0);
	assert_string_equal(got.name, b.name);
	runtime_state_free(&got);
	char pre[13];
	snprintf(pre, sizeof(pre), "%s", b.id);
	assert_int_equal(runtime_lookup(root, pre, &got, &err), 0);
	assert_string_equal(got.id, b.id);
	runtime_state_free(&got);
	assert_int_equal(runtime_lookup(root, "nosuch", &got, &err), -ENOENT);
	assert_non_null(strstr(err.text, "no such container: nosuch"));
	assert_int_equal(runtime_lookup(root, "", &got, &err), -ENOENT);

	/* a name beats an id prefix (docker's order) */
	char bpre[6];
	snprintf(bpre, sizeof(bpre), "%s", b.id);
	create(root, bpre, &c);
	assert_int_equal(runtime_lookup(root, bpre, &got, &err), 0);
	assert_string_equal(got.id, c.id);
	runtime_state_free(&got);
	runtime_state_free(&c);

	/* 17 ids over 16 first digits: some first digit is shared */
	struct runtime_state many[17];
	int seen[16] = {0}, dup = -1;
	for (int i = 0; i < 17; i++) {
		create(root, NULL, &many[i]);
		int d = many[i].id[0] <= '9' ? many[i].id[0] - '0' : many[i].id[0] - 'a' + 10;
		if (++seen[d] == 2 && dup < 0)
			dup = d;
	}
	char amb[2] = {"0123456789abcdef"[dup], '\0'};
	assert_int_equal(runtime_lookup(root, amb, &got, &err), -EEXIST);
	assert_non_null(strstr(err.text, "more than one"));
	for (int i = 0; i < 17; i++)
		runtime_state_free(&many[i]);

	runtime_state_free(&a);
	runtime_state_free(&b);
	rmroot(root);
}

static int count(void *ctx, struct runtime_state *s)
{
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

static void test_save_list_remove(void **st)
{
	(void)st;
	char *root = mkroot();
	struct runtime_state a, got;
	create(root, "one", &a);
	a.status = RUNTIME_EXITED;
	a.exit_code = 7;
	assert_int_equal(runtime_save(&a), 0);
	assert_int_equal(runtime_load(a.dir, &got, NULL), 0);
	assert_int_equal(got.status, RUNTIME_EXITED);
	assert_int_equal(got.exit_code, 7);
	runtime_state_free(&got);

	/* damaged entries and strangers are skipped by the listing */
	char *p;
	assert_true(asprintf(&p, "%s/%064d", root, 0) > 0);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	assert_true(asprintf(&p, "%s/%064d/state.json", root, 0) > 0);
	FILE *f = fopen(p, "w");
	fputs("{not json", f);
	fclose(f);
	free(p);
	assert_true(asprintf(&p, "%s/stranger", root) > 0);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	int n = 0;
	assert_int_equal(runtime_list(root, count, &n), 0);
	assert_int_equal(n, 1);

	/* removal takes everything in the directory, sockets included */
	char *sp = runtime_path(&a, RUNTIME_MONITOR_SOCK);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sp);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	free(sp);
	assert_int_equal(runtime_remove(&a), 0);
	struct stat sb;
	assert_int_equal(stat(a.dir, &sb), -1);
	char *link;
	assert_true(asprintf(&link, "%s/%.12s", root, a.id) > 0);
	assert_int_equal(lstat(link, &sb), -1); /* the short-id link went too */
	free(link);
	/* the monitor of a removed container cannot resurrect it */
	assert_int_equal(runtime_save(&a), -ENOENT);
	assert_int_equal(stat(a.dir, &sb), -1);
	runtime_state_free(&a);
	rmroot(root);
}

/* A runtime directory another user could write to, or a symlink, or one
 * that is not the caller's, is refused with the variable to change. */
static void test_root_refused(void **st)
{
	(void)st;
	char tmpl[] = "/tmp/hull-rt.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char dir[64], link[64];
	snprintf(dir, sizeof(dir), "%s/run", tmpl);
	snprintf(link, sizeof(link), "%s/link", tmpl);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	setenv("HULL_RUNTIME_DIR", dir, 1);
	char *root = (char *)1;
	struct errmsg err = {{0}};
	assert_int_equal(runtime_root(&root, &err), -EPERM);
	assert_null(root);
	assert_non_null(strstr(err.text, "writable by others (mode 0777)"));
	assert_non_null(strstr(err.text, dir));
	assert_non_null(strstr(err.text, "HULL_RUNTIME_DIR"));
	assert_int_equal(chmod(dir, 0770), 0); /* group-writable: refused too */
	assert_int_equal(runtime_root(&root, &err), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(symlink(dir, link), 0);
	setenv("HULL_RUNTIME_DIR", link, 1);
	assert_int_equal(runtime_root(&root, &err), -EPERM);
	assert_non_null(strstr(err.text, "a symlink"));
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 65534, 65534), 0);
		setenv("HULL_RUNTIME_DIR", dir, 1);
		assert_int_equal(runtime_root(&root, &err), -EPERM);
		assert_non_null(strstr(err.text, "owned by uid 65534, not by you"));
	}
	assert_int_equal(runtime_root_check(tmpl, &err), 0); /* mkdtemp: 0700, ours */
	unlink(link);
	rmdir(dir);
	rmdir(tmpl);
}

static void test_root_too_long(void **st)
{
	(void)st;
	/* <root>/<64 hex id>/vsock.sock_<port> must fit in a sockaddr_un */
	setenv("HULL_RUNTIME_DIR",
	       "/tmp/a-runtime-directory-that-is-far-too-long-for-the-vsock-socket-paths-of-a-vm",
	       1);
	char *root = (char *)1;
	struct errmsg err = {{0}};
	assert_int_equal(runtime_root(&root, &err), -ENAMETOOLONG);
	assert_null(root);
	assert_non_null(strstr(err.text, "HULL_RUNTIME_DIR"));
	struct stat sb;
	assert_int_equal(
	    stat("/tmp/a-runtime-directory-that-is-far-too-long-for-the-vsock-socket-paths-of-a-vm",
		 &sb),
	    -1);
}

/* What the container was created with (state_config.h): through state.json
 * and back; an older file without these fields still reads. */
static void test_codec_config(void **st)
{
	(void)st;
	static char *env[] = {"PATH=/bin", "FOO=a \"b\""}, *binds[] = {"/h:/g:ro"},
		    *labels[] = {"app=web", "tier=front=end", "empty="};
	struct runtime_port ports[] = {{.udp = false, .host_ip = 0x7f000001, 8080, 80},
				       {.udp = true, .host_ip = 0, 53, 5353}};
	struct runtime_config src = {
	    .env = env,
	    .n_env = 2,
	    .workdir = "/srv",
	    .hostname = "h1",
	    .cpus = 2,
	    .mem_bytes = 256ull << 20,
	    .binds = binds,
	    .n_binds = 1,
	    .ports = ports,
	    .n_ports = 2,
	    .network = "slirp",
	    .ip_address = "10.0.2.15",
	    .labels = labels,
	    .n_labels = 3,
	    .open_stdin = true,
	};
	struct runtime_state a, b;
	fill(&a);
	memset(a.id, 'c', RUNTIME_ID_LEN);
	strcpy(a.name, "cfg");
	assert_int_equal(runtime_config_copy(&a.cfg, &src), 0);
	char *json;
	assert_int_equal(runtime_state_encode(&a, &json), 0);
	assert_non_null(strstr(json, "\"labels\":{"));
	struct errmsg err;
	assert_int_equal(runtime_state_decode(json, strlen(json), &b, &err), 0);
	assert_int_equal(b.cfg.n_env, 2);
	assert_string_equal(b.cfg.env[1], "FOO=a \"b\"");
	assert_string_equal(b.cfg.workdir, "/srv");
	assert_string_equal(b.cfg.hostname, "h1");
	assert_int_equal(b.cfg.cpus, 2);
	assert_true(b.cfg.mem_bytes == 256ull << 20);
	assert_int_equal(b.cfg.n_binds, 1);
	assert_string_equal(b.cfg.binds[0], "/h:/g:ro");
	assert_int_equal(b.cfg.n_ports, 2);
	for (int i = 0; i < 2; i++)
		assert_true(b.cfg.ports[i].udp == ports[i].udp &&
			    b.cfg.ports[i].host_ip == ports[i].host_ip &&
			    b.cfg.ports[i].host_port == ports[i].host_port &&
			    b.cfg.ports[i].guest_port == ports[i].guest_port);
	assert_string_equal(b.cfg.network, "slirp");
	assert_string_equal(b.cfg.ip_address, "10.0.2.15");
	assert_int_equal(b.cfg.n_labels, 3);
	assert_string_equal(runtime_config_label(&b.cfg, "tier"), "front=end");
	assert_string_equal(runtime_config_label(&b.cfg, "empty"), "");
	assert_true(b.cfg.open_stdin);
	assert_null(runtime_config_label(&b.cfg, "ap"));
	char text[64];
	runtime_port_text(&b.cfg.ports[0], text, sizeof(text));
	assert_string_equal(text, "127.0.0.1:8080->80/tcp");
	runtime_port_text(&b.cfg.ports[1], text, sizeof(text));
	assert_string_equal(text, "0.0.0.0:53->5353/udp");
	runtime_state_free(&b);

	/* hostile edits are refused, naming the field */
	const char *edits[][3] = {
	    {"\"container_port\":80", "\"container_port\":0", "ports"},
	    {"\"proto\":\"tcp\"", "\"proto\":\"sctp\"", "ports"},
	    {"\"host_ip\":\"127.0.0.1\"", "\"host_ip\":\"localhost\"", "ports"},
	    {"\"app\":\"web\"", "\"app\":1", "labels"},
	    {"\"app\":\"web\"", "\"a=b\":\"web\"", "labels"},
	    {"\"cpus\":2", "\"cpus\":-2", "cpus"},
	    {"\"open_stdin\":true", "\"open_stdin\":1", "open_stdin"},
	    {"\"binds\":[", "\"binds\":[1,", "binds"},
	    {"\"env\":[", "\"env\":[{}],\"x\":[", "env"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *at = strstr(json, edits[i][0]);
		if (!at)
			fail_msg("no %s in %s", edits[i][0], json);
		char *e = malloc(strlen(json) + strlen(edits[i][1]) + 1);
		sprintf(e, "%.*s%s%s", (int)(at - json), json, edits[i][1],
			at + strlen(edits[i][0]));
		assert_int_equal(runtime_state_decode(e, strlen(e), &b, &err), -EINVAL);
		if (!strstr(err.text, edits[i][2]))
			fail_msg("%s: '%s' does not name %s", edits[i][1], err.text, edits[i][2]);
		free(e);
	}
	free(json);
	runtime_config_free(&a.cfg);
	/* an older state.json: none of these fields */
	assert_int_equal(runtime_state_encode(&a, &json), 0);
	char *k = strstr(json, "\"cpus\"");
	assert_non_null(k);
	*k = '\0';
	char *cut;
	assert_true(asprintf(&cut, "%s\"x\":0}", json) > 0);
	assert_int_equal(runtime_state_decode(cut, strlen(cut), &b, &err), 0);
	assert_int_equal(b.cfg.n_ports + b.cfg.n_labels + b.cfg.n_env + b.cfg.cpus, 0);
	assert_null(b.cfg.network);
	assert_false(b.cfg.open_stdin);
	runtime_state_free(&b);
	free(cut);
	free(json);
	runtime_state_free(&a);
}

/* --root DIR (HULL_ROOT): containers under DIR/run, DIR created; an unusable
 * directory is named with the ways out. */
static void test_root_from_hull_root(void **st)
{
	(void)st;
	char base[] = "/tmp/hull-state-root.XXXXXX";
	assert_non_null(mkdtemp(base));
	char *dir, *root = NULL;
	assert_true(asprintf(&dir, "%s/r", base) > 0);
	unsetenv("HULL_RUNTIME_DIR");
	setenv("HULL_ROOT", dir, 1);
	struct errmsg err = {{0}};
	assert_int_equal(runtime_root(&root, &err), 0);
	char *want;
	assert_true(asprintf(&want, "%s/run", dir) > 0);
	assert_string_equal(root, want);
	struct stat sb;
	assert_int_equal(stat(want, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	free(root);
	free(want);
	/* a file where the directory should be */
	char *file;
	assert_true(asprintf(&file, "%s/file", base) > 0);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	char *bad;
	assert_true(asprintf(&bad, "%s/run", file) > 0);
	setenv("HULL_RUNTIME_DIR", bad, 1);
	assert_int_equal(runtime_root(&root, &err), -ENOTDIR);
	assert_null(root);
	assert_non_null(strstr(err.text, bad));
	assert_non_null(strstr(err.text, "HULL_RUNTIME_DIR"));
	assert_non_null(strstr(err.text, "--root"));
	unsetenv("HULL_RUNTIME_DIR");
	unsetenv("HULL_ROOT");
	char *cmd;
	assert_true(asprintf(&cmd, "rm -rf %s", base) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(bad);
	free(file);
	free(dir);
}

static void test_stale(void **st)
{
	(void)st;
	struct runtime_state s;
	const char *why;
	fill(&s); /* monitor: this process */
	assert_true(runtime_monitor_alive(&s));
	assert_int_equal(runtime_status_eff(&s, &why), RUNTIME_RUNNING);
	assert_null(why);
	s.status = RUNTIME_CREATED;
	assert_int_equal(runtime_status_eff(&s, &why), RUNTIME_CREATED);

	/* same pid, other start time: the pid was reused */
	s.monitor_start++;
	assert_false(runtime_monitor_alive(&s));
	assert_int_equal(runtime_status_eff(&s, &why), RUNTIME_DEAD);
	assert_string_equal(why, "monitor died");
	s.monitor_start--;

	/* a monitor that exited */
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) == 0 ? 0 : 1); /* until the parent closes it */
	}
	close(go[0]);
	uint64_t t;
	assert_int_equal(runtime_proc_start(pid, &t), 0);
	close(go[1]);
	/* exited, not reaped yet: a zombie is no monitor */
	siginfo_t si;
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	uint64_t t2;
	assert_int_equal(runtime_proc_start(pid, &t2), -ESRCH);
	waitpid(pid, NULL, 0);
	s.monitor_pid = pid;
	s.monitor_start = t;
	s.status = RUNTIME_RUNNING;
	assert_int_equal(runtime_proc_start(pid, &t), -ESRCH);
	assert_int_equal(runtime_status_eff(&s, &why), RUNTIME_DEAD);
	/* an exited container needs no monitor */
	s.status = RUNTIME_EXITED;
	assert_int_equal(runtime_status_eff(&s, &why), RUNTIME_EXITED);
	assert_null(why);
	s.monitor_pid = 0;
	s.status = RUNTIME_RUNNING;
	assert_int_equal(runtime_status_eff(&s, NULL), RUNTIME_DEAD);
	/* hull create's: no monitor until hull start, and not dead */
	s.status = RUNTIME_CREATED;
	assert_int_equal(runtime_status_eff(&s, &why), RUNTIME_CREATED);
	assert_null(why);
	runtime_state_free(&s);
}

/* what the shim's Stats reports for a VM monitor: this process's own use */
static void test_proc_usage(void **st)
{
	(void)st;
	struct runtime_proc_usage u;
	/* burn some CPU so the tick counters move */
	volatile uint64_t x = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	do {
		for (int i = 0; i < 1000000; i++)
			x += (uint64_t)i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	} while (t1.tv_sec - t0.tv_sec < 1 &&
		 (t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec < 100000000L);
	assert_int_equal(runtime_proc_usage(getpid(), &u), 0);
	assert_true(u.user_ns + u.system_ns > 0);
	assert_true(u.rss_bytes > 1024 * 1024); /* ASan alone maps more than that */
	/* at most what the kernel says this process used, at tick granularity */
	uint64_t cpu_ns = (uint64_t)t1.tv_sec * 1000000000ull + (uint64_t)t1.tv_nsec;
	assert_true(u.user_ns + u.system_ns <= cpu_ns + 20000000ull);
	assert_int_equal(runtime_proc_usage(0, &u), -ESRCH);
	assert_int_equal(runtime_proc_usage(INT32_MAX, &u), -ESRCH);
}

/* args: round trip, optional (older files), checked */
static void test_args(void **st)
{
	(void)st;
	struct runtime_state a, b;
	struct errmsg err = {{0}};
	fill(&a);
	memset(a.id, 'c', RUNTIME_ID_LEN);
	strcpy(a.name, "p");
	a.args = calloc(4, sizeof(char *));
	a.args[0] = strdup("-p");
	a.args[1] = strdup("8080:80");
	a.args[2] = strdup("img");
	a.n_args = 3;
	char *json;
	assert_int_equal(runtime_state_encode(&a, &json), 0);
	assert_int_equal(runtime_state_decode(json, strlen(json), &b, &err), 0);
	assert_int_equal(b.n_args, 3);
	assert_string_equal(b.args[1], "8080:80");
	assert_null(b.args[3]);
	runtime_state_free(&b);
	free(json);
	runtime_state_free(&a);

	/* a file without them (an older hull's) still reads */
	fill(&a);
	memset(a.id, 'd', RUNTIME_ID_LEN);
	strcpy(a.name, "old");
	assert_int_equal(runtime_state_encode(&a, &json), 0);
	json_object *jo = json_tokener_parse(json);
	assert_non_null(jo);
	json_object_object_del(jo, "args");
	free(json);
	json = strdup(json_object_to_json_string(jo));
	json_object_put(jo);
	assert_null(strstr(json, "\"args\""));
	assert_int_equal(runtime_state_decode(json, strlen(json), &b, &err), 0);
	assert_int_equal(b.n_args, 0);
	runtime_state_free(&b);
	free(json);
	runtime_state_free(&a);

	expect_bad("\"args\":[", "\"args\":[1", "args");
}

static void test_rename_claim(void **st)
{
	(void)st;
	char *root = mkroot();
	struct runtime_state a, b, got;
	struct errmsg err = {{0}};
	create(root, "one", &a);
	create(root, "two", &b);
	assert_int_equal(runtime_rename(root, "one", "two", &err), -EEXIST);
	assert_non_null(strstr(err.text, "\"two\" is already in use"));
	assert_int_equal(runtime_rename(root, "one", "../x", &err), -EINVAL);
	assert_int_equal(runtime_rename(root, "nosuch", "three", &err), -ENOENT);
	assert_int_equal(runtime_rename(root, "one", "one", &err), 0); /* its own name */
	assert_int_equal(runtime_rename(root, "one", "three", &err), 0);
	assert_int_equal(runtime_lookup(root, "one", &got, &err), -ENOENT);
	assert_int_equal(runtime_lookup(root, "three", &got, &err), 0);
	assert_string_equal(got.id, a.id);
	runtime_state_free(&got);
	/* a monitor saving its record later keeps the new name */
	a.status = RUNTIME_EXITED;
	assert_int_equal(runtime_save(&a), 0);
	assert_int_equal(runtime_load(a.dir, &got, NULL), 0);
	assert_string_equal(got.name, "three");
	assert_int_equal(got.status, RUNTIME_EXITED);
	runtime_state_free(&got);

	/* claim: a running one (this process is its monitor) is refused */
	assert_int_equal(runtime_claim(root, "two", &got, &err), -EBUSY);
	assert_non_null(strstr(err.text, "running"));
	/* an exited one is taken over: this process, created, last run cleared */
	a.exit_code = 3;
	a.finished_ns = 9;
	a.monitor_pid = 0;
	assert_int_equal(runtime_save(&a), 0);
	assert_int_equal(runtime_claim(root, "three", &got, &err), 0);
	assert_int_equal(got.status, RUNTIME_CREATED);
	assert_int_equal(got.monitor_pid, getpid());
	assert_true(got.exit_code == 0 && got.finished_ns == 0);
	assert_string_equal(got.name, "three");
	runtime_state_free(&got);
	assert_int_equal(runtime_load(a.dir, &got, NULL), 0);
	assert_int_equal(runtime_status_eff(&got, NULL), RUNTIME_CREATED);
	runtime_state_free(&got);
	runtime_state_free(&a);
	runtime_state_free(&b);
	rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codec_roundtrip),
	    cmocka_unit_test(test_codec_rejects),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_create_lookup),
	    cmocka_unit_test(test_save_list_remove),
	    cmocka_unit_test(test_stale),
	    cmocka_unit_test(test_proc_usage),
	    cmocka_unit_test(test_root_too_long),
	    cmocka_unit_test(test_root_refused),
	    cmocka_unit_test(test_codec_config),
	    cmocka_unit_test(test_root_from_hull_root),
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_rename_claim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
