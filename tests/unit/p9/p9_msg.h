/* Building 9P2000.L T-messages and reading R-messages, for unit tests. */
#ifndef HULL_TEST_P9_MSG_H
#define HULL_TEST_P9_MSG_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

struct p9m {
	uint8_t b[16384];
	size_t n;
};

static inline void m_u8(struct p9m *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static inline void m_u16(struct p9m *m, uint16_t v)
{
	v = htole16(v);
	memcpy(m->b + m->n, &v, 2);
	m->n += 2;
}

static inline void m_u32(struct p9m *m, uint32_t v)
{
	v = htole32(v);
	memcpy(m->b + m->n, &v, 4);
	m->n += 4;
}

static inline void m_u64(struct p9m *m, uint64_t v)
{
	v = htole64(v);
	memcpy(m->b + m->n, &v, 8);
	m->n += 8;
}

static inline void m_str(struct p9m *m, const char *s)
{
	m_u16(m, (uint16_t)strlen(s));
	memcpy(m->b + m->n, s, strlen(s));
	m->n += strlen(s);
}

static inline void m_begin(struct p9m *m, uint8_t type, uint16_t tag)
{
	m->n = 4;
	m_u8(m, type);
	m_u16(m, tag);
}

/* Fix up the size field; returns the length. */
static inline size_t m_end(struct p9m *m)
{
	uint32_t v = htole32((uint32_t)m->n);
	memcpy(m->b, &v, 4);
	return m->n;
}

static inline uint32_t r_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline uint64_t r_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline uint16_t r_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#endif
