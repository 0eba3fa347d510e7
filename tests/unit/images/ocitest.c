#include "ocitest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <ext2fs/ext2fs.h>

#include "images/digest.h"

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ocitest: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* ---- growable memory sink for libarchive writers ---- */

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static void mb_put(struct membuf *m, const void *buf, size_t n)
{
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + n)
			cap *= 2;
		m->p = realloc(m->p, cap);
		if (!m->p)
			die("out of memory");
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
}

static la_ssize_t mb_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	mb_put(ctx, buf, n);
	return (la_ssize_t)n;
}

/* ---- tar builder ---- */

struct tarb {
	struct archive *a;
	struct membuf out;
	int64_t mtime;
	long mtime_nsec;
};

struct tarb *tarb_new(void)
{
	struct tarb *t = calloc(1, sizeof(*t));
	t->a = archive_write_new();
	/* full pax: it records sub-second mtimes and xattrs */
	if (archive_write_set_format_pax(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open(t->a, &t->out, NULL, mb_write, NULL) != ARCHIVE_OK)
		die("tar writer: %s", archive_error_string(t->a));
	t->mtime = 1700000000;
	return t;
}

void tarb_mtime(struct tarb *t, int64_t sec, long nsec)
{
	t->mtime = sec;
	t->mtime_nsec = nsec;
}

static struct archive_entry *entry(struct tarb *t, const char *path, unsigned type, unsigned mode,
				   unsigned uid, unsigned gid)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, mode);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, t->mtime, t->mtime_nsec);
	return e;
}

static void put(struct tarb *t, struct archive_entry *e, const void *data, size_t len)
{
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		die("tar header %s: %s", archive_entry_pathname(e), archive_error_string(t->a));
	if (len && archive_write_data(t->a, data, len) != (la_ssize_t)len)
		die("tar data: %s", archive_error_string(t->a));
	archive_entry_free(e);
}

void tarb_dir(struct tarb *t, const char *path, unsigned mode, unsigned uid, unsigned gid)
{
	put(t, entry(t, path, AE_IFDIR, mode, uid, gid), NULL, 0);
}

void tarb_file(struct tarb *t, const char *path, unsigned mode, unsigned uid, unsigned gid,
	       const void *data, size_t len)
{
	struct archive_entry *e = entry(t, path, AE_IFREG, mode, uid, gid);
	archive_entry_set_size(e, (la_int64_t)len);
	put(t, e, data, len);
}

void tarb_file_xattr(struct tarb *t, const char *path, unsigned mode, const void *data, size_t len,
		     const char *xname, const void *xval, size_t xlen)
{
	struct archive_entry *e = entry(t, path, AE_IFREG, mode, 0, 0);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_xattr_add_entry(e, xname, xval, xlen);
	put(t, e, data, len);
}

void tarb_symlink(struct tarb *t, const char *path, const char *target)
{
	struct archive_entry *e = entry(t, path, AE_IFLNK, 0777, 0, 0);
	archive_entry_set_symlink(e, target);
	put(t, e, NULL, 0);
}

void tarb_hardlink(struct tarb *t, const char *path, const char *target)
{
	struct archive_entry *e = entry(t, path, AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, target);
	archive_entry_set_size(e, 0);
	put(t, e, NULL, 0);
}

/* A sparse entry's header, with its map (segs: offset, length pairs). */
static struct archive_entry *sparse_header(struct tarb *t, const char *path, uint64_t size,
					   const uint64_t *segs, size_t n)
{
	struct archive_entry *e = entry(t, path, AE_IFREG, 0644, 0, 0);
	archive_entry_set_size(e, (la_int64_t)size);
	for (size_t i = 0; i < n; i++)
		archive_entry_sparse_add_entry(e, (la_int64_t)segs[2 * i],
					       (la_int64_t)segs[2 * i + 1]);
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		die("tar header %s: %s", path, archive_error_string(t->a));
	return e;
}

