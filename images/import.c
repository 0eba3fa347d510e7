#include "images/import.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "images/digest.h"
#include "images/image.h"
#include "images/import_proc.h"
#include "images/lstore.h"
#include "images/oci_json.h"
#include "images/oci_source.h"
#include "images/ref.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"

/* A reference this import set, and what it pointed at before. */
struct prev_tag {
	char *ref;
	bool existed;
	struct lstore_entry old;
};

struct imp {
	const char *path;
	const char *name;	/* --name, or NULL */
	struct oci_source *src; /* a directory's, walked here */
	int afd;		/* an archive's fd, read by hull-import; else -1 */
	struct lstore st;
	struct import_result *res;
	struct prev_tag *prev;
	size_t n_prev;
};

const char *import_format_name(enum import_format f)
{
	switch (f) {
	case IMPORT_OCI_LAYOUT:
		return "OCI layout";
	case IMPORT_OCI_ARCHIVE:
		return "oci-archive";
	default:
		return "docker-archive";
	}
}

void import_result_free(struct import_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->images[i].ref);
	free(r->images);
	memset(r, 0, sizeof(*r));
}

/* ---- the archive reader ---- */

#define COPY_BATCH 256 /* blobs per IMPORT_COPY run: fds and request size */

/* hull-import's run of q over fds; a child that died is blamed on the blob
 * it was copying. */
static int run_reader(const struct impreq *q, const int *fds, size_t nfds, unsigned n_items,
		      struct errmsg *err)
{
	int item;
	struct errmsg e = {{0}};
	int rc = convproc_spawn(&import_helper, NULL, q, impreq_size(q->n_blobs), fds, nfds,
				n_items, NULL, 0, &item, &e);
	if (rc && item >= 0 && (unsigned)item < q->n_blobs)
		errmsg_set(err, rc, "%s: %s", q->blobs[item].label, e.text);
	else if (rc)
		errmsg_set(err, rc, "%s", e.text);
	return rc;
}

/* The decoded answer of an IMPORT_LIST run (in hull-import for an
 * archive, here for a directory) and the documents' fd. */
static int read_answer(int fd, struct impres **out, struct errmsg *err)
{
	struct impres h;
	int rc = fdio_pread_all(fd, &h, sizeof(h), 0);
	if (rc)
		return errmsg_set(err, rc, IMPORT_NAME ": reading the answer: %s", strerror(-rc));
	if (h.n_images > IMPORT_IMAGES_MAX || h.n_blobs > IMPORT_BLOBS_MAX)
		return errmsg_set(err, -EBADMSG, IMPORT_NAME ": answer: counts: out of range");
	size_t len = impres_size(h.n_images, h.n_blobs);
	char *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	if ((rc = fdio_pread_all(fd, buf, len, 0)))
		errmsg_set(err, rc, IMPORT_NAME ": reading the answer: %s", strerror(-rc));
	if (!rc)
		rc = impres_decode(buf, len, out, err);
	free(buf);
	return rc;
}

static int list(struct imp *im, struct impres **res, int *docs_fd, struct errmsg *err)
{
	int fds[IMPORT_LIST_FDS] = {im->afd, -1, -1};
	int rc = 0;
	if ((fds[IMPORT_FD_ANSWER] =
		 convproc_sized_memfd("hull-import-answer", IMPRES_MAX_SIZE, err)) < 0)
		rc = fds[IMPORT_FD_ANSWER];
	if (!rc && (fds[IMPORT_FD_DOCS] =
			convproc_sized_memfd("hull-import-docs", IMPORT_DOCS_MAX, err)) < 0)
		rc = fds[IMPORT_FD_DOCS];
	if (!rc && im->afd >= 0) {
		struct impreq *q = impreq_new(0);
		if (!q) {
			rc = -ENOMEM;
		} else {
			q->mode = IMPORT_LIST;
			snprintf(q->path, sizeof(q->path), "%s", im->path);
			snprintf(q->name, sizeof(q->name), "%s", im->name ? im->name : "");
			rc = run_reader(q, fds, IMPORT_LIST_FDS, 0, err);
			free(q);
		}
	} else if (!rc) {
		/* a directory: walked here (images/import_proc.h) */
		rc = import_list(im->src, im->path, im->name, fds[IMPORT_FD_ANSWER],
				 fds[IMPORT_FD_DOCS], err);
	}
	if (!rc)
		rc = read_answer(fds[IMPORT_FD_ANSWER], res, err);
	if (fds[IMPORT_FD_ANSWER] >= 0)
		close(fds[IMPORT_FD_ANSWER]);
	if (rc && fds[IMPORT_FD_DOCS] >= 0)
		close(fds[IMPORT_FD_DOCS]);
	if (!rc)
		*docs_fd = fds[IMPORT_FD_DOCS];
	return rc;
}

