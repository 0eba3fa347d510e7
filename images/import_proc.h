/* import_proc: hull-import, the reader of an image archive for `hull
 * import` / `hull load` (images/import.h), in a process of its own without
 * privileges. Everything an import reads from a docker-archive or an
 * oci-archive (the outer tar, possibly compressed, through libarchive;
 * index.json, manifest.json, the manifests, indexes and configs through
 * json-c; the layers' bytes) is read and parsed there, never by `hull`
 * itself, which is root under `sudo hull import`.
 *
 * The process is started as hull-convert is (images/convert_proc.h,
 * convproc_spawn() with import_helper): fork+exec of its own executable
 * (images/import_main.c); as root the system user `hull`, new network, IPC
 * and UTS namespaces; every capability set empty, no_new_privs, not
 * dumpable, no core dumps, PDEATHSIG, /dev/null as stdio, an empty
 * environment; then the seccomp role HSC_IMPORT (hull-convert's kind of
 * work: reading and writing the fds it was given, opening nothing; and
 * getrandom, json-c's hash seed), before it reads a byte of the request.
 *
 * The archive is the parent's: it opens the path (following a symlink the
 * user named, O_NONBLOCK, refusing anything but a regular file) and passes
 * the fd as work fd 0 of both runs; the child opens nothing.
 *
 * Two runs, because how many blobs an archive holds is known only once it
 * has been read (struct impreq/impres, images/import_rec.h):
 * - IMPORT_LIST: work fds 1 and 2 are memfds the parent made, sized and
 *   sealed against growing or shrinking (1: IMPRES_MAX_SIZE, the answer;
 *   2: IMPORT_DOCS_MAX, the documents). The child walks the archive as the
 *   import always did (import_list()): the images, their names, their
 *   manifests, configs and layers, hashing docker-archive layers to name
 *   them, and writes the answer (every image to tag and every blob with
 *   where its bytes are) into fd 1, the manifests, indexes and configs it
 *   read (verified) or made (a docker-archive's OCI manifest) into fd 2.
 * - The parent decodes the answer (impres_decode(): strictly, the child is
 *   hostile once it has parsed the archive), stores each inline document
 *   by its own hash (lstore_blob_put()), skips blobs the store has, and
 *   for the rest begins a writer each (lstore_blob_begin()).
 * - IMPORT_COPY: work fd 1 + k is the temp file of blob k of the request
 *   (lstore_blob_fd()); the child copies each from the archive into it,
 *   verifying size and digest as it goes (lstore_writer_on_fd()); progress
 *   item k. The parent reads each file back and commits it only if its
 *   own hash and count match (lstore_blob_adopt()),
 *   after the child has ended; then it tags the images (their references
 *   parsed again by ref_parse(), which must give the same normalised
 *   name) and converts them, as before.
 * - The result is the convproc result: 0, or -errno with the error text the
 *   code in the child formed (the same as before the split: "image REF:
 *   layer 1 (sha256:...): ...", "layer 2: ...", "manifest.json: ...").
 *
 * An OCI layout directory is still walked in `hull` by the same code
 * (import_list() on the directory, import_copy() of its blobs): a
 * directory cannot be handed to a process of another uid as one fd.
 *
 * import_list()/import_copy() are the walk and the copy, on an open source
 * (sealed in the child; a directory in the parent): 0 or -errno with err. */
#ifndef HULL_IMAGES_IMPORT_PROC_H
#define HULL_IMAGES_IMPORT_PROC_H

#include "common/errmsg.h"
#include "images/convert_proc.h"
#include "images/import_rec.h"
#include "images/oci_source.h"

#define IMPORT_NAME "hull-import"
#define IMPORT_ENV "HULL_IMPORT"

enum { IMPORT_FD_ARCHIVE, IMPORT_FD_ANSWER, IMPORT_FD_DOCS, IMPORT_LIST_FDS };

extern const struct convproc_helper import_helper;

/* Walk src (its path for messages and names: path; --name: name or NULL),
 * the answer into answer_fd (at most IMPRES_MAX_SIZE bytes from 0), the
 * documents into docs_fd (at most IMPORT_DOCS_MAX). */
int import_list(struct oci_source *src, const char *path, const char *name, int answer_fd,
		int docs_fd, struct errmsg *err);
/* Copy q's blobs from src, blob k into fds[k]; progress on cp (may be NULL). */
int import_copy(struct oci_source *src, const struct impreq *q, const int *fds, struct convproc *cp,
		struct errmsg *err);

#endif
