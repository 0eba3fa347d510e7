#include "images/ext4w.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <et/com_err.h>
#include <ext2fs/ext2_err.h>
#include <ext2fs/ext2fs.h>

#define BLOCK_SIZE 4096
#define LOG_BLOCK_SIZE 2 /* 1024 << 2 */
#define INODE_SIZE 256
#define STAGE_SIZE (1u << 20)
#define SYMLINK_MAX 4095

/* Logical blocks [lblk, lblk + count) of a file that get disk blocks. */
struct run {
	uint64_t lblk, count;
};

struct ext4w {
	ext2_filsys fs;
	/* the regular file receiving data */
	struct fstree_inode *cur;
	char *cur_path;
	struct ext2fs_extent *ext; /* its leaf extents, in logical order */
	size_t n_ext, cap_ext, ext_pos;
	struct run *runs; /* its allocated blocks (one run unless sparse) */
	size_t n_runs, cap_runs, run_pos;
	uint64_t stage_off; /* file offset of stage[0], block aligned */
	size_t stage_len;
	uint64_t written; /* file offset of the next byte */
	uint8_t *stage;
	uint8_t *ibuf; /* INODE_SIZE scratch */
	/* usage, kept at ext4w_finish() */
	uint64_t blocks_used, blocks_total;
	uint32_t inodes_used, inodes_total;
};

static pthread_once_t et_once = PTHREAD_ONCE_INIT;

static void et_init(void)
{
	initialize_ext2_error_table();
}

