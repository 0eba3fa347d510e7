/* memsum: checksums of a template's guest RAM, so that a damaged `mem` file
 * is refused instead of restored (a flipped page there made every restored
 * guest triple-fault).
 *
 * Contract
 * - RAM is cut into chunks of 2^shift bytes (shift from memsum_shift(): at
 *   least 2 MiB, and never more than MEMSUM_MAX_CHUNKS chunks). A chunk's
 *   sum covers its non-zero 4 KiB pages only, each with its page index, in
 *   ascending order: an all-zero page and a hole are the same, so the sparse
 *   `mem` file is checked by reading its data extents alone.
 * - Damage, not attack: the sums are a fast 64-bit hash (any change within
 *   one 8-byte lane of a page changes the page's hash for certain; other
 *   changes go unnoticed with odds of about 2^-64). The list of sums is
 *   protected by the state file's SHA-256; none of this is a signature.
 * - memsum_add_page() folds page `index` (of the whole RAM) into its chunk's
 *   sum; pages must come in ascending order. memsum_check_fd() recomputes
 *   the sums of a file (regular; holes read as zero) and compares them:
 *   0, -EBADMSG with the first bad chunk in *bad_chunk, or -errno of a
 *   read. No allocation beyond a 1 MiB buffer; no shared state.
 */
#ifndef HULL_SNAPSHOT_MEMSUM_H
#define HULL_SNAPSHOT_MEMSUM_H

#include <stdbool.h>
#include <stdint.h>

#define MEMSUM_PAGE 4096u
#define MEMSUM_MIN_SHIFT 21u /* 2 MiB */
#define MEMSUM_MAX_CHUNKS 8192u

/* The chunk size (log2) for total bytes of RAM. */
unsigned memsum_shift(uint64_t total);
/* How many chunks total bytes of RAM make at that shift. */
uint32_t memsum_chunks(uint64_t total, unsigned shift);
/* Every chunk's starting value (a chunk without data keeps it). */
void memsum_init(uint64_t *sums, uint32_t nchunks);
/* The hash of one 4 KiB page. */
uint64_t memsum_page(const uint8_t *page);
/* Fold non-zero page number `index` into sums (caller checks the bound). */
void memsum_add_page(uint64_t *sums, unsigned shift, uint64_t index, const uint8_t *page);
/* True when the page holds only zero bytes. */
bool memsum_page_is_zero(const uint8_t *page);
/* Recompute over fd's first total bytes and compare with want. */
int memsum_check_fd(int fd, uint64_t total, unsigned shift, const uint64_t *want, uint32_t nchunks,
		    uint32_t *bad_chunk);

#endif
