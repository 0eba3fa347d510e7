/* oci_json: parse OCI / Docker v2 index, manifest and config JSON.
 *
 * Pure functions over a buffer (no I/O), so they are unit-testable.
 * Contract
 * - Input is untrusted: anything but the expected shape (wrong types,
 *   malformed digests, unknown media types, trailing garbage, bad UTF-8)
 *   is -EINVAL with err naming `what` and the field, e.g.
 *   "manifest sha256:ab..: layers[1].mediaType: unsupported 'foo'".
 * - Buffers longer than OCI_JSON_MAX are refused (-EFBIG).
 * - Outputs own their memory; free them with the matching _free(). */
#ifndef HULL_IMAGES_OCI_JSON_H
#define HULL_IMAGES_OCI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "images/digest.h"
#include "images/image.h"

#define OCI_JSON_MAX (4u << 20)
/* a manifest with more layers is refused */
#define OCI_MAX_LAYERS 4096

#define OCI_REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"

enum oci_kind {
	OCI_KIND_UNKNOWN = 0,
	OCI_KIND_INDEX,	   /* OCI image index, Docker manifest list */
	OCI_KIND_MANIFEST, /* OCI image manifest, Docker v2 schema 2 manifest */
	OCI_KIND_CONFIG,   /* OCI image config, Docker container image config */
	OCI_KIND_LAYER_TAR,
	OCI_KIND_LAYER_GZIP,
	OCI_KIND_LAYER_ZSTD,
};

/* Kind of a media type string; OCI_KIND_UNKNOWN for NULL or unknown. */
enum oci_kind oci_media_kind(const char *media_type);

struct oci_descriptor {
	char *media_type; /* NULL if absent */
	char digest[DIGEST_STR_LEN];
	uint64_t size;
	char *ref_name;	  /* org.opencontainers.image.ref.name, or NULL */
	char *image_name; /* io.containerd.image.name, or NULL */
	char *os, *arch;  /* platform, or NULL */
};

void oci_descriptor_free(struct oci_descriptor *d);

/* The platform images are resolved to: linux and the host architecture in
 * OCI/Go spelling ("amd64", "arm64"). */
const char *oci_host_arch(void);

/* True if the JSON object in buf looks like an index (has "manifests"). Used
 * when a descriptor carries no mediaType. */
bool oci_json_is_index(const char *buf, size_t len);

/* Pick one manifest descriptor out of an index.
 * top_level: this is the layout's index.json, where ref_name applies and
 *   several entries are disambiguated by ref name "latest" then platform.
 * Otherwise (a nested index / manifest list) the entry for linux/<host arch>
 *   is chosen.
 * ref_name may be NULL. */
int oci_index_select(const char *buf, size_t len, const char *what, bool top_level,
		     const char *ref_name, struct oci_descriptor *out, struct errmsg *err);

/* Every entry of an index, in order (*out: n descriptors, free each with
 * oci_descriptor_free() and the array with free()). */
int oci_index_entries(const char *buf, size_t len, const char *what, struct oci_descriptor **out,
		      size_t *n, struct errmsg *err);

struct oci_manifest {
	struct oci_descriptor config;
	struct oci_descriptor *layers;
	enum oci_kind *layer_kinds; /* OCI_KIND_LAYER_* per layer */
	size_t n_layers;
};

int oci_manifest_parse(const char *buf, size_t len, const char *what, struct oci_manifest *out,
		       struct errmsg *err);
void oci_manifest_free(struct oci_manifest *m);

/* Parse an image config. diff_ids (may be NULL if the caller does not need
 * them) receives rootfs.diff_ids, each a validated sha256 digest string.
 * The config's os/architecture, when present, must be linux/<host arch>. */
int oci_config_parse(const char *buf, size_t len, const char *what, struct image_config *cfg,
		     char ***diff_ids, size_t *n_diff_ids, struct errmsg *err);
void oci_strv_free(char **v, size_t n);

#endif
