/* template: which snapshot template fits a run, and where it lives.
 *
 * A template is a VM saved right after guest-init said READY, before any
 * container was attached (vmm/snapshot/snapshot.h has the files). It fits a run when
 * everything that shaped the booted guest is the same: hull's version, the
 * kernel and initramfs files (device, inode, size, mtime: replacing either
 * file changes the key), vCPUs, memory size, the disk layout and whether the
 * PVM workarounds were on.
 * - template_key() builds that identity as a readable string.
 * - Templates live in $HULL_TEMPLATE_DIR if set, else <store root>/templates,
 *   one directory per key, named by the first 32 hex digits of its sha256.
 * Functions return 0 or -errno (err filled); strings are malloc'd. */
#ifndef HULL_CLI_TEMPLATE_H
#define HULL_CLI_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errmsg.h"

int template_key(const char *kernel, const char *initrd, unsigned cpus, uint64_t mem_bytes,
		 bool pvm, char **key, struct errmsg *err);
char *template_root(const char *store_root);
char *template_dir(const char *root, const char *key);

#endif
