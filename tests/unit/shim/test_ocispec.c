/* ocispec: config.json as containerd 1.6 writes it (shape of `ctr oci spec`
 * plus an image's process), exec process objects, and hostile variants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "shim/ocispec.h"

static const char config[] =
    "{\"ociVersion\":\"1.0.2-dev\","
    "\"process\":{\"user\":{\"uid\":1000,\"gid\":100},"
    "\"args\":[\"sh\",\"-c\",\"echo hi\"],"
    "\"env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\",\"A=b c\"],"
    "\"cwd\":\"/work\",\"terminal\":true,"
    "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512},"
    "{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,\"soft\":0}],"
    "\"noNewPrivileges\":true},"
    "\"root\":{\"path\":\"rootfs\"},"
    "\"hostname\":\"box\","
    "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/data\",\"options\":[\"rbind\","
    "\"ro\"]},"
    "{\"destination\":\"/cache\",\"type\":\"none\",\"source\":\"/var/"
    "cache\",\"options\":[\"rbind\","
    "\"rw\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\"}],"
    "\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
    "\"io.hull.memory\":\"256M\",\"empty\":\"\",\"eq\":\"a=b\"},"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}],\"cgroupsPath\":\"/default/t1\","
    "\"resources\":{\"memory\":{\"limit\":268435456},"
    "\"cpu\":{\"quota\":150000,\"period\":100000}}}}";

static void test_config(void **state)
{
	(void)state;
	struct shim_spec s;
	struct errmsg err = {{0}};
	assert_int_equal(shim_spec_parse(config, strlen(config), &s, &err), 0);
	assert_int_equal(s.n_args, 3);
	assert_string_equal(s.args[2], "echo hi");
	assert_null(s.args[3]); /* NULL-terminated for execve-style users */
	assert_int_equal(s.n_env, 2);
	assert_string_equal(s.env[1], "A=b c");
	assert_string_equal(s.cwd, "/work");
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.gid, 100);
	assert_true(s.terminal);
	/* as hull run's --ulimit nofile=512:1024 --ulimit core=0:-1 */
	assert_int_equal(s.n_ulimits, 2);
	assert_int_equal(s.ulimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(s.ulimits[0].hard, 1024);
	assert_int_equal(s.ulimits[0].soft, 512);
	assert_int_equal(s.ulimits[1].resource, RLIMIT_CORE);
	assert_true(s.ulimits[1].hard == UINT64_MAX);
	assert_int_equal(s.ulimits[1].soft, 0);
	assert_string_equal(s.hostname, "box");
	assert_string_equal(s.root_path, "rootfs");
	assert_int_equal(s.n_binds, 2);
	assert_string_equal(s.binds[0].source, "/srv/data");
	assert_string_equal(s.binds[0].destination, "/data");
	assert_true(s.binds[0].readonly);
	assert_string_equal(s.binds[1].destination, "/cache");
	assert_false(s.binds[1].readonly);
	/* as labels: KEY=VALUE */
	assert_int_equal(s.n_annotations, 4);
	assert_string_equal(s.annotations[0], "io.kubernetes.cri.container-type=sandbox");
	assert_null(s.annotations[4]);
	assert_string_equal(shim_spec_annotation(&s, "io.hull.memory"), "256M");
	assert_string_equal(shim_spec_annotation(&s, "empty"), "");
	assert_string_equal(shim_spec_annotation(&s, "eq"), "a=b");
	assert_null(shim_spec_annotation(&s, "io.hull"));
	assert_null(shim_spec_annotation(&s, "io.hull.cpus"));
	assert_int_equal(s.mem_limit, 268435456);
	assert_int_equal(s.cpu_milli, 1500);
	shim_spec_free(&s);
	shim_spec_free(&s); /* zeroed: harmless */
}

static void test_defaults_and_exec(void **state)
{
	(void)state;
	struct shim_spec s;
	struct errmsg err;
	const char *min = "{\"process\":{\"args\":[\"true\"]}}";
	assert_int_equal(shim_spec_parse(min, strlen(min), &s, &err), 0);
	assert_string_equal(s.cwd, "/");
	assert_int_equal(s.uid, 0);
	assert_false(s.terminal);
	assert_null(s.hostname);
	assert_null(s.root_path);
	assert_int_equal(s.n_binds, 0);
	assert_int_equal(s.mem_limit, 0);
	assert_int_equal(s.cpu_milli, 0);
	assert_int_equal(s.n_ulimits, 0);
	assert_int_equal(s.n_annotations, 0);
	assert_null(shim_spec_annotation(&s, "io.hull.cpus"));
	shim_spec_free(&s);

	/* -1: unlimited; a quota without a period: the kernel's 100 ms */
	const char *unl = "{\"process\":{\"args\":[\"true\"]},\"linux\":{\"resources\":{"
			  "\"memory\":{\"limit\":-1},\"cpu\":{\"quota\":200000}}}}";
	assert_int_equal(shim_spec_parse(unl, strlen(unl), &s, &err), 0);
	assert_int_equal(s.mem_limit, 0);
	assert_int_equal(s.cpu_milli, 2000);
	shim_spec_free(&s);
	/* a third of a CPU: rounded up to 1/1000 */
	const char *third = "{\"process\":{\"args\":[\"true\"]},\"linux\":{\"resources\":{"
			    "\"cpu\":{\"quota\":10000,\"period\":30000}}}}";
	assert_int_equal(shim_spec_parse(third, strlen(third), &s, &err), 0);
	assert_int_equal(s.cpu_milli, 334);
	shim_spec_free(&s);

	/* ctr task exec sends the process object alone */
	const char *p = "{\"args\":[\"ls\",\"/\"],\"env\":[\"X=1\"],\"cwd\":\"/tmp\",\"terminal\":"
			"false,\"user\":{\"uid\":0,\"gid\":0},"
			"\"rlimits\":[{\"type\":\"RLIMIT_NPROC\",\"hard\":9,\"soft\":8}]}";
	assert_int_equal(shim_process_parse(p, strlen(p), &s, &err), 0);
	assert_int_equal(s.n_args, 2);
	assert_string_equal(s.cwd, "/tmp");
	assert_int_equal(s.n_ulimits, 1); /* an exec's own */
	assert_int_equal(s.ulimits[0].resource, RLIMIT_NPROC);
	assert_int_equal(s.ulimits[0].soft, 8);
	shim_spec_free(&s);
}

