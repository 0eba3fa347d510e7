#include "images/lstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "common/fileutil.h"
#include "common/readfile.h"
#include "images/digest.h"
#include "images/oci_json.h"

/* index.json holds one small entry per reference; this bounds a corrupt or
 * hostile file, not a real store. */
#define INDEX_MAX (64u << 20)
#define TEMP_GRACE_SEC 60
#define MAX_WALK_DEPTH 4

static const char empty_index[] = "{\"schemaVersion\":2,\"manifests\":[]}\n";
static const char layout_file[] = "{\"imageLayoutVersion\":\"1.0.0\"}\n";

static char *path_in(const struct lstore *s, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", s->dir, name) < 0 ? NULL : p;
}

/* Create dir/name holding content unless it exists; link() publishes it
 * atomically without overwriting what a concurrent opener wrote. */
static int create_once(const struct lstore *s, const char *name, const char *content)
{
	char *path = path_in(s, name);
	char *tmp = NULL;
	if (!path || asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		free(path);
		return -ENOMEM;
	}
	int rc = 0;
	if (access(path, F_OK) == 0)
		goto out;
	rc = fileutil_write_sync(tmp, content, strlen(content));
	if (!rc && link(tmp, path) < 0 && errno != EEXIST)
		rc = -errno;
	unlink(tmp);
out:
	free(path);
	free(tmp);
	return rc;
}

int lstore_open(const char *root, struct lstore *s, struct errmsg *err)
{
	s->dir = NULL;
	s->hold_fd = -1;
	if (!root || !*root)
		return errmsg_set(err, -EINVAL, "no store directory given");
	char *blobs = NULL;
	if (asprintf(&s->dir, "%s/oci", root) < 0) {
		s->dir = NULL;
		return -ENOMEM;
	}
	if (asprintf(&blobs, "%s/blobs/sha256", s->dir) < 0) {
		lstore_close(s);
		return -ENOMEM;
	}
	const char *step = "creating directories";
	int rc = fileutil_mkdirs(blobs, 0700);
	free(blobs);
	if (!rc) {
		step = "creating oci-layout";
		rc = create_once(s, "oci-layout", layout_file);
	}
	if (!rc) {
		step = "creating index.json";
		rc = create_once(s, "index.json", empty_index);
	}
	if (rc) {
		errmsg_set(err, rc, "image store %s: %s: %s", s->dir, step, strerror(-rc));
		lstore_close(s);
	}
	return rc;
}

void lstore_close(struct lstore *s)
{
	if (s->hold_fd >= 0)
		close(s->hold_fd);
	s->hold_fd = -1;
	free(s->dir);
	s->dir = NULL;
}

/* flock() `name` in the store (created if missing); returns the fd. */
static int lock_file(const struct lstore *s, const char *name, int op, int *fd, struct errmsg *err)
{
	char *path = path_in(s, name);
	if (!path)
		return -ENOMEM;
	int rc = fileutil_lock(path, op, fd);
	if (rc)
		errmsg_set(err, rc, "locking %s: %s", path, strerror(-rc));
	free(path);
	return rc;
}

int lstore_hold(struct lstore *s, struct errmsg *err)
{
	if (s->hold_fd >= 0)
		return 0;
	return lock_file(s, "gc.lock", LOCK_SH, &s->hold_fd, err);
}

char *lstore_blob_path(const struct lstore *s, const char *digest)
{
	char hex[DIGEST_HEX_LEN + 1];
	char *p;
	if (digest_parse(digest, hex, "", NULL))
		return NULL;
	return asprintf(&p, "%s/blobs/sha256/%s", s->dir, hex) < 0 ? NULL : p;
}

bool lstore_has_blob(const struct lstore *s, const char *digest)
{
	char *p = lstore_blob_path(s, digest);
	struct stat st;
	bool r = p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return r;
}

/* ---- blob writer ---- */

struct lstore_writer {
	struct lstore *s;
	char digest[DIGEST_STR_LEN];
	int64_t size; /* expected, < 0 unknown */
	int64_t count;
	struct digest_ctx md;
	char *tmp;
	int fd;
};

