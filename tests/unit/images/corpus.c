#include "corpus.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/digest.h"
#include "ocitest.h"

#define MIB (1u << 20)

/* One image from single-layer tars: t[i] compressed with c[i]. */
static void image_of(const char *layout, struct tarb **t, size_t n, const enum ocib_comp *c,
		     enum ocib_mangle mangle, const char *media_type, const char *arch)
{
	struct ocib_layer l[8];
	uint8_t *buf[8];
	for (size_t i = 0; i < n; i++) {
		size_t len;
		tarb_finish(t[i], &buf[i], &len);
		l[i] = (struct ocib_layer){buf[i], len, c[i], i == n - 1 ? mangle : OCIB_INTACT,
					   i == n - 1 ? media_type : NULL};
	}
	struct ocib_opts o = {
	    .ref = "hostile", .config_obj = "{\"Cmd\":[\"/bin/sh\"]}", .arch = arch};
	ocib_write(layout, l, n, &o);
	for (size_t i = 0; i < n; i++)
		free(buf[i]);
}

static void one_layer(const char *layout, struct tarb *t, enum ocib_comp c)
{
	image_of(layout, &t, 1, &c, OCIB_INTACT, NULL, NULL);
}

static void dotdot(const char *layout)
{
	struct tarb *t = tarb_new();
	tarb_dir(t, "a", 0755, 0, 0);
	tarb_file(t, "a/../../escape", 0644, 0, 0, "x", 1);
	one_layer(layout, t, OCIB_GZIP);
}

static void hardlink_outside(const char *layout)
{
	struct tarb *t = tarb_new();
	tarb_hardlink(t, "passwd", "../../../../etc/passwd");
	one_layer(layout, t, OCIB_TAR);
}

static void hardlink_missing(const char *layout)
{
	struct tarb *t = tarb_new();
	tarb_hardlink(t, "shadow", "etc/shadow");
	one_layer(layout, t, OCIB_TAR);
}

static void symlink_then_file(const char *layout)
{
	struct tarb *t = tarb_new();
	tarb_symlink(t, "etc", "/etc");
	tarb_file(t, "etc/cron.d/evil", 0644, 0, 0, "* * * * * root sh", 17);
	one_layer(layout, t, OCIB_GZIP);
}

/* The symlink in layer 1, the write through it in layer 2. */
static void symlink_across_layers(const char *layout)
{
	struct tarb *t[2] = {tarb_new(), tarb_new()};
	tarb_symlink(t[0], "lib", "../../../../../tmp");
	tarb_file(t[1], "lib/planted", 0755, 0, 0, "#!/bin/sh\n", 10);
	enum ocib_comp c[2] = {OCIB_TAR, OCIB_ZSTD};
	image_of(layout, t, 2, c, OCIB_INTACT, NULL, NULL);
}

static void hardlink_through_symlink(const char *layout)
{
	struct tarb *t = tarb_new();
	tarb_symlink(t, "host", "/");
	tarb_hardlink(t, "shadow", "host/etc/shadow");
	one_layer(layout, t, OCIB_TAR);
}

static void long_path(const char *layout)
{
	char p[5000];
	size_t o = 0;
	while (o < 4200) {
		memcpy(p + o, "dddddddddd/", 11);
		o += 11;
	}
	memcpy(p + o, "f", 2);
	struct tarb *t = tarb_new();
	tarb_file(t, p, 0644, 0, 0, "x", 1);
	one_layer(layout, t, OCIB_TAR);
}

static struct tarb *small_files(void)
{
	struct tarb *t = tarb_new();
	char data[20000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + i / 13);
	tarb_file(t, "bin/tool", 0755, 0, 0, data, sizeof(data));
	tarb_file(t, "etc/conf", 0644, 0, 0, data, 3000);
	return t;
}

static void digest_mismatch(const char *layout)
{
	one_layer(layout, small_files(), OCIB_GZIP);
	/* change the blob after its digest went into the manifest */
	const char *p = ocib_blob_path(layout, ocib_last_layer_digest(0));
	size_t len;
	uint8_t *b = read_whole(p, &len);
	b[len / 2] ^= 1;
	write_file(p, b, len);
	free(b);
}

