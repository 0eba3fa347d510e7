#include "images/oci_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define READ_CHUNK (256u << 10)

struct preopened {
	char digest[DIGEST_STR_LEN];
	int fd;
};

struct oci_source {
	char *path;
	int dirfd; /* layout directory, or -1 */
	bool archive;
	bool sealed; /* nothing opened by path any more */
	int afd;     /* the archive, preopened, or -1 */
	struct preopened *pre;
	size_t npre;
};

struct oci_blob {
	char what[40]; /* "blob sha256:0123456789ab" */
	char digest[DIGEST_STR_LEN];
	uint64_t size, got; /* got: bytes verified so far */
	uint64_t pos;	    /* bytes read from the member so far */
	struct digest_ctx dg;
	bool done;
	int fd; /* directory layout */
	uint8_t *buf;
	struct archive *a; /* archive */
};

int oci_source_open(const char *path, struct oci_source **out, struct errmsg *err)
{
	*out = NULL;
	struct stat st;
	if (stat(path, &st) < 0) {
		int rc = -errno;
		return errmsg_set(err, rc, "%s", strerror(-rc));
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return errmsg_set(
		    err, -EINVAL,
		    "neither a directory (OCI layout) nor a regular file (oci-archive)");
	struct oci_source *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	s->dirfd = -1;
	s->afd = -1;
	s->archive = S_ISREG(st.st_mode);
	if (!s->path) {
		oci_source_close(s);
		return -ENOMEM;
	}
	if (!s->archive) {
		s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0) {
			int rc = -errno;
			oci_source_close(s);
			return errmsg_set(err, rc, "%s", strerror(-rc));
		}
	}
	*out = s;
	return 0;
}

void oci_source_close(struct oci_source *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->afd >= 0)
		close(s->afd);
	for (size_t i = 0; i < s->npre; i++)
		close(s->pre[i].fd);
	free(s->pre);
	free(s->path);
	free(s);
}

bool oci_source_is_archive(const struct oci_source *s)
{
	return s->archive;
}

const char *oci_source_path(const struct oci_source *s)
{
	return s->path;
}

/* Strip "./" and "/" prefixes of a tar member name. */
static const char *member_name(const char *n)
{
	for (;;) {
		if (n[0] == '/')
			n++;
		else if (n[0] == '.' && n[1] == '/')
			n += 2;
		else
			return n;
	}
}

/* Open the outer tar and position it at member `name`'s data.
 * Returns 0, -ENOENT if absent, or another -errno. */
static int archive_seek_member(struct oci_source *s, const char *name, struct archive **out,
			       int64_t *size, struct errmsg *err)
{
	*out = NULL;
	struct archive *a = archive_read_new();
	if (!a)
		return -ENOMEM;
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	int r0;
	if (s->afd >= 0) /* preopened: read from its start again */
		r0 = lseek(s->afd, 0, SEEK_SET) < 0 ? ARCHIVE_FATAL
						    : archive_read_open_fd(a, s->afd, 1 << 20);
	else if (s->sealed)
		r0 = ARCHIVE_FATAL;
	else
		r0 = archive_read_open_filename(a, s->path, 1 << 20);
	if (r0 != ARCHIVE_OK) {
		int rc = errmsg_set(err, -EINVAL, "not a readable tar archive: %s",
				    archive_error_string(a));
		archive_read_free(a);
		return rc;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			int rc = errmsg_set(err, -EIO, "reading the archive: %s",
					    archive_error_string(a));
			archive_read_free(a);
			return rc;
		}
		const char *p = archive_entry_pathname(e);
		if (p && strcmp(member_name(p), name) == 0 &&
		    archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e)) {
			*size = archive_entry_size(e);
			*out = a;
			return 0;
		}
	}
	archive_read_free(a);
	return -ENOENT;
}

static void blob_free(struct oci_blob *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->a)
		archive_read_free(b->a);
	digest_free(&b->dg);
	free(b->buf);
	free(b);
}

