/* snapshot: a VM template on disk (a booted guest, saved once, restored
 * for every later run).
 *
 * Layout: a directory holding two files.
 * - `state`: a fixed prefix {magic "HULLSNAP", format version, flags, total
 *   length, hull version string}, then vmstate sections {the template key,
 *   the host CPU signature, the guest RAM layout, the creation time, the
 *   checksums of `mem` (vmm/snapshot/memsum.h: one per chunk of 2 MiB or
 *   more, over its non-zero pages), and the caller's blobs by id (per-vCPU, VM and device state,
 * opaque here)}, then a SHA-256 over everything before it. Integers are little-endian.
 * - `mem`: guest RAM, the regions of struct guest_mem back to back (region
 *   i at the file offset recorded in the header). Written sparse: only
 *   non-zero 4 KiB pages hold data, the rest are holes, so a fresh guest's
 *   mostly untouched RAM costs little disk.
 *
 * Contract
 * - snapshot_write() builds the template in a temporary directory next to
 *   `dir` (".<name>.tmp-<pid>-XXXXXX", same parent, so the final rename is
 *   atomic; missing parents are created, mode 0700; files are 0600), fsyncs both files and the
 * directory, then renames it into place without replacing anything. If `dir` exists by then
 * (another process won the race), ours is discarded and the call returns 0: the template at `dir`
 * is as good. A crash leaves only a dot-named temporary directory, which is never taken for a
 * template. To replace a template (e.g. one refused as stale), snapshot_remove() it first.
 * - snapshot_open() reads and verifies `state`, checks `mem` against its
 *   checksums (reading its data extents once: a damaged page there made
 *   every restored guest triple-fault), then maps `mem` MAP_PRIVATE
 *   (copy-on-write: every VM restored from the template shares its page
 *   cache pages until it writes them; the file never changes). The result's
 *   `mem` can be handed to KVM like guest_mem_init()'s, but is released by
 *   snapshot_close(), never guest_mem_free(). The template must stay
 *   immutable on disk while mapped: hull only ever renames and unlinks
 *   templates, which does not disturb existing mappings.
 * - Refusals say why, naming the template:
 *     -ENOENT   no template there;
 *     -ESTALE   made by another hull version / state format, for another key,
 *               on another host CPU, or with another memory size;
 *     -EBADMSG  truncated, checksum mismatch (state or mem), or malformed
 *               (corrupted).
 *   Either way the caller boots cold and may write a new template.
 * - `state` is untrusted even when its checksum matches (a checksum is not
 *   a signature): every field is bounds- and sanity-checked. Section blobs
 *   are returned as bytes; their decoders check them again.
 * - Not thread-safe per object; distinct objects are independent. Functions
 *   return 0 or -errno and fill err (may be NULL).
 */
#ifndef HULL_SNAPSHOT_H
#define HULL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/guest_mem.h"

#define SNAPSHOT_FORMAT 2u	 /* 2: with the mem checksums */
#define SNAPSHOT_VERSION_MAX 63u /* bytes of the hull version string */
#define SNAPSHOT_KEY_MAX 4096u	 /* bytes of the key string */
#define SNAPSHOT_SECTIONS_MAX 256u
/* Bound on the `state` file (vCPU, VM and device blobs; a UART rx queue can
 * hold 1 MiB). A larger file is refused as corrupted. */
#define SNAPSHOT_STATE_MAX (64u << 20)

/* What identifies the host CPU model a template can be restored on. */
struct snapshot_cpu {
	char vendor[13]; /* CPUID leaf 0, NUL-terminated */
	uint32_t family, model, stepping;
	uint32_t leaf1_ecx, leaf1_edx;
	uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;
};

/* This host's signature, read with the cpuid instruction. */
void snapshot_host_cpu(struct snapshot_cpu *out);

/* One caller blob. Ids are the caller's (unique per template). */
struct snapshot_section {
	uint32_t id;
	const void *data;
	size_t len;
};

struct snapshot_desc {
	const char *hull_version;	/* at most SNAPSHOT_VERSION_MAX bytes */
	const char *key;		/* template identity, at most SNAPSHOT_KEY_MAX bytes */
	const struct snapshot_cpu *cpu; /* NULL: this host (tests inject others) */
	const struct snapshot_section *sections;
	unsigned nsections; /* at most SNAPSHOT_SECTIONS_MAX */
};

struct snapshot_expect {
	const char *hull_version;
	const char *key;		/* NULL: any (listing) */
	const struct snapshot_cpu *cpu; /* NULL: this host */
	uint64_t mem_size;		/* 0: any */
};

struct snapshot_blob {
	uint32_t id;
	uint32_t len;
	const uint8_t *data; /* into the state buffer */
};

struct snapshot {
	struct guest_mem mem; /* MAP_PRIVATE mappings of `mem` */
	char hull_version[SNAPSHOT_VERSION_MAX + 1];
	char *key;
	struct snapshot_cpu cpu;
	int64_t created; /* unix seconds */
	/* private */
	uint8_t *state;
	size_t state_len;
	struct snapshot_blob *blobs;
	unsigned nblobs;
	const uint8_t *msum; /* into state: msum_n little-endian u64 */
	uint32_t msum_n;
	unsigned msum_shift;
};

int snapshot_write(const char *dir, const struct snapshot_desc *d, const struct guest_mem *mem,
		   struct errmsg *err);
int snapshot_open(const char *dir, const struct snapshot_expect *e, struct snapshot *out,
		  struct errmsg *err);
/* The blob with this id: 0 with data and len set, or -ENOENT. */
int snapshot_section(const struct snapshot *s, uint32_t id, const uint8_t **data, size_t *len);
/* Unmap and free; safe on a zeroed or failed struct. */
void snapshot_close(struct snapshot *s);

/* ---- managing templates under a root directory ---- */

struct snapshot_info {
	const char *name;    /* entry under root */
	const char *path;    /* root/name */
	const char *key;     /* NULL if unreadable */
	uint64_t disk_bytes; /* allocated on disk (st_blocks), not apparent size */
	uint64_t mem_bytes;  /* guest RAM size; 0 if unreadable */
	int64_t created;     /* unix seconds: header, or the directory's mtime */
	bool valid;	     /* usable by this hull version on this host CPU */
	const char *why;     /* !valid: the reason */
	/* A temporary directory of a write (or removal) that has not finished:
	 * still running (in_progress) or left behind by a crash. */
	bool partial;
	bool in_progress;
};

typedef int (*snapshot_list_fn)(void *ctx, const struct snapshot_info *info);

/* Call fn for every template (and leftover temporary directory) under
 * root; e->key is ignored. A non-zero return from fn stops the walk and is
 * returned. A missing root lists nothing. */
int snapshot_list(const char *root, const struct snapshot_expect *e, snapshot_list_fn fn, void *ctx,
		  struct errmsg *err);

/* Remove a template (or a leftover temporary directory): it is first
 * renamed to a dot-name, so it stops being a template atomically, then its
 * files are deleted. Processes that have it mapped keep their mapping. */
int snapshot_remove(const char *dir, struct errmsg *err);

#endif
