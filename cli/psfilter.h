/* psfilter: `hull ps --filter KEY=VALUE`, as docker reads it.
 *
 *   name=TEXT     the name contains TEXT
 *   id=PREFIX     the id starts with PREFIX
 *   label=KEY     the container has label KEY; label=KEY=VALUE: with VALUE
 *   status=S      created, running, exited or dead (docker's restarting,
 *                 removing and paused are accepted and match nothing: hull
 *                 has no such state)
 * Filters with the same key are ORed (except label: a container must have
 * every label asked for, as in docker), different keys ANDed. A status filter
 * lists stopped containers too (as docker's does, without -a).
 *
 * Contract: psfilter_add() copies nothing (value must outlive the filter:
 * argv does) and returns 0, -EINVAL with err for an unknown key, a value
 * missing or an unknown status, -E2BIG past PSFILTER_MAX. Pure logic, no
 * global state. */
#ifndef HULL_CLI_PSFILTER_H
#define HULL_CLI_PSFILTER_H

#include <stdbool.h>

#include "common/errmsg.h"
#include "runtime/state.h"

#define PSFILTER_MAX 32

struct psfilter {
	struct {
		int key; /* enum in psfilter.c */
		const char *value;
	} f[PSFILTER_MAX];
	int n;
};

int psfilter_add(struct psfilter *p, const char *arg, struct errmsg *err);
/* Whether any status filter was given (ps then looks at every container). */
bool psfilter_has_status(const struct psfilter *p);
/* eff: the container's status as it really is (runtime_status_eff). */
bool psfilter_match(const struct psfilter *p, const struct runtime_state *s,
		    enum runtime_status eff);

#endif