/* Turn a libext2fs error into -errno plus a message "<what>: <reason>". */
__attribute__((format(printf, 3, 4))) static int e2err(struct errmsg *err, errcode_t code,
						       const char *fmt, ...)
{
	int rc;
	if (code == EXT2_ET_BLOCK_ALLOC_FAIL || code == EXT2_ET_INODE_ALLOC_FAIL ||
	    code == EXT2_ET_DIR_NO_SPACE || code == EXT2_ET_RES_GDT_BLOCKS)
		rc = -EFBIG;
	/* unix_io says "short write" and drops errno when pwrite() wrote part
	 * of a block: for a regular file that is the host's disk (or quota)
	 * running full */
	else if (code == EXT2_ET_SHORT_WRITE)
		rc = -ENOSPC;
	else if (code > 0 && code < 4096)
		rc = -(int)code;
	else
		rc = -EIO;
	if (err) {
		char what[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		pthread_once(&et_once, et_init);
		errmsg_set(err, rc, "%s: %s", what,
			   rc == -EFBIG	   ? "root filesystem image full"
			   : rc == -ENOSPC ? "no space left on the host's disk (a short write)"
					   : error_message(code));
	}
	return rc;
}

static struct ext2_inode_large *large(struct ext4w *w)
{
	return (struct ext2_inode_large *)w->ibuf;
}

static void enc_time(int64_t sec, uint32_t nsec, __u32 *lo, __u32 *extra)
{
	/* ext4 stores seconds as a signed 32-bit value plus two epoch bits:
	 * 1901..2446. Clamp outside that. */
	const int64_t min = INT32_MIN, max = (int64_t)INT32_MAX + 3 * (1ll << 32);
	if (sec < min)
		sec = min, nsec = 0;
	if (sec > max)
		sec = max, nsec = 0;
	if (nsec > 999999999)
		nsec = 0;
	int64_t epoch = (sec - (int64_t)(int32_t)(uint32_t)sec) >> 32;
	*lo = (uint32_t)sec;
	*extra = ((uint32_t)epoch & EXT4_EPOCH_MASK) | (nsec << EXT4_EPOCH_BITS);
}

static unsigned int mode_type(enum fstree_type t)
{
	switch (t) {
	case FSTREE_REG:
		return LINUX_S_IFREG;
	case FSTREE_DIR:
		return LINUX_S_IFDIR;
	case FSTREE_SYMLINK:
		return LINUX_S_IFLNK;
	case FSTREE_CHR:
		return LINUX_S_IFCHR;
	case FSTREE_BLK:
		return LINUX_S_IFBLK;
	case FSTREE_FIFO:
		return LINUX_S_IFIFO;
	case FSTREE_SOCK:
		return LINUX_S_IFSOCK;
	default:
		return 0;
	}
}

static int dirent_type(enum fstree_type t)
{
	switch (t) {
	case FSTREE_REG:
		return EXT2_FT_REG_FILE;
	case FSTREE_DIR:
		return EXT2_FT_DIR;
	case FSTREE_SYMLINK:
		return EXT2_FT_SYMLINK;
	case FSTREE_CHR:
		return EXT2_FT_CHRDEV;
	case FSTREE_BLK:
		return EXT2_FT_BLKDEV;
	case FSTREE_FIFO:
		return EXT2_FT_FIFO;
	case FSTREE_SOCK:
		return EXT2_FT_SOCK;
	default:
		return EXT2_FT_UNKNOWN;
	}
}

/* Copy the attributes of ino into the inode in w->ibuf, keeping its blocks,
 * flags and xattrs. */
static void set_attrs(struct ext4w *w, const struct fstree_inode *ino)
{
	struct ext2_inode_large *l = large(w);
	l->i_mode = (__u16)(mode_type(ino->type) | (ino->perm & 07777));
	l->i_uid = (__u16)ino->uid;
	ext2fs_set_i_uid_high(*l, ino->uid >> 16);
	l->i_gid = (__u16)ino->gid;
	ext2fs_set_i_gid_high(*l, ino->gid >> 16);
	__u32 lo, extra;
	enc_time(ino->mtime, ino->mtime_nsec, &lo, &extra);
	l->i_atime = l->i_ctime = l->i_mtime = l->i_crtime = lo;
	l->i_atime_extra = l->i_ctime_extra = l->i_mtime_extra = l->i_crtime_extra = extra;
}

/* Fill w->ibuf with a fresh on-disk inode carrying ino's attributes. */
static void fill_inode(struct ext4w *w, const struct fstree_inode *ino)
{
	memset(w->ibuf, 0, INODE_SIZE);
	large(w)->i_links_count = 1;
	large(w)->i_extra_isize = sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	set_attrs(w, ino);
}

static errcode_t alloc_ino(struct ext4w *w, ext2_ino_t dir, enum fstree_type type, ext2_ino_t *out)
{
	errcode_t e = ext2fs_new_inode(w->fs, dir, (int)mode_type(type), NULL, out);
	if (!e && type != FSTREE_SYMLINK) /* ext2fs_symlink() accounts its own */
		ext2fs_inode_alloc_stats2(w->fs, *out, +1, type == FSTREE_DIR);
	return e;
}

static errcode_t write_ibuf(struct ext4w *w, ext2_ino_t ino)
{
	return ext2fs_write_inode_full(w->fs, ino, (struct ext2_inode *)w->ibuf, INODE_SIZE);
}

/* Give inode `ino` (already filled in w->ibuf, extent-mapped, with i_size
 * set) blocks for the runs (in logical order), write it, and load its
 * extent map. */
static errcode_t allocate_blocks(struct ext4w *w, ext2_ino_t ino, const struct run *runs,
				 size_t n_runs)
{
	struct ext2_inode *in = (struct ext2_inode *)w->ibuf;
	ext2_extent_handle_t h;
	errcode_t e = ext2fs_extent_open2(w->fs, ino, in, &h); /* sets up the extent header */
	if (e)
		return e;
	ext2fs_extent_free(h);
	e = write_ibuf(w, ino);
	if (e || !n_runs)
		return e;
	uint64_t nblocks = 0;
	for (size_t i = 0; i < n_runs && !e; i++) {
		e = ext2fs_fallocate(w->fs,
				     EXT2_FALLOCATE_FORCE_INIT | EXT2_FALLOCATE_INIT_BEYOND_EOF,
				     ino, in, ~0ULL, runs[i].lblk, runs[i].count);
		nblocks += runs[i].count;
	}
	if (!e)
		e = ext2fs_write_inode_full(w->fs, ino, in, sizeof(struct ext2_inode_large));
	if (e)
		return e;

	w->n_ext = 0;
	w->ext_pos = 0;
	e = ext2fs_extent_open2(w->fs, ino, in, &h);
	if (e)
		return e;
	struct ext2fs_extent x;
	uint64_t mapped = 0;
	for (e = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &x); !e;
	     e = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &x)) {
		if (!(x.e_flags & EXT2_EXTENT_FLAGS_LEAF) ||
		    (x.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT))
			continue;
		if (x.e_flags & EXT2_EXTENT_FLAGS_UNINIT) {
			e = EXT2_ET_INVALID_ARGUMENT;
			break;
		}
		if (w->n_ext == w->cap_ext) {
			size_t cap = w->cap_ext ? w->cap_ext * 2 : 16;
			void *p = realloc(w->ext, cap * sizeof(*w->ext));
			if (!p) {
				e = ENOMEM;
				break;
			}
			w->ext = p;
			w->cap_ext = cap;
		}
		w->ext[w->n_ext++] = x;
		mapped += x.e_len;
	}
	ext2fs_extent_free(h);
	if (e == EXT2_ET_EXTENT_NO_NEXT)
		e = 0;
	if (!e && mapped != nblocks)
		e = EXT2_ET_INVALID_ARGUMENT;
	return e;
}

