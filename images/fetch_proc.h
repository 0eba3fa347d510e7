/* fetch_proc: hull-fetch, the registry client of a pull, in a process of
 * its own without privileges. Everything a pull reads from the network
 * (HTTP answers, WWW-Authenticate challenges, token JSON, manifests,
 * indexes, the config, the layers' bytes) is read and parsed there, by
 * the same code as before (images/registry.c, auth.c, oci_json.c), never
 * by `hull` itself, which is root under `sudo hull pull`.
 *
 * The process is started as hull-convert is (images/convert_proc.h,
 * convproc_spawn() with fetch_helper): fork+exec of its own executable
 * (images/fetch_main.c), the system user `hull` when started by root
 * (else the caller's uid), every capability set empty, no_new_privs, not
 * dumpable, no core dumps, PDEATHSIG, /dev/null as stdio, an empty
 * environment, new IPC and UTS namespaces but the host's network one (it
 * must reach the registry). No seccomp filter yet: libcurl resolves names,
 * reads CA certificates and opens sockets, a list not written yet.
 *
 * Two kinds of run (struct fetchreq, images/fetch_rec.h):
 * - FETCH_RESOLVE: work fds 0-2 are memfds the parent made, sized and
 *   sealed against growing or shrinking (FETCH_FD_ANSWER:
 *   fetchres_size(OCI_MAX_LAYERS); the documents: REGISTRY_MANIFEST_MAX).
 *   The child pings the registry, authenticates, fetches the reference's
 *   manifest (through an index to linux/<host arch>), parses it, holds the
 *   layers to the size limit and the config to OCI_JSON_MAX, and writes the
 *   documents' bytes into fds 1 (the reference's) and 2 (the image
 *   manifest, when 1 is an index), the decoded facts (struct fetchres)
 *   into fd 0.
 * - FETCH_BLOBS: work fd i is the temp file of blob i (lstore_blob_fd(), a
 *   writer the parent began); the child downloads each into it, verifying
 *   size and digest as it goes (lstore_writer_on_fd()); progress item i.
 *   The config (of 0) is then parsed, to refuse another platform before a
 *   layer is fetched (it comes first). The parent reads each file back
 *   (lstore_blob_adopt()) and commits it: its own check of every byte,
 *   after the child has ended.
 * - The result is the convproc result: 0, or -errno with the error text
 *   the code in the child formed (the same as before the split: "config:
 *   registry ...", "layer 2/5: ...").
 *
 * fetch_resolve()/fetch_blobs() are the child's work, called by
 * fetch_main.c with the decoded request; fetch_check_limit() the image size
 * check both halves make on the decoded facts. */
#ifndef HULL_IMAGES_FETCH_PROC_H
#define HULL_IMAGES_FETCH_PROC_H

#include "common/errmsg.h"
#include "images/convert_proc.h"
#include "images/fetch_rec.h"

#define FETCH_NAME "hull-fetch"
#define FETCH_ENV "HULL_FETCH"

enum { FETCH_FD_ANSWER, FETCH_FD_TOP, FETCH_FD_MAN, FETCH_RESOLVE_FDS };

/* The helper's description for convproc_spawn(); the caller copies it and
 * sets progress/arg/cancel. */
extern const struct convproc_helper fetch_helper;

int fetch_resolve(const struct fetchreq *q, struct convproc *cp, struct errmsg *err);
int fetch_blobs(const struct fetchreq *q, struct convproc *cp, struct errmsg *err);

/* The layers' compressed sizes, as the manifest gives them, together at
 * most max_bytes: else -E2BIG naming the layer and the limit. */
int fetch_check_limit(const struct fetchres *r, uint64_t max_bytes, struct errmsg *err);

#endif