void tarb_sparse_map(struct tarb *t, const char *path, const void *content, uint64_t size,
		     const uint64_t *segs, size_t n)
{
	struct archive_entry *e = sparse_header(t, path, size, segs, n);
	if (size && archive_write_data(t->a, content, size) != (la_ssize_t)size)
		die("tar data: %s", archive_error_string(t->a));
	archive_entry_free(e);
}

void tarb_sparse(struct tarb *t, const char *path, uint64_t size, const void *data, size_t len)
{
	uint64_t seg[2] = {size - len, len};
	struct archive_entry *e = sparse_header(t, path, size, seg, 1);
	/* the writer takes the whole content and skips the holes itself */
	static const uint8_t zeros[64 << 10];
	for (uint64_t off = 0; off < size - len;) {
		size_t n =
		    size - len - off < sizeof(zeros) ? (size_t)(size - len - off) : sizeof(zeros);
		if (archive_write_data(t->a, zeros, n) != (la_ssize_t)n)
			die("tar data: %s", archive_error_string(t->a));
		off += n;
	}
	if (len && archive_write_data(t->a, data, len) != (la_ssize_t)len)
		die("tar data: %s", archive_error_string(t->a));
	archive_entry_free(e);
}

void tarb_node(struct tarb *t, const char *path, char type, unsigned mode, unsigned major,
	       unsigned minor)
{
	unsigned ft = type == 'c' ? AE_IFCHR : type == 'b' ? AE_IFBLK : AE_IFIFO;
	struct archive_entry *e = entry(t, path, ft, mode, 0, 0);
	archive_entry_set_rdevmajor(e, major);
	archive_entry_set_rdevminor(e, minor);
	put(t, e, NULL, 0);
}

void tarb_finish(struct tarb *t, uint8_t **buf, size_t *len)
{
	if (archive_write_close(t->a) != ARCHIVE_OK)
		die("tar close: %s", archive_error_string(t->a));
	archive_write_free(t->a);
	*buf = t->out.p;
	*len = t->out.len;
	free(t);
}

static void compress(const uint8_t *in, size_t len, enum ocib_comp c, struct membuf *out)
{
	if (c == OCIB_TAR) {
		mb_put(out, in, len);
		return;
	}
	struct archive *a = archive_write_new();
	int r =
	    c == OCIB_GZIP ? archive_write_add_filter_gzip(a) : archive_write_add_filter_zstd(a);
	if (r != ARCHIVE_OK || archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, mb_write, NULL) != ARCHIVE_OK)
		die("compressor: %s", archive_error_string(a));
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, in, len) != (la_ssize_t)len ||
	    archive_write_close(a) != ARCHIVE_OK)
		die("compress: %s", archive_error_string(a));
	archive_entry_free(e);
	archive_write_free(a);
}

/* ---- files ---- */

void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die("writing %s: %s", path, strerror(errno));
}

uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct membuf m = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		mb_put(&m, buf, n);
	fclose(f);
	mb_put(&m, "", 1);
	*len = m.len - 1;
	return m.p;
}

char *tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *p;
	if (asprintf(&p, "%s/hull-images-test.XXXXXX", base && *base ? base : "/tmp") < 0 ||
	    !mkdtemp(p))
		die("mkdtemp: %s", strerror(errno));
	return p;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char blob_path[4096];
static char last_layers[16][DIGEST_STR_LEN];
static char last_config[DIGEST_STR_LEN];

const char *ocib_blob_path(const char *dir, const char *digest)
{
	snprintf(blob_path, sizeof(blob_path), "%s/blobs/sha256/%s", dir, digest + 7);
	return blob_path;
}

const char *ocib_last_layer_digest(size_t i)
{
	return last_layers[i];
}

const char *ocib_last_config_digest(void)
{
	return last_config;
}

static void put_blob(const char *dir, const void *buf, size_t len, char digest[DIGEST_STR_LEN])
{
	if (digest_buf(buf, len, digest))
		die("digest");
	write_file(ocib_blob_path(dir, digest), buf, len);
}

