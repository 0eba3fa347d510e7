/* image: turn an OCI image (layout directory or oci-archive tar) into a
 * bootable, read-only ext4 root filesystem image, cached by manifest digest.
 *
 * Contract
 * - image_path names either a directory holding an OCI image layout
 *   (oci-layout, index.json, blobs/sha256/...) or a regular file holding an
 *   oci-archive (a tar of such a layout, optionally gzip/zstd/xz compressed).
 *   Layer blobs of an archive are streamed straight out of the outer tar;
 *   nothing is extracted to disk.
 * - Image selection in index.json: ref_name (may be NULL) picks the entry
 *   whose org.opencontainers.image.ref.name (or io.containerd.image.name)
 *   equals it. Without ref_name: the only entry; else the one named "latest";
 *   else an error listing the names. An image index / Docker manifest list is
 *   resolved to the host platform (linux/amd64 on x86-64).
 * - Accepted media types: OCI index/manifest/config and Docker v2 schema 2
 *   manifest list/manifest/config; layers tar, tar+gzip, tar+zstd (OCI, also
 *   the deprecated nondistributable ones) and Docker's rootfs.diff.tar.gzip.
 *   Manifests, indexes and configs larger than 4 MiB are refused.
 * - Every blob is checked against its descriptor's size and sha256 digest
 *   while it is read, and each uncompressed layer against the config's
 *   rootfs.diff_ids. A mismatch fails the conversion; nothing is cached.
 * - The root filesystem is written directly with libext2fs from the layer
 *   tar streams (no unpacking on the host, no root needed): numeric uid/gid,
 *   permission bits incl. setuid/setgid/sticky, mtimes, symlinks, hard links,
 *   device nodes, fifos and xattrs (e.g. security.capability) are kept
 *   exactly. OCI whiteouts (.wh.NAME, .wh..wh..opq) are applied.
 * - Hostile layers. Nothing is ever written on the host but the cache entry
 *   (the tree lives in memory and in the ext4 file), so no entry can reach
 *   the host; the cases below are about the image itself, each an error
 *   naming the image, "layer N (sha256:...)" and the entry:
 *   - "a/../../x" (leaves the root) is refused, as docker's and containerd's
 *     breakout checks do; "a/../b" resolves lexically to "b".
 *   - Absolute paths ("/etc/x") are taken relative to the image root, as
 *     docker and containerd do (GNU tar -P writes them).
 *   - A path whose parent is a symlink (a file written through a symlink a
 *     lower entry planted) is refused; containerd instead resolves it inside
 *     the root. Layers made by docker/buildkit never contain such paths, so
 *     refusing costs nothing and removes a whole class of bugs.
 *   - A hard link whose target leaves the root, does not exist (yet), is a
 *     directory or goes through a symlink is refused.
 *   - Symlink targets are stored as they are (absolute or with ".."): they
 *     are only ever resolved by the guest kernel inside the VM.
 *   - Device nodes, fifos and sockets are kept as inodes in the image (no
 *     mknod on the host, so no root needed); the guest decides what a node
 *     opens.
 *   - Names: components over 255 bytes, paths over 4095, more than 64 xattrs
 *     on an entry, and uids/gids >= 2^32-1 are refused.
 *   - A truncated or corrupt gzip/zstd stream, a blob whose digest or size
 *     is wrong, or a diff_id mismatch: the layer is refused (a damaged blob is
 *     reported as a digest mismatch when the digest says so).
 *   - A blob or top-level file of a layout directory that is a symlink
 *     (in any path component) or not a regular file (a FIFO would block):
 *     refused by its path in the layout and what it is, never followed or
 *     read (opened O_NOFOLLOW|O_NONBLOCK, checked with fstat).
 *   - Caps (images/limits.h): total uncompressed bytes of all layers
 *     (default 16 GiB; a decompression bomb stops there; regular files'
 *     declared sizes count too, so a sparse file counts in full; in the image
 *     it keeps its holes) and entries
 *     (default 2,000,000); JSON documents over 4 MiB; more than 4096 layers
 *     or index entries; indexes nested more than 4 deep.
 *   - Unknown media types (index entry, manifest, config, layer) and an image
 *     whose platform (index entry or config os/architecture) is not
 *     linux/<host arch> are refused by name.
 * - Cache: <store_root>/rootfs/<manifest-hex>.ext4 plus <hex>.config.json (the
 *   verified image config). A hit costs reading index.json (and a nested
 *   index, if any), a stat and the cached config; layers are not touched.
 *   A miss converts under an flock on <hex>.lock into <hex>.ext4.tmp.<pid>,
 *   fsyncs and renames, so concurrent callers convert once and all succeed,
 *   and a crash leaves only temp files (removed by the next conversion of
 *   the same image). store_root and <store_root>/rootfs are created (0700)
 *   when missing.
 * - Returns 0 and fills *out (release with image_rootfs_free), or -errno with
 *   err naming the image and the problem. *out is zeroed on failure. */
#ifndef HULL_IMAGES_IMAGE_H
#define HULL_IMAGES_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"

/* The parts of the OCI image config ("config" object) a runtime needs.
 * has_entrypoint/has_cmd distinguish "absent or null" (false) from an empty
 * array (true, n = 0). Strings are NUL-terminated and owned by the struct;
 * absent strings are NULL. Arrays are NULL when empty. */
struct image_config {
	char **entrypoint;
	size_t n_entrypoint;
	bool has_entrypoint;
	char **cmd;
	size_t n_cmd;
	bool has_cmd;
	char **env; /* "KEY=VALUE" */
	size_t n_env;
	char *working_dir;
	char *user;
	char *stop_signal;
};

struct image_rootfs {
	char digest[72]; /* manifest digest, "sha256:<64 hex>" */
	char *path;	 /* the cached ext4 image; open it read-only */
	struct image_config config;
	bool cache_hit; /* true if this call did not convert */
};

/* Errors read "image <ref_name or image_path>: <problem>". */
int image_prepare(const char *image_path, const char *ref_name, const char *store_root,
		  struct image_rootfs *out, struct errmsg *err);
/* The same with caps on the conversion; lim NULL: image_limits_default(). */
struct image_limits;
int image_prepare_limits(const char *image_path, const char *ref_name, const char *store_root,
			 const struct image_limits *lim, struct image_rootfs *out,
			 struct errmsg *err);
void image_rootfs_free(struct image_rootfs *r);

/* The selection above without converting: index.json (and nested indexes)
 * of src -> the image manifest's descriptor (free with
 * oci_descriptor_free()). Messages do not name the image. */
struct oci_source;
struct oci_descriptor;
int image_resolve(struct oci_source *src, const char *ref_name, struct oci_descriptor *out,
		  struct errmsg *err);
void image_config_free(struct image_config *c);

#endif