/* Write `count` blocks of the current mapping, starting at logical block
 * lblk. Extents are visited in order, so a cursor suffices. */
static errcode_t write_mapped(struct ext4w *w, uint64_t lblk, const uint8_t *p, uint64_t count,
			      ext2_ino_t dir_ino)
{
	while (count) {
		while (w->ext_pos < w->n_ext &&
		       w->ext[w->ext_pos].e_lblk + w->ext[w->ext_pos].e_len <= lblk)
			w->ext_pos++;
		if (w->ext_pos == w->n_ext || w->ext[w->ext_pos].e_lblk > lblk)
			return EXT2_ET_INVALID_ARGUMENT;
		const struct ext2fs_extent *x = &w->ext[w->ext_pos];
		uint64_t in = lblk - x->e_lblk;
		uint64_t n = x->e_len - in;
		if (n > count)
			n = count;
		errcode_t e;
		if (dir_ino) {
			e = 0;
			for (uint64_t i = 0; i < n && !e; i++)
				e = ext2fs_write_dir_block4(w->fs, x->e_pblk + in + i,
							    (void *)(p + i * BLOCK_SIZE), 0,
							    dir_ino);
		} else {
			e = io_channel_write_blk64(w->fs->io, x->e_pblk + in, (int)n, p);
		}
		if (e)
			return e;
		p += n * BLOCK_SIZE;
		lblk += n;
		count -= n;
	}
	return 0;
}

static errcode_t set_xattrs(struct ext4w *w, ext2_ino_t ino, const struct fstree_inode *in,
			    const char **failed)
{
	if (!in->n_xattrs)
		return 0;
	struct ext2_xattr_handle *h;
	errcode_t e = ext2fs_xattrs_open(w->fs, ino, &h);
	if (e)
		return e;
	e = ext2fs_xattrs_read(h);
	for (size_t i = 0; !e && i < in->n_xattrs; i++) {
		e = ext2fs_xattr_set(h, in->xattrs[i].name, in->xattrs[i].value, in->xattrs[i].len);
		if (e)
			*failed = in->xattrs[i].name;
	}
	errcode_t e2 = ext2fs_xattrs_close(&h);
	return e ? e : e2;
}

int ext4w_create(const char *path, const struct ext4w_params *p, struct ext4w **out,
		 struct errmsg *err)
{
	*out = NULL;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = -errno;
		return errmsg_set(err, rc, "creating %s: %s", path, strerror(-rc));
	}
	int rc = ext4w_create_fd(fd, path, p, out, err);
	close(fd);
	return rc;
}

