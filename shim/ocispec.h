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
 * - rlimits: at most HCP_MAX_ULIMITS, each type once, as hull run's --ulimit
 *   values (runtime/spec_flags.h: spec_rlimit): "RLIMIT_NOFILE", soft <=
 *   hard, 2^64-1 unlimited.
 * - annotations: a string map, kept as "KEY=VALUE" (the container's labels'
 *   form), at most RUNTIME_MAX_LABELS, no key empty or with '='.
 * - mounts: only bind mounts (type "bind", or an option "bind"/"rbind") are
 *   kept, as volumes to share; readonly when an option is "ro". proc, sysfs,
 *   tmpfs, devpts... are the guest's own business.
 * - linux.resources: memory.limit (bytes; -1 or absent: none) as mem_limit,
 *   cpu.quota/cpu.period (period 100000 when absent) as cpu_milli, in 1/1000
 *   CPU rounded up; 0: not set. (What they make of the VM: vmsize.h.)
 * - Outputs own their memory; shim_spec_free() frees (a zeroed struct too).
 */
#ifndef HULL_SHIM_OCISPEC_H
#define HULL_SHIM_OCISPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "proto/hcp.h"

#define SHIM_SPEC_MAX (1u << 20)

struct shim_spec_bind {
	char *source, *destination;
	bool readonly;
};

struct shim_spec {
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	char *cwd;
	uint32_t uid, gid;
	bool terminal;
	struct hcp_ulimit *ulimits; /* process.rlimits */
	size_t n_ulimits;
	/* config.json only */
	char *hostname;	 /* NULL: not set */
	char *root_path; /* root.path (the bundle's "rootfs" or absolute); NULL: not set */
	struct shim_spec_bind *binds;
	size_t n_binds;
	char **annotations; /* "KEY=VALUE", NULL-terminated */
	size_t n_annotations;
	uint64_t mem_limit; /* linux.resources.memory.limit; 0: none */
	uint32_t cpu_milli; /* the CPU quota / period in 1/1000 CPU; 0: none */
};

/* A whole config.json. */
int shim_spec_parse(const char *json, size_t len, struct shim_spec *s, struct errmsg *err);
/* An Exec's process object. */
int shim_process_parse(const char *json, size_t len, struct shim_spec *s, struct errmsg *err);
/* <bundle>/config.json */
int shim_spec_load(const char *bundle, struct shim_spec *s, struct errmsg *err);
void shim_spec_free(struct shim_spec *s);
/* The value of annotation key; NULL: none. */
const char *shim_spec_annotation(const struct shim_spec *s, const char *key);

#endif
