/* userspec: OCI "User" parsing and resolution from passwd/group text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "guest-init/userspec.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "# a comment\n"
			     "\n"
			     "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
			     "broken line without colons\n"
			     "bad:x:notanumber:0::/bad:/bin/sh\n"
			     "neg:x:-1:0::/neg:/bin/sh\n"
			     "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
			     "+nis:x:5:5::/nis:/bin/sh\n"
			     "short:x:1001\n"
			     "nohome:x:1002:1002\n"
			     "bob:x:1003:100:Bob::/bin/sh\n"
			     ":x:1004:0::/empty:/bin/sh\n"
			     "dup:x:1000:50:same uid as alice:/dup:/bin/sh\n"
			     "huge:x:4294967295:0::/huge:/bin/sh\n"
			     "last:x:2000:2000::/home/last:/bin/sh"; /* no final newline */

static const char group[] = "root:x:0:\n"
			    "wheel:x:10:root,alice\n"
			    "users:x:100:alice,bob\n"
			    "alice:x:1000:\n"
			    "staff:x:50:bob,alice,alice\n"
			    "malformed\n"
			    "nogid:x::alice\n"
			    "big:x:99999999999:alice\n"
			    "# comment:x:7:alice\n"
			    "audio:x:29:carol,alice\n"
			    "prefix:x:30:alic,alicee\n"
			    "last:x:2000:";

struct res {
	int rc;
	struct user_ids ids;
	struct errmsg err;
};

static struct res resolve_with(const char *spec, const char *pw, const char *gr)
{
	struct res r;

	memset(&r, 0, sizeof(r));
	r.rc = userspec_resolve(spec, pw, pw ? strlen(pw) : 0, gr, gr ? strlen(gr) : 0, &r.ids,
				&r.err);
	return r;
}

static struct res resolve(const char *spec)
{
	return resolve_with(spec, passwd, group);
}

static void expect_ids(struct res *r, unsigned uid, unsigned gid, const char *home,
		       const gid_t *groups, size_t ngroups)
{
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->ids.uid, uid);
	assert_int_equal(r->ids.gid, gid);
	assert_string_equal(r->ids.home, home);
	assert_int_equal(r->ids.ngroups, ngroups);
	for (size_t i = 0; i < ngroups; i++)
		assert_int_equal(r->ids.groups[i], groups[i]);
	user_ids_free(&r->ids);
}

static void expect_error(struct res *r, int rc, const char *needle)
{
	assert_int_equal(r->rc, rc);
	assert_non_null(strstr(r->err.text, needle));
	assert_null(r->ids.groups);
	assert_null(r->ids.home);
}

static void test_parse_forms(void **state)
{
	struct userspec s;
	(void)state;

	assert_int_equal(userspec_parse("", &s, NULL), 0);
	assert_false(s.user.given);
	assert_false(s.group.given);

	assert_int_equal(userspec_parse(NULL, &s, NULL), 0);
	assert_false(s.user.given);

	assert_int_equal(userspec_parse("alice", &s, NULL), 0);
	assert_true(s.user.given);
	assert_false(s.user.numeric);
	assert_int_equal(s.user.name_len, 5);
	assert_memory_equal(s.user.name, "alice", 5);
	assert_false(s.group.given);

	assert_int_equal(userspec_parse("1000:users", &s, NULL), 0);
	assert_true(s.user.numeric);
	assert_int_equal(s.user.id, 1000);
	assert_true(s.group.given);
	assert_false(s.group.numeric);
	assert_int_equal(s.group.name_len, 5);

	assert_int_equal(userspec_parse("alice:0", &s, NULL), 0);
	assert_false(s.user.numeric);
	assert_true(s.group.numeric);
	assert_int_equal(s.group.id, 0);

	/* "user:" means no group; ":group" means no user */
	assert_int_equal(userspec_parse("alice:", &s, NULL), 0);
	assert_true(s.user.given);
	assert_false(s.group.given);
	assert_int_equal(userspec_parse(":users", &s, NULL), 0);
	assert_false(s.user.given);
	assert_true(s.group.given);

	/* not numeric: names that merely look like numbers */
	assert_int_equal(userspec_parse("-1", &s, NULL), 0);
	assert_false(s.user.numeric);
	assert_int_equal(userspec_parse("0x10", &s, NULL), 0);
	assert_false(s.user.numeric);

	/* leading zeros are still numeric */
	assert_int_equal(userspec_parse("000000000000001000", &s, NULL), 0);
	assert_true(s.user.numeric);
	assert_int_equal(s.user.id, 1000);
}

