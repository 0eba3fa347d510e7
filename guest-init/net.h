/* net: the guest's network, as the spec says (see proto/hcp.h, tags 16-20).
 *
 * Contract
 * - net_configure(): lo up (the kernel gives it 127.0.0.1); when the spec has
 *   an address, eth0 gets the spec's MAC (SIOCSIFHWADDR: a VM restored from
 *   a template still has the template's), the address and netmask, goes up,
 *   and gets a default route via the gateway when one is given. Plain ioctls,
 *   no external tools, a dozen system calls. Values from the spec are checked
 *   (a malformed MAC or address is an error naming it).
 * - net_write_etc(): into the container's root (ROOT, the overlay, before
 *   the container starts; writes land in the upper layer): /etc/hostname,
 *   /etc/hosts (localhost, the hostname at the guest's address or 127.0.1.1,
 *   then the spec's extra lines) and, when the spec names nameservers,
 *   /etc/resolv.conf. Each file is written under a temporary name and
 *   renamed (a symlink in the image is replaced, not followed). A missing
 *   /etc is created.
 * - Both return 0 or -errno with err saying what failed.
 */
#ifndef HULL_GUEST_INIT_NET_H
#define HULL_GUEST_INIT_NET_H

#include "common/errmsg.h"
#include "proto/hcp.h"

#define NET_IFACE "eth0"

int net_configure(const struct hcp_spec *spec, struct errmsg *err);
int net_write_etc(const struct hcp_spec *spec, const char *root, struct errmsg *err);

/* Parsers, exposed for the unit tests. 0 or -EINVAL. */
int net_parse_mac(const char *s, unsigned char mac[6]);
int net_parse_cidr(const char *s, unsigned *addr_be, unsigned *prefix);

#endif