static void writer_free(struct lstore_writer *w, bool unlink_tmp)
{
	if (w->fd >= 0)
		close(w->fd);
	if (unlink_tmp && w->tmp)
		unlink(w->tmp);
	digest_free(&w->md);
	free(w->tmp);
	free(w);
}

int lstore_blob_begin(struct lstore *s, const char *digest, int64_t size,
		      struct lstore_writer **out, struct errmsg *err)
{
	*out = NULL;
	char hex[DIGEST_HEX_LEN + 1];
	int rc = digest_parse(digest, hex, "blob", err);
	if (rc)
		return rc;
	struct lstore_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->s = s;
	w->fd = -1;
	w->size = size;
	memcpy(w->digest, digest, DIGEST_STR_LEN);
	if (asprintf(&w->tmp, "%s/blobs/sha256/.tmp.%.12s.XXXXXX", s->dir, hex) < 0) {
		w->tmp = NULL;
		writer_free(w, false);
		return -ENOMEM;
	}
	rc = digest_init(&w->md);
	if (!rc) {
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
		if (w->fd < 0) {
			rc = -errno;
			errmsg_set(err, rc, "image store %s: creating a blob: %s", s->dir,
				   strerror(-rc));
			free(w->tmp);
			w->tmp = NULL;
		}
	}
	if (rc) {
		writer_free(w, false);
		return rc;
	}
	*out = w;
	return 0;
}

int lstore_blob_write(struct lstore_writer *w, const void *buf, size_t n, struct errmsg *err)
{
	if (w->size >= 0 && (uint64_t)(w->size - w->count) < n)
		return errmsg_set(err, -EFBIG, "blob %.19s: more than the %lld bytes announced",
				  w->digest, (long long)w->size);
	digest_update(&w->md, buf, n);
	const char *p = buf;
	size_t done = 0;
	while (done < n) {
		ssize_t r = write(w->fd, p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;
			return errmsg_set(err, rc, "blob %.19s: writing %s: %s", w->digest, w->tmp,
					  strerror(-rc));
		}
		done += (size_t)r;
	}
	w->count += (int64_t)n;
	return 0;
}

/* What came through w is the blob it was begun for: its size and digest. */
static int writer_verify(struct lstore_writer *w, struct errmsg *err)
{
	char got[DIGEST_STR_LEN];
	int rc = 0;
	if (w->size >= 0 && w->count != w->size)
		return errmsg_set(err, -EIO, "blob %.19s: %lld bytes, expected %lld", w->digest,
				  (long long)w->count, (long long)w->size);
	if ((rc = digest_final(&w->md, got)) == 0 && strcmp(got, w->digest) != 0)
		rc = errmsg_set(err, -EBADMSG, "blob %.19s: digest mismatch: content is %.19s",
				w->digest, got);
	return rc;
}

int lstore_blob_commit(struct lstore_writer *w, struct errmsg *err)
{
	char *final = lstore_blob_path(w->s, w->digest);
	int rc = final ? 0 : -ENOMEM;
	if (!rc)
		rc = writer_verify(w, err);
	if (!rc && lstore_has_blob(w->s, w->digest)) {
		free(final); /* verified and already there: keep the old file */
		writer_free(w, true);
		return 0;
	}
	if (!rc && fsync(w->fd) < 0)
		rc = errmsg_set(err, -errno, "blob %.19s: fsync: %s", w->digest, strerror(errno));
	if (!rc && rename(w->tmp, final) < 0)
		rc = errmsg_set(err, -errno, "blob %.19s: publishing %s: %s", w->digest, final,
				strerror(errno));
	if (!rc) {
		char *dir = path_in(w->s, "blobs/sha256");
		rc = dir ? fileutil_fsync_path(dir, O_RDONLY | O_DIRECTORY) : -ENOMEM;
		free(dir);
		if (rc)
			errmsg_set(err, rc, "image store %s: fsync: %s", w->s->dir, strerror(-rc));
		free(w->tmp);
		w->tmp = NULL; /* published: nothing to unlink */
	}
	free(final);
	writer_free(w, true);
	return rc;
}