static void test_parse_errors(void **state)
{
	struct userspec s;
	struct errmsg err;
	(void)state;

	assert_int_equal(userspec_parse("a:b:c", &s, &err), -EINVAL);
	assert_non_null(strstr(err.text, "a:b:c"));
	assert_int_equal(userspec_parse("4294967295", &s, &err), -ERANGE);
	assert_non_null(strstr(err.text, "4294967295"));
	assert_int_equal(userspec_parse("4294967294", &s, NULL), 0);
	assert_int_equal(s.user.id, 4294967294u);
	assert_int_equal(userspec_parse("0:99999999999999999999", &s, &err), -ERANGE);
	assert_non_null(strstr(err.text, "group"));
}

static void test_empty_is_root(void **state)
{
	const gid_t g[] = {0, 10}; /* root is listed in wheel */
	struct res r;
	(void)state;

	r = resolve("");
	expect_ids(&r, 0, 0, "/root", g, 2);
	r = resolve(NULL);
	expect_ids(&r, 0, 0, "/root", g, 2);
	r = resolve("root");
	expect_ids(&r, 0, 0, "/root", g, 2);
	r = resolve("0");
	expect_ids(&r, 0, 0, "/root", g, 2);
}

static void test_user_name(void **state)
{
	/* primary first, then member groups in file order, duplicates dropped;
	 * "prefix" lists only look-alike names */
	const gid_t g[] = {1000, 10, 100, 50, 29};
	struct res r;
	(void)state;

	r = resolve("alice");
	expect_ids(&r, 1000, 1000, "/home/alice", g, 5);
	r = resolve("alice:");
	expect_ids(&r, 1000, 1000, "/home/alice", g, 5);
}

static void test_uid_in_passwd(void **state)
{
	/* the first passwd line with that uid wins, and its name gives the
	 * supplementary groups */
	const gid_t g[] = {1000, 10, 100, 50, 29};
	struct res r;
	(void)state;

	r = resolve("1000");
	expect_ids(&r, 1000, 1000, "/home/alice", g, 5);
	r = resolve("0001000");
	expect_ids(&r, 1000, 1000, "/home/alice", g, 5);
}

static void test_uid_not_in_passwd(void **state)
{
	const gid_t g0[] = {0};
	const gid_t g100[] = {100};
	const gid_t g7[] = {7};
	struct res r;
	(void)state;

	r = resolve("4242");
	expect_ids(&r, 4242, 0, "/", g0, 1);
	r = resolve("4242:users");
	expect_ids(&r, 4242, 100, "/", g100, 1);
	r = resolve("4242:7");
	expect_ids(&r, 4242, 7, "/", g7, 1);
}

static void test_with_group(void **state)
{
	const gid_t g100[] = {100};
	const gid_t g4242[] = {4242};
	const gid_t g29[] = {29};
	struct res r;
	(void)state;

	/* a group given: no supplementary groups at all */
	r = resolve("alice:users");
	expect_ids(&r, 1000, 100, "/home/alice", g100, 1);
	r = resolve("alice:4242"); /* numeric gid need not exist */
	expect_ids(&r, 1000, 4242, "/home/alice", g4242, 1);
	r = resolve("1000:100");
	expect_ids(&r, 1000, 100, "/home/alice", g100, 1);
	r = resolve("1000:audio");
	expect_ids(&r, 1000, 29, "/home/alice", g29, 1);
	r = resolve(":users"); /* root, group users */
	expect_ids(&r, 0, 100, "/root", g100, 1);
}

