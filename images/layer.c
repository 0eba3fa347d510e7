#include "images/layer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

struct layer_io {
	struct oci_blob *blob;
	uint64_t budget;      /* uncompressed bytes this layer may still produce */
	uint64_t limit;	      /* the image's limit, for messages */
	const char *comp;     /* "gzip", "zstd": for messages */
	struct archive *raw;  /* decompressor (raw format), NULL for a plain tar */
	struct digest_ctx dg; /* over the uncompressed stream, when compressed */
	uint64_t tar_bytes;
	uint64_t files_before;	/* regular files' sizes in the layers before */
	uint64_t file_bytes;	/* the same in this layer */
	struct ext4w_seg *segs; /* the current entry's sparse map */
	size_t cap_segs;
	int rc; /* first error seen by a callback */
	struct errmsg cb_err;
};

/* Count n more uncompressed bytes against the budget; -E2BIG (io->rc and
 * io->cb_err set) once it is exceeded, so a bomb stops at the limit. */
static int count_bytes(struct layer_io *io, uint64_t n)
{
	io->tar_bytes += n;
	if (io->tar_bytes <= io->budget)
		return 0;
	char h[32];
	image_size_str(io->limit, h, sizeof(h));
	if (!io->rc)
		io->rc = errmsg_set(&io->cb_err, -E2BIG,
				    "uncompressed layers exceed the image size limit of %s "
				    "(a decompression bomb? raise it with --max-image-size or "
				    "HULL_MAX_IMAGE_SIZE)",
				    h);
	return io->rc;
}

static la_ssize_t read_blob(struct archive *a, void *ctx, const void **buf)
{
	struct layer_io *io = ctx;
	ssize_t n = oci_blob_read(io->blob, buf, &io->cb_err);
	if (n < 0) {
		if (!io->rc)
			io->rc = (int)n;
		archive_set_error(a, EIO, "%s", io->cb_err.text);
		return -1;
	}
	if (!io->raw && count_bytes(io, (uint64_t)n)) {
		archive_set_error(a, E2BIG, "%s", io->cb_err.text);
		return -1;
	}
	return n;
}

/* Next decompressed chunk, hashed for the diff_id; -1 with io->rc set on
 * error. */
static la_ssize_t raw_chunk(struct layer_io *io, const void **buf)
{
	size_t n;
	la_int64_t off;
	int r = archive_read_data_block(io->raw, buf, &n, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN) {
		if (!io->rc) {
			io->rc = -EIO;
			errmsg_set(&io->cb_err, -EIO, "decompressing the %s stream: %s", io->comp,
				   archive_error_string(io->raw));
		}
		return -1;
	}
	digest_update(&io->dg, *buf, n);
	if (count_bytes(io, n))
		return -1;
	return (la_ssize_t)n;
}

static la_ssize_t read_raw(struct archive *a, void *ctx, const void **buf)
{
	struct layer_io *io = ctx;
	la_ssize_t n = raw_chunk(io, buf);
	if (n < 0)
		archive_set_error(a, EIO, "%s", io->cb_err.text);
	return n;
}

static int entry_type(struct archive_entry *e, enum fstree_type *t)
{
	if (archive_entry_hardlink(e)) {
		*t = FSTREE_HARDLINK;
		return 0;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		*t = FSTREE_REG;
		return 0;
	case AE_IFDIR:
		*t = FSTREE_DIR;
		return 0;
	case AE_IFLNK:
		*t = FSTREE_SYMLINK;
		return 0;
	case AE_IFCHR:
		*t = FSTREE_CHR;
		return 0;
	case AE_IFBLK:
		*t = FSTREE_BLK;
		return 0;
	case AE_IFIFO:
		*t = FSTREE_FIFO;
		return 0;
	case AE_IFSOCK:
		*t = FSTREE_SOCK;
		return 0;
	default:
		return -EINVAL;
	}
}

#define MAX_XATTRS 64