void lstore_blob_abort(struct lstore_writer *w)
{
	if (w)
		writer_free(w, true);
}

int lstore_blob_fd(const struct lstore_writer *w)
{
	return w->fd;
}

/* w's digest and count from what its temp file holds */
static int read_back(struct lstore_writer *w, struct errmsg *err)
{
	digest_free(&w->md);
	int rc = digest_init(&w->md);
	if (rc)
		return rc;
	w->count = 0;
	char buf[65536];
	for (;;) {
		ssize_t n = pread(w->fd, buf, sizeof(buf), (off_t)w->count);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errmsg_set(err, -errno, "blob %.19s: reading %s: %s", w->digest,
					  w->tmp, strerror(errno));
		if (n == 0)
			return 0;
		if (w->size >= 0 && (uint64_t)(w->size - w->count) < (uint64_t)n)
			return errmsg_set(err, -EFBIG,
					  "blob %.19s: more than the %lld bytes announced",
					  w->digest, (long long)w->size);
		digest_update(&w->md, buf, (size_t)n);
		w->count += n;
	}
}

int lstore_blob_adopt(struct lstore_writer *w, struct errmsg *err)
{
	int rc = read_back(w, err);
	if (rc) {
		lstore_blob_abort(w);
		return rc;
	}
	return lstore_blob_commit(w, err);
}

int lstore_writer_on_fd(const char *digest, int64_t size, int fd, struct lstore_writer **out,
			struct errmsg *err)
{
	*out = NULL;
	int rc = digest_parse(digest, NULL, "blob", err);
	if (rc)
		return rc;
	struct lstore_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->size = size;
	memcpy(w->digest, digest, DIGEST_STR_LEN);
	w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	rc = w->fd < 0 ? -errno : digest_init(&w->md);
	if (rc) {
		writer_free(w, false);
		return rc;
	}
	*out = w;
	return 0;
}

int lstore_writer_end(struct lstore_writer *w, struct errmsg *err)
{
	int rc = writer_verify(w, err);
	writer_free(w, false);
	return rc;
}

/* ---- index.json ---- */

static int index_read(const struct lstore *s, json_object **out, json_object **manifests,
		      struct errmsg *err)
{
	*out = NULL;
	char *path = path_in(s, "index.json");
	char *buf = NULL;
	size_t len = 0;
	if (!path)
		return -ENOMEM;
	int rc = readfile(path, INDEX_MAX, &buf, &len);
	if (rc) {
		errmsg_set(err, rc, "image store %s: %s", path, strerror(-rc));
		goto out;
	}
	json_object *o = json_tokener_parse(buf);
	json_object *arr = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "manifests", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(o);
		rc = errmsg_set(err, -EINVAL, "image store %s: not an OCI index", path);
		goto out;
	}
	*out = o;
	*manifests = arr;
out:
	free(buf);
	free(path);
	return rc;
}

static int index_write(const struct lstore *s, json_object *o, struct errmsg *err)
{
	char *path = path_in(s, "index.json");
	char *tmp = NULL;
	if (!path || asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		free(path);
		return -ENOMEM;
	}
	size_t len;
	const char *text = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	int rc = text ? fileutil_write_sync(tmp, text, len) : -ENOMEM;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (!rc)
		rc = fileutil_fsync_path(s->dir, O_RDONLY | O_DIRECTORY);
	if (rc) {
		unlink(tmp);
		errmsg_set(err, rc, "image store %s: writing index.json: %s", s->dir,
			   strerror(-rc));
	}
	free(tmp);
	free(path);
	return rc;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static const char *entry_ref(json_object *e)
{
	json_object *ann = NULL;
	if (!json_object_object_get_ex(e, "annotations", &ann))
		return NULL;
	return get_str(ann, OCI_REF_NAME_ANNOTATION);
}

/* Remove every entry named ref; returns how many. */
static size_t index_remove(json_object *arr, const char *ref)
{
	size_t removed = 0;
	for (size_t i = json_object_array_length(arr); i-- > 0;) {
		const char *r = entry_ref(json_object_array_get_idx(arr, i));
		if (r && strcmp(r, ref) == 0) {
			json_object_array_del_idx(arr, i, 1);
			removed++;
		}
	}
	return removed;
}

static int check_ref(const char *ref, struct errmsg *err)
{
	size_t n = ref ? strlen(ref) : 0;
	if (n == 0 || n > 4096)
		return errmsg_set(err, -EINVAL, "image reference is empty or too long");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)ref[i] <= ' ' || ref[i] == 0x7f)
			return errmsg_set(err, -EINVAL,
					  "image reference '%.200s': contains a space or a "
					  "control character",
					  ref);
	return 0;
}

