/* Fuzz hull-convert's request decoder (images/convert_req.c): the bytes
 * hull-convert reads from its request fd. Beyond memory safety: a request
 * that decodes has every fd index below the fds the header promised, every
 * digest and string terminated within its field, and sizes within their
 * limits (what convert_work() relies on without checking again).
 *
 * Input: one request; its first byte is the number of work fds (0-7). */
#include <string.h>

#include "fuzz/fuzz.h"
#include "images/convert_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t nfds = data[0] & 7;
	struct convreq *r = NULL;
	struct errmsg err = {{0}};
	int rc = convreq_decode(data + 1, size - 1, nfds, &r, &err);
	if (rc) {
		FZ_CHECK(!r && rc == -EBADMSG &&
			 strnlen(err.text, sizeof(err.text)) < sizeof(err.text));
		return 0;
	}
	FZ_CHECK(r && convreq_size(r->n_layers) == size - 1);
	FZ_CHECK(r->image_fd < nfds && r->size <= r->cap && r->cap <= CONVREQ_FS_MAX);
	FZ_CHECK(strnlen(r->path, CONVREQ_PATH_MAX) < CONVREQ_PATH_MAX &&
		 strnlen(r->source, CONVREQ_PATH_MAX) < CONVREQ_PATH_MAX);
	for (uint32_t i = 0; i < r->n_layers; i++) {
		FZ_CHECK(r->layers[i].fd < nfds && r->layers[i].fd != r->image_fd);
		FZ_CHECK(strlen(r->layers[i].digest) == DIGEST_STR_LEN - 1 &&
			 strlen(r->layers[i].diff_id) == DIGEST_STR_LEN - 1);
	}
	free(r);
	return 0;
}