/* The data ranges of a sparse entry into io->segs (*n = 0: not sparse), so
 * that its holes stay holes in the image. libarchive keeps them in order,
 * without overlaps, within the entry's size (ext4w checks again). */
static int sparse_map(struct layer_io *io, struct archive_entry *e, size_t *n)
{
	int count = archive_entry_sparse_reset(e);
	*n = 0;
	if (count <= 0)
		return 0;
	if ((size_t)count > io->cap_segs) {
		void *p = realloc(io->segs, (size_t)count * sizeof(*io->segs));
		if (!p)
			return -ENOMEM;
		io->segs = p;
		io->cap_segs = (size_t)count;
	}
	la_int64_t off, len;
	while (*n < (size_t)count && archive_entry_sparse_next(e, &off, &len) == ARCHIVE_OK) {
		if (off < 0 || len < 0)
			return -EINVAL;
		io->segs[(*n)++] = (struct ext4w_seg){(uint64_t)off, (uint64_t)len};
	}
	return 0;
}

/* Apply one tar entry; data is read from tar. */
static int apply_entry(struct layer_io *io, struct archive *tar, struct archive_entry *e,
		       unsigned index, struct fstree *t, struct ext4w *w, struct errmsg *err)
{
	struct fstree_entry fe;
	memset(&fe, 0, sizeof(fe));
	fe.path = archive_entry_pathname(e);
	if (!fe.path)
		fe.path = archive_entry_pathname_utf8(e);
	if (!fe.path)
		return errmsg_set(err, -EINVAL, "an entry's name cannot be decoded");
	if (entry_type(e, &fe.type))
		return errmsg_set(err, -EINVAL, "entry '%s': unsupported file type 0%o", fe.path,
				  (unsigned)archive_entry_filetype(e));
	if (fe.type == FSTREE_HARDLINK)
		fe.link = archive_entry_hardlink(e);
	else if (fe.type == FSTREE_SYMLINK)
		fe.link = archive_entry_symlink(e);
	fe.perm = archive_entry_perm(e) & 07777;
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	if (uid < 0 || uid >= 0xffffffffll || gid < 0 || gid >= 0xffffffffll)
		return errmsg_set(err, -EINVAL, "entry '%s': uid/gid %lld/%lld out of range",
				  fe.path, (long long)uid, (long long)gid);
	fe.uid = (uint32_t)uid;
	fe.gid = (uint32_t)gid;
	if (archive_entry_mtime_is_set(e)) {
		fe.mtime = archive_entry_mtime(e);
		long ns = archive_entry_mtime_nsec(e);
		fe.mtime_nsec = ns >= 0 && ns < 1000000000 ? (uint32_t)ns : 0;
	}
	fe.rdev_major = (uint32_t)archive_entry_rdevmajor(e);
	fe.rdev_minor = (uint32_t)archive_entry_rdevminor(e);
	la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	fe.size = size > 0 ? (uint64_t)size : 0;
	/* A regular file's size counts in full against the limit before ext4w
	 * allocates blocks for it: the tar stream may carry far less than that
	 * (a sparse entry holds only its data segments, and could claim
	 * terabytes), but the image holds all of it. So the files' sizes, like
	 * the stream's bytes, may not exceed the limit. */
	if (fe.type == FSTREE_REG) {
		uint64_t files = io->files_before + io->file_bytes;
		uint64_t stream = io->limit - io->budget + io->tar_bytes;
		uint64_t used = files > stream ? files : stream;
		if (fe.size > io->limit - (used < io->limit ? used : io->limit)) {
			char h[32];
			image_size_str(io->limit, h, sizeof(h));
			return errmsg_set(
			    err, -E2BIG,
			    "entry '%s': %llu bytes%s, over the image size limit of "
			    "%s with the %llu bytes before it (--max-image-size, "
			    "HULL_MAX_IMAGE_SIZE)",
			    fe.path, (unsigned long long)fe.size,
			    archive_entry_sparse_count(e) > 0 ? " (sparse: counted in full)" : "",
			    h, (unsigned long long)used);
		}
		io->file_bytes += fe.size;
	}

	struct fstree_xattr xs[MAX_XATTRS];
	int nx = archive_entry_xattr_reset(e);
	if (nx > MAX_XATTRS)
		return errmsg_set(err, -E2BIG, "entry '%s': %d xattrs, more than %d", fe.path, nx,
				  MAX_XATTRS);
	const char *xname;
	const void *xval;
	size_t xlen;
	while (fe.n_xattrs < (size_t)nx &&
	       archive_entry_xattr_next(e, &xname, &xval, &xlen) == ARCHIVE_OK) {
		xs[fe.n_xattrs].name = (char *)xname;
		xs[fe.n_xattrs].value = (void *)xval;
		xs[fe.n_xattrs].len = xlen;
		fe.n_xattrs++;
	}
	fe.xattrs = xs;

	struct fstree_inode *ino;
	int rc = fstree_apply(t, index, &fe, &ino, err);
	if (rc || !ino)
		return rc;
	size_t n_segs = 0;
	if (ino->type == FSTREE_REG && (rc = sparse_map(io, e, &n_segs)))
		return rc == -EINVAL ? errmsg_set(err, rc, "entry '%s': bad sparse map", fe.path)
				     : rc;
	rc = ext4w_add_inode(w, ino, n_segs ? io->segs : NULL, n_segs, fe.path, err);
	if (rc || ino->type != FSTREE_REG)
		return rc;
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(tar, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return errmsg_set(err, -EIO, "entry '%s': %s", fe.path,
					  archive_error_string(tar));
		if (off < 0)
			return errmsg_set(err, -EINVAL, "entry '%s': bad data offset", fe.path);
		rc = ext4w_data(w, ino, (uint64_t)off, buf, n, err);
		if (rc)
			return rc;
	}
	return ext4w_data_end(w, ino, err);
}

