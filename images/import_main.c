/* hull-import: the reader of an image archive, for hull's front end
 * (images/import_proc.h has the process's contract and work;
 * images/convert_proc.h how it is started, its jail, fds and status
 * records; images/import_rec.h the request and the answer). Started by
 * hand it says so and does nothing. Installed out of PATH, next to
 * hull-convert. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/import_proc.h"
#include "seccomp/filter.h"

int main(int argc, char **argv)
{
	(void)argv;
	struct stat st;
	if (argc != 1 || fstat(CONVPROC_FD_STATUS, &st) || !S_ISFIFO(st.st_mode)) {
		fprintf(stderr, IMPORT_NAME ": hull starts it to read an image archive "
					    "(images/import_proc.h); it takes no arguments\n");
		return 2;
	}
	struct convproc cp;
	struct errmsg err = {{0}};
	struct impreq *q = NULL;
	struct oci_source *src = NULL;
	void *req;
	size_t len;
	int rc = convproc_child_begin_as(&cp, IMPORT_NAME, HSC_IMPORT, &req, &len, &err);
	if (!rc) {
		rc = impreq_decode(req, len, &q, &err);
		free(req);
	}
	if (!rc && cp.nfds != (q->mode == IMPORT_LIST ? IMPORT_LIST_FDS : 1 + (size_t)q->n_blobs))
		rc = errmsg_set(&err, -EBADF, IMPORT_NAME ": %zu work fds for this request",
				cp.nfds);
	if (!rc && (rc = oci_source_sealed(q->path, CONVPROC_FD_WORK + IMPORT_FD_ARCHIVE, &src)))
		errmsg_set(&err, rc, IMPORT_NAME ": the archive: %s", strerror(-rc));
	if (!rc && q->mode == IMPORT_LIST) {
		rc = import_list(src, q->path, q->name[0] ? q->name : NULL,
				 CONVPROC_FD_WORK + IMPORT_FD_ANSWER,
				 CONVPROC_FD_WORK + IMPORT_FD_DOCS, &err);
	} else if (!rc) {
		int *fds = malloc(q->n_blobs * sizeof(*fds));
		for (uint32_t k = 0; fds && k < q->n_blobs; k++)
			fds[k] = CONVPROC_FD_WORK + 1 + (int)k;
		rc = fds ? import_copy(src, q, fds, &cp, &err) : -ENOMEM;
		free(fds);
	}
	oci_source_close(src);
	free(q);
	convproc_child_exit(&cp, rc, NULL, 0, &err);
}