#define DAMAGED(fn, comp, how)                                                                     \
	static void fn(const char *layout)                                                         \
	{                                                                                          \
		struct tarb *t = small_files();                                                    \
		enum ocib_comp c = comp;                                                           \
		image_of(layout, &t, 1, &c, how, NULL, NULL);                                      \
	}
DAMAGED(gzip_truncated, OCIB_GZIP, OCIB_TRUNCATE)
DAMAGED(gzip_corrupt, OCIB_GZIP, OCIB_CORRUPT)
DAMAGED(zstd_truncated, OCIB_ZSTD, OCIB_TRUNCATE)
DAMAGED(zstd_corrupt, OCIB_ZSTD, OCIB_CORRUPT)

/* 48 MiB of zeros in 4 MiB files: a few hundred KiB compressed. Converted
 * with a 16 MiB cap. */
static void bomb(const char *layout, enum ocib_comp c, size_t files, size_t each)
{
	struct tarb *t = tarb_new();
	char *zeros = calloc(1, each);
	for (size_t i = 0; i < files; i++) {
		char name[32];
		snprintf(name, sizeof(name), "zeros%zu", i);
		tarb_file(t, name, 0644, 0, 0, zeros, each);
	}
	free(zeros);
	one_layer(layout, t, c);
}

static void bomb_gzip(const char *layout)
{
	bomb(layout, OCIB_GZIP, 12, 4 * MIB);
}

static void bomb_zstd(const char *layout)
{
	bomb(layout, OCIB_ZSTD, 12, 4 * MIB);
}

/* A small tar followed by 48 MiB of zeros inside the same gzip stream: only
 * the stream count can catch it (no entry is big). */
static void bomb_trailing(const char *layout)
{
	uint8_t *tar;
	size_t len;
	tarb_finish(small_files(), &tar, &len);
	size_t total = len + 48 * MIB;
	tar = realloc(tar, total);
	memset(tar + len, 0, total - len);
	struct ocib_layer l = {tar, total, OCIB_GZIP, OCIB_INTACT, NULL};
	struct ocib_opts o = {.ref = "hostile"};
	ocib_write(layout, &l, 1, &o);
	free(tar);
}

/* One entry bigger than the cap: refused from its header, before its data. */
static void bomb_one_entry(const char *layout)
{
	bomb(layout, OCIB_GZIP, 1, 40 * MIB);
}

static void many_entries(const char *layout)
{
	struct tarb *t = tarb_new();
	for (int i = 0; i < 300; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%d", i);
		tarb_file(t, name, 0644, 0, 0, "", 0);
	}
	one_layer(layout, t, OCIB_GZIP);
}

static void unknown_layer_type(const char *layout)
{
	struct tarb *t = small_files();
	enum ocib_comp c = OCIB_GZIP;
	image_of(layout, &t, 1, &c, OCIB_INTACT, "application/vnd.example.layer.v1.tar+lzma", NULL);
}

static void unknown_manifest_type(const char *layout)
{
	struct ocib_layer l = {0};
	uint8_t *buf;
	tarb_finish(small_files(), &buf, &l.len);
	l.tar = buf;
	struct ocib_opts o = {.manifest_media_type = "application/vnd.example.manifest.v9+json"};
	ocib_write(layout, &l, 1, &o);
	free(buf);
}

static void platform_mismatch(const char *layout)
{
	struct tarb *t = small_files();
	enum ocib_comp c = OCIB_GZIP;
	image_of(layout, &t, 1, &c, OCIB_INTACT, NULL, "s390x");
}

