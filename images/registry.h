/* registry: a client for one repository of an OCI distribution (Docker
 * Registry HTTP API v2) registry, over libcurl.
 *
 * Contract
 * - registry_open() pings GET /v2/ to pick the scheme and learn how the
 *   registry authenticates. HTTPS with certificate checks by default. A
 *   domain listed in opts->insecure (exactly, or by host name without a
 *   port) may be reached without TLS checks, and over plain HTTP when HTTPS
 *   fails, as docker's --insecure-registry does. docker.io is served by
 *   registry-1.docker.io.
 * - Authentication: a 401 answer's WWW-Authenticate challenge is answered
 *   (images/auth.h): Bearer -> a token from the realm (anonymous, or with the
 *   Basic credentials given in opts), scope repository:<repo>:pull unless
 *   the challenge names one; Basic -> the credentials. The request is then
 *   retried once. Credentials and tokens are given to libcurl as its own
 *   auth options, so on a redirect to another host (registries send blob
 *   downloads to storage servers) they are not sent along. The credentials
 *   go to a token realm over HTTPS, or over plain HTTP only when the realm
 *   is the registry's own host and the registry is itself spoken to over
 *   plain HTTP; otherwise the token is asked for anonymously (nothing
 *   secret travels, and public images still pull), and an access error that
 *   follows names the realm and says why the credentials were withheld.
 * - A request that began over HTTPS never follows a redirect to plain HTTP:
 *   -EPROTO, naming the Location.
 * - registry_get_manifest() fetches a manifest or index by tag or digest
 *   (Accept: OCI index/manifest, Docker list/manifest v2), at most 4 MiB.
 *   Its sha256 is computed; when ref is a digest it must match, and a
 *   Docker-Content-Digest header must match too. *media_type comes from
 *   Content-Type (NULL when the server sent none).
 * - registry_get_blob() streams a blob into an lstore writer (which checks
 *   size and digest on commit; the caller commits or aborts). At most max
 *   bytes are taken: a larger Content-Length is refused before the body
 *   streams, and a longer body is cut off there (-EFBIG). progress, if set,
 *   is called with the bytes received so far.
 * - An error answer's body is read up to 16 KiB (for the registry's error
 *   message), never further.
 * - opts->cancel (may be NULL): when it becomes non-zero (a signal handler),
 *   the transfer in flight stops with -EINTR.
 * - Errors are -errno with err naming the registry, the repository and the
 *   problem: connection failures, HTTP statuses with the registry's error
 *   code and message, refused credentials, oversize or mismatching content. */
#ifndef HULL_IMAGES_REGISTRY_H
#define HULL_IMAGES_REGISTRY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "images/digest.h"
#include "images/lstore.h"

#define REGISTRY_MANIFEST_MAX (4u << 20)

struct registry_opts {
	const char *const *insecure; /* domains allowed without TLS checks */
	size_t n_insecure;
	const char *user, *pass; /* Basic credentials, or NULL */
	volatile sig_atomic_t *cancel;
};

struct registry;

/* True if domain is covered by the insecure list. */
int registry_is_insecure(const struct registry_opts *o, const char *domain);

int registry_open(const char *domain, const char *repo, const struct registry_opts *o,
		  struct registry **out, struct errmsg *err);
void registry_close(struct registry *r);

int registry_get_manifest(struct registry *r, const char *ref, char **buf, size_t *len,
			  char **media_type, char digest[DIGEST_STR_LEN], struct errmsg *err);

typedef void (*registry_progress_fn)(void *arg, uint64_t done);
int registry_get_blob(struct registry *r, const char *digest, uint64_t max, struct lstore_writer *w,
		      registry_progress_fn progress, void *arg, struct errmsg *err);

#endif
