/* p9msg: the two messages every 9p session starts with, for the 9p
 * harnesses and their seed generator: Tversion (msize, "9P2000.L") and
 * Tattach of fid 0 to the volume's root as uid 0, built with the unit
 * tests' message writer. */
#ifndef HULL_FUZZ_P9MSG_H
#define HULL_FUZZ_P9MSG_H

#include "tests/unit/p9/p9_msg.h"

#define FZ_P9_TVERSION 100
#define FZ_P9_TATTACH 104
#define FZ_P9_NOFID 0xffffffffu

/* Each returns the message's length (in m->b). */
static inline size_t fz_p9_version(struct p9m *m, uint32_t msize)
{
	m_begin(m, FZ_P9_TVERSION, 0xffff);
	m_u32(m, msize);
	m_str(m, "9P2000.L");
	return m_end(m);
}

static inline size_t fz_p9_attach(struct p9m *m)
{
	m_begin(m, FZ_P9_TATTACH, 1);
	m_u32(m, 0);	       /* fid */
	m_u32(m, FZ_P9_NOFID); /* afid */
	m_str(m, "root");
	m_str(m, "");
	m_u32(m, 0); /* n_uname */
	return m_end(m);
}

#endif
