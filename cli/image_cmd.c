#include "image_cmd.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/imgopt.h"
#include "cli/paths.h"
#include "images/import.h"
#include "images/inventory.h"
#include "proto/hcp.h"

static void human(uint64_t b, char *out, size_t n)
{
	const char *u[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)b;
	int i = 0;
	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, n, i ? "%.3g %s" : "%.0f %s", v, u[i]);
}

/* Options shared by the commands: --root DIR, --help; extra ones in lo. */
struct common {
	const char *root;
	char *store;
};

static int store_of(struct common *c)
{
	c->store = paths_store_root(c->root);
	return c->store ? 0 : -1;
}

static const char import_usage[] =
    "Usage: hull import [OPTIONS] FILE|DIR\n"
    "\n"
    "Store the images of a docker-archive (docker save), an oci-archive or an OCI\n"
    "image layout under their names, and convert them for hull run.\n"
    "\n"
    "Options:\n"
    "      --name REF            store the (only) image under this reference\n"
    "      --root DIR            hull's state directory\n" IMGOPT_MAX_SIZE_HELP;

int import_main(int argc, char **argv)
{
	enum { O_ROOT = 256, O_NAME, O_MAX, O_HELP };
	static const struct option lo[] = {{"root", required_argument, NULL, O_ROOT},
					   {"name", required_argument, NULL, O_NAME},
					   {"max-image-size", required_argument, NULL, O_MAX},
					   {"help", no_argument, NULL, O_HELP},
					   {0}};
	struct common c = {0};
	const char *name = NULL, *max = NULL;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == O_ROOT)
			c.root = optarg;
		else if (o == O_NAME)
			name = optarg;
		else if (o == O_MAX)
			max = optarg;
		else if (o == O_HELP) {
			fputs(import_usage, stdout);
			return 0;
		} else {
			fputs(import_usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "hull: import: expected one FILE or DIR\n");
		fputs(import_usage, stderr);
		return 2;
	}
	struct image_limits lim;
	if (imgopt_limits(max, &lim) || store_of(&c))
		return HCP_EXIT_HULL_FAILED;
	struct import_result r;
	struct errmsg err = {{0}};
	int status = 0;
	if (image_import(c.store, argv[optind], name, &lim, &r, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		status = HCP_EXIT_HULL_FAILED;
	} else {
		for (size_t i = 0; i < r.n; i++)
			printf("Loaded image: %s (%.19s, %s, %s)\n", r.images[i].ref,
			       r.images[i].digest, import_format_name(r.format),
			       r.images[i].cache_hit ? "already converted" : "converted");
		import_result_free(&r);
	}
	free(c.store);
	return status;
}

/* "docker.io/library/alpine:3.19" -> "alpine", "3.19" (docker's short
 * spelling of docker.io names). */
static void split_ref(const char *ref, char *repo, size_t rn, char *tag, size_t tn)
{
	const char *r = ref;
	if (!strncmp(r, "docker.io/library/", 18))
		r += 18;
	else if (!strncmp(r, "docker.io/", 10))
		r += 10;
	const char *at = strchr(r, '@');
	const char *slash = strrchr(r, '/');
	const char *colon = strrchr(r, ':');
	if (at) {
		snprintf(repo, rn, "%.*s", (int)(at - r), r);
		snprintf(tag, tn, "<none>");
	} else if (colon && (!slash || colon > slash)) {
		snprintf(repo, rn, "%.*s", (int)(colon - r), r);
		snprintf(tag, tn, "%s", colon + 1);
	} else {
		snprintf(repo, rn, "%s", r);
		snprintf(tag, tn, "<none>");
	}
}

static const char images_usage[] =
    "Usage: hull images [--root DIR] [-q]\n"
    "\n"
    "List stored images. SIZE is the disk space of the converted root filesystem\n"
    "(what hull run uses); an image not converted yet shows its compressed size\n"
    "with a '*'. CREATED is the image config's creation time (UTC).\n"
    "  -q, --quiet   only the image ids (manifest digests, short)\n";

