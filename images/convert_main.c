/* hull-convert: applies an image's layers to its ext4 file for hull's front
 * end (images/convert_proc.h has the process's contract: how it is started,
 * its jail, its fds and its status records; images/convert_req.h the
 * request; images/convert_work.h the work). Started by hand it says so and
 * does nothing. Installed out of PATH, next to hull-vmm. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "images/convert_proc.h"
#include "images/convert_req.h"
#include "images/convert_work.h"

/* What the libraries would otherwise open on first use, under the filter
 * that forbids it: glibc's iconv module list (gconv-modules.cache), which
 * libarchive's first charset conversion of a tar name loads. Done now, it
 * stays mapped; UTF-8 and ASCII are built into glibc, no module is loaded
 * later. (The process runs in the "C" locale, as hull's front end does.) */
static void warm_up(void)
{
	iconv_t cd = iconv_open("UTF-8", "ANSI_X3.4-1968");
	if (cd != (iconv_t)-1)
		iconv_close(cd);
}

int main(int argc, char **argv)
{
	(void)argv;
	struct stat st;
	if (argc != 1 || fstat(CONVPROC_FD_STATUS, &st) || !S_ISFIFO(st.st_mode)) {
		fprintf(stderr, CONVPROC_NAME ": hull starts it to convert an image's layers "
					      "(images/convert_proc.h); it takes no arguments\n");
		return 2;
	}
	struct convproc cp;
	struct errmsg err = {{0}};
	struct convert_stats stats = {0};
	struct convreq *r = NULL;
	void *req;
	size_t len;
	warm_up();
	/* then the seccomp filter: before a byte of the request or a layer */
	int rc = convproc_child_begin(&cp, &req, &len, &err);
	if (!rc) {
		rc = convreq_decode(req, len, cp.nfds, &r, &err);
		free(req);
	}
	if (!rc)
		rc = convert_work(r, &cp, &stats, &err);
	free(r);
	convproc_child_exit(&cp, rc, &stats, sizeof(stats), &err);
}
