/* ocispec: the parts of an OCI runtime spec (the bundle's config.json, or the
 * process object of an Exec) that a hull container is made of.
 *
 * Contract
 * - Input is the client's (containerd's, built from an image and a user's
 *   options): anything not of the expected shape is -EINVAL with err naming
 *   the field ("config.json: process.args[2]: not a string"). Larger than
 *   SHIM_SPEC_MAX is -EFBIG. Unknown fields are ignored (the spec has many
 *   hull does not use: namespaces, seccomp, capabilities...).
 * - process.args must be a non-empty array of strings; env, cwd (absolute;
 *   default "/"), user.uid/gid (default 0), terminal, rlimits are optional.
 * - mounts: only bind mounts (type "bind", or an option "bind"/"rbind") are
 *   kept, as volumes to share; readonly when an option is "ro". proc, sysfs,
 *   tmpfs, devpts... are the guest's own business.
 * - linux.resources: memory.limit (bytes; -1 or absent: none) as mem_limit,
 *   cpu.quota/cpu.period (period 100000 when absent) as cpus, rounded up;
 *   0: not set.
 * - Outputs own their memory; shim_spec_free() frees (a zeroed struct too).
 */
#ifndef HULL_SHIM_OCISPEC_H
#define HULL_SHIM_OCISPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define SHIM_SPEC_MAX (1u << 20)

struct shim_spec_bind {
	char *source, *destination;
	bool readonly;
};

struct shim_spec_rlimit {
	char *type; /* "RLIMIT_NOFILE" */
	uint64_t hard, soft;
};

struct shim_spec {
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	char *cwd;
	uint32_t uid, gid;
	bool terminal;
	struct shim_spec_rlimit *rlimits;
	size_t n_rlimits;
	/* config.json only */
	char *hostname; /* NULL: not set */
	struct shim_spec_bind *binds;
	size_t n_binds;
	char **annotations; /* key, value, key, value... */
	size_t n_annotations;
	uint64_t mem_limit; /* linux.resources.memory.limit; 0: none */
	uint32_t cpus;	    /* from the CPU quota and period; 0: none */
};

/* A whole config.json. */
int shim_spec_parse(const char *json, size_t len, struct shim_spec *s, struct errmsg *err);
/* An Exec's process object. */
int shim_process_parse(const char *json, size_t len, struct shim_spec *s, struct errmsg *err);
/* <bundle>/config.json */
int shim_spec_load(const char *bundle, struct shim_spec *s, struct errmsg *err);
void shim_spec_free(struct shim_spec *s);

#endif
