#include "snapshot_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/opts.h"
#include "runtime/paths.h"
#include "runtime/template.h"
#include "proto/hcp.h"
#include "vmm/vmm.h"

static const char snapshot_usage[] =
    "Usage: hull snapshot [--root DIR] ls|rm NAME...|prune [--all]\n"
    "\n"
    "Templates are VMs saved right after the guest booted; hull run starts from\n"
    "one when it fits (same hull, kernel, init, vCPUs, memory) and makes one on\n"
    "first use otherwise.\n"
    "  ls             list templates: size on disk, guest memory, age, status\n"
    "  rm NAME...     remove templates\n"
    "  prune [--all]  remove unusable templates and leftovers (--all: every one)\n"
    "\n"
    "Run 'hull snapshot COMMAND --help' for a command's options.\n";

enum { O_ROOT = 256, O_ALL };

static const struct opt root_opt[] = {
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {0},
};

static const struct opt prune_opts[] = {
    {O_ALL, 0, "all", NULL, "remove every template, usable ones too"},
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {0},
};

static const struct cmd_opts ls_cmd = {
    .name = "snapshot ls",
    .synopsis = "[OPTIONS]",
    .about = "List templates: size on disk, guest memory, age, status.\n",
    .opts = root_opt,
    .min_args = 0,
    .max_args = 0,
};

static const struct cmd_opts rm_cmd = {
    .name = "snapshot rm",
    .synopsis = "[OPTIONS] NAME...",
    .about = "Remove templates.\n",
    .opts = root_opt,
    .min_args = 1,
    .max_args = -1,
};

static const struct cmd_opts prune_cmd = {
    .name = "snapshot prune",
    .synopsis = "[OPTIONS]",
    .about = "Remove unusable templates and leftovers of interrupted saves.\n",
    .opts = prune_opts,
    .min_args = 0,
    .max_args = 0,
};

struct snap_opts {
	const char *root;
	bool all;
};

static int set_opt(void *ctx, int id, const char *v)
{
	struct snap_opts *o = ctx;
	if (id == O_ROOT)
		o->root = v;
	else
		o->all = true;
	return 0;
}

static void human(uint64_t b, char *out, size_t n)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB"};
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static int print_one(void *ctx, const struct vmm_template_info *in)
{
	(void)ctx;
	char disk[32], mem[32], when[32] = "-";
	human(in->disk_bytes, disk, sizeof(disk));
	human(in->mem_bytes, mem, sizeof(mem));
	time_t t = (time_t)in->created;
	struct tm tm;
	if (t && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	const char *status = in->partial  ? (in->in_progress ? "being written" : "leftover")
			     : in->usable ? "usable"
			     : in->why	  ? in->why
					  : "unusable";
	printf("%-34s %10s %10s  %-16s  %s\n", in->name, disk, mem, when, status);
	return 0;
}

struct prune_ctx {
	bool all;
	int removed, failed;
};

static int prune_one(void *ctx, const struct vmm_template_info *in)
{
	struct prune_ctx *p = ctx;
	if (in->in_progress || (!p->all && in->usable && !in->partial))
		return 0;
	struct errmsg err;
	if (vmm_template_remove(in->path, &err)) {
		fprintf(stderr, "hull: %s\n", err.text);
		p->failed++;
	} else {
		p->removed++;
	}
	return 0;
}

int snapshot_main(int argc, char **argv)
{
	struct snap_opts o = {0};
	int i = 1;
	/* `hull snapshot --root DIR VERB`, as before: --root may come first */
	while (i + 1 < argc && !strcmp(argv[i], "--root")) {
		o.root = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fputs(snapshot_usage, stderr);
		return 2;
	}
	const char *verb = argv[i];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		fputs(snapshot_usage, stdout);
		return 0;
	}
	const struct cmd_opts *cmd = !strcmp(verb, "ls")      ? &ls_cmd
				     : !strcmp(verb, "rm")    ? &rm_cmd
				     : !strcmp(verb, "prune") ? &prune_cmd
							      : NULL;
	if (!cmd) {
		fprintf(stderr, "hull: snapshot: unknown command '%s'\n", verb);
		fputs(snapshot_usage, stderr);
		return 2;
	}
	int first, prc = opts_parse(cmd, argc - i, argv + i, set_opt, &o, &first);
	if (prc)
		return prc == OPTS_HELP ? 0 : 2;
	first += i;
	const char *cli_root = o.root;
	bool all = o.all;
	char *store = paths_store_root(cli_root);
	char *root = store ? template_root(store) : NULL;
	int status = 0;
	struct errmsg err = {{0}};
	if (!root) {
		status = HCP_EXIT_HULL_FAILED;
	} else if (!strcmp(verb, "ls")) {
		printf("%-34s %10s %10s  %-16s  %s\n", "NAME", "DISK", "MEMORY", "CREATED",
		       "STATUS");
		if (vmm_template_list(root, print_one, NULL, &err)) {
			fprintf(stderr, "hull: %s\n", err.text);
			status = HCP_EXIT_HULL_FAILED;
		}
	} else if (!strcmp(verb, "rm")) {
		for (int i = first; i < argc && !status; i++) {
			if (strchr(argv[i], '/') || argv[i][0] == '.' || !argv[i][0]) {
				fprintf(stderr, "hull: snapshot rm %s: not a template name\n",
					argv[i]);
				status = HCP_EXIT_HULL_FAILED;
				continue;
			}
			char *dir;
			if (asprintf(&dir, "%s/%s", root, argv[i]) < 0) {
				status = HCP_EXIT_HULL_FAILED;
				break;
			}
			if (vmm_template_remove(dir, &err)) {
				fprintf(stderr, "hull: snapshot rm %s: %s\n", argv[i], err.text);
				status = HCP_EXIT_HULL_FAILED;
			}
			free(dir);
		}
	} else {
		struct prune_ctx p = {.all = all};
		if (vmm_template_list(root, prune_one, &p, &err)) {
			fprintf(stderr, "hull: %s\n", err.text);
			status = HCP_EXIT_HULL_FAILED;
		} else {
			printf("removed %d template(s)\n", p.removed);
			status = p.failed ? HCP_EXIT_HULL_FAILED : 0;
		}
	}
	free(store);
	free(root);
	return status;
}
