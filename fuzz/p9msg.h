/* p9msg: the two messages every 9p session starts with, for the 9p
 * harnesses and their seed generator: Tversion (msize, "9P2000.L") and
 * Tattach of fid 0 to the volume's root as uid 0. */
#ifndef HULL_FUZZ_P9MSG_H
#define HULL_FUZZ_P9MSG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define P9_TVERSION 100
#define P9_TATTACH 104
#define P9_NOFID 0xffffffffu

struct p9w {
	uint8_t b[256];
	size_t n;
};

static inline void p9w_le(struct p9w *m, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static inline void p9w_str(struct p9w *m, const char *s)
{
	size_t n = strlen(s);
	p9w_le(m, n, 2);
	memcpy(m->b + m->n, s, n);
	m->n += n;
}

static inline void p9w_begin(struct p9w *m, uint8_t type, uint16_t tag)
{
	m->n = 0;
	p9w_le(m, 0, 4);
	p9w_le(m, type, 1);
	p9w_le(m, tag, 2);
}

static inline void p9w_end(struct p9w *m)
{
	for (unsigned i = 0; i < 4; i++)
		m->b[i] = (uint8_t)(m->n >> (8 * i));
}

static inline void p9w_version(struct p9w *m, uint32_t msize)
{
	p9w_begin(m, P9_TVERSION, 0xffff);
	p9w_le(m, msize, 4);
	p9w_str(m, "9P2000.L");
	p9w_end(m);
}

static inline void p9w_attach(struct p9w *m)
{
	p9w_begin(m, P9_TATTACH, 1);
	p9w_le(m, 0, 4);	/* fid */
	p9w_le(m, P9_NOFID, 4); /* afid */
	p9w_str(m, "root");
	p9w_str(m, "");
	p9w_le(m, 0, 4); /* n_uname */
	p9w_end(m);
}

#endif