int images_main(int argc, char **argv)
{
	enum { O_ROOT = 256, O_HELP };
	static const struct option lo[] = {{"root", required_argument, NULL, O_ROOT},
					   {"quiet", no_argument, NULL, 'q'},
					   {"help", no_argument, NULL, O_HELP},
					   {0}};
	struct common c = {0};
	bool quiet = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		if (o == O_ROOT)
			c.root = optarg;
		else if (o == 'q')
			quiet = true;
		else if (o == O_HELP) {
			fputs(images_usage, stdout);
			return 0;
		} else {
			fputs(images_usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(images_usage, stderr);
		return 2;
	}
	if (store_of(&c))
		return HCP_EXIT_HULL_FAILED;
	struct inventory_item *it;
	size_t n;
	struct errmsg err = {{0}};
	int status = 0;
	if (inventory_list(c.store, &it, &n, &err)) {
		fprintf(stderr, "hull: images: %s\n", err.text);
		free(c.store);
		return HCP_EXIT_HULL_FAILED;
	}
	if (!quiet)
		printf("%-40s %-16s %-14s %-10s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "SIZE",
		       "CREATED");
	for (size_t i = 0; i < n; i++) {
		const char *id = it[i].manifest[0] ? it[i].manifest : it[i].digest;
		if (quiet) {
			printf("%.12s\n", id + 7);
			continue;
		}
		char repo[300], tag[160], size[32], created[20] = "-";
		split_ref(it[i].ref ? it[i].ref : "<none>", repo, sizeof(repo), tag, sizeof(tag));
		human(it[i].rootfs_bytes ? it[i].rootfs_bytes : it[i].compressed, size,
		      sizeof(size) - 1);
		if (!it[i].rootfs_bytes)
			strcat(size, "*");
		if (it[i].created && strlen(it[i].created) >= 16) {
			snprintf(created, sizeof(created), "%.16s", it[i].created);
			created[10] = ' ';
		}
		printf("%-40s %-16s %-14.12s %-10s %s\n", repo, tag, id + 7, size, created);
	}
	inventory_free(it, n);
	free(c.store);
	return status;
}

/* rmi and prune share --root/--help parsing. */
static int parse_root(int argc, char **argv, const char *usage, struct common *c)
{
	enum { O_ROOT = 256, O_HELP };
	static const struct option lo[] = {
	    {"root", required_argument, NULL, O_ROOT}, {"help", no_argument, NULL, O_HELP}, {0}};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == O_ROOT) {
			c->root = optarg;
		} else if (o == O_HELP) {
			fputs(usage, stdout);
			exit(0);
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	return store_of(c) ? HCP_EXIT_HULL_FAILED : 0;
}

static const char rmi_usage[] =
    "Usage: hull rmi [--root DIR] REF...\n"
    "\n"
    "Remove stored images by reference; the converted root filesystem and blobs\n"
    "go too when no other reference uses them.\n";

int rmi_main(int argc, char **argv)
{
	struct common c = {0};
	int status = parse_root(argc, argv, rmi_usage, &c);
	if (status)
		return status;
	if (optind >= argc) {
		fputs(rmi_usage, stderr);
		free(c.store);
		return 2;
	}
	uint64_t total = 0;
	for (int i = optind; i < argc; i++) {
		uint64_t freed;
		struct errmsg err = {{0}};
		if (inventory_rmi(c.store, argv[i], &freed, &err)) {
			fprintf(stderr, "hull: rmi %s: %s\n", argv[i], err.text);
			status = HCP_EXIT_HULL_FAILED;
			continue;
		}
		printf("Untagged: %s\n", argv[i]);
		total += freed;
	}
	char h[32];
	human(total, h, sizeof(h));
	printf("Reclaimed %s\n", h);
	free(c.store);
	return status;
}

static const char image_usage[] =
    "Usage: hull image [--root DIR] prune | ls | rm REF... | import FILE|DIR\n"
    "\n"
    "  prune   remove converted images and blobs no stored reference uses, and\n"
    "          debris of interrupted pulls, imports and conversions\n"
    "  ls, rm, import: the same as hull images, hull rmi, hull import\n";

int image_main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(image_usage, stderr);
		return 2;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "ls"))
		return images_main(argc - 1, argv + 1);
	if (!strcmp(verb, "rm"))
		return rmi_main(argc - 1, argv + 1);
	if (!strcmp(verb, "import"))
		return import_main(argc - 1, argv + 1);
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		fputs(image_usage, stdout);
		return 0;
	}
	if (strcmp(verb, "prune")) {
		fprintf(stderr, "hull: image: unknown command '%s'\n", verb);
		fputs(image_usage, stderr);
		return 2;
	}
	struct common c = {0};
	int status = parse_root(argc - 1, argv + 1, image_usage, &c);
	if (status)
		return status;
	uint64_t freed;
	struct errmsg err = {{0}};
	if (inventory_prune(c.store, &freed, &err)) {
		fprintf(stderr, "hull: image prune: %s\n", err.text);
		status = HCP_EXIT_HULL_FAILED;
	} else {
		char h[32];
		human(freed, h, sizeof(h));
		printf("Reclaimed %s\n", h);
	}
	free(c.store);
	return status;
}