const char *ocib_write(const char *dir, const struct ocib_layer *layers, size_t n,
		       const struct ocib_opts *o)
{
	static char mdigest[DIGEST_STR_LEN];
	char path[4096];
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	mkdir(path, 0755);

	const char *lt_base = o->docker ? "application/vnd.docker.image.rootfs.diff.tar"
					: "application/vnd.oci.image.layer.v1.tar";
	struct membuf layers_json = {0}, diffs_json = {0};
	for (size_t i = 0; i < n; i++) {
		struct membuf blob = {0};
		compress(layers[i].tar, layers[i].len, layers[i].comp, &blob);
		if (layers[i].mangle == OCIB_TRUNCATE)
			blob.len /= 2;
		if (layers[i].mangle == OCIB_CORRUPT)
			for (size_t k = blob.len / 2; k < blob.len / 2 + 16 && k < blob.len; k++)
				blob.p[k] ^= 0xa5;
		char ld[DIGEST_STR_LEN], diff[DIGEST_STR_LEN];
		put_blob(dir, blob.p, blob.len, ld);
		memcpy(last_layers[i], ld, DIGEST_STR_LEN);
		digest_buf(layers[i].tar, layers[i].len, diff);
		if (o->bad_diff_id && i == n - 1)
			diff[10] = diff[10] == '0' ? '1' : '0';
		const char *suffix = layers[i].comp == OCIB_TAR ? ""
				     : layers[i].comp == OCIB_GZIP
					 ? (o->docker ? ".gzip" : "+gzip")
					 : (o->docker ? ".zstd" : "+zstd");
		char item[512];
		snprintf(item, sizeof(item),
			 "%s{\"mediaType\":\"%s%s\",\"digest\":\"%s\",\"size\":%zu}", i ? "," : "",
			 layers[i].media_type ? layers[i].media_type : lt_base,
			 layers[i].media_type ? "" : suffix, ld, blob.len);
		mb_put(&layers_json, item, strlen(item));
		snprintf(item, sizeof(item), "%s\"%s\"", i ? "," : "", diff);
		mb_put(&diffs_json, item, strlen(item));
		free(blob.p);
	}
	mb_put(&layers_json, "", 1);
	mb_put(&diffs_json, "", 1);

	char *config;
	if (asprintf(&config,
		     "{\"architecture\":\"%s\",\"os\":\"linux\",%s%s%s"
		     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
		     o->arch ? o->arch : "amd64", o->config_obj ? "\"config\":" : "",
		     o->config_obj ? o->config_obj : "", o->config_obj ? "," : "",
		     n ? (char *)diffs_json.p : "") < 0)
		die("asprintf");
	char cd[DIGEST_STR_LEN];
	put_blob(dir, config, strlen(config), cd);
	memcpy(last_config, cd, DIGEST_STR_LEN);
	char *manifest;
	if (asprintf(&manifest,
		     "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		     "\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s]}",
		     o->docker ? "application/vnd.docker.distribution.manifest.v2+json"
			       : "application/vnd.oci.image.manifest.v1+json",
		     o->docker ? "application/vnd.docker.container.image.v1+json"
			       : "application/vnd.oci.image.config.v1+json",
		     cd, strlen(config), n ? (char *)layers_json.p : "") < 0)
		die("asprintf");
	put_blob(dir, manifest, strlen(manifest), mdigest);

	char ann[512] = "";
	if (o->ref)
		snprintf(ann, sizeof(ann),
			 ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}", o->ref);
	char *desc;
	if (asprintf(&desc, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu%s}",
		     o->manifest_media_type ? o->manifest_media_type
		     : o->docker	    ? "application/vnd.docker.distribution.manifest.v2+json"
					    : "application/vnd.oci.image.manifest.v1+json",
		     mdigest, strlen(manifest), ann) < 0)
		die("asprintf");
	snprintf(path, sizeof(path), "%s/index.json", dir);
	size_t olen;
	char *old = o->add ? (char *)read_whole(path, &olen) : NULL;
	char *index;
	if (old) {
		/* splice before the closing "]}" of manifests */
		char *end = strrchr(old, ']');
		if (!end)
			die("bad index.json");
		*end = '\0';
		if (asprintf(&index, "%s,%s]}", old, desc) < 0)
			die("asprintf");
	} else if (asprintf(&index,
			    "{\"schemaVersion\":2,\"mediaType\":\"application/"
			    "vnd.oci.image.index.v1+json\","
			    "\"manifests\":[%s]}\n",
			    desc) < 0) {
		die("asprintf");
	}
	write_file(path, index, strlen(index));
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	write_file(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	free(old);
	free(index);
	free(desc);
	free(manifest);
	free(config);
	free(layers_json.p);
	free(diffs_json.p);
	return mdigest;
}

