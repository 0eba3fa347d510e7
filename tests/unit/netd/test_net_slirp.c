/* Unit tests for netd/net_slirp.c: which guest frames count as headed for
 * the host's loopback (dropped unless --network slirp,host-loopback=on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "netd/net_slirp.h"

/* An Ethernet + IPv4 + TCP frame to a.b.c.d, ethertype et. */
static size_t frame(uint8_t *f, uint16_t et, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(f, 0, 64);
	f[12] = (uint8_t)(et >> 8);
	f[13] = (uint8_t)et;
	f[14] = 0x45;	 /* IPv4, 20-byte header */
	f[14 + 9] = 6;	 /* TCP */
	f[14 + 12] = 10; /* from 10.0.2.15 */
	f[14 + 15] = 15;
	f[14 + 16] = a;
	f[14 + 17] = b;
	f[14 + 18] = c;
	f[14 + 19] = d;
	return 64;
}

static void test_loopback_frames(void **st)
{
	(void)st;
	uint8_t f[64];
	size_t n = frame(f, 0x0800, 127, 0, 0, 1);
	assert_true(net_slirp_to_host_loopback(f, n));
	n = frame(f, 0x0800, 127, 1, 2, 3);
	assert_true(net_slirp_to_host_loopback(f, n));
	n = frame(f, 0x0800, 0, 0, 0, 0);
	assert_true(net_slirp_to_host_loopback(f, n));
	/* slirp's gateway, the internet, ARP, a runt: not this filter's */
	n = frame(f, 0x0800, 10, 0, 2, 2);
	assert_false(net_slirp_to_host_loopback(f, n));
	n = frame(f, 0x0800, 93, 184, 216, 34);
	assert_false(net_slirp_to_host_loopback(f, n));
	n = frame(f, 0x0806, 127, 0, 0, 1);
	assert_false(net_slirp_to_host_loopback(f, n));
	frame(f, 0x0800, 127, 0, 0, 1);
	assert_false(net_slirp_to_host_loopback(f, 14 + 19));
	assert_false(net_slirp_to_host_loopback(f, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loopback_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
