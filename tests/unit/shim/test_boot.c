/* The shim's command line, socket and address file, and event publishing
 * through a stand-in publish binary (a script recording what it was given). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "any.pb-c.h"
#include "common/readfile.h"
#include "shim/args.h"
#include "shim/bootstrap.h"
#include "shim/events.h"

static void test_args(void **state)
{
	(void)state;
	struct shim_args a;
	struct errmsg err;
	char *start[] = {"shim",
			 "-namespace",
			 "k8s",
			 "-address",
			 "/c.sock",
			 "-publish-binary",
			 "/usr/bin/containerd",
			 "-id",
			 "t1",
			 "-debug",
			 "start",
			 NULL};
	assert_int_equal(shim_args_parse(11, start, &a, &err), 0);
	assert_int_equal(a.action, SHIM_START);
	assert_string_equal(a.ns, "k8s");
	assert_string_equal(a.address, "/c.sock");
	assert_string_equal(a.publish_binary, "/usr/bin/containerd");
	assert_string_equal(a.id, "t1");
	assert_true(a.debug);

	char *del[] = {"shim", "--id=t2", "-bundle", "/b", "-debug=false", "delete", NULL};
	assert_int_equal(shim_args_parse(6, del, &a, &err), 0);
	assert_int_equal(a.action, SHIM_DELETE);
	assert_string_equal(a.ns, "default");
	assert_string_equal(a.bundle, "/b");
	assert_false(a.debug);

	char *serve[] = {"shim", "-id", "t3", NULL};
	assert_int_equal(shim_args_parse(3, serve, &a, &err), 0);
	assert_int_equal(a.action, SHIM_SERVE);

	char *v[] = {"shim", "-v", NULL};
	assert_int_equal(shim_args_parse(2, v, &a, &err), 0);
	assert_int_equal(a.action, SHIM_VERSION);

	char *bad1[] = {"shim", "-id", "t1", "-frobnicate", "x", NULL};
	assert_int_equal(shim_args_parse(5, bad1, &a, &err), -EINVAL);
	assert_non_null(strstr(err.text, "-frobnicate"));
	char *bad2[] = {"shim", "-id", "t1", "stop", NULL};
	assert_int_equal(shim_args_parse(4, bad2, &a, &err), -EINVAL);
	assert_non_null(strstr(err.text, "stop"));
	char *bad3[] = {"shim", "start", NULL};
	assert_int_equal(shim_args_parse(2, bad3, &a, &err), -EINVAL);
	assert_non_null(strstr(err.text, "-id"));
	char *bad4[] = {"shim", "-id", "../x", "start", NULL};
	assert_int_equal(shim_args_parse(4, bad4, &a, &err), -EINVAL);
	char *bad5[] = {"shim", "-id", NULL};
	assert_int_equal(shim_args_parse(2, bad5, &a, &err), -EINVAL);
	assert_non_null(strstr(err.text, "needs a value"));
	char *bad6[] = {"shim", "-id", "t1", "start", "delete", NULL};
	assert_int_equal(shim_args_parse(5, bad6, &a, &err), -EINVAL);
}

static void test_socket_and_address(void **state)
{
	(void)state;
	char dir[] = "/tmp/shim-boot.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[108];
	assert_int_equal(shim_socket_path(dir, "/c.sock", "default", "t1", path, sizeof(path)), 0);
	char want[128];
	snprintf(want, sizeof(want), "%s/shim.sock", dir);
	assert_string_equal(path, want);

	/* a bundle too long for sun_path: the hashed fallback, stable per id */
	char longb[200];
	memset(longb, 'b', sizeof(longb) - 1);
	longb[0] = '/';
	longb[sizeof(longb) - 1] = 0;
	char p1[108], p2[108], p3[108];
	assert_int_equal(shim_socket_path(longb, "/c.sock", "default", "t1", p1, sizeof(p1)), 0);
	assert_int_equal(shim_socket_path(longb, "/c.sock", "default", "t1", p2, sizeof(p2)), 0);
	assert_int_equal(shim_socket_path(longb, "/c.sock", "default", "t2", p3, sizeof(p3)), 0);
	assert_string_equal(p1, p2);
	assert_string_not_equal(p1, p3);
	assert_true(strncmp(p1, "/run/hull-shim/", 15) == 0);

	struct errmsg err;
	int fd, fd2;
	assert_int_equal(shim_listen(path, &fd, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a live shim there: EADDRINUSE, the caller reuses its address */
	assert_int_equal(shim_listen(path, &fd2, &err), -EADDRINUSE);
	close(fd);
	/* a dead shim's socket file is replaced */
	assert_int_equal(shim_listen(path, &fd2, &err), 0);
	close(fd2);
	unlink(path);

	assert_int_equal(shim_write_address(dir, path, &err), 0);
	char f[128], *buf;
	size_t len;
	snprintf(f, sizeof(f), "%s/address", dir);
	assert_int_equal(readfile(f, 4096, &buf, &len), 0);
	snprintf(want, sizeof(want), "unix://%s", path);
	assert_string_equal(buf, want); /* no newline: containerd reads it as is */
	char back[108];
	assert_int_equal(shim_socket_from_address(buf, back, sizeof(back)), 0);
	assert_string_equal(back, path);
	free(buf);
	assert_int_equal(shim_socket_from_address("tcp://1.2.3.4:5", back, sizeof(back)), -EINVAL);
	assert_int_equal(shim_socket_from_address("unix://rel", back, sizeof(back)), -EINVAL);
	unlink(f);
	rmdir(dir);
}

/* The publisher is `B --address A publish --topic T --namespace NS` with the
 * Any on stdin: a script stands in for containerd and logs both. */
static void test_events_publish(void **state)
{
	(void)state;
	char dir[] = "/tmp/shim-events.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char script[128], log[128];
	snprintf(script, sizeof(script), "%s/publish", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\n"
		"n=$(ls %s | grep -c '^ev')\n"
		"echo \"$*\" >>%s\n"
		"cat >%s/ev$n\n"
		"[ \"$5\" != /tasks/fail ]\n",
		dir, log, dir);
	fclose(f);
	chmod(script, 0700);

	struct shim_events *e;
	struct errmsg err;
	assert_int_equal(shim_events_start(script, "/c.sock", "default", &e, &err), 0);
	shim_events_publish(e, "/tasks/create", "containerd.events.TaskCreate",
			    (const uint8_t *)"\x0a\x02t1", 4);
	shim_events_publish(e, "/tasks/fail", "containerd.events.TaskStart", NULL, 0);
	shim_events_publish(e, "/tasks/exit", "containerd.events.TaskExit",
			    (const uint8_t *)"\x20\x03", 2);
	shim_events_stop(e); /* publishes what is queued first */

	char *buf;
	size_t len;
	assert_int_equal(readfile(log, 4096, &buf, &len), 0);
	assert_string_equal(buf,
			    "--address /c.sock publish --topic /tasks/create --namespace default\n"
			    "--address /c.sock publish --topic /tasks/fail --namespace default\n"
			    "--address /c.sock publish --topic /tasks/exit --namespace default\n");
	free(buf);
	char ev[128];
	snprintf(ev, sizeof(ev), "%s/ev2", dir);
	assert_int_equal(readfile(ev, 4096, &buf, &len), 0);
	Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, len, (uint8_t *)buf);
	assert_non_null(any);
	assert_string_equal(any->type_url, "containerd.events.TaskExit");
	assert_int_equal(any->value.len, 2);
	assert_memory_equal(any->value.data, "\x20\x03", 2);
	google__protobuf__any__free_unpacked(any, NULL);
	free(buf);
	for (int i = 0; i < 3; i++) {
		snprintf(ev, sizeof(ev), "%s/ev%d", dir, i);
		unlink(ev);
	}
	unlink(log);
	unlink(script);
	rmdir(dir);

	/* no publish binary: events are dropped, nothing runs */
	assert_int_equal(shim_events_start(NULL, NULL, NULL, &e, &err), 0);
	shim_events_publish(e, "/tasks/exit", "containerd.events.TaskExit", NULL, 0);
	shim_events_stop(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_socket_and_address),
	    cmocka_unit_test(test_events_publish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