/* Open name below dirfd for reading, or -errno (-ELOOP for a symlink).
 * A layout is hostile input: a symlink in it could make hull read a host
 * file, and a FIFO would block open() or read() forever. So no symlink is
 * followed, in any component where the kernel can check that (openat2
 * RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH, Linux 5.6; older kernels: O_NOFOLLOW
 * on the last one), and O_NONBLOCK makes opening a FIFO return at once; the
 * caller then refuses anything but a regular file (where O_NONBLOCK has no
 * effect on reads). */
static int open_beneath(int dirfd, const char *name)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) /* old kernel, or seccomp */
		fd = openat(dirfd, name, (int)how.flags);
	return fd < 0 ? -errno : fd;
}

/* A sealed directory source's blob: its preopened fd, rewound, as a
 * descriptor of its own for blob_free() to close; -EPERM if it was not
 * preopened. */
static int preopened_fd(const struct oci_source *s, const struct oci_descriptor *d)
{
	for (size_t i = 0; d && i < s->npre; i++)
		if (!strcmp(s->pre[i].digest, d->digest)) {
			if (lseek(s->pre[i].fd, 0, SEEK_SET) < 0)
				return -errno;
			int fd = fcntl(s->pre[i].fd, F_DUPFD_CLOEXEC, 0);
			return fd < 0 ? -errno : fd;
		}
	return -EPERM;
}

/* What a non-regular file is, for the error that refuses it. */
static const char *file_kind(mode_t m)
{
	return S_ISFIFO(m)   ? "a FIFO"
	       : S_ISDIR(m)  ? "a directory"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "a special file";
}

/* Open a member (blob path or top-level file) as a stream. For a top-level
 * file, d is NULL and nothing is verified. */
