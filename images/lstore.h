/* lstore: hull's local image store, an OCI image layout on disk that holds
 * every pulled or imported image by reference.
 *
 * Layout (under <root>/oci/, created 0700 when missing):
 *   oci-layout                {"imageLayoutVersion":"1.0.0"}
 *   index.json                one manifest descriptor per reference, annotated
 *                             org.opencontainers.image.ref.name = the normalised
 *                             reference ("docker.io/library/alpine:3.19", or
 *                             "<name>@sha256:<hex>" for a digest reference) and
 *                             org.opencontainers.image.created = when it was
 *                             stored (RFC 3339, UTC)
 *   blobs/sha256/<hex>        content-addressed blobs (manifests, indexes,
 *                             configs, layers exactly as the registry or
 *                             archive had them: still compressed)
 *   blobs/sha256/.tmp.*       blobs being written
 *   index.lock                flock()ed around every index.json change
 *   gc.lock                   flock()ed shared by writers (lstore_hold),
 *                             exclusive by lstore_gc
 * So image_prepare(<root>/oci, ref, root, ...) converts a stored image
 * (images/image.h) and the rootfs cache (<root>/rootfs) is unchanged.
 *
 * Contract
 * - A blob is written through a writer: bytes stream into a temp file while
 *   their sha256 and count are computed; commit checks both against the
 *   expected digest and size, fsyncs, renames into place and fsyncs the
 *   directory. A mismatch, a short stream, more bytes than the size, or an
 *   abort removes the temp file: a crash or Ctrl-C leaves only .tmp.*
 *   debris, which lstore_gc() removes. A blob already present is not
 *   rewritten (lstore_has_blob() lets a puller skip the download).
 * - Index changes (tag, untag) take index.lock, read index.json, change it,
 *   write index.json.tmp.<pid>, fsync and rename. Readers need no lock.
 *   Tagging a reference that exists moves it to the new manifest.
 * - lstore_gc() removes blobs no stored reference reaches (walking each
 *   manifest or index and the manifests, configs and layers it names; blobs
 *   an index names but the store lacks, e.g. other platforms, are fine) and
 *   temp debris older than a minute; it holds index.lock meanwhile.
 * - A writer that commits blobs before tagging them (a pull, an import)
 *   calls lstore_hold() first: gc takes gc.lock exclusively, so it waits
 *   until the writer's lstore_close() and never collects blobs in flight.
 *   (A process must not call lstore_gc() while holding its own store.)
 * - index.json entries without a reference annotation are listed with
 *   ref = NULL and keep their blobs alive like any other.
 * - Functions return 0 or -errno with err naming the store path or the
 *   reference and the problem.
 */
#ifndef HULL_IMAGES_LSTORE_H
#define HULL_IMAGES_LSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

struct lstore {
	char *dir;   /* <root>/oci */
	int hold_fd; /* gc.lock held shared, or -1 */
};

struct lstore_entry {
	char *ref;	  /* normalised reference, NULL for an unnamed entry */
	char digest[72];  /* manifest (or index) digest, "sha256:<64 hex>" */
	char *media_type; /* of that manifest or index */
	int64_t size;	  /* of that manifest or index */
	char *created;	  /* when stored; may be NULL */
};

int lstore_open(const char *root, struct lstore *s, struct errmsg *err);
/* Also drops the hold, if any. */
void lstore_close(struct lstore *s);
/* Keep lstore_gc() (in any process) from running until lstore_close(). */
int lstore_hold(struct lstore *s, struct errmsg *err);
/* malloc'd "<dir>/blobs/sha256/<hex>" for a "sha256:<hex>" digest; NULL if the
 * digest is not a well-formed sha256 digest. */
char *lstore_blob_path(const struct lstore *s, const char *digest);
bool lstore_has_blob(const struct lstore *s, const char *digest);

struct lstore_writer;
/* size < 0: not known in advance (then only the digest is checked). */
int lstore_blob_begin(struct lstore *s, const char *digest, int64_t size, struct lstore_writer **w,
		      struct errmsg *err);
int lstore_blob_write(struct lstore_writer *w, const void *buf, size_t n, struct errmsg *err);
/* Verify, publish and free w. On failure the temp file is removed. */
int lstore_blob_commit(struct lstore_writer *w, struct errmsg *err);
/* Drop the temp file and free w. */
void lstore_blob_abort(struct lstore_writer *w);
/* A blob written by another process (hull-fetch, images/fetch_proc.h)
 * into the temp file of a writer begun here:
 * - lstore_blob_fd(w): the temp file's fd (w's: the caller passes it on,
 *   never closes it);
 * - lstore_blob_adopt(w, err): once nobody else holds that fd (the other
 *   process has ended), reads the file back into w's digest and count (no
 *   more than the size w was begun with: -EFBIG) and commits it, so that
 *   what is verified and published is what is in the file, not what the
 *   writer said. On any failure the temp file is removed; w is freed
 *   either way (as by lstore_blob_commit()). */
int lstore_blob_fd(const struct lstore_writer *w);
int lstore_blob_adopt(struct lstore_writer *w, struct errmsg *err);
/* The other process's side: a writer over an fd it was given (a dup is
 * kept), outside any store: lstore_blob_write() as usual, then
 * lstore_writer_end() checks size and digest (the errors commit would
 * give), closes its dup and frees w. */
int lstore_writer_on_fd(const char *digest, int64_t size, int fd, struct lstore_writer **out,
			struct errmsg *err);
int lstore_writer_end(struct lstore_writer *w, struct errmsg *err);
/* The whole blob in one buffer: begin, write, commit (abort on failure). */
int lstore_blob_put(struct lstore *s, const char *digest, const void *buf, size_t len,
		    struct errmsg *err);

int lstore_tag(struct lstore *s, const char *ref, const char *digest, const char *media_type,
	       int64_t size, struct errmsg *err);
/* -ENOENT (err set) when ref is not stored. */
int lstore_untag(struct lstore *s, const char *ref, struct errmsg *err);
/* Fills *e (free with lstore_entry_free) or returns -ENOENT. */
int lstore_resolve(struct lstore *s, const char *ref, struct lstore_entry *e, struct errmsg *err);
/* All entries, in index order; free with lstore_entries_free. */
int lstore_list(struct lstore *s, struct lstore_entry **es, size_t *n, struct errmsg *err);
void lstore_entry_free(struct lstore_entry *e);
void lstore_entries_free(struct lstore_entry *es, size_t n);
/* *freed: bytes of blobs removed (may be NULL). */
int lstore_gc(struct lstore *s, uint64_t *freed, struct errmsg *err);

#endif
