/* Unit tests for runtime/net_opts.c: option parsing, the checks across options,
 * the tap guest address, and what apply() puts into the spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "runtime/net_opts.h"

static void test_network(void **st)
{
	(void)st;
	struct net_opts o;
	struct errmsg err;
	net_opts_init(&o);
	assert_int_equal(o.mode, VMM_NET_SLIRP);
	assert_int_equal(net_opts_network(&o, "none", &err), 0);
	assert_int_equal(o.mode, VMM_NET_NONE);
	assert_int_equal(net_opts_network(&o, "tap:tap0", &err), 0);
	assert_int_equal(o.mode, VMM_NET_TAP);
	assert_string_equal(o.tap, "tap0");
	assert_int_equal(net_opts_network(&o, "slirp", &err), 0);
	assert_int_equal(o.mode, VMM_NET_SLIRP);
	assert_false(o.host_loopback); /* closed by default */
	assert_int_equal(net_opts_network(&o, "slirp,host-loopback=on", &err), 0);
	assert_int_equal(o.mode, VMM_NET_SLIRP);
	assert_true(o.host_loopback);
	assert_int_equal(net_opts_check(&o, &err), 0);
	assert_int_equal(net_opts_network(&o, "none", &err), 0);
	assert_int_equal(net_opts_check(&o, &err), -EINVAL);
	assert_non_null(strstr(err.text, "host-loopback=on needs"));
	assert_int_equal(net_opts_network(&o, "slirp,host-loopback=off", &err), 0);
	assert_false(o.host_loopback);
	assert_int_equal(net_opts_network(&o, "slirp,bogus", &err), -EINVAL);
	assert_non_null(strstr(err.text, "--network slirp,bogus"));
	const char *bad[] = {"", "bridge", "tap:", "tap:a/b", "tap:0123456789abcdef", "SLIRP"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(net_opts_network(&o, bad[i], &err), -EINVAL);
		assert_non_null(strstr(err.text, "--network"));
	}
}