/* index.json pointing at `manifest` (written as a blob). */
static void index_to(const char *layout, const char *manifest, size_t len)
{
	char d[DIGEST_STR_LEN], path[4200], *idx;
	digest_buf(manifest, len, d);
	write_file(ocib_blob_path(layout, d), manifest, len);
	if (asprintf(
		&idx,
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		"\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
		d, len) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/index.json", layout);
	write_file(path, idx, strlen(idx));
	free(idx);
}

static void malformed_manifest(const char *layout)
{
	one_layer(layout, small_files(), OCIB_TAR);
	const char *m = "{\"schemaVersion\":2,\"config\":{\"digest\":";
	index_to(layout, m, strlen(m));
}

/* A 5 MiB manifest: the 4 MiB cap refuses it from its descriptor. */
static void huge_manifest(const char *layout)
{
	one_layer(layout, small_files(), OCIB_TAR);
	size_t len = 5 * MIB;
	char *m = malloc(len);
	memset(m, ' ', len);
	m[0] = '{';
	m[len - 1] = '}';
	index_to(layout, m, len);
	free(m);
}

/* index.json replaced by len bytes of '[': over the size cap at 5 MiB, too
 * deeply nested for json-c's depth limit at 100 KB. */
static void bad_index(const char *layout, size_t len)
{
	one_layer(layout, small_files(), OCIB_TAR);
	char *m = malloc(len), path[4200];
	memset(m, '[', len);
	snprintf(path, sizeof(path), "%s/index.json", layout);
	write_file(path, m, len);
	free(m);
}

static void huge_index(const char *layout)
{
	bad_index(layout, 5 * MIB);
}

static void deep_json(const char *layout)
{
	bad_index(layout, 100000);
}

/* Contained, not refused: absolute paths land inside the image, device
 * nodes become inodes of the image (never mknod on the host), symlinks
 * pointing out of the root are stored as they are. */
static void contained(const char *layout)
{
	struct tarb *t = tarb_new();
	tarb_file(t, "/abs/file", 0644, 0, 0, "abs", 3);
	tarb_node(t, "dev/sda", 'b', 0660, 8, 0);
	tarb_node(t, "dev/kmsg", 'c', 0600, 1, 11);
	tarb_symlink(t, "out", "../../../../../../etc");
	tarb_file(t, "a/../inside", 0644, 0, 0, "in", 2);
	one_layer(layout, t, OCIB_GZIP);
}

/* The layer blob moved out of the layout (next to it) and a symlink left in
 * its place: the content is right, but a layout must not make hull read
 * files outside it (a host file whose digest is known, /dev/zero...). */
static void symlinked_blob(const char *layout)
{
	one_layer(layout, small_files(), OCIB_GZIP);
	char blob[PATH_MAX], moved[PATH_MAX + 16];
	snprintf(blob, sizeof(blob), "%s", ocib_blob_path(layout, ocib_last_layer_digest(0)));
	snprintf(moved, sizeof(moved), "%s.outside", layout);
	if (rename(blob, moved) || symlink(moved, blob))
		abort();
}

/* blobs/sha256 itself a symlink to a copy of it outside the layout. */
static void symlinked_blob_dir(const char *layout)
{
	one_layer(layout, small_files(), OCIB_GZIP);
	char dir[PATH_MAX], moved[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/blobs/sha256", layout);
	snprintf(moved, sizeof(moved), "%s.blobs", layout);
	if (rename(dir, moved) || symlink(moved, dir))
		abort();
}

/* The layer blob is a FIFO nobody writes to: opening or reading it must not
 * block the converter. */
static void fifo_blob(const char *layout)
{
	one_layer(layout, small_files(), OCIB_GZIP);
	const char *blob = ocib_blob_path(layout, ocib_last_layer_digest(0));
	if (unlink(blob) || mkfifo(blob, 0644))
		abort();
}

/* The layer blob is a directory: refused by name, not read as empty. */
static void dir_blob(const char *layout)
{
	one_layer(layout, small_files(), OCIB_GZIP);
	const char *blob = ocib_blob_path(layout, ocib_last_layer_digest(0));
	if (unlink(blob) || mkdir(blob, 0755))
		abort();
}

/* Sparse files: each one's apparent size fits the cap, together they do
 * not, while the tar holds almost no data. Every byte of a sparse file
 * becomes a byte the image may hold (holes are read back as zeros), so its
 * full size counts. */
static void sparse_bomb(const char *layout)
{
	struct tarb *t = tarb_new();
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "sparse%d", i);
		tarb_sparse(t, name, 6 * MIB, "data", 4);
	}
	one_layer(layout, t, OCIB_GZIP);
}

#define LIM(bytes, entries)                                                                        \
	{                                                                                          \
		bytes, entries                                                                     \
	}
#define DEFAULTS LIM(0, 0)