static int add_to_archive(const char *p, const struct stat *st, int flag, struct FTW *ftw);
static struct archive *cur_archive;
static size_t cur_prefix;

static int add_to_archive(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_F && flag != FTW_D)
		return 0;
	const char *rel = p + cur_prefix;
	while (*rel == '/')
		rel++;
	char name[4096];
	snprintf(name, sizeof(name), "./%s", rel);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, flag == FTW_D ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, 0755);
	archive_entry_set_size(e, flag == FTW_D ? 0 : st->st_size);
	if (archive_write_header(cur_archive, e) != ARCHIVE_OK)
		die("archive header: %s", archive_error_string(cur_archive));
	archive_entry_free(e);
	if (flag == FTW_F) {
		size_t len;
		uint8_t *buf = read_whole(p, &len);
		if (!buf || archive_write_data(cur_archive, buf, len) != (la_ssize_t)len)
			die("archive data %s", p);
		free(buf);
	}
	return 0;
}

void ocib_archive(const char *dir, const char *path)
{
	struct membuf out = {0};
	cur_archive = archive_write_new();
	cur_prefix = strlen(dir);
	if (archive_write_set_format_pax_restricted(cur_archive) != ARCHIVE_OK ||
	    archive_write_open(cur_archive, &out, NULL, mb_write, NULL) != ARCHIVE_OK)
		die("archive writer");
	/* blobs first, index.json last: the reader must rescan */
	if (nftw(dir, add_to_archive, 16, FTW_PHYS) != 0)
		die("walking %s", dir);
	archive_write_close(cur_archive);
	archive_write_free(cur_archive);
	write_file(path, out.p, out.len);
	free(out.p);
}

/* ---- ext4 read-back ---- */

struct ext4r {
	ext2_filsys fs;
};

struct ext4r *ext4r_open(const char *image)
{
	struct ext4r *r = calloc(1, sizeof(*r));
	if (ext2fs_open(image, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &r->fs))
		die("ext2fs_open %s", image);
	return r;
}

void ext4r_close(struct ext4r *r)
{
	ext2fs_close_free(&r->fs);
	free(r);
}

static bool lookup(struct ext4r *r, const char *path, ext2_ino_t *ino, struct ext2_inode_large *in)
{
	while (*path == '/')
		path++;
	if (!*path)
		*ino = EXT2_ROOT_INO;
	else if (ext2fs_namei(r->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, ino))
		return false;
	if (ext2fs_read_inode_full(r->fs, *ino, (struct ext2_inode *)in, sizeof(*in)))
		die("read inode %u", *ino);
	return true;
}

