#include "image_cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "cli/imgopt.h"
#include "cli/opts.h"
#include "common/size.h"
#include "runtime/paths.h"
#include "images/import.h"
#include "images/inventory.h"
#include "proto/hcp.h"

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

enum { O_ROOT = 256, O_NAME, O_MAX, O_FORMAT };

static const struct opt import_opts[] = {
    {O_NAME, 0, "name", "REF", "store the (only) image under this reference"},
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {O_MAX, 0, "max-image-size", "SIZE", IMGOPT_MAX_SIZE_TEXT},
    {0},
};

static const struct cmd_opts import_cmd = {
    .name = "import",
    .synopsis = "[OPTIONS] FILE|DIR",
    .about = "Store the images of a docker-archive (docker save), an oci-archive or an OCI\n"
	     "image layout under their names, and convert them for hull run.\n",
    .opts = import_opts,
    .min_args = 1,
    .max_args = 1,
};

struct import_opts {
	struct common c;
	const char *name, *max;
};

static int import_set(void *ctx, int id, const char *v)
{
	struct import_opts *o = ctx;
	if (id == O_ROOT)
		o->c.root = v;
	else if (id == O_NAME)
		o->name = v;
	else
		o->max = v;
	return 0;
}

int import_main(int argc, char **argv)
{
	struct import_opts o = {0};
	int first, prc = opts_parse(&import_cmd, argc, argv, import_set, &o, &first);
	if (prc)
		return prc == OPTS_HELP ? 0 : 2;
	struct common c = o.c;
	const char *name = o.name;
	struct image_limits lim;
	if (imgopt_limits(o.max, &lim) || store_of(&c))
		return HCP_EXIT_HULL_FAILED;
	struct import_result r;
	struct errmsg err = {{0}};
	int status = 0;
	if (image_import(c.store, argv[first], name, &lim, &r, &err)) {
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

static const struct opt images_opts[] = {
    {'q', 'q', "quiet", NULL, "only the image ids (manifest digests, short)"},
    {O_FORMAT, 0, "format", "FORMAT",
     "json (one object per line), table, table TEMPLATE,\n"
     "or a Go template: {{.Repository}}:{{.Tag}} {{json .}}"},
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {0},
};

static const struct cmd_opts images_cmd = {
    .name = "images",
    .synopsis = "[OPTIONS]",
    .about = "List stored images. SIZE is the disk space of the converted root filesystem\n"
	     "(what hull run uses); an image not converted yet shows its compressed size\n"
	     "with a '*'. CREATED is the image config's creation time (UTC).\n",
    .opts = images_opts,
    .min_args = 0,
    .max_args = 0,
    .footer = "Template fields: Repository Tag ID Digest Size CreatedAt Converted.\n",
};

struct images_opts {
	struct common c;
	bool quiet;
	const char *format;
};

static int images_set(void *ctx, int id, const char *v)
{
	struct images_opts *o = ctx;
	if (id == 'q')
		o->quiet = true;
	else if (id == O_FORMAT)
		o->format = v;
	else
		o->c.root = v;
	return 0;
}

static const struct format_header images_heads[] = {
    {"Repository", "REPOSITORY"},
    {"Tag", "TAG"},
    {"ID", "IMAGE ID"},
    {"Digest", "DIGEST"},
    {"Size", "SIZE"},
    {"CreatedAt", "CREATED"},
    {"Converted", "CONVERTED"},
    {0},
};

static json_object *image_item(const struct inventory_item *it)
{
	const char *id = it->manifest[0] ? it->manifest : it->digest;
	char repo[300], tag[160], size[32], created[20] = "-", sid[16];
	split_ref(it->ref ? it->ref : "<none>", repo, sizeof(repo), tag, sizeof(tag));
	size_human(it->rootfs_bytes ? it->rootfs_bytes : it->compressed, size, sizeof(size) - 1);
	if (!it->rootfs_bytes)
		strcat(size, "*");
	if (it->created && strlen(it->created) >= 16) {
		snprintf(created, sizeof(created), "%.16s", it->created);
		created[10] = ' ';
	}
	snprintf(sid, sizeof(sid), "%.12s", strlen(id) > 7 ? id + 7 : id);
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "Repository", json_object_new_string(repo));
	json_object_object_add(o, "Tag", json_object_new_string(tag));
	json_object_object_add(o, "ID", json_object_new_string(sid));
	json_object_object_add(o, "Digest", json_object_new_string(id));
	json_object_object_add(o, "Size", json_object_new_string(size));
	json_object_object_add(o, "CreatedAt", json_object_new_string(created));
	json_object_object_add(o, "Converted", json_object_new_boolean(it->rootfs_bytes != 0));
	return o;
}

int images_main(int argc, char **argv)
{
	struct images_opts o = {0};
	int first, prc = opts_parse(&images_cmd, argc, argv, images_set, &o, &first);
	if (prc)
		return prc == OPTS_HELP ? 0 : 2;
	struct common c = o.c;
	bool quiet = o.quiet;
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
	struct format *fmt = NULL;
	if (!quiet &&
	    format_new(o.format,
		       "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Size}}\\t{{.CreatedAt}}",
		       images_heads, &fmt, &err)) {
		fprintf(stderr, "hull images: --format: %s\n", err.text);
		status = 2;
	}
	for (size_t i = 0; !status && i < n; i++) {
		const char *id = it[i].manifest[0] ? it[i].manifest : it[i].digest;
		if (quiet) {
			printf("%.12s\n", id + 7);
			continue;
		}
		json_object *obj = image_item(&it[i]);
		int rc = obj ? format_add(fmt, obj, &err) : -ENOMEM;
		json_object_put(obj);
		if (rc) {
			fprintf(stderr, "hull images: --format: %s\n",
				rc == -ENOMEM ? "out of memory" : err.text);
			status = 1;
		}
	}
	if (!status && fmt)
		format_flush(fmt, stdout);
	format_free(fmt);
	inventory_free(it, n);
	free(c.store);
	return status;
}

/* rmi and prune take --root only. */
static const struct opt root_opts[] = {
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {0},
};

static int root_set(void *ctx, int id, const char *v)
{
	(void)id;
	((struct common *)ctx)->root = v;
	return 0;
}

/* 0, or the exit status: 0 after --help, 2 for bad usage, 125. *first: the
 * first argument's index. */
static int parse_root(const struct cmd_opts *cmd, int argc, char **argv, struct common *c,
		      int *first, bool *done)
{
	int prc = opts_parse(cmd, argc, argv, root_set, c, first);
	*done = prc != 0;
	if (prc)
		return prc == OPTS_HELP ? 0 : 2;
	if (store_of(c)) {
		*done = true;
		return HCP_EXIT_HULL_FAILED;
	}
	return 0;
}

static const struct cmd_opts rmi_cmd = {
    .name = "rmi",
    .synopsis = "[OPTIONS] REF...",
    .about = "Remove stored images by reference; the converted root filesystem and blobs\n"
	     "go too when no other reference uses them.\n",
    .opts = root_opts,
    .min_args = 1,
    .max_args = -1,
};

int rmi_main(int argc, char **argv)
{
	struct common c = {0};
	bool done;
	int first, status = parse_root(&rmi_cmd, argc, argv, &c, &first, &done);
	if (done)
		return status;
	uint64_t total = 0;
	for (int i = first; i < argc; i++) {
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
	size_human(total, h, sizeof(h));
	printf("Reclaimed %s\n", h);
	free(c.store);
	return status;
}

static const struct cmd_opts prune_cmd = {
    .name = "image prune",
    .synopsis = "[OPTIONS]",
    .about = "Remove converted images and blobs no stored reference uses, and debris of\n"
	     "interrupted pulls, imports and conversions.\n",
    .opts = root_opts,
    .min_args = 0,
    .max_args = 0,
};

static const char image_usage[] =
    "Usage: hull image COMMAND\n"
    "\n"
    "  prune   remove converted images and blobs no stored reference uses, and\n"
    "          debris of interrupted pulls, imports and conversions\n"
    "  ls, rm, import: the same as hull images, hull rmi, hull import\n"
    "\n"
    "Run 'hull image COMMAND --help' for a command's options.\n";

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
	bool done;
	int first, status = parse_root(&prune_cmd, argc - 1, argv + 1, &c, &first, &done);
	if (done)
		return status;
	uint64_t freed;
	struct errmsg err = {{0}};
	if (inventory_prune(c.store, &freed, &err)) {
		fprintf(stderr, "hull: image prune: %s\n", err.text);
		status = HCP_EXIT_HULL_FAILED;
	} else {
		char h[32];
		size_human(freed, h, sizeof(h));
		printf("Reclaimed %s\n", h);
	}
	free(c.store);
	return status;
}