static void expect_bad(const char *json, int rc, const char *part)
{
	struct shim_spec s;
	struct errmsg err = {{0}};
	assert_int_equal(shim_spec_parse(json, strlen(json), &s, &err), rc);
	if (!strstr(err.text, part))
		fail_msg("'%s' not in '%s'", part, err.text);
	assert_null(s.args); /* nothing left behind */
}

static void test_hostile(void **state)
{
	(void)state;
	expect_bad("{", -EINVAL, "not valid JSON");
	expect_bad("{} trailing", -EINVAL, "not valid JSON");
	expect_bad("[1]", -EINVAL, "not a JSON object");
	expect_bad("{}", -EINVAL, "process: missing");
	expect_bad("{\"process\":{\"args\":[]}}", -EINVAL, "no command");
	expect_bad("{\"process\":{\"args\":[\"a\",7]}}", -EINVAL, "process.args[1]: not a string");
	expect_bad("{\"process\":{\"args\":\"sh\"}}", -EINVAL, "process.args: not an array");
	expect_bad("{\"process\":{\"args\":[\"a\\u0000b\"]}}", -EINVAL, "NUL");
	expect_bad("{\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}}", -EINVAL, "not absolute");
	expect_bad("{\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":-1}}}", -EINVAL,
		   "process.user.uid");
	expect_bad("{\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":4294967296}}}", -EINVAL,
		   "process.user.uid");
	expect_bad("{\"process\":{\"args\":[\"a\"],\"terminal\":1}}", -EINVAL, "terminal");
	expect_bad("{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\"}]}}",
		   -EINVAL, "hard and soft");
	expect_bad(
	    "{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFIL\",\"hard\":1,"
	    "\"soft\":1}]}}",
	    -EINVAL, "process.rlimits[0]: RLIMIT_NOFIL: not a resource limit");
	expect_bad(
	    "{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,"
	    "\"soft\":2}]}}",
	    -EINVAL, "process.rlimits[0]: RLIMIT_NOFILE: the soft limit 2 exceeds");
	expect_bad("{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":7,\"hard\":1,"
		   "\"soft\":1}]}}",
		   -EINVAL, "process.rlimits[0].type: missing or not a string");
	expect_bad(
	    "{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":-1,"
	    "\"soft\":1}]}}",
	    -EINVAL, "process.rlimits[0]: negative");
	expect_bad(
	    "{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,"
	    "\"soft\":1},{\"type\":\"RLIMIT_NOFILE\",\"hard\":2,\"soft\":2}]}}",
	    -EINVAL, "process.rlimits[1]: a second RLIMIT_NOFILE");
	expect_bad("{\"process\":{\"args\":[\"a\"],\"rlimits\":{}}}", -EINVAL,
		   "process.rlimits: not an array");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"type\":\"bind\",\"destination\":"
		   "\"/x\"}]}",
		   -EINVAL, "mounts[0]: a bind needs source");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"type\":\"bind\",\"source\":"
		   "\"rel\",\"destination\":\"/x\"}]}",
		   -EINVAL, "absolute");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"annotations\":{\"k\":1}}", -EINVAL,
		   "annotations[k]: not a string");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"annotations\":{\"k=v\":\"1\"}}", -EINVAL,
		   "annotations[k=v]: a key is not empty and has no '='");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"annotations\":{\"\":\"1\"}}", -EINVAL,
		   "annotations[]");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"root\":{\"path\":1}}", -EINVAL,
		   "root.path: not a string");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"annotations\":[]}", -EINVAL,
		   "annotations: not an object");
	expect_bad("{\"process\":{\"args\":[\"\xff\"]}}", -EINVAL, "not valid JSON");
	expect_bad("{\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"memory\":{"
		   "\"limit\":\"1g\"}}}}",
		   -EINVAL, "linux.resources.memory.limit");

	/* more rlimits than the guest takes */
	char many[2048] = "{\"process\":{\"args\":[\"a\"],\"rlimits\":[";
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "%s{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":1}", i ? "," : "");
	strcat(many, "]}}");
	expect_bad(many, -EINVAL, "process.rlimits: 17 entries; at most 16");

	size_t big = SHIM_SPEC_MAX + 1;
	char *huge = malloc(big + 1);
	memset(huge, ' ', big);
	huge[big] = 0;
	struct shim_spec s;
	struct errmsg err;
	assert_int_equal(shim_spec_parse(huge, big, &s, &err), -EFBIG);
	free(huge);
}

static void test_load(void **state)
{
	(void)state;
	char dir[] = "/tmp/shim-spec.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct shim_spec s;
	struct errmsg err;
	assert_int_equal(shim_spec_load(dir, &s, &err), -ENOENT);
	assert_non_null(strstr(err.text, "config.json"));
	char path[64];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	fputs(config, f);
	fclose(f);
	assert_int_equal(shim_spec_load(dir, &s, &err), 0);
	assert_string_equal(s.hostname, "box");
	shim_spec_free(&s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_defaults_and_exec),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
