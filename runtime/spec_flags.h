/* spec_flags: the parsers of `hull run`'s docker flags that shape the
 * container (docker's meaning for each; runtime.h's struct rt_confine takes
 * the results). Pure logic, unit-tested; every error names the option, the
 * value and what was expected.
 *
 *   --env-file FILE        one variable a line: KEY=VALUE taken verbatim
 *                          (no quotes, no expansion), KEY alone from hull's
 *                          environment (dropped when unset), blank lines and
 *                          lines starting with '#' skipped; leading blanks of
 *                          a line dropped; a name with blanks is an error.
 *   --ulimit NAME=SOFT[:HARD]  NAME as docker's (nofile, nproc, core, ...);
 *                          -1 is unlimited; HARD defaults to SOFT.
 *   --mount type=bind|tmpfs,KEY=VALUE,...  docker's keys: source/src,
 *                          target/destination/dst, readonly/ro[=true|false],
 *                          tmpfs-size, tmpfs-mode; bind becomes a -v volume.
 *   --restart no|always|unless-stopped|on-failure[:N]
 *   --add-host NAME:IP     (or NAME=IP); IP may be host-gateway (the host).
 *   --cap-add/--cap-drop CAP, --privileged, --security-opt: see spec_caps().
 *   --platform OS/ARCH     only linux/amd64 (and its aliases).
 *   --cpus N               an integer 1..max is vCPUs; a fraction is a CPU
 *                          quota, refused until the monitor has a cgroup.
 * Functions return 0 or -errno and fill err.
 */
#ifndef HULL_RUNTIME_SPEC_FLAGS_H
#define HULL_RUNTIME_SPEC_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "proto/hcp.h"

/* One line of an env file (without its newline): *out is a malloc'd -e value
 * ("KEY=VALUE" or "KEY"), or NULL for a line to skip. */
int spec_env_line(const char *line, char **out, struct errmsg *err);
/* Every line of path, appended to *vals (malloc'd array of malloc'd
 * strings, *n entries). At most 1 MiB. */
int spec_env_file(const char *path, char ***vals, size_t *n, struct errmsg *err);

int spec_ulimit(const char *val, struct hcp_ulimit *out, struct errmsg *err);
/* An OCI process.rlimits entry (the containerd shim's --ulimit): type
 * "RLIMIT_" and one of --ulimit's names in upper case ("RLIMIT_NOFILE"),
 * soft <= hard, UINT64_MAX unlimited. err names type and the problem. */
int spec_rlimit(const char *type, uint64_t soft, uint64_t hard, struct hcp_ulimit *out,
		struct errmsg *err);

struct spec_mount {
	bool tmpfs;	  /* type=tmpfs; else type=bind */
	char *volume;	  /* bind: "SOURCE:TARGET[:ro]" for volume_parse */
	char *tmpfs_spec; /* tmpfs: "TARGET[:size=...,mode=...]" for hcp_tmpfs_parse */
};
int spec_mount(const char *val, struct spec_mount *out, struct errmsg *err);
void spec_mount_free(struct spec_mount *m);

int spec_restart(const char *val, enum hcp_restart *mode, uint32_t *max, struct errmsg *err);

/* gateway: the IP host-gateway stands for (the host as the guest sees it),
 * NULL when the network has none. *line: malloc'd "IP NAME". */
int spec_add_host(const char *val, const char *gateway, char **line, struct errmsg *err);

/* docker's default capabilities for a container's processes. */
uint64_t spec_default_caps(void);
/* The capability set: privileged ? every one : docker's default; then the
 * adds, then the drops ("ALL" in either: every capability); names with or
 * without CAP_, any case. */
int spec_caps(bool privileged, char *const *add, size_t n_add, char *const *drop, size_t n_drop,
	      uint64_t *caps, struct errmsg *err);
/* --security-opt: no-new-privileges[:true|false|=true|=false] sets
 * *no_new_privs; seccomp=unconfined, apparmor=unconfined and
 * label=disable are accepted (the guest applies no seccomp profile and has
 * no LSM); anything else is refused. */
int spec_security_opt(const char *val, bool *no_new_privs, struct errmsg *err);

int spec_platform(const char *val, struct errmsg *err);
/* docker's --cpus: a whole N is N vCPUs (*quota_milli 0); a fraction F
 * (at most three decimals) is ceil(F) vCPUs held to a CPU quota of
 * F * 1000 thousandths of a CPU on the VM's cgroup (*quota_milli). */
int spec_cpus(const char *val, unsigned max, unsigned *vcpus, uint32_t *quota_milli,
	      struct errmsg *err);

#endif
