/* cp_path: hull cp's NAME:PATH arguments, and the names from a container's
 * tar stream: only what lies under the path asked for, renamed, and never
 * anything that climbs out (the guest is hostile). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cp_path.h"

static void test_args(void **st)
{
	(void)st;
	struct cp_arg a;
	assert_int_equal(cp_arg_parse("web:/etc/hosts", &a), 0);
	assert_string_equal(a.container, "web");
	assert_string_equal(a.path, "/etc/hosts");
	cp_arg_free(&a);
	assert_int_equal(cp_arg_parse("web:rel", &a), 0);
	assert_string_equal(a.path, "rel");
	cp_arg_free(&a);
	/* a '/' before the ':' makes a host path */
	assert_int_equal(cp_arg_parse("./a:b", &a), 0);
	assert_null(a.container);
	assert_string_equal(a.path, "./a:b");
	cp_arg_free(&a);
	assert_int_equal(cp_arg_parse("/tmp/x", &a), 0);
	assert_null(a.container);
	cp_arg_free(&a);
	assert_int_equal(cp_arg_parse(":/x", &a), -EINVAL);
	assert_int_equal(cp_arg_parse("web:", &a), -EINVAL);
	assert_int_equal(cp_arg_parse("", &a), -EINVAL);
}

static void split(const char *p, const char *dir, const char *base)
{
	char *d, *b;
	assert_int_equal(cp_split(p, &d, &b), 0);
	assert_string_equal(d, dir);
	assert_string_equal(b, base);
	free(d);
	free(b);
}

static void test_split(void **st)
{
	(void)st;
	split("/etc/hosts", "/etc", "hosts");
	split("/etc/", "/", "etc");
	split("/etc", "/", "etc");
	split("/", "/", ".");
	split("//", "/", ".");
	split("a", ".", "a");
	split("a/b//", "a", "b");
	char *d, *b;
	assert_int_equal(cp_split("", &d, &b), -EINVAL);
}

static void rename_ok(const char *e, const char *base, const char *nb, const char *want)
{
	char *out;
	assert_int_equal(cp_entry_rename(e, base, nb, &out), 0);
	assert_string_equal(out, want);
	free(out);
}

static void rename_bad(const char *e, const char *base)
{
	char *out = (char *)1;
	assert_int_equal(cp_entry_rename(e, base, "dst", &out), -EINVAL);
	assert_null(out);
}

static void test_entries(void **st)
{
	(void)st;
	rename_ok("etc", "etc", "copy", "copy");
	rename_ok("etc/", "etc", "copy", "copy/");
	rename_ok("etc/a/b", "etc", "copy", "copy/a/b");
	rename_ok("hosts", "hosts", "hosts", "hosts");
	rename_ok(".", ".", "root", "root");
	rename_ok("./bin/sh", ".", "root", "root/bin/sh");
	/* hostile names */
	rename_bad("/etc/passwd", "etc");
	rename_bad("../x", "etc");
	rename_bad("etc/../../x", "etc");
	rename_bad("etc/./x", "etc");
	rename_bad("etc/..", "etc");
	rename_bad("etcx/y", "etc");
	rename_bad("other", "etc");
	rename_bad("", "etc");
	rename_bad("./../x", ".");
	rename_bad("x", ".");
	char *longname = malloc(PATH_MAX + 10);
	memset(longname, 'a', PATH_MAX + 9);
	memcpy(longname, "etc/", 4);
	longname[PATH_MAX + 9] = '\0';
	rename_bad(longname, "etc");
	free(longname);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
