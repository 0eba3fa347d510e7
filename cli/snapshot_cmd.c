#include "snapshot_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/paths.h"
#include "cli/template.h"
#include "vmm/snapshot/snapshot.h"

#ifndef HULL_VERSION
#define HULL_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f, "Usage: hull snapshot [--root DIR] ls|rm NAME...|prune [--all]\n"
		   "\n"
		   "Templates are VMs saved right after the guest booted; hull run starts from\n"
		   "one when it fits (same hull, kernel, init, vCPUs, memory) and makes one on\n"
		   "first use otherwise.\n"
		   "  ls             list templates: size on disk, guest memory, age, status\n"
		   "  rm NAME...     remove templates\n"
		   "  prune [--all]  remove unusable templates and leftovers (--all: every one)\n");
}

static void human(uint64_t b, char *out, size_t n)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB" };
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static int print_one(void *ctx, const struct snapshot_info *in)
{
	(void)ctx;
	char disk[32], mem[32], when[32] = "-";
	human(in->disk_bytes, disk, sizeof(disk));
	human(in->mem_bytes, mem, sizeof(mem));
	time_t t = (time_t)in->created;
	struct tm tm;
	if (t && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	const char *status = in->partial ? (in->in_progress ? "being written" : "leftover")
			     : in->valid ? "usable"
					 : in->why ? in->why : "unusable";
	printf("%-34s %10s %10s  %-16s  %s\n", in->name, disk, mem, when, status);
	return 0;
}

struct prune_ctx {
	bool all;
	int removed, failed;
};

static int prune_one(void *ctx, const struct snapshot_info *in)
{
	struct prune_ctx *p = ctx;
	if (in->in_progress || (!p->all && in->valid && !in->partial))
		return 0;
	struct errmsg err;
	if (snapshot_remove(in->path, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		p->failed++;
	} else {
		p->removed++;
	}
	return 0;
}

int snapshot_main(int argc, char **argv)
{
	static const struct option lo[] = { { "root", required_argument, NULL, 'r' },
					    { "all", no_argument, NULL, 'a' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	const char *cli_root = NULL;
	bool all = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (c == 'r')
			cli_root = optarg;
		else if (c == 'a')
			all = true;
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *verb = argv[optind++];
	/* prune's --all may follow the verb */
	for (int i = optind; i < argc; i++)
		if (!strcmp(argv[i], "--all"))
			all = true;
	char *store = paths_store_root(cli_root);
	char *root = store ? template_root(store) : NULL;
	int status = 0;
	struct errmsg err = { { 0 } };
	struct snapshot_expect e = { .hull_version = HULL_VERSION };
	if (!root) {
		status = 125;
	} else if (!strcmp(verb, "ls")) {
		printf("%-34s %10s %10s  %-16s  %s\n", "NAME", "DISK", "MEMORY", "CREATED",
		       "STATUS");
		if (snapshot_list(root, &e, print_one, NULL, &err)) {
			fprintf(stderr, "hull: %s\n", err.text);
			status = 125;
		}
	} else if (!strcmp(verb, "rm")) {
		if (optind >= argc) {
			usage(stderr);
			status = 2;
		}
		for (int i = optind; i < argc && !status; i++) {
			if (strchr(argv[i], '/') || argv[i][0] == '.' || !argv[i][0]) {
				fprintf(stderr, "hull: snapshot rm %s: not a template name\n", argv[i]);
				status = 125;
				continue;
			}
			char *dir;
			if (asprintf(&dir, "%s/%s", root, argv[i]) < 0) {
				status = 125;
				break;
			}
			if (snapshot_remove(dir, &err)) {
				fprintf(stderr, "hull: snapshot rm %s: %s\n", argv[i], err.text);
				status = 125;
			}
			free(dir);
		}
	} else if (!strcmp(verb, "prune")) {
		struct prune_ctx p = { .all = all };
		if (snapshot_list(root, &e, prune_one, &p, &err)) {
			fprintf(stderr, "hull: %s\n", err.text);
			status = 125;
		} else {
			printf("removed %d template(s)\n", p.removed);
			status = p.failed ? 125 : 0;
		}
	} else {
		fprintf(stderr, "hull: snapshot: unknown command '%s'\n", verb);
		usage(stderr);
		status = 2;
	}
	free(store);
	free(root);
	return status;
}
