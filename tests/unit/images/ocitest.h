/* ocitest: build layer tars and OCI layouts in memory/temp dirs for the
 * images tests (libarchive's writer, so no external tools), and read the
 * resulting ext4 images back with libext2fs. Failures abort the test. */
#ifndef HULL_TESTS_OCITEST_H
#define HULL_TESTS_OCITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- tar layers ---- */

struct tarb;
struct tarb *tarb_new(void);
void tarb_dir(struct tarb *t, const char *path, unsigned mode, unsigned uid, unsigned gid);
void tarb_file(struct tarb *t, const char *path, unsigned mode, unsigned uid, unsigned gid,
	       const void *data, size_t len);
/* A file with one xattr. */
void tarb_file_xattr(struct tarb *t, const char *path, unsigned mode, const void *data, size_t len,
		     const char *xname, const void *xval, size_t xlen);
void tarb_symlink(struct tarb *t, const char *path, const char *target);
void tarb_hardlink(struct tarb *t, const char *path, const char *target);
/* A sparse file of size bytes: a hole, then data (len bytes) at its end. */
void tarb_sparse(struct tarb *t, const char *path, uint64_t size, const void *data, size_t len);
/* A sparse file: its whole content (size bytes, zeros in the holes) and its
 * map, n (offset, length) pairs in segs; the tar carries only those. */
void tarb_sparse_map(struct tarb *t, const char *path, const void *content, uint64_t size,
		     const uint64_t *segs, size_t n);
/* type: 'c', 'b' or 'p' (fifo) */
void tarb_node(struct tarb *t, const char *path, char type, unsigned mode, unsigned major,
	       unsigned minor);
void tarb_mtime(struct tarb *t, int64_t sec, long nsec); /* for following entries */
/* Finish: *buf (malloc'd) holds the uncompressed tar. */
void tarb_finish(struct tarb *t, uint8_t **buf, size_t *len);

/* ---- layouts ---- */

enum ocib_comp { OCIB_TAR, OCIB_GZIP, OCIB_ZSTD };

/* What to do to a compressed blob before it is digested (so its digest
 * still matches: the damage must be found by decompressing). */
enum ocib_mangle { OCIB_INTACT, OCIB_TRUNCATE, OCIB_CORRUPT };

struct ocib_layer {
	const uint8_t *tar;
	size_t len;
	enum ocib_comp comp;
	enum ocib_mangle mangle;
	const char *media_type; /* overrides the one comp implies */
};

/* Write an OCI layout at dir (created) with one image:
 * config_obj is the JSON of the config's "config" member (NULL: omitted);
 * ref may be NULL (no annotation). Returns the manifest digest (static
 * buffer, overwritten by the next call). docker: Docker v2 media types.
 * bad_diff_id: write a wrong diff_id for the last layer. */
struct ocib_opts {
	const char *ref;
	const char *config_obj;
	bool docker;
	bool bad_diff_id;
	bool add;			 /* add to an existing layout's index.json */
	const char *arch;		 /* config architecture (default amd64) */
	const char *manifest_media_type; /* in index.json (default: the manifest's) */
};
const char *ocib_write(const char *dir, const struct ocib_layer *layers, size_t n,
		       const struct ocib_opts *o);

/* Path of the blob for digest in layout dir (static buffer). */
const char *ocib_blob_path(const char *dir, const char *digest);
/* Digest of the manifest's layer i / config of the image written last. */
const char *ocib_last_layer_digest(size_t i);
const char *ocib_last_config_digest(void);

/* Pack a layout directory into an oci-archive tar at path. */
void ocib_archive(const char *dir, const char *path);

/* A fresh temp directory (mkdtemp); removed by rm_rf(). */
char *tmpdir_new(void);
void rm_rf(const char *path);
void write_file(const char *path, const void *buf, size_t len);
uint8_t *read_whole(const char *path, size_t *len);

/* ---- reading an ext4 image back ---- */

struct ext4r;
struct ext4r *ext4r_open(const char *image);
void ext4r_close(struct ext4r *r);
/* Stat a path without following a final symlink: false if absent. */
struct ext4r_stat {
	uint32_t ino;
	uint32_t mode; /* type | perm */
	uint32_t uid, gid;
	uint32_t nlink;
	uint64_t size;
	uint64_t blocks; /* 512-byte units allocated */
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t rdev_major, rdev_minor;
};
bool ext4r_stat(struct ext4r *r, const char *path, struct ext4r_stat *st);
/* File content or symlink target (malloc'd, NUL-terminated). */
char *ext4r_read(struct ext4r *r, const char *path, size_t *len);
/* xattr value (malloc'd) or NULL. */
void *ext4r_xattr(struct ext4r *r, const char *path, const char *name, size_t *len);
/* Number of extents mapping a file. */
int ext4r_extents(struct ext4r *r, const char *path);
/* Number of entries in a directory, excluding . and .. */
int ext4r_count(struct ext4r *r, const char *path);

/* e2fsck -fn exit status of an image. */
int fsck_image(const char *image);

#endif