int ext4w_create_fd(int fd, const char *path, const struct ext4w_params *p, struct ext4w **out,
		    struct errmsg *err)
{
	*out = NULL;
	uint64_t blocks = p->size / BLOCK_SIZE;
	if (blocks < 1024 || blocks > 0xffffffffull)
		return errmsg_set(err, -EINVAL, "root filesystem size %llu bytes is out of range",
				  (unsigned long long)p->size);
	struct ext4w *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->stage = malloc(STAGE_SIZE);
	w->ibuf = malloc(INODE_SIZE);
	if (!w->stage || !w->ibuf) {
		ext4w_free(w);
		return -ENOMEM;
	}
	/* empty first: a retry starts over in the same file, its old blocks
	 * gone */
	int rc = ftruncate(fd, 0) || ftruncate(fd, (off_t)(blocks * BLOCK_SIZE)) ? -errno : 0;
	/* the I/O channel closes what it is given: a descriptor of its own */
	int dfd = rc ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (!rc && dfd < 0)
		rc = -errno;
	if (rc) {
		ext4w_free(w);
		return errmsg_set(err, rc, "sizing %s: %s", path, strerror(-rc));
	}
	char fdname[16];
	snprintf(fdname, sizeof(fdname), "%d", dfd);

	struct ext2_super_block sb;
	memset(&sb, 0, sizeof(sb));
	ext2fs_blocks_count_set(&sb, blocks);
	sb.s_log_block_size = LOG_BLOCK_SIZE;
	sb.s_rev_level = EXT2_DYNAMIC_REV;
	sb.s_inode_size = INODE_SIZE;
	uint64_t inodes = p->inodes < 1024 ? 1024 : p->inodes;
	sb.s_inodes_count = inodes > 0xffff0000u ? 0xffff0000u : (__u32)inodes;
	sb.s_feature_compat = EXT2_FEATURE_COMPAT_EXT_ATTR;
	sb.s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_EXTENTS |
				EXT4_FEATURE_INCOMPAT_FLEX_BG;
	sb.s_feature_ro_compat =
	    EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
	    EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_DIR_NLINK |
	    EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE;
	sb.s_log_groups_per_flex = 4;
	sb.s_min_extra_isize = sb.s_want_extra_isize =
	    sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;

	/* unixfd: libext2fs's I/O on an open descriptor (named by its number),
	 * so that a converter that may not open files can write the image */
	errcode_t e = ext2fs_initialize(fdname, EXT2_FLAG_64BITS, &sb, unixfd_io_manager, &w->fs);
	if (e) {
		/* its cleanup closed the channel, and dfd with it */
		w->fs = NULL;
		rc = e2err(err, e, "creating the filesystem in %s", path);
		ext4w_free(w);
		return rc;
	}
	ext2_filsys fs = w->fs;
	fs->super->s_max_mnt_count = 0xffff; /* -1: no fsck nagging */
	fs->super->s_min_extra_isize = sb.s_min_extra_isize;
	fs->super->s_want_extra_isize = sb.s_want_extra_isize;
	if (p->uuid)
		memcpy(fs->super->s_uuid, p->uuid, sizeof(fs->super->s_uuid));
	else if (getrandom(fs->super->s_uuid, sizeof(fs->super->s_uuid), 0) < 0)
		memset(fs->super->s_uuid, 0x5a, sizeof(fs->super->s_uuid));
	fs->super->s_uuid[6] = (fs->super->s_uuid[6] & 0x0f) | 0x40; /* RFC 4122 v4 */
	fs->super->s_uuid[8] = (fs->super->s_uuid[8] & 0x3f) | 0x80;
	memcpy(fs->super->s_hash_seed, fs->super->s_uuid, sizeof(fs->super->s_hash_seed));
	strncpy((char *)fs->super->s_volume_name, "hull-rootfs", sizeof(fs->super->s_volume_name));

