/* oci_source: read files and blobs of an OCI image layout, either a directory
 * or an oci-archive (a tar of the layout, possibly compressed).
 *
 * Contract
 * - Blobs are addressed by descriptor (digest + size) and are verified while
 *   they are read: oci_blob_read() fails as soon as more bytes than the
 *   descriptor's size arrive, and the read that reaches the end checks the
 *   size and the sha256 digest, returning an error instead of 0 (end) on a
 *   mismatch. A consumer that stops early calls oci_blob_drain().
 * - In an archive, each open scans the outer tar from the start (headers
 *   only, data is skipped; cheap for an uncompressed tar) and streams the
 *   member's data without extracting anything.
 * - Messages name the file or blob and the problem; the caller prefixes the
 *   image path. */
#ifndef HULL_IMAGES_OCI_SOURCE_H
#define HULL_IMAGES_OCI_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"
#include "images/oci_json.h"

struct oci_source;
struct oci_blob;

/* path: a directory (layout) or a regular file (archive). */
int oci_source_open(const char *path, struct oci_source **out, struct errmsg *err);
void oci_source_close(struct oci_source *s);
bool oci_source_is_archive(const struct oci_source *s);
/* The path it was opened with (s's, for messages). */
const char *oci_source_path(const struct oci_source *s);

/* Read the layout's top-level file `name` ("oci-layout", "index.json") into
 * a malloc'd NUL-terminated buffer. -ENOENT if absent, -EFBIG if over max. */
int oci_source_read_file(struct oci_source *s, const char *name, size_t max, char **buf,
			 size_t *len, struct errmsg *err);

/* Read a whole blob (verified) into a malloc'd NUL-terminated buffer;
 * -EFBIG if its descriptor says more than max bytes. */
int oci_source_read_blob(struct oci_source *s, const struct oci_descriptor *d, size_t max,
			 char **buf, size_t *len, struct errmsg *err);

int oci_blob_open(struct oci_source *s, const struct oci_descriptor *d, struct oci_blob **out,
		  struct errmsg *err);
/* Next chunk of the blob: *buf stays valid until the next call. Returns the
 * number of bytes (> 0), 0 at the verified end, or -errno. */
ssize_t oci_blob_read(struct oci_blob *b, const void **buf, struct errmsg *err);
/* Read (and verify) whatever is left. */
int oci_blob_drain(struct oci_blob *b, struct errmsg *err);
void oci_blob_close(struct oci_blob *b);

/* Any member (archive) or file (directory) by relative path, unverified:
 * for formats that name files rather than blobs (docker-archive). Names
 * that are absolute or contain a ".." component are refused (-EINVAL).
 * *size: the member's size. Read it with oci_member_read() (same return
 * convention as oci_blob_read()) and close it with oci_blob_close(). */
int oci_member_open(struct oci_source *s, const char *name, struct oci_blob **out, uint64_t *size,
		    struct errmsg *err);
ssize_t oci_member_read(struct oci_blob *b, const void **buf, struct errmsg *err);

/* For a converter that may open nothing itself (images/convert_proc.h): its
 * inputs are opened before it drops its privileges.
 * - oci_source_preopen() opens now what oci_blob_open() of each of the n
 *   descriptors will read: in a directory, each blob file (the checks of
 *   oci_blob_open(): no symlink in any component, a regular file, its
 *   descriptor's size); for an archive, the archive file itself
 *   (O_NOFOLLOW|O_NONBLOCK, a regular file). The fds stay with s.
 * - oci_source_seal(): from then on s opens nothing by path: a blob is read
 *   from its preopened fd (from its start, on each open), anything else is
 *   -EPERM; the layout directory's fd is closed. One stream of a sealed
 *   source at a time (the fds' offsets are shared).
 * - oci_source_blob_fd(): the fd a sealed s reads the blob digest from
 *   (an archive: the archive's; -1 if not preopened), the caller's to pass
 *   on to the converter, s's to close.
 * - oci_source_sealed(name, archive_fd): the converter's side (hull-convert
 *   has no paths, only inherited fds): a sealed source reading an archive
 *   from a duplicate of archive_fd, or (archive_fd -1) blobs each added by
 *   oci_source_add_fd(s, digest, fd) (a duplicate of fd; a digest added
 *   twice keeps the first; -EINVAL on an archive's). name is for messages.
 *   0 or -errno; the caller keeps its fds. */
int oci_source_preopen(struct oci_source *s, const struct oci_descriptor *d, size_t n,
		       struct errmsg *err);
void oci_source_seal(struct oci_source *s);
int oci_source_blob_fd(const struct oci_source *s, const char *digest);
int oci_source_sealed(const char *name, int archive_fd, struct oci_source **out);
int oci_source_add_fd(struct oci_source *s, const char *digest, int fd);

#endif
