/* ext4w: write an ext4 filesystem image with libext2fs, one inode at a time,
 * mirroring an fstree.
 *
 * Contract
 * - ext4w_create() makes a new sparse file of params->size bytes at path
 *   (O_EXCL: it must not exist) holding an empty ext4 filesystem (4 KiB
 *   blocks, 256-byte inodes; features ext_attr, filetype, extent, flex_bg,
 *   sparse_super, large_file, huge_file, dir_nlink, extra_isize; no
 *   journal: it is meant to be mounted read-only).
 * - Non-directory inodes are written as the layers stream past:
 *   ext4w_add_inode() for each inode fstree_apply() created, then, for a
 *   regular file, its data in order with ext4w_data() and ext4w_data_end().
 *   A regular file's blocks are allocated at once for its (tar header) size
 *   and filled through libext2fs' I/O channel in 1 MiB batches; data is
 *   never buffered whole. A sparse file (a tar entry with a sparse map) gets
 *   blocks only where its map has data: its holes stay holes in the image
 *   (read as zeros, cost no block), so the image's blocks follow the data
 *   the layers carry, while the file keeps its full apparent size (which the
 *   image size limit counts, images/limits.h). Its metadata (owner, mode, times, xattrs) is final
 *   when ext4w_add_inode() returns; only the link count of hard-linked
 *   inodes is fixed up at the end.
 *   ext4w_release() frees an inode (and its blocks) the tree dropped; it
 *   matches fstree_release_fn.
 * - Directories are written once, at ext4w_finish(), from the final tree
 *   (linear directories, entries in tar order; no htree index), along with
 *   link counts; then the filesystem is closed (not fsynced:
 *   the caller does that before publishing the file). ext4w_free() releases
 *   the writer, discarding an unfinished filesystem; the caller unlinks the
 *   file after a failure.
 * - -EFBIG means the filesystem ran out of blocks or inodes (retry bigger);
 *   other errors are -errno. Messages name the path in the image. */
#ifndef HULL_IMAGES_EXT4W_H
#define HULL_IMAGES_EXT4W_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "images/fstree.h"

struct ext4w_params {
	uint64_t size;	     /* bytes, rounded down to whole blocks */
	uint32_t inodes;     /* at least this many inodes */
	const uint8_t *uuid; /* 16 bytes, or NULL for a random one */
};

struct ext4w;

int ext4w_create(const char *path, const struct ext4w_params *params, struct ext4w **out,
		 struct errmsg *err);
/* The same in the open file fd (read-write; truncated and sized here, so a
 * retry can reuse it); path only names it in messages. fd stays the
 * caller's (the writer works on a duplicate). */
int ext4w_create_fd(int fd, const char *path, const struct ext4w_params *params, struct ext4w **out,
		    struct errmsg *err);

/* A byte range of a regular file that holds data (one entry of a sparse
 * tar entry's map). */
struct ext4w_seg {
	uint64_t off, len;
};

/* Allocate and write the on-disk inode for a new non-directory inode (file
 * data, if any, follows with ext4w_data()). path is for messages.
 * segs: for a sparse regular file, its data ranges in order, not
 * overlapping, within ino->size (anything else is -EINVAL); only the blocks
 * they touch are allocated. NULL (n_segs 0): the whole file is data. */
int ext4w_add_inode(struct ext4w *w, struct fstree_inode *ino, const struct ext4w_seg *segs,
		    size_t n_segs, const char *path, struct errmsg *err);
/* Append regular-file data at byte offset `off` (offsets only grow; a gap is
 * a hole and reads as zeros). The file's size is ino->size. Data of a
 * sparse file outside its segments is -EINVAL. */
int ext4w_data(struct ext4w *w, struct fstree_inode *ino, uint64_t off, const void *buf, size_t len,
	       struct errmsg *err);
int ext4w_data_end(struct ext4w *w, struct fstree_inode *ino, struct errmsg *err);

/* fstree_release_fn: free the inode's blocks and its inode number. */
int ext4w_release(void *w, struct fstree_inode *ino);

int ext4w_finish(struct ext4w *w, struct fstree *t, struct errmsg *err);
void ext4w_free(struct ext4w *w);

/* Blocks and inodes in use (so far, or at ext4w_finish()). */
void ext4w_usage(struct ext4w *w, uint64_t *blocks_used, uint64_t *blocks_total,
		 uint32_t *inodes_used, uint32_t *inodes_total);

#endif
