/* refresh: give a VM restored from a template what it must not share with
 * the template or its siblings: the wall clock and the RNG state.
 *
 * Contract
 * - refresh_clock() sets CLOCK_REALTIME to the host's time from the spec.
 * - refresh_rng() mixes the host's seed into the kernel's entropy pool,
 *   credits it, and forces a reseed of the CRNG, so that two VMs restored
 *   from one template produce different random numbers from here on.
 * Both return 0 or -errno and fill err. They are also right on a cold boot
 * (the guest has no RTC, and its pool starts nearly empty). */
#ifndef HULL_GUEST_INIT_REFRESH_H
#define HULL_GUEST_INIT_REFRESH_H

#include <stdint.h>

#include "common/errmsg.h"
#include "proto/hcp.h"

int refresh_clock(uint64_t realtime_ns, struct errmsg *err);
int refresh_rng(const uint8_t seed[HCP_SEED_LEN], struct errmsg *err);

#endif
