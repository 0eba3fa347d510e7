#include "cli/pull_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/imageref.h"
#include "cli/imgopt.h"
#include "cli/paths.h"
#include "proto/hcp.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: hull pull [OPTIONS] REFERENCE\n"
		   "\n"
		   "Download an image from a registry into hull's store and prepare it to run.\n"
		   "REFERENCE is [REGISTRY[:PORT]/]NAME[:TAG][@sha256:DIGEST], e.g. alpine,\n"
		   "library/alpine:3.19, registry.example:5000/team/app@sha256:...\n"
		   "\n"
		   "Options:\n"
		   "  -q, --quiet                 no progress display\n"
		   "      --insecure-registry H   allow plain HTTP / unverified TLS for registry\n"
		   "                              H (host[:port]); repeatable\n"
		   "      --root DIR              hull's state directory\n" IMGOPT_MAX_SIZE_HELP);
}

int pull_main(int argc, char **argv)
{
	enum { O_INSECURE = 256, O_ROOT, O_HELP, O_MAX_IMAGE_SIZE };
	static const struct option lo[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"insecure-registry", required_argument, NULL, O_INSECURE},
	    {"root", required_argument, NULL, O_ROOT},
	    {"help", no_argument, NULL, O_HELP},
	    {"max-image-size", required_argument, NULL, O_MAX_IMAGE_SIZE},
	    {0},
	};
	struct imageref_opts o = {0};
	const char *root_opt = NULL, *max_image_size = NULL;
	const char **insecure = calloc((size_t)argc, sizeof(*insecure));
	if (!insecure)
		return HCP_EXIT_HULL_FAILED;
	o.insecure = insecure;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.quiet = true;
			break;
		case O_INSECURE:
			insecure[o.n_insecure++] = optarg;
			break;
		case O_ROOT:
			root_opt = optarg;
			break;
		case O_MAX_IMAGE_SIZE:
			max_image_size = optarg;
			break;
		case O_HELP:
			usage(stdout);
			free(insecure);
			return 0;
		default:
			usage(stderr);
			free(insecure);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "hull: pull: expected one REFERENCE\n");
		usage(stderr);
		free(insecure);
		return 2;
	}
	struct image_limits lim;
	if (imgopt_limits(max_image_size, &lim)) {
		free(insecure);
		return HCP_EXIT_HULL_FAILED;
	}
	o.limits = &lim;
	char *root = paths_store_root(root_opt);
	char *name = NULL;
	struct image_rootfs img = {0};
	struct errmsg err = {{0}};
	int status = HCP_EXIT_HULL_FAILED;
	if (!root)
		fprintf(stderr, "hull: pull: out of memory\n");
	else if (imageref_pull(argv[optind], root, &o, &name, &img, &err))
		fprintf(stderr, "hull: %s\n", err.text);
	else {
		printf("%s\n", name);
		status = 0;
	}
	image_rootfs_free(&img);
	free(name);
	free(root);
	free(insecure);
	return status;
}