const struct corpus_case corpus_cases[] = {
    {"dotdot",
     dotdot,
     {"layer 1 (sha256:", "a/../../escape", "leaves the image root"},
     DEFAULTS,
     false},
    {"hardlink-outside", hardlink_outside, {"'passwd'", "leaves the image root"}, DEFAULTS, false},
    {"hardlink-missing", hardlink_missing, {"'shadow'", "does not exist"}, DEFAULTS, false},
    {"symlink-then-file", symlink_then_file, {"etc/cron.d/evil", "is a symlink"}, DEFAULTS, false},
    {"symlink-across-layers",
     symlink_across_layers,
     {"layer 2 (sha256:", "lib/planted", "is a symlink"},
     DEFAULTS,
     false},
    {"hardlink-through-symlink",
     hardlink_through_symlink,
     {"'shadow'", "is a symlink"},
     DEFAULTS,
     false},
    {"long-path", long_path, {"path longer than 4095"}, DEFAULTS, false},
    {"digest-mismatch",
     digest_mismatch,
     {"layer 1 (sha256:", "does not match its digest"},
     DEFAULTS,
     false},
    {"gzip-truncated",
     gzip_truncated,
     {"layer 1 (sha256:", "gzip stream", "truncated"},
     DEFAULTS,
     false},
    {"gzip-corrupt", gzip_corrupt, {"layer 1 (sha256:", "gzip stream", "failed"}, DEFAULTS, false},
    {"zstd-truncated",
     zstd_truncated,
     {"layer 1 (sha256:", "zstd stream", "runcated"},
     DEFAULTS,
     false},
    /* zstd frames carry no checksum by default: the damage decodes, into a
     * tar whose digest is not the diff_id */
    {"zstd-corrupt",
     zstd_corrupt,
     {"layer 1 (sha256:", "does not match the config's diff_id"},
     DEFAULTS,
     false},
    /* the per-entry check or the stream check, whichever trips first */
    {"bomb-gzip",
     bomb_gzip,
     {"layer 1 (sha256:", "image size limit of 16 MiB"},
     LIM(16 * MIB, 0),
     false},
    {"bomb-zstd",
     bomb_zstd,
     {"layer 1 (sha256:", "image size limit of 16 MiB"},
     LIM(16 * MIB, 0),
     false},
    {"bomb-trailing",
     bomb_trailing,
     {"layer 1 (sha256:", "exceed the image size limit of 16 MiB"},
     LIM(16 * MIB, 0),
     false},
    {"bomb-one-entry",
     bomb_one_entry,
     {"entry 'zeros0'", "over the image size limit of 16 MiB"},
     LIM(16 * MIB, 0),
     false},
    {"many-entries", many_entries, {"more than 100 entries"}, LIM(0, 100), false},
    {"unknown-layer-type",
     unknown_layer_type,
     {"layers[0].mediaType", "application/vnd.example.layer.v1.tar+lzma"},
     DEFAULTS,
     false},
    {"unknown-manifest-type",
     unknown_manifest_type,
     {"unsupported media type", "application/vnd.example.manifest.v9+json"},
     DEFAULTS,
     false},
    {"platform-mismatch", platform_mismatch, {"image is for linux/s390x"}, DEFAULTS, false},
    {"malformed-json", malformed_manifest, {"manifest sha256:", "not valid JSON"}, DEFAULTS, false},
    {"huge-manifest", huge_manifest, {"more than the 4194304 allowed"}, DEFAULTS, false},
    {"huge-index", huge_index, {"index.json", "more than the 4194304 allowed"}, DEFAULTS, false},
    {"deep-json", deep_json, {"index.json", "not valid JSON"}, DEFAULTS, false},
    {"symlinked-blob", symlinked_blob, {"layer 1 (sha256:", "symlink; refused"}, DEFAULTS, false},
    {"symlinked-blob-dir",
     symlinked_blob_dir,
     {"blobs/sha256/", "symlink; refused"},
     DEFAULTS,
     false},
    {"fifo-blob",
     fifo_blob,
     {"layer 1 (sha256:", "'blobs/sha256/", "is a FIFO, not a regular file"},
     DEFAULTS,
     false},
    {"dir-blob",
     dir_blob,
     {"layer 1 (sha256:", "'blobs/sha256/", "is a directory, not a regular file"},
     DEFAULTS,
     false},
    {"sparse-bomb",
     sparse_bomb,
     {"layer 1 (sha256:", "entry 'sparse2'", "image size limit of 16 MiB"},
     LIM(16 * MIB, 0),
     false},
    {"contained", contained, {NULL}, DEFAULTS, true},
};
const size_t corpus_n = sizeof(corpus_cases) / sizeof(corpus_cases[0]);
