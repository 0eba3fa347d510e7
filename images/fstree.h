/* fstree: the in-memory tree of the root filesystem being built, and the OCI
 * layer semantics applied to it. Pure (no I/O), so it is unit-testable.
 *
 * Model
 * - A node is a directory entry (name, parent, children); it points at an
 *   inode object holding the metadata. Hard links are several nodes sharing
 *   one inode (inode->nlink counts them). Replacing a path gives it a new
 *   inode; the old one lives on while other links refer to it.
 * - When an inode loses its last link, the release callback (if set) is
 *   told before the inode is freed, so the ext4 writer can free its blocks.
 * - Every node remembers the layer that last set it.
 *
 * Layer semantics (OCI image-spec layer.md), for one tar entry of layer L:
 * - The path is normalised (leading '/' and "./" stripped, "." and empty
 *   components dropped, ".." resolved lexically); a path that leaves the root,
 *   has a component over 255 bytes or is over FSTREE_PATH_MAX is refused. Missing parent
 * directories are created (mode 0755, root). A parent that is a symlink or not a directory is an
 * error: symlinks are never followed.
 * - ".wh.NAME" hides NAME as lower layers left it: NAME and everything below
 *   it that a layer before L set is removed; what L itself set stays (a
 *   directory stays if L put something in it). ".wh..wh..opq" does the same
 *   for every child of its directory. Other ".wh..wh.*" names (AUFS
 *   bookkeeping) are ignored. A lower directory that stays because L put
 *   something in it counts as set by L from then on (the same for every
 *   later whiteout), so repeated whiteouts and opaque markers cost linear,
 *   not quadratic, time.
 * - A directory over a directory keeps the children and takes the new
 *   attributes; anything else replaces what was there (a whole subtree).
 * - A hard link's target is a path already in the tree (this or a lower
 *   layer), resolved like any path; it may not be a directory.
 * - The root ("" or "./") must stay a directory. */
#ifndef HULL_IMAGES_FSTREE_H
#define HULL_IMAGES_FSTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define FSTREE_NAME_MAX 255
/* Longest path accepted (PATH_MAX - 1); it also bounds the tree's depth,
 * which the writer walks recursively. */
#define FSTREE_PATH_MAX 4095

enum fstree_type {
	FSTREE_REG = 1,
	FSTREE_DIR,
	FSTREE_SYMLINK,
	FSTREE_HARDLINK, /* only in struct fstree_entry */
	FSTREE_CHR,
	FSTREE_BLK,
	FSTREE_FIFO,
	FSTREE_SOCK,
};

struct fstree_xattr {
	char *name;
	void *value;
	size_t len;
};

struct fstree_inode {
	enum fstree_type type;
	uint32_t perm; /* 07777 bits */
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t rdev_major, rdev_minor;
	uint64_t size; /* regular files: bytes of data */
	char *symlink; /* symlink target */
	struct fstree_xattr *xattrs;
	size_t n_xattrs;
	uint32_t nlink;	  /* nodes referring to this inode */
	uint32_t ext_ino; /* owned by the writer: its inode number, 0 = none */
};

struct fstree_node {
	char *name; /* "" for the root */
	struct fstree_node *parent;
	struct fstree_inode *inode;
	unsigned layer;
	/* layer + 1 once nothing below this directory is older than that
	 * layer (whiteouts already hid it); 0: not known */
	unsigned clean;
	/* children, in insertion order */
	struct fstree_node *first_child, *last_child, *prev, *next;
	size_t n_children;
	/* hash chain of (parent, name) */
	struct fstree_node *hnext;
	uint32_t hash;
};

/* One tar entry, already decoded. */
struct fstree_entry {
	const char *path; /* as written in the tar */
	enum fstree_type type;
	uint32_t perm;
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t rdev_major, rdev_minor;
	uint64_t size;
	const char *link; /* symlink target, or hard link target path */
	const struct fstree_xattr *xattrs;
	size_t n_xattrs;
};

struct fstree;

/* release: called for each inode that loses its last link, before it is
 * freed; a non-zero return is reported by the fstree_apply() call that
 * caused it (the tree stays consistent). */
typedef int (*fstree_release_fn)(void *ctx, struct fstree_inode *inode);

int fstree_new(fstree_release_fn release, void *ctx, struct fstree **out);
/* Frees everything without calling release. */
void fstree_free(struct fstree *t);

/* Apply one entry of layer `layer` (layers count up from 0).
 * *created is set to the new inode when the entry made one that needs
 * content from the writer (regular file, symlink, device, fifo, socket), else
 * NULL (directory, hard link, whiteout). Errors name the entry. */
int fstree_apply(struct fstree *t, unsigned layer, const struct fstree_entry *e,
		 struct fstree_inode **created, struct errmsg *err);

struct fstree_node *fstree_root(struct fstree *t);
/* Look a path up without following symlinks; NULL if absent. */
struct fstree_node *fstree_lookup(struct fstree *t, const char *path);
size_t fstree_inode_count(const struct fstree *t);
/* Nodes visited by whiteouts and opaque markers so far: their cost, which
 * is linear in the tree and the entries (each directory is walked at most
 * once per layer), for tests that keep it so. */
uint64_t fstree_hide_visits(const struct fstree *t);

/* Normalise a tar path into out (at least strlen(path)+1 bytes): "" is the
 * root, otherwise "a/b/c" with no empty, "." or ".." components.
 * -EINVAL if it leaves the root, -ENAMETOOLONG if a component is longer
 * than FSTREE_NAME_MAX. */
int fstree_normalize(const char *path, char *out);

#endif