/* An inline document: its bytes hashed and stored here. */
static int store_inline(struct imp *im, const struct imp_blob *b, int docs_fd, struct errmsg *err)
{
	char *buf = malloc(b->size ? b->size : 1);
	if (!buf)
		return -ENOMEM;
	int rc = fdio_pread_all(docs_fd, buf, b->size, b->off);
	if (rc)
		errmsg_set(err, rc, IMPORT_NAME ": reading the documents: %s", strerror(-rc));
	else
		rc = lstore_blob_put(&im->st, b->digest, buf, b->size, err);
	free(buf);
	return rc;
}

/* Blobs b[0, n) copied (by hull-import from an archive, here from a
 * directory) into temp files begun here, committed here once verified. */
static int copy_batch(struct imp *im, const struct imp_blob *b, uint32_t n, struct errmsg *err)
{
	struct impreq *q = impreq_new(n);
	struct lstore_writer **w = calloc(n, sizeof(*w));
	int *fds = calloc(n + 1, sizeof(*fds));
	int rc = q && w && fds ? 0 : -ENOMEM;
	if (!rc) {
		q->mode = IMPORT_COPY;
		snprintf(q->path, sizeof(q->path), "%s", im->path);
		memcpy(q->blobs, b, n * sizeof(*b));
		fds[0] = im->afd;
	}
	for (uint32_t k = 0; !rc && k < n; k++) {
		struct errmsg e = {{0}};
		rc = lstore_blob_begin(&im->st, b[k].digest, (int64_t)b[k].size, &w[k], &e);
		if (rc)
			errmsg_set(err, rc, "%s: %s", b[k].label, e.text);
		else
			fds[k + 1] = lstore_blob_fd(w[k]);
	}
	if (!rc)
		rc = im->afd >= 0 ? run_reader(q, fds, n + 1, n, err)
				  : import_copy(im->src, q, fds + 1, NULL, err);
	for (uint32_t k = 0; !rc && k < n; k++) {
		struct errmsg e = {{0}};
		rc = lstore_blob_adopt(w[k], &e);
		w[k] = NULL;
		if (rc)
			errmsg_set(err, rc, "%s: %s", b[k].label, e.text);
	}
	for (uint32_t k = 0; w && k < n; k++)
		if (w[k])
			lstore_blob_abort(w[k]);
	free(q);
	free(w);
	free(fds);
	return rc;
}

/* Store every blob of the answer the store lacks. */
static int store_blobs(struct imp *im, struct impres *r, int docs_fd, struct errmsg *err)
{
	struct imp_blob *all = impres_blobs(r);
	struct imp_blob *todo = calloc(r->n_blobs ? r->n_blobs : 1, sizeof(*todo));
	if (!todo)
		return -ENOMEM;
	uint32_t n = 0;
	int rc = 0;
	for (uint32_t i = 0; !rc && i < r->n_blobs; i++) {
		bool have = lstore_has_blob(&im->st, all[i].digest);
		for (uint32_t k = 0; k < n && !have; k++)
			have = !strcmp(todo[k].digest, all[i].digest);
		if (have)
			continue;
		if (all[i].src == IMPORT_SRC_INLINE)
			rc = store_inline(im, &all[i], docs_fd, err);
		else
			todo[n++] = all[i];
	}
	for (uint32_t k = 0; !rc && k < n; k += COPY_BATCH)
		rc = copy_batch(im, todo + k, n - k < COPY_BATCH ? n - k : COPY_BATCH, err);
	free(todo);
	return rc;
}

static int add_result(struct imp *im, char *ref, const char *digest)
{
	struct import_result *r = im->res;
	struct import_image *v = realloc(r->images, (r->n + 1) * sizeof(*v));
	if (!v) {
		free(ref);
		return -ENOMEM;
	}
	r->images = v;
	memset(&v[r->n], 0, sizeof(v[r->n]));
	v[r->n].ref = ref;
	snprintf(v[r->n].digest, sizeof(v[r->n].digest), "%s", digest);
	r->n++;
	return 0;
}

/* Tag ref (owned: freed here or kept in the result), remembering its old
 * target for a rollback. */
static int tag(struct imp *im, char *ref, const char *digest, const char *media_type, uint64_t size,
	       struct errmsg *err)
{
	struct prev_tag *p = realloc(im->prev, (im->n_prev + 1) * sizeof(*p));
	if (!p) {
		free(ref);
		return -ENOMEM;
	}
	im->prev = p;
	p = &im->prev[im->n_prev];
	memset(p, 0, sizeof(*p));
	p->ref = strdup(ref);
	if (!p->ref) {
		free(ref);
		return -ENOMEM;
	}
	im->n_prev++;
	p->existed = lstore_resolve(&im->st, ref, &p->old, NULL) == 0;
	int rc = lstore_tag(&im->st, ref, digest, media_type ? media_type : MT_MANIFEST,
			    (int64_t)size, err);
	if (rc) {
		free(ref);
		return rc;
	}
	return add_result(im, ref, digest);
}