static json_object *new_entry(const char *ref, const char *digest, const char *media_type,
			      int64_t size)
{
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object *e = json_object_new_object();
	json_object *ann = json_object_new_object();
	json_object_object_add(e, "mediaType", json_object_new_string(media_type));
	json_object_object_add(e, "digest", json_object_new_string(digest));
	json_object_object_add(e, "size", json_object_new_int64(size));
	json_object_object_add(ann, OCI_REF_NAME_ANNOTATION, json_object_new_string(ref));
	json_object_object_add(ann, "org.opencontainers.image.created",
			       json_object_new_string(created));
	json_object_object_add(e, "annotations", ann);
	return e;
}

int lstore_tag(struct lstore *s, const char *ref, const char *digest, const char *media_type,
	       int64_t size, struct errmsg *err)
{
	int rc = check_ref(ref, err);
	if (rc)
		return rc;
	if ((rc = digest_parse(digest, NULL, ref, err)))
		return rc;
	if (!media_type || size < 0)
		return errmsg_set(err, -EINVAL, "%s: no media type or size to tag", ref);
	int lock;
	if ((rc = lock_file(s, "index.lock", LOCK_EX, &lock, err)))
		return rc;
	json_object *o, *arr;
	rc = index_read(s, &o, &arr, err);
	if (!rc) {
		index_remove(arr, ref);
		json_object_array_add(arr, new_entry(ref, digest, media_type, size));
		rc = index_write(s, o, err);
		json_object_put(o);
	}
	close(lock);
	return rc;
}

int lstore_untag(struct lstore *s, const char *ref, struct errmsg *err)
{
	int lock;
	int rc = lock_file(s, "index.lock", LOCK_EX, &lock, err);
	if (rc)
		return rc;
	json_object *o, *arr;
	rc = index_read(s, &o, &arr, err);
	if (!rc) {
		if (index_remove(arr, ref) == 0)
			rc = errmsg_set(err, -ENOENT, "no image '%.300s' in the store", ref);
		else
			rc = index_write(s, o, err);
		json_object_put(o);
	}
	close(lock);
	return rc;
}

void lstore_entry_free(struct lstore_entry *e)
{
	free(e->ref);
	free(e->media_type);
	free(e->created);
	memset(e, 0, sizeof(*e));
}

void lstore_entries_free(struct lstore_entry *es, size_t n)
{
	for (size_t i = 0; i < n && es; i++)
		lstore_entry_free(&es[i]);
	free(es);
}

/* Fill e from index entry j; -EINVAL if it is malformed. */
static int entry_fill(const struct lstore *s, json_object *j, struct lstore_entry *e,
		      struct errmsg *err)
{
	memset(e, 0, sizeof(*e));
	const char *digest = get_str(j, "digest");
	const char *mt = get_str(j, "mediaType");
	json_object *size = NULL, *ann = NULL;
	json_object_object_get_ex(j, "size", &size);
	json_object_object_get_ex(j, "annotations", &ann);
	const char *ref = entry_ref(j);
	if (!digest || digest_parse(digest, NULL, "", NULL) ||
	    !json_object_is_type(size, json_type_int) || json_object_get_int64(size) < 0)
		return errmsg_set(err, -EINVAL,
				  "image store %s: index.json entry '%.200s' is "
				  "malformed",
				  s->dir, ref ? ref : "(unnamed)");
	memcpy(e->digest, digest, DIGEST_STR_LEN);
	e->size = json_object_get_int64(size);
	const char *created = get_str(ann, "org.opencontainers.image.created");
	if ((ref && !(e->ref = strdup(ref))) || (mt && !(e->media_type = strdup(mt))) ||
	    (created && !(e->created = strdup(created)))) {
		lstore_entry_free(e);
		return -ENOMEM;
	}
	return 0;
}