static int setup_raw(struct layer_io *io, enum oci_kind kind, struct errmsg *err)
{
	io->comp = kind == OCI_KIND_LAYER_GZIP ? "gzip" : "zstd";
	io->raw = archive_read_new();
	if (!io->raw)
		return -ENOMEM;
	int r = kind == OCI_KIND_LAYER_GZIP ? archive_read_support_filter_gzip(io->raw)
					    : archive_read_support_filter_zstd(io->raw);
	if (r != ARCHIVE_OK) /* WARN: it would run an external program */
		return errmsg_set(err, -ENOTSUP, "this libarchive cannot decompress %s itself",
				  kind == OCI_KIND_LAYER_GZIP ? "gzip" : "zstd");
	archive_read_support_format_raw(io->raw);
	if (digest_init(&io->dg))
		return -ENOMEM;
	if (archive_read_open(io->raw, io, NULL, read_blob, NULL) != ARCHIVE_OK) {
		if (io->rc)
			return errmsg_set(err, io->rc, "%s", io->cb_err.text);
		return errmsg_set(err, -EINVAL, "decompressing the %s stream: %s", io->comp,
				  archive_error_string(io->raw));
	}
	struct archive_entry *e;
	r = archive_read_next_header(io->raw, &e);
	if (r != ARCHIVE_OK)
		return errmsg_set(err, io->rc ? io->rc : -EINVAL, "decompressing the %s stream: %s",
				  io->comp,
				  io->rc ? io->cb_err.text : archive_error_string(io->raw));
	return 0;
}

