/* bootstrap: where the shim's ttrpc socket lives and how containerd learns it.
 *
 * Contract
 * - shim_socket_path(): <bundle>/shim.sock when that fits a sockaddr_un
 *   (bundles are 0700 root directories containerd removes after delete),
 *   else SHIM_SOCKET_FALLBACK_DIR/<64-bit FNV-1a of address/ns/id in hex>.sock
 *   (shim_listen() makes that directory, 0700).
 *   -ENAMETOOLONG if even that does not fit out.
 * - shim_listen(): a listening, CLOEXEC, 0600 Unix socket at path; a stale
 *   socket file is replaced; -EADDRINUSE when a live shim already listens
 *   there (containerd asked twice: the caller prints that address).
 * - shim_write_address(): writes "unix://<path>" without a newline to
 *   <dir>/address through a temp file and rename (containerd's restart path
 *   reads it).
 * - shim_socket_from_address(): the path in "unix://<path>" (or a bare path)
 *   into out; -EINVAL for anything else.
 * 0 or -errno with err. */
#ifndef HULL_SHIM_BOOTSTRAP_H
#define HULL_SHIM_BOOTSTRAP_H

#include <stddef.h>

#include "common/errmsg.h"

#define SHIM_SOCKET_FALLBACK_DIR "/run/hull-shim"

int shim_socket_path(const char *bundle, const char *address, const char *ns, const char *id,
		     char *out, size_t n);
int shim_listen(const char *path, int *fd, struct errmsg *err);
int shim_write_address(const char *dir, const char *path, struct errmsg *err);
int shim_socket_from_address(const char *address, char *out, size_t n);

#endif
