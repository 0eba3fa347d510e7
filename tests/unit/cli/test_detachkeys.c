/* --detach-keys: docker's format, and the scan of the input (cli/detachkeys.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/detachkeys.h"

static void parse_ok(const char *spec, const uint8_t *want, size_t n)
{
	struct detach_keys k;
	struct errmsg err;
	assert_int_equal(detach_keys_parse(spec, &k, &err), 0);
	assert_int_equal(k.len, n);
	assert_memory_equal(k.seq, want, n);
}

static void parse_bad(const char *spec, const char *says)
{
	struct detach_keys k;
	struct errmsg err;
	assert_int_equal(detach_keys_parse(spec, &k, &err), -EINVAL);
	assert_non_null(strstr(err.text, says));
}

static void test_parse(void **st)
{
	(void)st;
	parse_ok(NULL, (const uint8_t[]){0x10, 0x11}, 2);
	parse_ok("", (const uint8_t[]){0x10, 0x11}, 2);
	parse_ok("ctrl-p,ctrl-q", (const uint8_t[]){0x10, 0x11}, 2);
	parse_ok("CTRL-A,Ctrl-Z", (const uint8_t[]){0x01, 0x1a}, 2);
	parse_ok("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_",
		 (const uint8_t[]){0x00, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}, 6);
	parse_ok("a,Q,ctrl-x", (const uint8_t[]){'a', 'Q', 0x18}, 3);
	parse_ok("e", (const uint8_t[]){'e'}, 1);
	parse_bad("ctrl-", "unknown character 'ctrl-'");
	parse_bad("ctrl-1", "'ctrl-1'");
	parse_bad("ctrl-pp", "'ctrl-pp'");
	parse_bad("alt-p", "'alt-p'");
	parse_bad("ab", "'ab'");
	parse_bad("ctrl-p,", "unknown character ''");
	parse_bad(",ctrl-p", "unknown character ''");
	parse_bad("a,,b", "''");
	parse_bad("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "more than 16 keys");
	parse_ok("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", (const uint8_t *)"abcdefghijklmnop", 16);
}

/* scan in, expect what goes on and whether it detached */
static void scan(struct detach_keys *k, const char *in, const char *want, bool detach)
{
	uint8_t out[64 + DETACH_KEYS_MAX];
	size_t n = 99;
	assert_int_equal(detach_keys_scan(k, (const uint8_t *)in, strlen(in), out, &n), detach);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void test_scan(void **st)
{
	(void)st;
	struct detach_keys k;
	struct errmsg err;
	assert_int_equal(detach_keys_parse(NULL, &k, &err), 0);
	scan(&k, "hello\r", "hello\r", false);
	/* the sequence in one chunk: what came before goes on, after is dropped */
	scan(&k, "ab\x10\x11zz", "ab", true);
	/* across chunks: the first key is held back, then detaches */
	scan(&k, "x\x10", "x", false);
	scan(&k, "\x11", "", true);
	/* a broken sequence sends the held key and the byte on */
	scan(&k, "\x10", "", false);
	scan(&k, "y", "\x10y", false);
	/* ^P ^P ^Q: the second ^P breaks the first and does not start again
	 * (docker's escape proxy) */
	scan(&k, "\x10\x10\x11", "\x10\x10\x11", false);
	/* a held key at the end of the input comes back from flush */
	uint8_t out[DETACH_KEYS_MAX];
	scan(&k, "q\x10", "q", false);
	assert_int_equal(detach_keys_flush(&k, out), 1);
	assert_int_equal(out[0], 0x10);
	assert_int_equal(detach_keys_flush(&k, out), 0);
	/* three keys */
	assert_int_equal(detach_keys_parse("ctrl-a,x,y", &k, &err), 0);
	scan(&k, "\x01x", "", false);
	scan(&k, "z", "\x01xz", false);
	scan(&k, "\x01xy", "", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
