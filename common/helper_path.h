/* helper_path: where one of hull's helper executables is (hull-vmm,
 * hull-slirp, hull-convert): the one owner of that lookup, for every
 * program that starts a helper (the runtime, the image converter's
 * parent).
 *
 * Contract
 * - helper_path(env_name, subdir, name): $env_name if set and not empty;
 *   else next to the running executable (/proc/self/exe):
 *   <exe dir>/../<subdir>/name in a build tree (build/cli/hull next to
 *   build/monitor/hull-vmm) if that is executable, else
 *   <exe dir>/../libexec/hull/name (installed: <prefix>/bin/hull,
 *   <prefix>/libexec/hull/name); /usr/libexec/hull/name when
 *   /proc/self/exe cannot be read. malloc'd, NULL without memory. It does
 *   not check that the result exists: the caller's exec or open says so,
 *   naming the path.
 * - Reads the environment: call it before a fork, not in a child of a
 *   threaded process. Any thread may call it. */
#ifndef HULL_COMMON_HELPER_PATH_H
#define HULL_COMMON_HELPER_PATH_H

char *helper_path(const char *env_name, const char *subdir, const char *name);

#endif
