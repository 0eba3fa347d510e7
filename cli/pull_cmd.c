#include "cli/pull_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/imgopt.h"
#include "cli/opts.h"
#include "runtime/imageref.h"
#include "runtime/paths.h"
#include "proto/hcp.h"

enum { O_INSECURE = 256, O_ROOT, O_MAX_IMAGE_SIZE };

static const struct opt pull_opts[] = {
    {'q', 'q', "quiet", NULL, "no progress display"},
    {O_INSECURE, 0, "insecure-registry", "H",
     "allow plain HTTP / unverified TLS for registry\n"
     "H (host[:port]); repeatable"},
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {O_MAX_IMAGE_SIZE, 0, "max-image-size", "SIZE", IMGOPT_MAX_SIZE_TEXT},
    {0},
};

static const struct cmd_opts pull_cmd = {
    .name = "pull",
    .synopsis = "[OPTIONS] REFERENCE",
    .about = "Download an image from a registry into hull's store and prepare it to run.\n"
	     "REFERENCE is [REGISTRY[:PORT]/]NAME[:TAG][@sha256:DIGEST], e.g. alpine,\n"
	     "library/alpine:3.19, registry.example:5000/team/app@sha256:...\n",
    .opts = pull_opts,
    .min_args = 1,
    .max_args = 1,
};

struct pull_opts {
	struct imageref_opts o;
	const char **insecure;
	const char *root, *max_image_size;
};

static int set_opt(void *ctx, int id, const char *v)
{
	struct pull_opts *p = ctx;
	switch (id) {
	case 'q':
		p->o.quiet = true;
		break;
	case O_INSECURE:
		p->insecure[p->o.n_insecure++] = v;
		break;
	case O_ROOT:
		p->root = v;
		break;
	case O_MAX_IMAGE_SIZE:
		p->max_image_size = v;
		break;
	}
	return 0;
}

int pull_main(int argc, char **argv)
{
	struct pull_opts p = {0};
	if (!(p.insecure = calloc((size_t)argc, sizeof(*p.insecure))))
		return HCP_EXIT_HULL_FAILED;
	p.o.insecure = p.insecure;
	int first, prc = opts_parse(&pull_cmd, argc, argv, set_opt, &p, &first);
	if (prc) {
		free(p.insecure);
		return prc == OPTS_HELP ? 0 : 2;
	}
	struct image_limits lim;
	if (imgopt_limits(p.max_image_size, &lim)) {
		free(p.insecure);
		return HCP_EXIT_HULL_FAILED;
	}
	p.o.limits = &lim;
	char *root = paths_store_root(p.root);
	char *name = NULL;
	struct image_rootfs img = {0};
	struct errmsg err = {{0}};
	int status = HCP_EXIT_HULL_FAILED;
	if (!root)
		fprintf(stderr, "hull: pull: out of memory\n");
	else if (imageref_pull(argv[first], root, &p.o, &name, &img, &err))
		fprintf(stderr, "hull: %s\n", err.text);
	else {
		printf("%s\n", name);
		status = 0;
	}
	image_rootfs_free(&img);
	free(name);
	free(root);
	free(p.insecure);
	return status;
}
