/* imageref: the IMAGE argument of hull run / hull pull when it names an
 * image in a registry rather than a file.
 *
 * Contract
 * - imageref_prepare(): an IMAGE that names an existing file or directory is
 *   an OCI layout or oci-archive, converted as before. Anything else is an
 *   image reference (images/ref.h): looked up in the local store
 *   (<root>/oci), pulled when the policy says so (missing: only when not
 *   stored, like docker; always; never: an error when not stored), then
 *   converted with image_prepare(<root>/oci, normalised reference).
 * - imageref_pull(): pull and convert (what `hull pull` does), so the first
 *   run of a pulled image is a conversion-cache hit.
 * - Insecure registries: opts->insecure plus $HULL_INSECURE_REGISTRIES
 *   (comma-separated host[:port] list).
 * - Progress goes to stderr when it is a terminal and !opts->quiet. SIGINT
 *   and SIGTERM during a pull stop it cleanly (temp files removed, nothing
 *   tagged), then -EINTR.
 * - Returns 0 or -errno with err naming the image and the problem. */
#ifndef HULL_RUNTIME_IMAGEREF_H
#define HULL_RUNTIME_IMAGEREF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errmsg.h"
#include "images/image.h"
#include "images/limits.h"

enum imageref_policy { IMAGEREF_PULL_MISSING = 0, IMAGEREF_PULL_ALWAYS, IMAGEREF_PULL_NEVER };

struct imageref_opts {
	enum imageref_policy policy;
	const char **insecure; /* from --insecure-registry */
	size_t n_insecure;
	bool quiet;
	/* caps on the conversion (cli/imgopt.h); NULL: the defaults */
	const struct image_limits *limits;
};

/* "missing" | "always" | "never" -> policy; -EINVAL otherwise. */
int imageref_parse_policy(const char *s, enum imageref_policy *p);

int imageref_prepare(const char *image, const char *root, const struct imageref_opts *o,
		     struct image_rootfs *out, struct errmsg *err);

/* *name: the normalised reference (malloc'd) on success. */
int imageref_pull(const char *image, const char *root, const struct imageref_opts *o, char **name,
		  struct image_rootfs *out, struct errmsg *err);

#endif
