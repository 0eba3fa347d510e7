/* ref: image references ("alpine", "library/alpine:3.19",
 * "registry.example:5000/team/app@sha256:...") parsed and normalised the way
 * docker does (github.com/distribution/reference, ParseNormalizedNamed).
 *
 * Contract
 * - Grammar: [domain "/"] path [":" tag] ["@" digest].
 *   domain: the first "/"-separated component when it contains '.' or ':',
 *     is "localhost", or has an upper-case letter; a host name, IPv4 or
 *     [IPv6] address, optionally ":port". Otherwise the domain is docker.io
 *     ("index.docker.io" is spelled docker.io too).
 *   path: components of [a-z0-9]+ joined by separators ".", "_", "__" or
 *     runs of "-", split by "/"; on docker.io a single component gets
 *     "library/" in front. Upper case in the path is an error, as is a
 *     64-hex-digit name (docker refuses those: they look like image ids).
 *   tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; "latest" when neither a tag nor
 *     a digest is given.
 *   digest: "sha256:" + 64 lower-case hex digits (other algorithms are
 *     refused: hull verifies blobs with sha256 only).
 *   domain + "/" + path is at most 255 characters.
 * - A reference with both tag and digest is pulled by digest; the tag is
 *   kept in ->tag for messages only.
 * - ->name is the normalised reference hull stores images under (lstore):
 *   "domain/path:tag" or, when a digest is given, "domain/path@digest".
 * - Errors are -EINVAL with err naming the reference and the problem. */
#ifndef HULL_IMAGES_REF_H
#define HULL_IMAGES_REF_H

#include "common/errmsg.h"
#include "images/digest.h"

#define REF_DEFAULT_DOMAIN "docker.io"
#define REF_NAME_MAX 255

struct image_ref {
	char *domain;		     /* "docker.io", "registry.example:5000", "[::1]:5000" */
	char *path;		     /* "library/alpine" */
	char *tag;		     /* "3.19", "latest"; NULL with a digest alone */
	char digest[DIGEST_STR_LEN]; /* "" when none */
	char *name;		     /* normalised, see above */
};

int ref_parse(const char *s, struct image_ref *r, struct errmsg *err);
void ref_free(struct image_ref *r);

#endif
