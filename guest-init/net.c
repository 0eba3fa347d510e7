#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int net_parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	char end;
	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	/* a multicast MAC cannot be a station's */
	return (mac[0] & 1) ? -EINVAL : 0;
}

int net_parse_cidr(const char *s, unsigned *addr_be, unsigned *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1] || strlen(slash + 1) > 2)
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	unsigned p = 0;
	for (const char *c = slash + 1; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		p = p * 10 + (unsigned)(*c - '0');
	}
	if (p < 1 || p > 32)
		return -EINVAL;
	*addr_be = a.s_addr;
	*prefix = p;
	return 0;
}

static void set_sin(struct sockaddr *sa, unsigned addr_be)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = addr_be};
	memcpy(sa, &sin, sizeof(sin));
}

static int if_up(int s, const char *name, struct errmsg *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return log_syserr(err, errno, "network: %s", name);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return log_syserr(err, errno, "network: bring %s up", name);
	return 0;
}

static int configure_eth(int s, const struct hcp_spec *spec, struct errmsg *err)
{
	unsigned addr, prefix, gw = 0;
	unsigned char mac[6];
	if (net_parse_cidr(spec->net_addr, &addr, &prefix))
		return errmsg_set(err, -EINVAL, "network: bad address \"%s\"", spec->net_addr);
	if (spec->net_mac && net_parse_mac(spec->net_mac, mac))
		return errmsg_set(err, -EINVAL, "network: bad MAC \"%s\"", spec->net_mac);
	if (spec->net_gw && inet_pton(AF_INET, spec->net_gw, &gw) != 1)
		return errmsg_set(err, -EINVAL, "network: bad gateway \"%s\"", spec->net_gw);

	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), NET_IFACE);
	if (spec->net_mac) {
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
		if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
			return log_syserr(err, errno, "network: set the MAC of " NET_IFACE);
	}
	set_sin(&ifr.ifr_addr, addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return log_syserr(err, errno, "network: set the address of " NET_IFACE);
	set_sin(&ifr.ifr_netmask, htonl(~0u << (32 - prefix)));
	if (prefix < 32 && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		return log_syserr(err, errno, "network: set the netmask of " NET_IFACE);
	int rc = if_up(s, NET_IFACE, err);
	if (rc || !spec->net_gw)
		return rc;
	struct rtentry rt;
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, 0);
	set_sin(&rt.rt_genmask, 0);
	set_sin(&rt.rt_gateway, gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	char dev[] = NET_IFACE;
	rt.rt_dev = dev;
	if (ioctl(s, SIOCADDRT, &rt) < 0)
		return log_syserr(err, errno, "network: default route via %s", spec->net_gw);
	return 0;
}

int net_configure(const struct hcp_spec *spec, struct errmsg *err)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return log_syserr(err, errno, "network: socket");
	int rc = if_up(s, "lo", err);
	if (!rc && spec->net_addr)
		rc = configure_eth(s, spec, err);
	close(s);
	return rc;
}

/* Write path (relative to root) atomically: temp name, then rename. */
static int write_file(const char *root, const char *path, const char *text, struct errmsg *err)
{
	char dst[512], tmp[512];
	snprintf(dst, sizeof(dst), "%s%s", root, path);
	snprintf(tmp, sizeof(tmp), "%s/etc/.hull-tmp", root);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_syserr(err, errno, "write %s", path);
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int e = w < 0 ? errno : (size_t)w != n ? EIO : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, dst) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return log_syserr(err, e, "write %s", path);
	}
	return 0;
}

int net_write_etc(const struct hcp_spec *spec, const char *root, struct errmsg *err)
{
	char etc[512];
	snprintf(etc, sizeof(etc), "%s/etc", root);
	if (mkdir(etc, 0755) < 0 && errno != EEXIST)
		return log_syserr(err, errno, "mkdir /etc");
	const char *name = spec->hostname ? spec->hostname : "localhost";
	char self[INET_ADDRSTRLEN] = "127.0.1.1";
	unsigned addr, prefix;
	if (spec->net_addr && net_parse_cidr(spec->net_addr, &addr, &prefix) == 0)
		inet_ntop(AF_INET, &addr, self, sizeof(self));

	size_t cap = 256 + 2 * strlen(name);
	for (size_t i = 0; i < spec->n_hosts; i++)
		cap += strlen(spec->net_hosts[i]) + 1;
	for (size_t i = 0; i < spec->n_dns; i++)
		cap += strlen(spec->net_dns[i]) + 12;
	char *buf = malloc(cap);
	if (!buf)
		return errmsg_set(err, -ENOMEM, "out of memory");
	snprintf(buf, cap, "%s\n", name);
	int rc = write_file(root, "/etc/hostname", buf, err);
	if (!rc) {
		size_t n = (size_t)snprintf(buf, cap,
					    "127.0.0.1\tlocalhost\n"
					    "::1\tlocalhost ip6-localhost ip6-loopback\n"
					    "%s\t%s\n",
					    self, name);
		for (size_t i = 0; i < spec->n_hosts; i++)
			n += (size_t)snprintf(buf + n, cap - n, "%s\n", spec->net_hosts[i]);
		rc = write_file(root, "/etc/hosts", buf, err);
	}
	if (!rc && spec->n_dns) {
		size_t n = 0;
		buf[0] = '\0';
		for (size_t i = 0; i < spec->n_dns; i++)
			n +=
			    (size_t)snprintf(buf + n, cap - n, "nameserver %s\n", spec->net_dns[i]);
		rc = write_file(root, "/etc/resolv.conf", buf, err);
	}
	free(buf);
	return rc;
}
