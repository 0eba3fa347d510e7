/* import: bring the images of a docker-archive (`docker save`), an
 * oci-archive or an OCI image layout directory into the local store
 * (images/lstore.h), tagged by reference, and convert them at once so that the
 * first `hull run` of one is a cache hit.
 *
 * Contract
 * - Format: index.json present (directory or tar) -> OCI layout / oci-archive
 *   (also what `docker save` writes since Docker 25, next to its legacy
 *   manifest.json); else manifest.json -> docker-archive; else an error. Tars
 *   are read in place (streamed member by member), never extracted.
 * - OCI: every index.json entry is imported: its manifest (or index: then the
 *   linux/<host arch> manifest it lists), config and layers, each verified
 *   against its digest and size while copied. docker-archive: per
 *   manifest.json item, the config is stored as is, each layer as is with a
 *   media type sniffed from its first bytes (gzip, zstd, else tar); an
 *   uncompressed layer must match the config's diff_id as it is copied;
 *   then an OCI image manifest naming them is synthesised and stored.
 * - Names (import_ref_name(), the one place they are made): `name` (--name)
 *   if given, which needs the source to hold exactly one image (or one named
 *   "latest"); else io.containerd.image.name, or a RepoTags entry, or an
 *   org.opencontainers.image.ref.name that is a whole reference ("alpine:3",
 *   "registry:5000/x/y:t"), normalised docker-style (images/ref.h). A ref
 *   name that is only a tag ("latest", "v1") or none at all gives
 *   "localhost/<file name without extension>:<tag or latest>", as podman
 *   names local images.
 * - Then each image is converted (image_prepare_limits on <root>/oci with its
 *   reference). If a conversion fails, the references this import made are
 *   put back as they were (a moved tag is moved back), so a bad image never
 *   stays tagged; its blobs are left for `hull image prune`.
 * - Who reads what: a docker-archive or an oci-archive is opened here and
 *   read, parsed and copied by hull-import, an unprivileged child
 *   (images/import_proc.h); this process stores only blobs whose digest
 *   and size it verified itself and tags only references it parsed again.
 *   An OCI layout directory is walked here by the same code.
 * - Errors name the file and the problem (and the image or layer). */
#ifndef HULL_IMAGES_IMPORT_H
#define HULL_IMAGES_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"
#include "images/limits.h"

enum import_format { IMPORT_OCI_LAYOUT, IMPORT_OCI_ARCHIVE, IMPORT_DOCKER_ARCHIVE };

struct import_image {
	char *ref;	 /* normalised reference */
	char digest[72]; /* manifest (or index) digest */
	bool cache_hit;	 /* the conversion was already cached */
};

struct import_result {
	enum import_format format;
	struct import_image *images;
	size_t n;
};

int image_import(const char *root, const char *path, const char *name,
		 const struct image_limits *lim, struct import_result *out, struct errmsg *err);
void import_result_free(struct import_result *r);
const char *import_format_name(enum import_format f);

/* The stored reference for an image found in `path`: full (a whole
 * reference, or NULL) else tag (a bare tag, or NULL). malloc'd in *out. */
int import_ref_name(const char *path, const char *full, const char *tag, char **out,
		    struct errmsg *err);

#endif
