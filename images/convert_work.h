/* convert_work: hull-convert's work (images/convert_main.c): the layers of
 * a decoded request (images/convert_req.h) into the image, read from the
 * inherited work fds only, over again bigger while the filesystem fills
 * up (images/convert.h has the sizing).
 *
 * Contract
 * - convert_work(r, cp, st, err): r checked by convreq_decode() against
 *   cp->nfds. Reads layer i from work fd r->layers[i].fd (an archive: its
 *   member blobs/sha256/<hex>), writes the image to work fd r->image_fd,
 *   calls convproc_progress(cp, i) as it starts on layer i. Fills *st. 0,
 *   or -errno with err naming the layer ("layer N (sha256:...): ...").
 * - Opens nothing by path (it runs under the HSC_CONVERT filter). */
#ifndef HULL_IMAGES_CONVERT_WORK_H
#define HULL_IMAGES_CONVERT_WORK_H

#include "common/errmsg.h"
#include "images/convert.h"
#include "images/convert_proc.h"
#include "images/convert_req.h"

int convert_work(const struct convreq *r, struct convproc *cp, struct convert_stats *st,
		 struct errmsg *err);

#endif