bool ext4r_stat(struct ext4r *r, const char *path, struct ext4r_stat *st)
{
	ext2_ino_t ino;
	struct ext2_inode_large in;
	if (!lookup(r, path, &ino, &in))
		return false;
	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->mode = in.i_mode;
	st->uid = inode_uid(in);
	st->gid = inode_gid(in);
	st->nlink = in.i_links_count;
	st->size = EXT2_I_SIZE(&in);
	st->blocks = ext2fs_get_stat_i_blocks(r->fs, (struct ext2_inode *)&in);
	st->mtime = (int32_t)in.i_mtime + ((int64_t)(in.i_mtime_extra & 3) << 32);
	st->mtime_nsec = in.i_mtime_extra >> 2;
	if (LINUX_S_ISCHR(in.i_mode) || LINUX_S_ISBLK(in.i_mode)) {
		if (in.i_block[0]) {
			st->rdev_major = in.i_block[0] >> 8 & 0xff;
			st->rdev_minor = in.i_block[0] & 0xff;
		} else {
			st->rdev_major = in.i_block[1] >> 8 & 0xfff;
			st->rdev_minor = (in.i_block[1] & 0xff) | (in.i_block[1] >> 12 & 0xfff00);
		}
	}
	return true;
}

char *ext4r_read(struct ext4r *r, const char *path, size_t *len)
{
	ext2_ino_t ino;
	struct ext2_inode_large in;
	if (!lookup(r, path, &ino, &in))
		return NULL;
	size_t size = EXT2_I_SIZE(&in);
	char *buf = calloc(1, size + 1);
	if (LINUX_S_ISLNK(in.i_mode) && ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
		memcpy(buf, in.i_block, size);
	} else {
		ext2_file_t f;
		unsigned int got;
		if (ext2fs_file_open(r->fs, ino, 0, &f) ||
		    ext2fs_file_read(f, buf, (unsigned)size, &got) || got != size)
			die("reading %s", path);
		ext2fs_file_close(f);
	}
	if (len)
		*len = size;
	return buf;
}

void *ext4r_xattr(struct ext4r *r, const char *path, const char *name, size_t *len)
{
	ext2_ino_t ino;
	struct ext2_inode_large in;
	if (!lookup(r, path, &ino, &in))
		return NULL;
	struct ext2_xattr_handle *h;
	void *val = NULL;
	if (ext2fs_xattrs_open(r->fs, ino, &h) || ext2fs_xattrs_read(h))
		die("xattrs of %s", path);
	if (ext2fs_xattr_get(h, name, &val, len))
		val = NULL;
	ext2fs_xattrs_close(&h);
	return val;
}

int ext4r_extents(struct ext4r *r, const char *path)
{
	ext2_ino_t ino;
	struct ext2_inode_large in;
	if (!lookup(r, path, &ino, &in))
		return -1;
	ext2_extent_handle_t h;
	struct ext2fs_extent x;
	int n = 0;
	if (ext2fs_extent_open2(r->fs, ino, (struct ext2_inode *)&in, &h))
		die("extents of %s", path);
	for (errcode_t e = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &x); !e;
	     e = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &x))
		n += (x.e_flags & EXT2_EXTENT_FLAGS_LEAF) != 0;
	ext2fs_extent_free(h);
	return n;
}

static int count_cb(struct ext2_dir_entry *d, int off, int bs, char *buf, void *priv)
{
	(void)off;
	(void)bs;
	(void)buf;
	int n = ext2fs_dirent_name_len(d);
	if (!(n == 1 && d->name[0] == '.') && !(n == 2 && d->name[0] == '.' && d->name[1] == '.'))
		(*(int *)priv)++;
	return 0;
}

int ext4r_count(struct ext4r *r, const char *path)
{
	ext2_ino_t ino;
	struct ext2_inode_large in;
	if (!lookup(r, path, &ino, &in))
		return -1;
	int n = 0;
	if (ext2fs_dir_iterate(r->fs, ino, 0, NULL, count_cb, &n))
		die("iterating %s", path);
	return n;
}

int fsck_image(const char *image)
{
	char *cmd;
	if (asprintf(&cmd, "e2fsck -fn '%s' >/dev/null 2>&1", image) < 0)
		die("asprintf");
	int st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
