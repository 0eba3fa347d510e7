/* Fuzz tar layer application into the ext4 writer: images/layer (libarchive
 * decompresses and reads the tar) -> images/fstree (OCI layer semantics) ->
 * images/ext4w (inodes and data into a sparse ext4 image), as converting
 * an image does. The first input byte picks how the (last) layer is
 * declared (tar, gzip, zstd) and, with bit 0x80, that a u16 split point
 * follows: the bytes before it are a plain-tar lower layer, so whiteouts,
 * hard links and replacements have something to act on.
 * When the writer finished, the image must pass `e2fsck -fn` (set
 * HULL_FUZZ_FSCK=0 to skip that for speed). */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "fuzz/fuzz.h"
#include "images/layer.h"

extern char **environ;

static char *dir, *img;
static bool fsck = true;

static void cleanup(void)
{
	fz_rmtree(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fz_tmpdir("layer");
	atexit(cleanup);
	char *blobs;
	FZ_CHECK(asprintf(&blobs, "%s/blobs", dir) > 0 && mkdir(blobs, 0700) == 0);
	free(blobs);
	FZ_CHECK(asprintf(&blobs, "%s/blobs/sha256", dir) > 0 && mkdir(blobs, 0700) == 0);
	free(blobs);
	FZ_CHECK(asprintf(&img, "%s/rootfs.ext4", dir) > 0);
	const char *f = getenv("HULL_FUZZ_FSCK");
	fsck = !f || strcmp(f, "0") != 0;
	return 0;
}

/* Store blob as the layout's blob; fill d (digest, size). */
static void put_blob(const uint8_t *data, size_t size, struct oci_descriptor *d)
{
	memset(d, 0, sizeof(*d));
	FZ_CHECK(digest_buf(data, size, d->digest) == 0);
	d->size = size;
	char *path;
	FZ_CHECK(asprintf(&path, "%s/blobs/sha256/%s", dir, d->digest + 7) > 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FZ_CHECK(fd >= 0);
	FZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	close(fd);
	free(path);
}

/* One layer: its blob stored, applied, removed again. For a plain tar the
 * uncompressed stream is the blob, so its diff_id is the blob's digest and a
 * good tar gets all the way through; a really compressed blob fails the
 * diff_id check at its end, after every entry went through the writer. */
static int apply(struct oci_source *src, const uint8_t *blob, size_t len, enum oci_kind kind,
		 unsigned index, const struct image_limits *lim, struct fstree *t, struct ext4w *w,
		 struct layer_stats *stats, struct errmsg *err)
{
	struct oci_descriptor d;
	put_blob(blob, len, &d);
	int rc = layer_apply(src, &d, kind, d.digest, index, lim, t, w, stats, err);
	char *path;
	FZ_CHECK(asprintf(&path, "%s/blobs/sha256/%s", dir, d.digest + 7) > 0);
	unlink(path);
	free(path);
	return rc;
}

static void check_fs(void)
{
	char *argv[] = {"e2fsck", "-fn", img, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, "e2fsck", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	FZ_CHECK(rc == 0);
	int st;
	pid_t w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR) /* libFuzzer's SIGALRM */
		;
	FZ_CHECK(w == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "e2fsck found a damaged image (status 0x%x)\n", st);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const enum oci_kind kinds[] = {OCI_KIND_LAYER_TAR, OCI_KIND_LAYER_GZIP,
					      OCI_KIND_LAYER_ZSTD};
	uint8_t kind_byte = data[0];
	enum oci_kind kind = kinds[(kind_byte & 0x7f) % 3];
	data++;
	size--;

	unlink(img);
	struct errmsg err = {{0}};
	struct ext4w_params p = {.size = 64u << 20, .inodes = 2048, .uuid = NULL};
	struct ext4w *w;
	FZ_CHECK(ext4w_create(img, &p, &w, &err) == 0);
	struct fstree *t;
	FZ_CHECK(fstree_new(ext4w_release, w, &t) == 0);
	struct oci_source *src;
	FZ_CHECK(oci_source_open(dir, &src, &err) == 0);

	size_t split = 0;
	if (kind_byte & 0x80 && size >= 2) {
		split = (size_t)(data[0] | data[1] << 8);
		data += 2;
		size -= 2;
		if (split > size)
			split = size;
	}
	struct image_limits lim = image_limits_default();
	lim.max_bytes = 256u << 20;
	lim.max_entries = 20000;
	struct layer_stats stats;
	memset(&stats, 0, sizeof(stats));
	int rc = 0;
	if (split)
		rc = apply(src, data, split, OCI_KIND_LAYER_TAR, 0, &lim, t, w, &stats, &err);
	if (rc == 0)
		rc = apply(src, data + split, size - split, kind, split ? 1 : 0, &lim, t, w, &stats,
			   &err);
	/* A blob declared compressed that is not (a plain tar) is read as it
	 * is, as containerd does; its diff_id is then the blob's and it gets
	 * here too. */
	if (rc == 0) {
		rc = ext4w_finish(w, t, &err);
		if (rc == 0 && fsck)
			check_fs();
	}
	if (rc)
		FZ_CHECK(err.text[0]);
	fstree_free(t);
	ext4w_free(w);
	oci_source_close(src);
	return 0;
}
