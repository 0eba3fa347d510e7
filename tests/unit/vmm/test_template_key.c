/* vmm_template_key: every part of the config that shapes the booted guest
 * changes the key, and nothing else does; vmm_template_dir names it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/vmm.h"

static char dir[] = "/tmp/hull-tkey-XXXXXX";
static char kernel[64], initrd[64];

static struct vmm_config base(void)
{
	struct vmm_config c = {.kernel = kernel,
			       .initrd = initrd,
			       .cpus = 1,
			       .mem_bytes = 128ull << 20,
			       .ndisks = 1,
			       .pvm = 1,
			       .vsock_uds = "/x/vsock",
			       .net_mode = VMM_NET_SLIRP};
	c.disks[0].read_only = true;
	return c;
}

static char *key(const struct vmm_config *c)
{
	char *k = NULL;
	struct errmsg err;
	assert_int_equal(vmm_template_key(c, &k, &err), 0);
	return k;
}

static void differs(const struct vmm_config *c, const char *what)
{
	struct vmm_config b = base();
	char *k0 = key(&b), *k1 = key(c);
	if (!strcmp(k0, k1))
		fail_msg("%s does not change the key: %s", what, k0);
	free(k0);
	free(k1);
}

static void same(const struct vmm_config *c, const char *what)
{
	struct vmm_config b = base();
	char *k0 = key(&b), *k1 = key(c);
	if (strcmp(k0, k1))
		fail_msg("%s changes the key:\n%s\n%s", what, k0, k1);
	free(k0);
	free(k1);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(kernel, sizeof(kernel), "%s/vmlinux", dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
	for (int i = 0; i < 2; i++) {
		int fd = open(i ? initrd : kernel, O_CREAT | O_WRONLY, 0600);
		if (fd < 0 || write(fd, "x", 1) != 1)
			return -1;
		close(fd);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kernel);
	unlink(initrd);
	rmdir(dir);
	return 0;
}

static void test_parts(void **state)
{
	(void)state;
	struct vmm_config c;
	c = base(), c.cpus = 2, differs(&c, "cpus");
	c = base(), c.mem_bytes <<= 1, differs(&c, "memory");
	c = base(), c.ndisks = 2, differs(&c, "a second disk");
	c = base(), c.disks[0].read_only = false, differs(&c, "a writable disk");
	c = base(), c.net_mode = VMM_NET_NONE, differs(&c, "no NIC");
	c = base(), c.net_no_csum = true, differs(&c, "no checksum offload");
	c = base(), c.nvolumes = 1, differs(&c, "a volume");
	c = base(), c.vsock_uds = NULL, differs(&c, "no vsock");
	c = base(), c.pvm = 0, differs(&c, "PVM off");
	c = base(), c.cmdline_extra = "hull_debug=1", differs(&c, "the command line");
	c = base(), c.debug = true, differs(&c, "debug (quiet off)");
	c = base(), c.initrd = NULL, differs(&c, "no initrd");
	/* what a restored guest is told afresh, or is per run */
	c = base(), c.net_mode = VMM_NET_TAP, c.net_tap = "tap0", same(&c, "tap instead of slirp");
	c = base(), c.net_mac[5] = 7, same(&c, "the MAC");
	c = base(), c.vsock_uds = "/y/other", same(&c, "the vsock path");
	c = base(), c.nvolumes = 1, c.volumes[0].host_dir = "/a";
	struct vmm_config d = c;
	d.volumes[0].host_dir = "/b";
	char *ka = key(&c), *kb = key(&d);
	assert_string_equal(ka, kb);
	free(ka);
	free(kb);
}

static void test_files(void **state)
{
	(void)state;
	struct vmm_config c = base();
	char *k0 = key(&c);
	/* a rebuilt kernel (new mtime) is another kernel */
	struct timespec ts[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
	assert_int_equal(utimensat(AT_FDCWD, kernel, ts, 0), 0);
	char *k1 = key(&c);
	assert_string_not_equal(k0, k1);
	char *d0 = vmm_template_dir("/t", k0), *d1 = vmm_template_dir("/t", k1);
	char *d0b = vmm_template_dir("/t", k0);
	assert_string_equal(d0, d0b);
	assert_string_not_equal(d0, d1);
	assert_int_equal(strlen(d0), strlen("/t/") + 32);
	assert_int_equal(strspn(d0 + 3, "0123456789abcdef"), 32);
	free(k0);
	free(k1);
	free(d0);
	free(d1);
	free(d0b);
	/* a missing kernel is named */
	c.kernel = "/nonexistent/vmlinux";
	char *k = NULL;
	struct errmsg err;
	assert_int_equal(vmm_template_key(&c, &k, &err), -ENOENT);
	assert_null(k);
	assert_non_null(strstr(err.text, "/nonexistent/vmlinux"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parts),
	    cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