static void test_unknown_names(void **state)
{
	struct res r;
	(void)state;

	r = resolve("nobody");
	expect_error(&r, -EINVAL, "unable to find user nobody");
	r = resolve("alice:nogroup");
	expect_error(&r, -EINVAL, "unable to find group nogroup");
	r = resolve("4242:nogroup");
	expect_error(&r, -EINVAL, "nogroup");
	r = resolve("alice:nogid"); /* that line is malformed */
	expect_error(&r, -EINVAL, "nogid");
	r = resolve("alice:big");
	expect_error(&r, -EINVAL, "big");
}

static void test_malformed_lines_skipped(void **state)
{
	const gid_t g1002[] = {1002};
	const gid_t bob[] = {100, 50};
	const gid_t last[] = {2000};
	struct res r;
	(void)state;

	r = resolve("bad");
	expect_error(&r, -EINVAL, "bad");
	r = resolve("neg");
	expect_error(&r, -EINVAL, "neg");
	r = resolve("short");
	expect_error(&r, -EINVAL, "short");
	r = resolve("nis");
	expect_error(&r, -EINVAL, "nis");
	r = resolve("+nis");
	expect_error(&r, -EINVAL, "+nis");
	r = resolve("huge");
	expect_error(&r, -EINVAL, "huge");
	/* four fields are enough; no home means "/" */
	r = resolve("nohome");
	expect_ids(&r, 1002, 1002, "/", g1002, 1);
	/* empty home field; primary group deduplicated against membership */
	r = resolve("bob");
	expect_ids(&r, 1003, 100, "/", bob, 2);
	/* last line without a newline */
	r = resolve("last");
	expect_ids(&r, 2000, 2000, "/home/last", last, 1);
	/* the nameless line did not become the match for uid 1004 */
	r = resolve("1004");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.ids.home, "/");
	user_ids_free(&r.ids);
}

static void test_nul_inside_line(void **state)
{
	static const char pw[] = "eve:x:1:1::/e\0vil:/bin/sh\nroot:x:0:0::/root:/bin/sh\n";
	struct user_ids ids;
	struct errmsg err;
	(void)state;

	assert_int_equal(userspec_resolve("eve", pw, sizeof(pw) - 1, NULL, 0, &ids, &err), -EINVAL);
	assert_int_equal(userspec_resolve("root", pw, sizeof(pw) - 1, NULL, 0, &ids, &err), 0);
	assert_string_equal(ids.home, "/root");
	user_ids_free(&ids);
}

static void test_missing_files(void **state)
{
	const gid_t g0[] = {0};
	const gid_t g5[] = {5};
	struct res r;
	(void)state;

	r = resolve_with("", NULL, NULL);
	expect_ids(&r, 0, 0, "/", g0, 1);
	r = resolve_with("1000:5", NULL, NULL);
	expect_ids(&r, 1000, 5, "/", g5, 1);
	r = resolve_with("alice", NULL, NULL);
	expect_error(&r, -EINVAL, "alice");
	r = resolve_with("0:wheel", passwd, NULL);
	expect_error(&r, -EINVAL, "wheel");
	/* passwd present, group missing: no supplementary groups */
	r = resolve_with("alice", passwd, NULL);
	{
		const gid_t g[] = {1000};
		expect_ids(&r, 1000, 1000, "/home/alice", g, 1);
	}
}

static void test_crlf_and_spaces_are_literal(void **state)
{
	/* No trimming: a name is exactly the bytes between separators. */
	static const char pw[] = "carol:x:7:7::/c:/bin/sh\r\n";
	static const char gr[] = "grp:x:8: carol\n";
	const gid_t g[] = {7};
	struct res r;
	(void)state;

	r = resolve_with("carol", pw, gr);
	expect_ids(&r, 7, 7, "/c", g, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_forms),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_empty_is_root),
	    cmocka_unit_test(test_user_name),
	    cmocka_unit_test(test_uid_in_passwd),
	    cmocka_unit_test(test_uid_not_in_passwd),
	    cmocka_unit_test(test_with_group),
	    cmocka_unit_test(test_unknown_names),
	    cmocka_unit_test(test_malformed_lines_skipped),
	    cmocka_unit_test(test_nul_inside_line),
	    cmocka_unit_test(test_missing_files),
	    cmocka_unit_test(test_crlf_and_spaces_are_literal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