int lstore_resolve(struct lstore *s, const char *ref, struct lstore_entry *e, struct errmsg *err)
{
	memset(e, 0, sizeof(*e));
	json_object *o, *arr;
	int rc = index_read(s, &o, &arr, err);
	if (rc)
		return rc;
	rc = -ENOENT;
	/* The last entry wins, should a crashed older writer have left two. */
	for (size_t i = json_object_array_length(arr); i-- > 0;) {
		json_object *j = json_object_array_get_idx(arr, i);
		const char *r = entry_ref(j);
		if (r && strcmp(r, ref) == 0) {
			rc = entry_fill(s, j, e, err);
			break;
		}
	}
	if (rc == -ENOENT)
		errmsg_set(err, rc, "no image '%.300s' in the store", ref);
	json_object_put(o);
	return rc;
}

int lstore_list(struct lstore *s, struct lstore_entry **es, size_t *n, struct errmsg *err)
{
	*es = NULL;
	*n = 0;
	json_object *o, *arr;
	int rc = index_read(s, &o, &arr, err);
	if (rc)
		return rc;
	size_t len = json_object_array_length(arr);
	struct lstore_entry *v = len ? calloc(len, sizeof(*v)) : NULL;
	if (len && !v)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < len; i++) {
		rc = entry_fill(s, json_object_array_get_idx(arr, i), &v[i], err);
		if (rc)
			lstore_entries_free(v, i);
	}
	if (!rc) {
		*es = v;
		*n = len;
	}
	json_object_put(o);
	return rc;
}

/* ---- garbage collection ---- */

struct hexset {
	char (*v)[DIGEST_HEX_LEN + 1];
	size_t n, cap;
};

static int hexset_add(struct hexset *h, const char *digest)
{
	char hex[DIGEST_HEX_LEN + 1];
	if (digest_parse(digest, hex, "", NULL))
		return 0; /* not ours to keep: nothing on disk can have that name */
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		void *nv = realloc(h->v, cap * sizeof(*h->v));
		if (!nv)
			return -ENOMEM;
		h->v = nv;
		h->cap = cap;
	}
	memcpy(h->v[h->n++], hex, sizeof(hex));
	return 0;
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool hexset_has(const struct hexset *h, const char *hex)
{
	return h->n && bsearch(hex, h->v, h->n, sizeof(*h->v), hex_cmp);
}

static int mark_digest_of(json_object *desc, struct hexset *h)
{
	const char *d = get_str(desc, "digest");
	return d ? hexset_add(h, d) : 0;
}

/* Mark the manifest or index at digest and what it names. Configs and
 * layers are leaves and never read; a blob the store lacks names nothing. */
static int mark(const struct lstore *s, const char *digest, struct hexset *h, int depth)
{
	int rc = hexset_add(h, digest);
	char *path = lstore_blob_path(s, digest);
	char *buf = NULL;
	size_t len;
	if (rc || !path || depth > MAX_WALK_DEPTH) {
		free(path);
		return rc ? rc : (path ? 0 : -ENOMEM);
	}
	rc = readfile(path, OCI_JSON_MAX, &buf, &len);
	free(path);
	if (rc)
		return rc == -ENOMEM ? rc : 0; /* absent or not JSON-sized: nothing below */
	json_object *o = json_tokener_parse(buf);
	free(buf);
	if (!o)
		return 0;
	json_object *v;
	if (json_object_object_get_ex(o, "config", &v))
		rc = mark_digest_of(v, h);
	if (!rc && json_object_object_get_ex(o, "layers", &v) &&
	    json_object_is_type(v, json_type_array))
		for (size_t i = 0; !rc && i < json_object_array_length(v); i++)
			rc = mark_digest_of(json_object_array_get_idx(v, i), h);
	if (!rc && json_object_object_get_ex(o, "manifests", &v) &&
	    json_object_is_type(v, json_type_array))
		for (size_t i = 0; !rc && i < json_object_array_length(v); i++) {
			const char *d = get_str(json_object_array_get_idx(v, i), "digest");
			if (d)
				rc = mark(s, d, h, depth + 1);
		}
	json_object_put(o);
	return rc;
}

