/* hull-fetch: the registry client of a pull, for hull's front end
 * (images/fetch_proc.h has the process's contract and work;
 * images/convert_proc.h how it is started, its jail, fds and status
 * records; images/fetch_rec.h the request and the answer). Started by hand
 * it says so and does nothing. Installed out of PATH, next to hull-convert. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "images/fetch_proc.h"

int main(int argc, char **argv)
{
	(void)argv;
	struct stat st;
	if (argc != 1 || fstat(CONVPROC_FD_STATUS, &st) || !S_ISFIFO(st.st_mode)) {
		fprintf(stderr, FETCH_NAME ": hull starts it to pull an image from a registry "
					   "(images/fetch_proc.h); it takes no arguments\n");
		return 2;
	}
	struct convproc cp;
	struct errmsg err = {{0}};
	struct fetchreq *q = NULL;
	void *req;
	size_t len;
	/* caps, warm-up, the filter: before a byte of the request or the network */
	int rc = fetch_child_begin(&cp, &req, &len, &err);
	if (!rc) {
		rc = fetchreq_decode(req, len, &q, &err);
		free(req);
	}
	if (!rc)
		rc = q->mode == FETCH_RESOLVE ? fetch_resolve(q, &cp, &err)
					      : fetch_blobs(q, &cp, &err);
	free(q);
	convproc_child_exit(&cp, rc, NULL, 0, &err);
}
