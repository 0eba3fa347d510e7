/* vsock_host: hull's ends of a VM's vsock device, whose host side is Unix
 * sockets next to the VMM's socket U (see vmm/vmm.h, vsock_uds).
 *
 * Contract
 * - vsock_host_listen(): listen on "U_<port>" for the connections the guest
 *   opens to host port `port` (guest-init's control connection:
 *   HCP_VSOCK_PORT_CONTROL; the ports are proto/hcp.h's).
 *   Returns the listening fd (blocking, close-on-exec) or -errno with err.
 *   The path is the caller's to remove (it lives in the run directory).
 * - vsock_host_connect(): reach guest port `port` through U: connect, send
 *   "CONNECT <port>\n", wait up to timeout_ms for "OK <hostport>\n". Returns
 *   the connected fd (blocking), ready for the application's bytes, or
 *   -errno with err: -ECONNREFUSED when the guest refused (nothing listens
 *   on that port: the VMM closes the socket), -ETIMEDOUT.
 */
#ifndef HULL_RUNTIME_VSOCK_HOST_H
#define HULL_RUNTIME_VSOCK_HOST_H

#include <stdint.h>

#include "common/errmsg.h"

int vsock_host_listen(const char *uds, uint32_t port, struct errmsg *err);
int vsock_host_connect(const char *uds, uint32_t port, int timeout_ms, struct errmsg *err);

/* *out: malloc'd path. 0 or -errno with err. */

#endif
