/* Unit tests for runtime/volume.c: -v parsing and what it hands the VM and the
 * container spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/volume.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hull-test-vol-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char p[128];
	snprintf(p, sizeof(p), "%s/file", dir);
	FILE *f = fopen(p, "w");
	fclose(f);
	snprintf(p, sizeof(p), "%s/a:b", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/link", dir); /* as a container could plant it */
	assert_int_equal(symlink("/etc", p), 0);
	snprintf(p, sizeof(p), "%s/a:b/up", dir);
	assert_int_equal(symlink("..", p), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static int parse(const char *fmt, struct volume_arg *v, struct errmsg *err)
{
	char arg[256];
	snprintf(arg, sizeof(arg), fmt, dir);
	return volume_parse(arg, v, err);
}

static void test_parse_ok(void **state)
{
	(void)state;
	struct volume_arg v;
	struct errmsg err;
	assert_int_equal(parse("%s:/data", &v, &err), 0);
	assert_string_equal(v.host, dir);
	assert_string_equal(v.guest, "/data");
	assert_false(v.read_only);
	volume_arg_free(&v);
	assert_int_equal(parse("%s/./:/data//:ro", &v, &err), 0);
	assert_string_equal(v.host, dir); /* realpath */
	assert_string_equal(v.guest, "/data");
	assert_true(v.read_only);
	volume_arg_free(&v);
	assert_int_equal(parse("%s/a:b:/x:rw", &v, &err), 0); /* ':' in HOSTDIR */
	assert_false(v.read_only);
	assert_string_equal(v.guest, "/x");
	volume_arg_free(&v);
	/* relative HOSTDIR, from the working directory */
	char cwd[256];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(volume_parse(".:/here", &v, &err), 0);
	assert_string_equal(v.host, dir);
	volume_arg_free(&v);
	assert_int_equal(chdir(cwd), 0);
}

static void test_parse_errors(void **state)
{
	(void)state;
	struct volume_arg v;
	struct errmsg err;
	assert_int_equal(parse("%s", &v, &err), -EINVAL);
	assert_non_null(strstr(err.text, "HOSTDIR:GUESTDIR"));
	assert_int_equal(parse("%s:data", &v, &err), -EINVAL);
	assert_non_null(strstr(err.text, "\"data\" must be absolute"));
	assert_int_equal(parse("%s:/", &v, &err), -EINVAL);
	assert_int_equal(parse("%s:/a/../b", &v, &err), -EINVAL);
	assert_int_equal(parse("%s/missing:/data", &v, &err), -ENOENT);
	assert_non_null(strstr(err.text, "/missing\": No such file"));
	assert_int_equal(parse("%s/file:/data", &v, &err), -ENOTDIR);
	assert_non_null(strstr(err.text, "is not a directory"));
	assert_int_equal(volume_parse(":/data", &v, &err), -EINVAL);
	assert_int_equal(parse("%s:/data:ro,bogus", &v, &err), -EINVAL);
	assert_non_null(strstr(err.text, "option \"bogus\""));
}

/* A symlink anywhere in HOSTDIR is refused, named with its target. */
static void test_symlinks(void **state)
{
	(void)state;
	struct volume_arg v;
	struct errmsg err;
	char want[128];
	assert_int_equal(parse("%s/link:/data", &v, &err), -ELOOP);
	snprintf(want, sizeof(want), "\"%s/link\" is a symlink (to /etc)", dir);
	assert_non_null(strstr(err.text, want));
	assert_null(v.host);
	assert_int_equal(parse("%s/link/ssl:/data", &v, &err), -ELOOP);
	assert_non_null(strstr(err.text, want));
	assert_int_equal(parse("%s/a:b/up:/data", &v, &err), -ELOOP);
	assert_non_null(strstr(err.text, "(to ..)"));
	/* relative, through the working directory */
	char cwd[256];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(volume_parse("link:/here", &v, &err), -ELOOP);
	assert_int_equal(volume_parse("a:b/..:/here", &v, &err), 0); /* a real ".." */
	assert_string_equal(v.host, dir);
	volume_arg_free(&v);
	assert_int_equal(chdir(cwd), 0);
}

static void test_options(void **state)
{
	(void)state;
	struct volume_arg v;
	struct errmsg err;
	/* passthrough-owners: refused, saying why (the jailed monitor has
	 * no CAP_CHOWN) */
	assert_int_equal(parse("%s:/data:passthrough-owners", &v, &err), -EPERM);
	assert_non_null(strstr(err.text, "passthrough-owners: not available"));
	assert_non_null(strstr(err.text, "CAP_CHOWN"));
	assert_int_equal(parse("%s:/data:ro,passthrough-owners", &v, &err), -EPERM);
	assert_int_equal(parse("%s:/data:ro", &v, &err), 0);
	assert_true(v.read_only);
	assert_string_equal(v.guest, "/data");
	struct vmm_volume vols[VMM_MAX_VOLUMES];
	struct hcp_spec spec = {0};
	assert_int_equal(volume_apply(&v, 1, vols, &spec, &err), 0);
	assert_true(vols[0].read_only);
	hcp_spec_free(&spec);
	volume_arg_free(&v);
	assert_int_equal(parse("%s:/data:rw,bogus", &v, &err), -EINVAL);
	assert_non_null(strstr(err.text, "option \"bogus\": expected ro or rw"));
}

static void test_apply(void **state)
{
	(void)state;
	struct volume_arg v[2];
	struct errmsg err;
	assert_int_equal(parse("%s:/data", &v[0], &err), 0);
	assert_int_equal(parse("%s:/ro:ro", &v[1], &err), 0);
	struct vmm_volume vols[VMM_MAX_VOLUMES];
	struct hcp_spec spec = {0};
	assert_int_equal(volume_apply(v, 2, vols, &spec, &err), 0);
	assert_int_equal(spec.nvolumes, 2);
	assert_string_equal(spec.volumes[1].tag, "hullvol1");
	assert_string_equal(spec.volumes[1].path, "/ro");
	assert_true(spec.volumes[1].read_only);
	assert_string_equal(vols[0].host_dir, dir);
	assert_true(vols[1].read_only);
	hcp_spec_free(&spec);
	/* the same container path twice */
	volume_arg_free(&v[1]);
	assert_int_equal(parse("%s:/data/", &v[1], &err), 0);
	assert_int_equal(volume_apply(v, 2, vols, &spec, &err), -EINVAL);
	assert_non_null(strstr(err.text, "/data"));
	hcp_spec_free(&spec);
	volume_arg_free(&v[0]);
	volume_arg_free(&v[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_parse_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
