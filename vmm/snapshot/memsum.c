#include "memsum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Two odd 64-bit constants (golden-ratio and friends): multiplication by
 * an odd number is a bijection mod 2^64, which is what makes a change in
 * one lane always visible. */
#define K1 0x9e3779b97f4a7c15ull
#define K2 0xbf58476d1ce4e5b9ull
#define K3 0x94d049bb133111ebull
#define READ_BUF (1u << 20)

static inline uint64_t rotl(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

/* Bijective in acc for a fixed w, and in w for a fixed acc. */
static inline uint64_t step(uint64_t acc, uint64_t w)
{
	acc += w * K2;
	acc = rotl(acc, 31);
	return acc * K1;
}

unsigned memsum_shift(uint64_t total)
{
	unsigned s = MEMSUM_MIN_SHIFT;
	while (s < 63 && (total >> s) >= MEMSUM_MAX_CHUNKS)
		s++;
	return s;
}

uint32_t memsum_chunks(uint64_t total, unsigned shift)
{
	return (uint32_t)((total + (1ull << shift) - 1) >> shift);
}

void memsum_init(uint64_t *sums, uint32_t nchunks)
{
	for (uint32_t i = 0; i < nchunks; i++)
		sums[i] = step(K3, i);
}

uint64_t memsum_page(const uint8_t *p)
{
	uint64_t a[4] = {K1, K2, K3, ~K1};
	for (unsigned i = 0; i < MEMSUM_PAGE; i += 32) {
		for (unsigned l = 0; l < 4; l++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * l, sizeof(w));
			a[l] = step(a[l], w);
		}
	}
	uint64_t h = rotl(a[0], 1) + rotl(a[1], 7) + rotl(a[2], 12) + rotl(a[3], 18);
	h ^= h >> 31;
	h *= K2;
	return h ^ (h >> 29);
}

void memsum_add_page(uint64_t *sums, unsigned shift, uint64_t index, const uint8_t *page)
{
	uint64_t *c = &sums[(index * MEMSUM_PAGE) >> shift];
	*c = step(step(*c, index), memsum_page(page));
}

bool memsum_page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[MEMSUM_PAGE];
	/* most non-zero pages differ in the first word: cheap early exit */
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	return w == 0 && !memcmp(p, zero, MEMSUM_PAGE);
}

/* Fold fd's bytes [off, end) (page-aligned) into sums. */
static int fold_range(int fd, uint8_t *buf, uint64_t off, uint64_t end, unsigned shift,
		      uint64_t *sums)
{
	while (off < end) {
		size_t want = end - off < READ_BUF ? (size_t)(end - off) : READ_BUF;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if ((size_t)n < want)
			return -EBADMSG; /* shorter than its size said: changed under us */
		for (size_t i = 0; i < want; i += MEMSUM_PAGE)
			if (!memsum_page_is_zero(buf + i))
				memsum_add_page(sums, shift, (off + i) / MEMSUM_PAGE, buf + i);
		off += want;
	}
	return 0;
}

int memsum_check_fd(int fd, uint64_t total, unsigned shift, const uint64_t *want, uint32_t nchunks,
		    uint32_t *bad_chunk)
{
	*bad_chunk = 0;
	if (total % MEMSUM_PAGE || memsum_chunks(total, shift) != nchunks)
		return -EINVAL;
	uint64_t *sums = malloc(nchunks * sizeof(*sums) + 1);
	uint8_t *buf = aligned_alloc(MEMSUM_PAGE, READ_BUF);
	int rc = sums && buf ? 0 : -ENOMEM;
	if (!rc)
		memsum_init(sums, nchunks);
	/* Only the data extents: holes are zero pages, which sum to nothing.
	 * A file system without SEEK_DATA reports all of it as data. */
	uint64_t off = 0;
	while (!rc && off < total) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			break;
		if (d < 0) {
			rc = -errno;
			break;
		}
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0) {
			rc = -errno;
			break;
		}
		uint64_t lo = (uint64_t)d & ~(uint64_t)(MEMSUM_PAGE - 1);
		uint64_t hi = ((uint64_t)h + MEMSUM_PAGE - 1) & ~(uint64_t)(MEMSUM_PAGE - 1);
		if (lo < off)
			lo = off;
		if (hi > total)
			hi = total;
		if (hi <= lo)
			break;
		rc = fold_range(fd, buf, lo, hi, shift, sums);
		off = hi;
	}
	for (uint32_t i = 0; !rc && i < nchunks; i++) {
		if (sums[i] != want[i]) {
			*bad_chunk = i;
			rc = -EBADMSG;
		}
	}
	free(sums);
	free(buf);
	return rc;
}
