/* The backend of a shim built without hull's runtime library: every
 * operation that would run something fails with a sentence saying so. The
 * binary is then only good for testing the protocol side (start, ttrpc,
 * delete) against a real containerd; meson does not install it. */
#include "shim/backend.h"

#include <errno.h>
#include <stdlib.h>

#define NOT_BUILT                                                                                  \
	"containerd-shim-hull-v2 is built without hull's runtime library: it cannot run "          \
	"containers"

static int nb_create(void *be, const struct shim_create *c, uint32_t *pid, struct errmsg *err)
{
	(void)be;
	(void)c;
	(void)pid;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_start(void *be, const char *exec_id, uint32_t *pid, struct errmsg *err)
{
	(void)be;
	(void)exec_id;
	(void)pid;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_exec(void *be, const char *exec_id, const uint8_t *spec, size_t spec_len,
		   const struct shim_io *io, struct errmsg *err)
{
	(void)be;
	(void)exec_id;
	(void)spec;
	(void)spec_len;
	(void)io;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_signal(void *be, const char *exec_id, int signo, bool all, struct errmsg *err)
{
	(void)be;
	(void)exec_id;
	(void)signo;
	(void)all;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_resize(void *be, const char *exec_id, unsigned w, unsigned h, struct errmsg *err)
{
	(void)be;
	(void)exec_id;
	(void)w;
	(void)h;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_exec_id_only(void *be, const char *exec_id, struct errmsg *err)
{
	(void)be;
	(void)exec_id;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_vm(void *be, struct errmsg *err)
{
	(void)be;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_stats(void *be, struct shim_stats *st, struct errmsg *err)
{
	(void)be;
	(void)st;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_pids(void *be, uint32_t *pids, size_t max, size_t *n, struct errmsg *err)
{
	(void)be;
	(void)pids;
	(void)max;
	*n = 0;
	return errmsg_set(err, -ENOTSUP, NOT_BUILT);
}

static int nb_remove(void *be, const char *exec_id, struct errmsg *err)
{
	(void)be;
	(void)exec_id;
	(void)err;
	return 0; /* nothing was made */
}

static const struct shim_backend_ops nb_ops = {
    .create = nb_create,
    .start = nb_start,
    .exec = nb_exec,
    .signal = nb_signal,
    .resize = nb_resize,
    .close_stdin = nb_exec_id_only,
    .pause = nb_vm,
    .resume = nb_vm,
    .stats = nb_stats,
    .pids = nb_pids,
    .remove = nb_remove,
};

int shim_backend_open(const char *id, const char *bundle,
		      void (*exited)(void *ctx, const char *exec_id, int status), void *ctx,
		      struct shim_backend *out, struct errmsg *err)
{
	(void)id;
	(void)bundle;
	(void)exited;
	(void)ctx;
	(void)err;
	*out = (struct shim_backend){.ops = &nb_ops, .be = NULL};
	return 0;
}

void shim_backend_close(struct shim_backend *b)
{
	(void)b;
}

int shim_backend_cleanup(const char *id, const char *bundle, struct errmsg *err)
{
	(void)id;
	(void)bundle;
	(void)err;
	return 0;
}