static void test_port_spec(void **st)
{
	(void)st;
	uint16_t port;
	bool udp = true;
	assert_int_equal(net_opts_port_spec("80", &port, &udp), 0);
	assert_true(port == 80 && !udp);
	assert_int_equal(net_opts_port_spec("53/udp", &port, &udp), 0);
	assert_true(port == 53 && udp);
	assert_int_equal(net_opts_port_spec("65535/tcp", &port, &udp), 0);
	assert_true(port == 65535 && !udp);
	const char *bad[] = {"", "0", "65536", "80/", "80/sctp", "/tcp", "+80", "8o", "123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(net_opts_port_spec(bad[i], &port, &udp), -EINVAL);
}

static void test_publish(void **st)
{
	(void)st;
	struct net_opts o;
	struct errmsg err;
	net_opts_init(&o);
	assert_int_equal(net_opts_publish(&o, "8080:80", &err), 0);
	assert_int_equal(net_opts_publish(&o, "127.0.0.1:5353:53/udp", &err), 0);
	assert_int_equal(net_opts_publish(&o, "9000:9000/tcp", &err), 0);
	assert_int_equal(o.nports, 3);
	assert_false(o.ports[0].udp);
	assert_int_equal(o.ports[0].host_port, 8080);
	assert_int_equal(o.ports[0].guest_port, 80);
	assert_int_equal(o.ports[0].host_ip, 0);
	assert_true(o.ports[1].udp);
	assert_int_equal(o.ports[1].host_ip, inet_addr("127.0.0.1"));
	assert_int_equal(o.ports[1].guest_port, 53);
	/* the same host port twice (0.0.0.0 overlaps every address) */
	assert_int_equal(net_opts_publish(&o, "127.0.0.1:8080:81", &err), -EINVAL);
	assert_non_null(strstr(err.text, "already published"));
	/* same number, other protocol: fine */
	assert_int_equal(net_opts_publish(&o, "8080:80/udp", &err), 0);
	const char *bad[] = {"80",	"0:80",	 "80:0",     "65536:80", "a:80",	  "80:b",
			     ":80",	"80:",	 "1:2/sctp", "1:2/",	 "300.1.1.1:1:2", "::1:2",
			     "1:2:3:4", "-1:80", "123456:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.text[0] = '\0';
		assert_int_equal(net_opts_publish(&o, bad[i], &err), -EINVAL);
		assert_non_null(strstr(err.text, bad[i]));
	}
	assert_int_equal(o.nports, 4);
}

static void test_dns_and_check(void **st)
{
	(void)st;
	struct net_opts o;
	struct errmsg err;
	net_opts_init(&o);
	assert_int_equal(net_opts_dns(&o, "nope", &err), -EINVAL);
	assert_non_null(strstr(err.text, "--dns nope"));
	for (int i = 0; i < NET_OPTS_MAX_DNS; i++)
		assert_int_equal(net_opts_dns(&o, "1.1.1.1", &err), 0);
	assert_int_equal(net_opts_dns(&o, "8.8.8.8", &err), -EINVAL);
	assert_int_equal(net_opts_check(&o, &err), 0);
	assert_int_equal(net_opts_network(&o, "none", &err), 0);
	assert_int_equal(net_opts_check(&o, &err), -EINVAL);
	o.ndns = 0;
	assert_int_equal(net_opts_publish(&o, "1:2", &err), 0);
	assert_int_equal(net_opts_check(&o, &err), -EINVAL);
	assert_non_null(strstr(err.text, "-p needs --network slirp"));
	assert_int_equal(net_opts_network(&o, "tap:t0", &err), 0);
	assert_int_equal(net_opts_check(&o, &err), -EINVAL);
	/* rate limits need a NIC, of either kind */
	net_opts_init(&o);
	o.tx_bps = 128 << 10;
	assert_int_equal(net_opts_check(&o, &err), 0);
	assert_int_equal(net_opts_network(&o, "tap:t0", &err), 0);
	assert_int_equal(net_opts_check(&o, &err), 0);
	assert_int_equal(net_opts_network(&o, "none", &err), 0);
	assert_int_equal(net_opts_check(&o, &err), -EINVAL);
	assert_non_null(strstr(err.text, "--network-tx-bps with --network none"));
	o.tx_bps = 0;
	o.rx_pps = 10;
	assert_int_equal(net_opts_check(&o, &err), -EINVAL);
	assert_non_null(strstr(err.text, "--network-rx-pps"));
}

static void test_tap_guest(void **st)
{
	(void)st;
	struct in_addr h = {.s_addr = inet_addr("192.168.7.1")}, g;
	assert_int_equal(net_opts_tap_guest(h, 24, &g), 0);
	assert_int_equal(g.s_addr, inet_addr("192.168.7.2"));
	h.s_addr = inet_addr("192.168.7.254"); /* next is the broadcast: take the previous */
	assert_int_equal(net_opts_tap_guest(h, 24, &g), 0);
	assert_int_equal(g.s_addr, inet_addr("192.168.7.253"));
	h.s_addr = inet_addr("10.9.0.1");
	assert_int_equal(net_opts_tap_guest(h, 30, &g), 0);
	assert_int_equal(g.s_addr, inet_addr("10.9.0.2"));
	assert_int_equal(net_opts_tap_guest(h, 31, &g), -EINVAL);
	assert_int_equal(net_opts_tap_guest(h, 32, &g), -EINVAL);
}

static void test_apply(void **st)
{
	(void)st;
	struct net_opts o;
	struct errmsg err;
	struct vmm_config vc;
	struct hcp_spec s;
	net_opts_init(&o);
	assert_int_equal(net_opts_publish(&o, "8080:80", &err), 0);
	o.rx_bps = 1 << 20;
	o.tx_pps = 100;
	memset(&vc, 0, sizeof(vc));
	memset(&s, 0, sizeof(s));
	assert_int_equal(net_opts_apply(&o, &vc, &s, &err), 0);
	assert_int_equal(vc.net_mode, VMM_NET_SLIRP);
	assert_int_equal(vc.net_nports, 1);
	assert_int_equal(vc.net_mac[0], 0x52);
	assert_int_equal(vc.net_rx_bps, 1 << 20);
	assert_int_equal(vc.net_tx_bps, 0);
	assert_int_equal(vc.net_rx_pps, 0);
	assert_int_equal(vc.net_tx_pps, 100);
	assert_string_equal(s.net_addr, "10.0.2.15/24");
	assert_string_equal(s.net_gw, "10.0.2.2");
	assert_int_equal(s.n_dns, 1);
	assert_string_equal(s.net_dns[0], "10.0.2.3");
	assert_int_equal(strlen(s.net_mac), 17);
	assert_int_equal(strncmp(s.net_mac, "52:54:00:", 9), 0);
	/* a fresh MAC each run */
	struct vmm_config vc2;
	struct hcp_spec s2;
	memset(&vc2, 0, sizeof(vc2));
	memset(&s2, 0, sizeof(s2));
	assert_int_equal(net_opts_apply(&o, &vc2, &s2, &err), 0);
	assert_memory_not_equal(vc.net_mac, vc2.net_mac, 6);
	hcp_spec_free(&s);
	hcp_spec_free(&s2);
	/* --dns replaces the default; none fills nothing */
	net_opts_init(&o);
	assert_int_equal(net_opts_dns(&o, "9.9.9.9", &err), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(net_opts_apply(&o, &vc, &s, &err), 0);
	assert_int_equal(s.n_dns, 1);
	assert_string_equal(s.net_dns[0], "9.9.9.9");
	hcp_spec_free(&s);
	net_opts_init(&o);
	assert_int_equal(net_opts_network(&o, "none", &err), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(net_opts_apply(&o, &vc, &s, &err), 0);
	assert_int_equal(vc.net_mode, VMM_NET_NONE);
	assert_null(s.net_addr);
	assert_null(s.net_mac);
	/* a tap that does not exist */
	assert_int_equal(net_opts_network(&o, "tap:nosuchtap0", &err), 0);
	assert_true(net_opts_apply(&o, &vc, &s, &err) < 0);
	assert_non_null(strstr(err.text, "nosuchtap0"));
	hcp_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network),   cmocka_unit_test(test_publish),
	    cmocka_unit_test(test_port_spec), cmocka_unit_test(test_dns_and_check),
	    cmocka_unit_test(test_tap_guest), cmocka_unit_test(test_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