	e = ext2fs_allocate_tables(fs);
	if (e) {
		rc = e2err(err, e, "allocating filesystem tables in %s", path);
		ext4w_free(w);
		return rc;
	}
	/* Inodes 1..first_ino-1 are reserved; 2 is the root directory,
	 * written at ext4w_finish(). */
	for (ext2_ino_t i = 1; i < EXT2_FIRST_INODE(fs->super); i++)
		ext2fs_inode_alloc_stats2(fs, i, +1, i == EXT2_ROOT_INO);
	e = ext2fs_update_bb_inode(fs, NULL);
	if (e) {
		rc = e2err(err, e, "writing the bad-blocks inode in %s", path);
		ext4w_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* w->runs for a regular file of `size` bytes: its data segments (NULL: the
 * whole file) rounded out to whole blocks, runs that touch merged. -EINVAL
 * for segments out of order, overlapping or beyond the size. */
static int plan_runs(struct ext4w *w, uint64_t size, const struct ext4w_seg *segs, size_t n_segs)
{
	struct ext4w_seg whole = {0, size};
	if (!segs) {
		segs = &whole;
		n_segs = 1;
	}
	w->n_runs = 0;
	w->run_pos = 0;
	uint64_t end = 0; /* of the previous segment */
	for (size_t i = 0; i < n_segs; i++) {
		const struct ext4w_seg *g = &segs[i];
		if (g->off < end || g->len > size || g->off > size - g->len)
			return -EINVAL;
		end = g->off + g->len;
		if (!g->len)
			continue;
		uint64_t first = g->off / BLOCK_SIZE, last = (end - 1) / BLOCK_SIZE + 1;
		struct run *r = w->n_runs ? &w->runs[w->n_runs - 1] : NULL;
		if (r && first <= r->lblk + r->count) {
			r->count = last - r->lblk;
			continue;
		}
		if (w->n_runs == w->cap_runs) {
			size_t cap = w->cap_runs ? w->cap_runs * 2 : 16;
			void *p = realloc(w->runs, cap * sizeof(*w->runs));
			if (!p)
				return -ENOMEM;
			w->runs = p;
			w->cap_runs = cap;
		}
		w->runs[w->n_runs++] = (struct run){first, last - first};
	}
	return 0;
}

int ext4w_add_inode(struct ext4w *w, struct fstree_inode *ino, const struct ext4w_seg *segs,
		    size_t n_segs, const char *path, struct errmsg *err)
{
	ext2_ino_t n;
	errcode_t e;
	if (w->cur)
		return errmsg_set(err, -EINVAL, "%s: previous file '%s' is unfinished", path,
				  w->cur_path);
	if (ino->type == FSTREE_REG) {
		int rc = plan_runs(w, ino->size, segs, n_segs);
		if (rc == -EINVAL)
			return errmsg_set(err, rc,
					  "%s: sparse map out of order, overlapping or beyond the "
					  "file's size of %llu bytes",
					  path, (unsigned long long)ino->size);
		if (rc)
			return rc;
	}
	if (ino->type == FSTREE_SYMLINK) {
		size_t len = strlen(ino->symlink);
		if (len > SYMLINK_MAX)
			return errmsg_set(err, -ENAMETOOLONG,
					  "%s: symlink target is %zu bytes, over %d", path, len,
					  SYMLINK_MAX);
	}
	e = alloc_ino(w, EXT2_ROOT_INO, ino->type, &n);
	if (e)
		return e2err(err, e, "%s: allocating an inode", path);
	ino->ext_ino = n;
	switch (ino->type) {
	case FSTREE_SYMLINK:
		e = ext2fs_symlink(w->fs, EXT2_ROOT_INO, n, NULL, ino->symlink);
		if (!e)
			e = ext2fs_read_inode_full(w->fs, n, (struct ext2_inode *)w->ibuf,
						   INODE_SIZE);
		if (!e) {
			set_attrs(w, ino);
			e = write_ibuf(w, n);
		}
		break;
	case FSTREE_CHR:
	case FSTREE_BLK: {
		fill_inode(w, ino);
		uint32_t ma = ino->rdev_major, mi = ino->rdev_minor;
		/* the kernel's old (8:8) and new (12:20) device encodings */
		if (ma < 256 && mi < 256)
			large(w)->i_block[0] = ma << 8 | mi;
		else
			large(w)->i_block[1] =
			    (mi & 0xff) | (ma & 0xfff) << 8 | (mi & ~0xffu) << 12;
		e = write_ibuf(w, n);
		break;
	}
	case FSTREE_FIFO:
	case FSTREE_SOCK:
		fill_inode(w, ino);
		e = write_ibuf(w, n);
		break;
	case FSTREE_REG: {
		fill_inode(w, ino);
		large(w)->i_flags = EXT4_EXTENTS_FL;
		e = ext2fs_inode_size_set(w->fs, (struct ext2_inode *)w->ibuf, ino->size);
		if (!e)
			e = allocate_blocks(w, n, w->runs, w->n_runs);
		if (!e && w->n_runs) {
			w->cur = ino;
			w->cur_path = strdup(path);
			w->stage_off = 0;
			w->stage_len = 0;
			w->written = 0;
			if (!w->cur_path)
				e = ENOMEM;
		}
		break;
	}
	default:
		return errmsg_set(err, -EINVAL, "%s: unexpected file type", path);
	}
	if (e)
		return e2err(err, e, "%s: writing inode %u", path, n);
	const char *failed = NULL;
	e = set_xattrs(w, n, ino, &failed);
	if (e)
		return e2err(err, e, "%s: setting xattr %s", path, failed ? failed : "");
	return 0;
}

static int flush_stage(struct ext4w *w, struct errmsg *err)
{
	if (!w->stage_len)
		return 0;
	size_t pad = (BLOCK_SIZE - w->stage_len % BLOCK_SIZE) % BLOCK_SIZE;
	memset(w->stage + w->stage_len, 0, pad);
	uint64_t nb = (w->stage_len + pad) / BLOCK_SIZE;
	errcode_t e = write_mapped(w, w->stage_off / BLOCK_SIZE, w->stage, nb, 0);
	if (e)
		return e2err(err, e, "%s: writing data", w->cur_path);
	w->stage_off += w->stage_len + pad;
	w->stage_len = 0;
	return 0;
}

static int stage_put(struct ext4w *w, const void *buf, size_t len, struct errmsg *err)
{
	while (len) {
		size_t n = STAGE_SIZE - w->stage_len;
		if (n > len)
			n = len;
		if (buf) {
			memcpy(w->stage + w->stage_len, buf, n);
			buf = (const uint8_t *)buf + n;
		} else {
			memset(w->stage + w->stage_len, 0, n);
		}
		w->stage_len += n;
		w->written += n;
		len -= n;
		if (w->stage_len == STAGE_SIZE) {
			int rc = flush_stage(w, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Move the current file's write position forward to byte `to`: the blocks
 * it has on the way are zero-filled (a gap the tar leaves inside a block, or
 * a file's end), its holes skipped. */
static int seek_to(struct ext4w *w, uint64_t to, struct errmsg *err)
{
	while (w->written < to) {
		uint64_t blk = w->written / BLOCK_SIZE;
		while (w->run_pos < w->n_runs &&
		       w->runs[w->run_pos].lblk + w->runs[w->run_pos].count <= blk)
			w->run_pos++;
		const struct run *r = w->run_pos < w->n_runs ? &w->runs[w->run_pos] : NULL;
		int rc;
		if (r && r->lblk <= blk) {
			uint64_t end = (r->lblk + r->count) * BLOCK_SIZE;
			rc = stage_put(w, NULL, (end < to ? end : to) - w->written, err);
		} else { /* a hole, up to the next run */
			rc = flush_stage(w, err);
			uint64_t next = r ? r->lblk * BLOCK_SIZE : to;
			w->written = w->stage_off = next < to ? next : to;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int ext4w_data(struct ext4w *w, struct fstree_inode *ino, uint64_t off, const void *buf, size_t len,
	       struct errmsg *err)
{
	if (!len)
		return 0;
	if (ino != w->cur || off < w->written || off + len > ino->size || off + len < off)
		return errmsg_set(err, -EINVAL,
				  "%s: data out of order, beyond the file size or outside its "
				  "sparse map",
				  w->cur_path ? w->cur_path : "file");
	int rc = seek_to(w, off, err);
	if (rc)
		return rc;
	const struct run *r = w->run_pos < w->n_runs ? &w->runs[w->run_pos] : NULL;
	if (!r || off < r->lblk * BLOCK_SIZE || off + len > (r->lblk + r->count) * BLOCK_SIZE)
		return errmsg_set(
		    err, -EINVAL, "%s: data at bytes %llu..%llu, outside its sparse map",
		    w->cur_path, (unsigned long long)off, (unsigned long long)(off + len));
	return stage_put(w, buf, len, err);
}

int ext4w_data_end(struct ext4w *w, struct fstree_inode *ino, struct errmsg *err)
{
	if (ino != w->cur)
		return 0; /* no blocks: nothing was staged */
	int rc = seek_to(w, ino->size, err);
	if (!rc)
		rc = flush_stage(w, err);
	w->cur = NULL;
	free(w->cur_path);
	w->cur_path = NULL;
	return rc;
}

int ext4w_release(void *ctx, struct fstree_inode *ino)
{
	struct ext4w *w = ctx;
	ext2_ino_t n = ino->ext_ino;
	if (!n)
		return 0;
	if (ino == w->cur) {
		w->cur = NULL;
		free(w->cur_path);
		w->cur_path = NULL;
	}
	ino->ext_ino = 0;
	struct ext2_inode *in = (struct ext2_inode *)w->ibuf;
	errcode_t e = ext2fs_read_inode_full(w->fs, n, in, INODE_SIZE);
	if (!e && (in->i_flags & EXT4_EXTENTS_FL))
		e = ext2fs_punch(w->fs, n, in, NULL, 0, ~0ULL);
	if (e)
		return e2err(NULL, e, "release");
	blk64_t acl = ext2fs_file_acl_block(w->fs, in);
	if (acl)
		ext2fs_block_alloc_stats2(w->fs, acl, -1);
	memset(w->ibuf, 0, INODE_SIZE);
	e = write_ibuf(w, n);
	if (e)
		return e2err(NULL, e, "release");
	ext2fs_inode_alloc_stats2(w->fs, n, -1, ino->type == FSTREE_DIR);
	return 0;
}

/* ---- directories, at the end ---- */

static int assign_dirs(struct ext4w *w, struct fstree_node *d, ext2_ino_t parent,
		       struct errmsg *err)
{
	for (struct fstree_node *c = d->first_child; c; c = c->next) {
		if (c->inode->type != FSTREE_DIR)
			continue;
		ext2_ino_t n;
		errcode_t e = alloc_ino(w, parent, FSTREE_DIR, &n);
		if (e)
			return e2err(err, e, "directory '%s': allocating an inode", c->name);
		c->inode->ext_ino = n;
		int rc = assign_dirs(w, c, n, err);
		if (rc)
			return rc;
	}
	return 0;
}

struct dirbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;   /* bytes used in full blocks plus the current one */
	size_t last;  /* offset of the last entry written */
	size_t block; /* offset of the current block */
};

static errcode_t dir_add(ext2_filsys fs, struct dirbuf *b, ext2_ino_t ino, const char *name,
			 size_t nlen, int type)
{
	unsigned int rec = EXT2_DIR_REC_LEN(nlen);
	if (b->len + rec > b->block + BLOCK_SIZE || b->len == 0) {
		if (b->len) { /* stretch the last entry over the rest of the block */
			errcode_t e =
			    ext2fs_set_rec_len(fs, (unsigned int)(b->block + BLOCK_SIZE - b->last),
					       (struct ext2_dir_entry *)(b->buf + b->last));
			if (e)
				return e;
			b->block += BLOCK_SIZE;
			b->len = b->block;
		}
		if (b->block + BLOCK_SIZE > b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 4 * BLOCK_SIZE;
			uint8_t *p = realloc(b->buf, cap);
			if (!p)
				return ENOMEM;
			b->buf = p;
			b->cap = cap;
		}
		memset(b->buf + b->block, 0, BLOCK_SIZE);
	}
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(b->buf + b->len);
	de->inode = ino;
	ext2fs_dirent_set_name_len(de, (int)nlen);
	ext2fs_dirent_set_file_type(de, type);
	memcpy(de->name, name, nlen);
	errcode_t e = ext2fs_set_rec_len(fs, rec, de);
	if (e)
		return e;
	b->last = b->len;
	b->len += rec;
	return 0;
}

static int write_dir(struct ext4w *w, struct fstree_node *d, ext2_ino_t parent, struct dirbuf *b,
		     struct errmsg *err)
{
	ext2_ino_t self = d->inode->ext_ino;
	unsigned subdirs = 0;
	errcode_t e;
	b->len = b->last = b->block = 0;
	e = dir_add(w->fs, b, self, ".", 1, EXT2_FT_DIR);
	if (!e)
		e = dir_add(w->fs, b, parent, "..", 2, EXT2_FT_DIR);
	for (struct fstree_node *c = d->first_child; c && !e; c = c->next) {
		subdirs += c->inode->type == FSTREE_DIR;
		e = dir_add(w->fs, b, c->inode->ext_ino, c->name, strlen(c->name),
			    dirent_type(c->inode->type));
	}
	if (!e)
		e = ext2fs_set_rec_len(w->fs, (unsigned int)(b->block + BLOCK_SIZE - b->last),
				       (struct ext2_dir_entry *)(b->buf + b->last));
	uint64_t nblocks = b->block / BLOCK_SIZE + 1;
	if (!e) {
		fill_inode(w, d->inode);
		struct ext2_inode_large *l = large(w);
		l->i_flags = EXT4_EXTENTS_FL;
		l->i_links_count = subdirs + 2 >= EXT2_LINK_MAX ? 1 : (__u16)(subdirs + 2);
		e = ext2fs_inode_size_set(w->fs, (struct ext2_inode *)l, nblocks * BLOCK_SIZE);
	}
	struct run all = {0, nblocks};
	if (!e)
		e = allocate_blocks(w, self, &all, 1);
	if (!e)
		e = write_mapped(w, 0, b->buf, nblocks, self);
	const char *failed = NULL;
	if (!e)
		e = set_xattrs(w, self, d->inode, &failed);
	if (e)
		return e2err(err, e, "directory '%s'%s%s", *d->name ? d->name : "/",
			     failed ? ": setting xattr " : "", failed ? failed : "");
	for (struct fstree_node *c = d->first_child; c; c = c->next) {
		if (c->inode->type == FSTREE_DIR) {
			int rc = write_dir(w, c, self, b, err);
			if (rc)
				return rc;
		} else if (c->inode->nlink != 1) {
			/* hard links: written with a count of 1, fix it now */
			ext2_ino_t n = c->inode->ext_ino;
			e = ext2fs_read_inode_full(w->fs, n, (struct ext2_inode *)w->ibuf,
						   INODE_SIZE);
			if (!e && large(w)->i_links_count != c->inode->nlink) {
				large(w)->i_links_count = (__u16)c->inode->nlink;
				e = write_ibuf(w, n);
			}
			if (e)
				return e2err(err, e, "'%s': setting the link count", c->name);
		}
	}
	return 0;
}

int ext4w_finish(struct ext4w *w, struct fstree *t, struct errmsg *err)
{
	if (w->cur)
		return errmsg_set(err, -EINVAL, "%s: file data is incomplete", w->cur_path);
	struct fstree_node *root = fstree_root(t);
	root->inode->ext_ino = EXT2_ROOT_INO;
	int rc = assign_dirs(w, root, EXT2_ROOT_INO, err);
	struct dirbuf b = {0};
	if (!rc)
		rc = write_dir(w, root, EXT2_ROOT_INO, &b, err);
	free(b.buf);
	if (rc)
		return rc;
	ext4w_usage(w, &w->blocks_used, &w->blocks_total, &w->inodes_used, &w->inodes_total);
	errcode_t e = ext2fs_close_free(&w->fs);
	w->fs = NULL;
	if (e)
		return e2err(err, e, "closing the filesystem");
	return 0;
}

void ext4w_free(struct ext4w *w)
{
	if (!w)
		return;
	if (w->fs) {
		/* discard: do not flush a half-written filesystem */
		w->fs->flags &= ~EXT2_FLAG_DIRTY;
		ext2fs_free(w->fs);
	}
	free(w->cur_path);
	free(w->ext);
	free(w->runs);
	free(w->stage);
	free(w->ibuf);
	free(w);
}

void ext4w_usage(struct ext4w *w, uint64_t *blocks_used, uint64_t *blocks_total,
		 uint32_t *inodes_used, uint32_t *inodes_total)
{
	if (!w->fs) {
		*blocks_used = w->blocks_used;
		*blocks_total = w->blocks_total;
		*inodes_used = w->inodes_used;
		*inodes_total = w->inodes_total;
		return;
	}
	struct ext2_super_block *s = w->fs->super;
	*blocks_total = ext2fs_blocks_count(s);
	*blocks_used = *blocks_total - ext2fs_free_blocks_count(s);
	*inodes_total = s->s_inodes_count;
	*inodes_used = s->s_inodes_count - s->s_free_inodes_count;
}
