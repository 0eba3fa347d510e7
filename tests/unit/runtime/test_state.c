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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

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
	runtime_state_free(&s);
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
	    cmocka_unit_test(test_root_too_long),
	    cmocka_unit_test(test_root_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