static bool is_hex_name(const char *n)
{
	size_t i = 0;
	for (; n[i]; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return false;
	return i == DIGEST_HEX_LEN;
}

static bool is_old_temp(int dfd, const char *name, const char *prefix, time_t now)
{
	struct stat st;
	return strncmp(name, prefix, strlen(prefix)) == 0 &&
	       fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       now - st.st_mtime > TEMP_GRACE_SEC;
}

/* Remove unmarked blobs and old temp files under blobs/sha256. */
static int sweep(const struct lstore *s, const struct hexset *h, uint64_t *freed,
		 struct errmsg *err)
{
	char *dir = path_in(s, "blobs/sha256");
	if (!dir)
		return -ENOMEM;
	DIR *d = opendir(dir);
	int rc = 0;
	if (!d) {
		rc = -errno;
		errmsg_set(err, rc, "image store %s: %s", dir, strerror(-rc));
		free(dir);
		return rc;
	}
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		bool blob = is_hex_name(de->d_name);
		if (!(blob && !hexset_has(h, de->d_name)) &&
		    !is_old_temp(dirfd(d), de->d_name, ".tmp.", now))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			rc = -errno;
			errmsg_set(err, rc, "image store %s: removing %s: %s", dir, de->d_name,
				   strerror(-rc));
			break;
		}
		if (blob)
			*freed += (uint64_t)st.st_size;
	}
	closedir(d);
	free(dir);
	return rc;
}

/* index.json.tmp.<pid> left by a crashed tagger. */
static void sweep_index_temps(const struct lstore *s)
{
	DIR *d = opendir(s->dir);
	if (!d)
		return;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d)))
		if (is_old_temp(dirfd(d), de->d_name, "index.json.tmp.", now))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

int lstore_gc(struct lstore *s, uint64_t *freed, struct errmsg *err)
{
	uint64_t dummy = 0;
	if (!freed)
		freed = &dummy;
	*freed = 0;
	int gc_lock, idx_lock;
	int rc = lock_file(s, "gc.lock", LOCK_EX, &gc_lock, err);
	if (rc)
		return rc;
	if ((rc = lock_file(s, "index.lock", LOCK_EX, &idx_lock, err))) {
		close(gc_lock);
		return rc;
	}
	struct hexset h = {0};
	json_object *o, *arr;
	rc = index_read(s, &o, &arr, err);
	if (!rc) {
		for (size_t i = 0; !rc && i < json_object_array_length(arr); i++) {
			const char *d = get_str(json_object_array_get_idx(arr, i), "digest");
			if (d)
				rc = mark(s, d, &h, 0);
		}
		json_object_put(o);
		if (rc)
			errmsg_set(err, rc, "image store %s: walking the images: %s", s->dir,
				   strerror(-rc));
	}
	if (!rc) {
		if (h.n)
			qsort(h.v, h.n, sizeof(*h.v), hex_cmp);
		rc = sweep(s, &h, freed, err);
		sweep_index_temps(s);
	}
	free(h.v);
	close(idx_lock);
	close(gc_lock);
	return rc;
}

int lstore_blob_put(struct lstore *s, const char *digest, const void *buf, size_t len,
		    struct errmsg *err)
{
	struct lstore_writer *w;
	int rc = lstore_blob_begin(s, digest, (int64_t)len, &w, err);
	if (rc)
		return rc;
	rc = lstore_blob_write(w, buf, len, err);
	if (rc) {
		lstore_blob_abort(w);
		return rc;
	}
	return lstore_blob_commit(w, err);
}
