/* fuzz.h: what every libFuzzer harness of hull shares (see fuzz/README.md).
 *
 * Contract
 * - struct fz reads a fuzzer input front to back. Reads past the end return
 *   zeros (and an empty byte range), so a harness decodes any input without
 *   length checks of its own; fz_left() says when to stop a loop.
 * - fz_tmpdir() makes a fresh private directory under $HULL_FUZZ_TMP (fuzz/run
 *   sets it to a directory it removes at the end, so a crashed harness leaves
 *   nothing behind), else /dev/shm, else /tmp, for a harness's files; fz_rmtree() removes a tree
 * without following symlinks. Both abort on failure: a harness that cannot set itself up must not
 * report "no crash".
 * - FZ_CHECK(cond) aborts with a message when an invariant of the code under
 *   test does not hold: libFuzzer records that as a crash with the input.
 * - Header-only, single-threaded, no global state.
 */
#ifndef HULL_FUZZ_FUZZ_H
#define HULL_FUZZ_FUZZ_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline size_t fz_left(const struct fz *f)
{
	return f->n;
}

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);
	return lo | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);
	return lo | (uint64_t)fz_u32(f) << 32;
}

/* Up to n bytes (fewer at the end of the input); *got says how many. */
static inline const uint8_t *fz_bytes(struct fz *f, size_t n, size_t *got)
{
	const uint8_t *p = f->p;
	*got = n < f->n ? n : f->n;
	f->p += *got;
	f->n -= *got;
	return p;
}

/* A NUL-terminated malloc'd copy of the next (u16-length-prefixed) string. */
static inline char *fz_str(struct fz *f)
{
	size_t n;
	const uint8_t *p = fz_bytes(f, fz_u16(f), &n);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

/* A copy of the whole input with a NUL after it (for parsers of C strings). */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

static inline char *fz_tmpdir(const char *what)
{
	char *path;
	const char *base = getenv("HULL_FUZZ_TMP");
	if (!base || !*base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if (asprintf(&path, "%s/hull-fuzz-%s.XXXXXX", base, what) < 0 || !mkdtemp(path)) {
		perror("fuzz: temporary directory");
		abort();
	}
	return path;
}

static inline int fz_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rc = type == FTW_DP ? rmdir(path) : unlink(path);
	if (rc < 0 && errno != ENOENT) {
		fprintf(stderr, "fuzz: removing %s: %s\n", path, strerror(errno));
		abort();
	}
	return 0;
}

/* rm -rf path (absent is fine). Runs as root in CI; a directory the code
 * under test made unreadable is still removable then. */
static inline void fz_rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	nftw(path, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