static int apply_stream(struct layer_io *io, const struct oci_descriptor *d, enum oci_kind kind,
			const char *diff_id, unsigned index, const struct image_limits *lim,
			struct fstree *t, struct ext4w *w, struct layer_stats *stats,
			struct errmsg *err)
{
	int rc;
	if (kind != OCI_KIND_LAYER_TAR && (rc = setup_raw(io, kind, err)))
		return rc;
	struct archive *tar = archive_read_new();
	if (!tar)
		return -ENOMEM;
	archive_read_support_format_tar(tar);
	if (archive_read_open(tar, io, NULL, io->raw ? read_raw : read_blob, NULL) != ARCHIVE_OK) {
		rc = io->rc ? errmsg_set(err, io->rc, "%s", io->cb_err.text)
			    : errmsg_set(err, -EINVAL, "not a tar stream: %s",
					 archive_error_string(tar));
		archive_read_free(tar);
		return rc;
	}
	rc = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(tar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = io->rc ? errmsg_set(err, io->rc, "%s", io->cb_err.text)
				    : errmsg_set(err, -EINVAL, "reading the tar stream: %s",
						 archive_error_string(tar));
			break;
		}
		if (stats->entries >= lim->max_entries) {
			rc = errmsg_set(err, -E2BIG,
					"more than %llu entries in the image's layers, the limit",
					(unsigned long long)lim->max_entries);
			break;
		}
		stats->entries++;
		rc = apply_entry(io, tar, e, index, t, w, err);
		if (rc) {
			if (io->rc) /* the blob itself is bad: say that rather */
				rc = errmsg_set(err, io->rc, "%s", io->cb_err.text);
			break;
		}
	}
	archive_read_free(tar);
	if (rc)
		return rc;

	/* The tar reader stops at the end-of-archive blocks; hash the rest. */
	if (io->raw) {
		const void *buf;
		la_ssize_t n;
		while ((n = raw_chunk(io, &buf)) > 0)
			;
		if (n < 0 || io->rc)
			return errmsg_set(err, io->rc ? io->rc : -EIO, "%s", io->cb_err.text);
	}
	rc = oci_blob_drain(io->blob, err);
	if (rc)
		return rc;
	stats->tar_bytes += io->tar_bytes;
	stats->file_bytes += io->file_bytes;
	char got[DIGEST_STR_LEN];
	if (io->raw) {
		if (digest_final(&io->dg, got))
			return -EIO;
	} else {
		memcpy(got, d->digest, DIGEST_STR_LEN);
	}
	if (strcmp(got, diff_id) != 0)
		return errmsg_set(err, -EBADMSG,
				  "uncompressed content %s does not match the config's diff_id %s",
				  got, diff_id);
	return 0;
}

int layer_apply(struct oci_source *src, const struct oci_descriptor *d, enum oci_kind kind,
		const char *diff_id, unsigned index, const struct image_limits *lim,
		struct fstree *t, struct ext4w *w, struct layer_stats *stats, struct errmsg *err)
{
	struct errmsg e2 = {{0}};
	struct layer_io io;
	memset(&io, 0, sizeof(io));
	io.limit = lim->max_bytes;
	io.budget = stats->tar_bytes < lim->max_bytes ? lim->max_bytes - stats->tar_bytes : 0;
	io.files_before = stats->file_bytes;
	int rc = oci_blob_open(src, d, &io.blob, &e2);
	if (!rc)
		rc = apply_stream(&io, d, kind, diff_id, index, lim, t, w, stats, &e2);
	if ((rc == -EINVAL || rc == -EIO) && !io.rc && io.blob) {
		/* A broken stream is most often a damaged blob: if its digest
		 * says so, report that instead. */
		struct errmsg e3 = {{0}};
		int drc = oci_blob_drain(io.blob, &e3);
		if (drc) {
			rc = drc;
			e2 = e3;
		}
	}
	if (io.raw)
		archive_read_free(io.raw);
	digest_free(&io.dg);
	free(io.segs);
	oci_blob_close(io.blob);
	if (rc)
		errmsg_set(err, rc, "layer %u (%.19s): %s", index + 1, d->digest,
			   e2.text[0] ? e2.text : strerror(-rc));
	return rc;
}
