/* pull: fetch an image from a registry into the local store (lstore).
 *
 * Contract
 * - pull_image() resolves ref (images/ref.h) on its registry: the tag's or
 *   digest's manifest; an OCI index / Docker manifest list is resolved to
 *   linux/<host arch> (an error lists the platforms offered otherwise). The
 *   manifest must be an OCI or Docker v2 schema 2 image manifest with known
 *   layer types, its config (at most 4 MiB) must be for linux/<host arch>.
 *   Config and layers are downloaded into <store_root>/oci through lstore's
 *   verifying writer (blobs already present are skipped), then the index or
 *   manifest blobs are stored, then ref->name is tagged. Nothing is tagged
 *   unless every blob arrived and matched its digest, so a failure or an
 *   interruption leaves the store's references as they were (verified blobs
 *   already fetched stay until lstore_gc()).
 * - Caps: the layers' compressed sizes together, as the manifest gives
 *   them, may not exceed opts->limits->max_bytes (the image size limit,
 *   images/limits.h; NULL: the default): -E2BIG naming the layer and the
 *   limit, before any blob is downloaded. Each blob is then taken only up
 *   to the size its descriptor gives (registry_get_blob).
 * - Credentials: opts->reg.user/pass if set, else the docker config's entry
 *   for the registry (images/auth.h, read by the caller's process), else
 *   anonymous.
 * - Where: everything read from the network (HTTP, auth, the JSON) is read
 *   and parsed by hull-fetch, an unprivileged child (images/fetch_proc.h);
 *   this process acts on its decoded answer (images/fetch_rec.h), stores
 *   the documents as opaque bytes under their verified digests and
 *   verifies each blob file again before it publishes it. A config already
 *   in the store is not fetched or parsed again (its platform was checked
 *   when it came; a conversion checks it too). opts->reg.cancel also ends
 *   the child (-EINTR, "interrupted").
 * - opts->progress: per-layer byte counts on opts->progress_out (a
 *   terminal), rewritten in place. Off: nothing is printed.
 * - Returns 0 and the stored entry's digest (index or manifest), or -errno
 *   with err naming the image and the problem. */
#ifndef HULL_IMAGES_PULL_H
#define HULL_IMAGES_PULL_H

#include <stdbool.h>
#include <stdio.h>

#include "common/errmsg.h"
#include "images/digest.h"
#include "images/limits.h"
#include "images/ref.h"
#include "images/registry.h"

struct pull_opts {
	struct registry_opts reg;
	bool progress;
	FILE *progress_out;
	const struct image_limits *limits; /* NULL: image_limits_default() */
};

int pull_image(const char *store_root, const struct image_ref *ref, const struct pull_opts *o,
	       char digest[DIGEST_STR_LEN], struct errmsg *err);

#endif
