/* Unit tests for guest-init/net.c: the spec's values are parsed strictly,
 * and the /etc files land in the given root with the expected contents.
 * (The ioctls are exercised by the end-to-end tests, in a real guest.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/readfile.h"
#include "guest-init/net.h"

static void test_parse_mac(void **st)
{
	(void)st;
	unsigned char m[6];
	assert_int_equal(net_parse_mac("52:54:00:ab:CD:0f", m), 0);
	assert_int_equal(m[0], 0x52);
	assert_int_equal(m[4], 0xcd);
	assert_int_equal(m[5], 0x0f);
	const char *bad[] = {"",
			     "52:54:00:ab:cd",
			     "52:54:00:ab:cd:0f:11",
			     "52:54:00:ab:cd:0g",
			     "52-54-00-ab-cd-0f",
			     "01:00:5e:00:00:01" /* multicast */,
			     "52:54:00:ab:cd:0fx"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(net_parse_mac(bad[i], m), -EINVAL);
}

static void test_parse_cidr(void **st)
{
	(void)st;
	unsigned a, p;
	assert_int_equal(net_parse_cidr("10.0.2.15/24", &a, &p), 0);
	assert_int_equal(a, inet_addr("10.0.2.15"));
	assert_int_equal(p, 24);
	assert_int_equal(net_parse_cidr("192.168.7.2/32", &a, &p), 0);
	const char *bad[] = {"10.0.2.15",    "10.0.2.15/",    "10.0.2.15/0",
			     "10.0.2.15/33", "10.0.2.15/2x",  "10.0.2/24",
			     "x/24",	     "10.0.2.15/024", "111.111.111.111.111/8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(net_parse_cidr(bad[i], &a, &p), -EINVAL);
}

static char *slurp(const char *root, const char *path)
{
	char p[512];
	snprintf(p, sizeof(p), "%s%s", root, path);
	char *buf = NULL;
	size_t len;
	if (readfile(p, 1 << 16, &buf, &len) < 0)
		return NULL;
	return buf;
}

static void test_write_etc(void **st)
{
	(void)st;
	char root[] = "/tmp/hull-test-net-XXXXXX";
	assert_non_null(mkdtemp(root));
	char *dns[] = {"10.0.2.3", "1.1.1.1", NULL};
	char *hosts[] = {"10.0.2.2 host.hull.internal", NULL};
	struct hcp_spec s = {.hostname = "c0ffee",
			     .net_addr = "10.0.2.15/24",
			     .net_dns = dns,
			     .n_dns = 2,
			     .net_hosts = hosts,
			     .n_hosts = 1};
	struct errmsg err = {{0}};
	/* /etc missing in the image: created */
	assert_int_equal(net_write_etc(&s, root, &err), 0);
	char *t = slurp(root, "/etc/hostname");
	assert_string_equal(t, "c0ffee\n");
	free(t);
	t = slurp(root, "/etc/hosts");
	assert_non_null(strstr(t, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(t, "10.0.2.15\tc0ffee\n"));
	assert_non_null(strstr(t, "10.0.2.2 host.hull.internal\n"));
	free(t);
	t = slurp(root, "/etc/resolv.conf");
	assert_string_equal(t, "nameserver 10.0.2.3\nnameserver 1.1.1.1\n");
	free(t);

	/* a symlinked /etc/hosts in the image is replaced, not followed */
	char p[600], target[600];
	snprintf(target, sizeof(target), "%s/outside", root);
	snprintf(p, sizeof(p), "%s/etc/hosts", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(target, p), 0);
	/* no network: no resolv.conf rewrite, the name on 127.0.1.1 */
	struct hcp_spec none = {.hostname = "box"};
	snprintf(p, sizeof(p), "%s/etc/resolv.conf", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(net_write_etc(&none, root, &err), 0);
	assert_int_equal(access(target, F_OK), -1);
	t = slurp(root, "/etc/hosts");
	assert_non_null(strstr(t, "127.0.1.1\tbox\n"));
	free(t);
	assert_int_equal(access(p, F_OK), -1);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_mac),
	    cmocka_unit_test(test_parse_cidr),
	    cmocka_unit_test(test_write_etc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