static int open_stream(struct oci_source *s, const char *name, const struct oci_descriptor *d,
		       const char *what, struct oci_blob **out, int64_t *size, struct errmsg *err)
{
	*out = NULL;
	struct oci_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = -1;
	snprintf(b->what, sizeof(b->what), "%s", what);
	if (d) {
		memcpy(b->digest, d->digest, DIGEST_STR_LEN);
		b->size = d->size;
		if (digest_init(&b->dg)) {
			blob_free(b);
			return -ENOMEM;
		}
	}
	int rc;
	if (s->archive) {
		rc = archive_seek_member(s, name, &b->a, size, err);
	} else {
		b->fd = s->sealed ? preopened_fd(s, d) : open_beneath(s->dirfd, name);
		rc = b->fd < 0 ? b->fd : 0;
		if (rc == -EPERM)
			rc = errmsg_set(err, rc,
					"%s: not opened before the converter dropped its "
					"privileges",
					what);
		if (rc == -ELOOP)
			rc = errmsg_set(err, -EINVAL,
					"%s: '%s' is or passes through a symlink; refused", what,
					name);
		struct stat st;
		if (!rc && fstat(b->fd, &st) < 0)
			rc = -errno;
		if (!rc && !S_ISREG(st.st_mode))
			rc = errmsg_set(err, -EINVAL, "%s: '%s' is %s, not a regular file; refused",
					what, name, file_kind(st.st_mode));
		if (!rc) {
			*size = st.st_size;
			b->buf = malloc(READ_CHUNK);
			if (!b->buf)
				rc = -ENOMEM;
		}
		if (rc && rc != -ENOENT && rc != -EINVAL && rc != -EPERM)
			errmsg_set(err, rc, "%s: %s", what, strerror(-rc));
	}
	if (rc == -ENOENT)
		errmsg_set(err, rc, "%s is missing", what);
	if (rc) {
		blob_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* Raw next chunk, no verification. */
static ssize_t raw_read(struct oci_blob *b, const void **buf, struct errmsg *err)
{
	if (b->a) {
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(b->a, buf, &n, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return errmsg_set(err, -EIO, "%s: reading from the archive: %s", b->what,
					  archive_error_string(b->a));
		if ((uint64_t)off != b->pos)
			return errmsg_set(err, -EINVAL, "%s: sparse archive member", b->what);
		b->pos += n;
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t n = read(b->fd, b->buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			return errmsg_set(err, rc, "%s: %s", b->what, strerror(-rc));
		}
		*buf = b->buf;
		return n;
	}
}

ssize_t oci_blob_read(struct oci_blob *b, const void **buf, struct errmsg *err)
{
	if (b->done)
		return 0;
	for (;;) {
		ssize_t n = raw_read(b, buf, err);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		if ((uint64_t)n > b->size - b->got)
			return errmsg_set(err, -EINVAL,
					  "%s: larger than the %llu bytes its descriptor says",
					  b->what, (unsigned long long)b->size);
		b->got += (uint64_t)n;
		digest_update(&b->dg, *buf, (size_t)n);
		return n;
	}
	b->done = true;
	if (b->got != b->size)
		return errmsg_set(err, -EINVAL, "%s: %llu bytes, its descriptor says %llu", b->what,
				  (unsigned long long)b->got, (unsigned long long)b->size);
	char got[DIGEST_STR_LEN];
	if (digest_final(&b->dg, got))
		return -EIO;
	if (strcmp(got, b->digest) != 0)
		return errmsg_set(err, -EBADMSG, "%s: content does not match its digest (got %s)",
				  b->what, got);
	return 0;
}

int oci_blob_drain(struct oci_blob *b, struct errmsg *err)
{
	const void *buf;
	ssize_t n;
	while ((n = oci_blob_read(b, &buf, err)) > 0)
		;
	return (int)n;
}

void oci_blob_close(struct oci_blob *b)
{
	if (b)
		blob_free(b);
}

int oci_blob_open(struct oci_source *s, const struct oci_descriptor *d, struct oci_blob **out,
		  struct errmsg *err)
{
	char hex[DIGEST_HEX_LEN + 1], name[16 + DIGEST_HEX_LEN], what[40];
	int rc = digest_parse(d->digest, hex, "descriptor", err);
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
	snprintf(what, sizeof(what), "blob %.19s", d->digest);
	int64_t size;
	rc = open_stream(s, name, d, what, out, &size, err);
	if (rc)
		return rc;
	if (size >= 0 && (uint64_t)size != d->size) {
		oci_blob_close(*out);
		*out = NULL;
		return errmsg_set(err, -EINVAL, "%s: %lld bytes, its descriptor says %llu", what,
				  (long long)size, (unsigned long long)d->size);
	}
	return 0;
}

static int slurp(struct oci_blob *b, size_t max, bool verify, char **buf, size_t *len,
		 struct errmsg *err)
{
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	if (!p)
		return -ENOMEM;
	for (;;) {
		const void *chunk;
		ssize_t r = verify ? oci_blob_read(b, &chunk, err) : raw_read(b, &chunk, err);
		if (r < 0) {
			free(p);
			return (int)r;
		}
		if (r == 0)
			break;
		if ((size_t)r > max - n) {
			free(p);
			return errmsg_set(err, -EFBIG, "%s: larger than %zu bytes", b->what, max);
		}
		while (n + (size_t)r + 1 > cap)
			cap *= 2;
		char *q = realloc(p, cap);
		if (!q) {
			free(p);
			return -ENOMEM;
		}
		p = q;
		memcpy(p + n, chunk, (size_t)r);
		n += (size_t)r;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int oci_source_read_file(struct oci_source *s, const char *name, size_t max, char **buf,
			 size_t *len, struct errmsg *err)
{
	struct oci_blob *b;
	int64_t size;
	*buf = NULL;
	*len = 0;
	int rc = open_stream(s, name, NULL, name, &b, &size, err);
	if (rc)
		return rc;
	if (size > (int64_t)max)
		rc = errmsg_set(err, -EFBIG, "%s: %lld bytes, more than the %zu allowed", name,
				(long long)size, max);
	else
		rc = slurp(b, max, false, buf, len, err);
	oci_blob_close(b);
	return rc;
}

int oci_source_read_blob(struct oci_source *s, const struct oci_descriptor *d, size_t max,
			 char **buf, size_t *len, struct errmsg *err)
{
	*buf = NULL;
	*len = 0;
	if (d->size > max)
		return errmsg_set(err, -EFBIG, "blob %.19s: %llu bytes, more than the %zu allowed",
				  d->digest, (unsigned long long)d->size, max);
	struct oci_blob *b;
	int rc = oci_blob_open(s, d, &b, err);
	if (rc)
		return rc;
	rc = slurp(b, max, true, buf, len, err);
	oci_blob_close(b);
	return rc;
}

int oci_member_open(struct oci_source *s, const char *name, struct oci_blob **out, uint64_t *size,
		    struct errmsg *err)
{
	*out = NULL;
	const char *n = member_name(name);
	size_t len = strlen(n);
	bool dotdot = strcmp(n, "..") == 0 || strncmp(n, "../", 3) == 0 || strstr(n, "/../") ||
		      (len >= 3 && strcmp(n + len - 3, "/..") == 0);
	if (name[0] == '/' || !*n || dotdot)
		return errmsg_set(err, -EINVAL, "'%.200s': not a path inside the archive", name);
	int64_t sz = 0;
	int rc = open_stream(s, n, NULL, n, out, &sz, err);
	*size = sz > 0 ? (uint64_t)sz : 0;
	return rc;
}

ssize_t oci_member_read(struct oci_blob *b, const void **buf, struct errmsg *err)
{
	return raw_read(b, buf, err);
}

int oci_source_preopen(struct oci_source *s, const struct oci_descriptor *d, size_t n,
		       struct errmsg *err)
{
	if (s->archive) {
		if (s->afd >= 0)
			return 0;
		int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			int rc = -errno;
			if (fd >= 0)
				close(fd);
			return errmsg_set(err, rc, "%s: %s", s->path, strerror(-rc));
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			return errmsg_set(err, -EINVAL, "%s: not a regular file", s->path);
		}
		s->afd = fd;
		return 0;
	}
	struct preopened *p = realloc(s->pre, (s->npre + n) * sizeof(*p));
	if (!p && n)
		return -ENOMEM;
	s->pre = p;
	for (size_t i = 0; i < n; i++) {
		bool have = false;
		for (size_t k = 0; k < s->npre && !have; k++)
			have = !strcmp(s->pre[k].digest, d[i].digest);
		if (have)
			continue;
		/* oci_blob_open's checks, kept open: the blob itself */
		struct oci_blob *b;
		int rc = oci_blob_open(s, &d[i], &b, err);
		if (rc)
			return rc;
		s->pre[s->npre].fd = b->fd;
		memcpy(s->pre[s->npre].digest, d[i].digest, DIGEST_STR_LEN);
		s->npre++;
		b->fd = -1;
		blob_free(b);
	}
	return 0;
}

void oci_source_seal(struct oci_source *s)
{
	s->sealed = true;
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
}

int oci_source_blob_fd(const struct oci_source *s, const char *digest)
{
	if (s->archive)
		return s->afd;
	for (size_t i = 0; i < s->npre; i++)
		if (!strcmp(s->pre[i].digest, digest))
			return s->pre[i].fd;
	return -1;
}

int oci_source_sealed(const char *name, int archive_fd, struct oci_source **out)
{
	*out = NULL;
	struct oci_source *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(name);
	s->dirfd = -1;
	s->afd = -1;
	s->sealed = true;
	s->archive = archive_fd >= 0;
	if (s->archive && (s->afd = fcntl(archive_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		int rc = -errno;
		oci_source_close(s);
		return rc;
	}
	if (!s->path) {
		oci_source_close(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

int oci_source_add_fd(struct oci_source *s, const char *digest, int fd)
{
	if (s->archive || !s->sealed)
		return -EINVAL;
	for (size_t i = 0; i < s->npre; i++)
		if (!strcmp(s->pre[i].digest, digest))
			return 0;
	struct preopened *p = realloc(s->pre, (s->npre + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->pre = p;
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -errno;
	p[s->npre].fd = dup;
	snprintf(p[s->npre].digest, DIGEST_STR_LEN, "%s", digest);
	s->npre++;
	return 0;
}
