/* seccomp/policy: the allow-list of each thread role (filter.h), kept in
 * one file so a review reads every permission in one place. Internal to
 * seccomp/: filter.c builds the filter with it.
 *
 * Contract: hsc_policy_add() adds role's allow rules to f (whose default
 * action is the violation); self is the process's pid, the only target of
 * the signals a role may send. 0 or -errno (libseccomp's). */
#ifndef HULL_SECCOMP_POLICY_H
#define HULL_SECCOMP_POLICY_H

#include <seccomp.h>
#include <sys/types.h>

#include "seccomp/filter.h"

int hsc_policy_add(scmp_filter_ctx f, enum hsc_role role, pid_t self);

#endif
