/* env: the container process's environment.
 *
 * Contract
 * - Pure logic, no I/O.
 * - The result is the spec's entries in their order (kept verbatim, including
 *   duplicates: the kernel and libc decide what those mean), followed by the
 *   defaults docker adds when the image does not set them:
 *     PATH=ENV_DEFAULT_PATH, HOME=<home>, HOSTNAME=<hostname> (only when a
 *     hostname is given and not empty),
 *   and GLIBC_TUNABLES=<tunables> when given: the VMM sets it on PVM hosts
 *   (on the kernel command line, which puts it in init's environment) to keep
 *   glibc off AVX code whose register state the guest kernel cannot switch
 *   there; see kernel-config/README.md. An image's own value wins.
 *   "Set" means an entry "KEY=..." exists; a bare "KEY" without '=' does not
 *   define KEY.
 * - env_build() returns 0 or -ENOMEM; *out is a NULL-terminated array that
 *   owns its strings: release it with env_free().
 */
#ifndef HULL_GUEST_INIT_ENV_H
#define HULL_GUEST_INIT_ENV_H

#include <stddef.h>

#define ENV_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int env_build(char *const *spec_env, size_t n, const char *home, const char *hostname,
	      const char *glibc_tunables, char ***out);
void env_free(char **env);

/* Value of the first "key=" entry of a NULL-terminated env, or NULL. */
const char *env_get(char *const *env, const char *key);

#endif