/* Tag the answer's images: each reference must be one ref_parse() gives
 * back unchanged, its manifest stored. */
static int tag_images(struct imp *im, struct impres *r, struct errmsg *err)
{
	int rc = 0;
	for (uint32_t i = 0; !rc && i < r->n_images; i++) {
		const struct imp_image *m = &impres_images(r)[i];
		struct image_ref ref;
		struct errmsg e = {{0}};
		if (ref_parse(m->ref, &ref, &e))
			return errmsg_set(err, -EBADMSG, IMPORT_NAME ": answer: images[%u]: %s", i,
					  e.text);
		bool same = !strcmp(ref.name, m->ref);
		char *name = ref.name;
		ref.name = NULL;
		ref_free(&ref);
		if (!same || !lstore_has_blob(&im->st, m->digest)) {
			free(name);
			return errmsg_set(err, -EBADMSG, IMPORT_NAME ": answer: images[%u]: %s", i,
					  same ? "its manifest was not stored"
					       : "not a normalised reference");
		}
		rc = tag(im, name, m->digest, m->mt[0] ? m->mt : NULL, m->size, err);
	}
	return rc;
}

static int copy_in(struct imp *im, struct errmsg *err)
{
	struct impres *r = NULL;
	int docs_fd = -1;
	int rc = list(im, &r, &docs_fd, err);
	if (!rc) {
		im->res->format = (enum import_format)r->format;
		if (im->afd >= 0 && r->format == IMPORT_OCI_LAYOUT)
			rc = errmsg_set(err, -EBADMSG,
					IMPORT_NAME ": answer: format: a layout for an archive");
		if (!rc)
			rc = store_blobs(im, r, docs_fd, err);
	}
	if (!rc)
		rc = tag_images(im, r, err);
	if (docs_fd >= 0)
		close(docs_fd);
	free(r);
	return rc;
}

/* ---- the whole import ---- */

static void rollback(struct imp *im)
{
	for (size_t i = im->n_prev; i-- > 0;) {
		struct prev_tag *p = &im->prev[i];
		if (p->existed)
			lstore_tag(&im->st, p->ref, p->old.digest, p->old.media_type, p->old.size,
				   NULL);
		else
			lstore_untag(&im->st, p->ref, NULL);
	}
}

static int import(struct imp *im, const char *root, const struct image_limits *lim,
		  struct errmsg *err)
{
	int rc = oci_source_open(im->path, &im->src, err);
	if (rc)
		return rc;
	if (oci_source_is_archive(im->src)) {
		/* hull-import reads it through this fd: a FIFO put in the
		 * file's place since is refused without blocking */
		struct stat st;
		im->afd = open(im->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (im->afd < 0 || fstat(im->afd, &st) < 0)
			return errmsg_set(err, -errno, "%s", strerror(errno));
		if (!S_ISREG(st.st_mode))
			return errmsg_set(err, -EINVAL, "not a regular file (oci-archive)");
	}
	rc = lstore_open(root, &im->st, err);
	if (rc)
		return rc;
	/* gc must not collect blobs stored before their tag is */
	rc = lstore_hold(&im->st, err);
	if (!rc)
		rc = copy_in(im, err);
	if (rc) {
		rollback(im);
		return rc;
	}
	lstore_close(&im->st); /* drops the hold: everything is tagged */

	char *oci = NULL;
	if (asprintf(&oci, "%s/oci", root) < 0)
		return -ENOMEM;
	for (size_t i = 0; !rc && i < im->res->n; i++) {
		struct image_rootfs r;
		rc = image_prepare_limits(oci, im->res->images[i].ref, root, lim, &r, err);
		if (!rc)
			im->res->images[i].cache_hit = r.cache_hit;
		image_rootfs_free(&r);
	}
	free(oci);
	if (rc && lstore_open(root, &im->st, NULL) == 0)
		rollback(im);
	return rc;
}

int image_import(const char *root, const char *path, const char *name,
		 const struct image_limits *lim, struct import_result *out, struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	struct imp im = {.path = path, .name = name, .res = out, .afd = -1};
	im.st.hold_fd = -1;
	struct errmsg e = {{0}};
	int rc = import(&im, root, lim, &e);
	lstore_close(&im.st);
	oci_source_close(im.src);
	if (im.afd >= 0)
		close(im.afd);
	for (size_t i = 0; i < im.n_prev; i++) {
		free(im.prev[i].ref);
		if (im.prev[i].existed)
			lstore_entry_free(&im.prev[i].old);
	}
	free(im.prev);
	if (rc) {
		import_result_free(out);
		errmsg_set(err, rc, "importing %s: %s", path, e.text[0] ? e.text : strerror(-rc));
	}
	return rc;
}
