#include "snapshot_cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/format.h"
#include "common/size.h"
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

enum { O_ROOT = 256, O_ALL, O_FORMAT };

static const struct opt root_opt[] = {
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {0},
};

static const struct opt ls_opts[] = {
    {O_ROOT, 0, "root", "DIR", "hull's state directory"},
    {O_FORMAT, 0, "format", "FORMAT",
     "json (one object per line), table, table TEMPLATE,\n"
     "or a Go template: {{.Name}} {{.Vcpus}} {{json .}}"},
    {'q', 'q', "quiet", NULL, "only the templates' names"},
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
    .about = "List templates: what each is for (the vCPUs, memory, NIC and number of\n"
	     "volumes of the runs that start from it), size on disk, age, status.\n",
    .opts = ls_opts,
    .footer = "Template fields: Name Path For Vcpus Memory MemoryBytes Nic Volumes Disk\n"
	      "DiskBytes CreatedAt Created Status Usable Key.\n",
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
	const char *root, *format;
	bool all, quiet;
};

static int set_opt(void *ctx, int id, const char *v)
{
	struct snap_opts *o = ctx;
	if (id == O_ROOT)
		o->root = v;
	else if (id == O_FORMAT)
		o->format = v;
	else if (id == 'q')
		o->quiet = true;
	else
		o->all = true;
	return 0;
}

/* A field of the template's key ("...; cpus 2; mem 536870912; ..."), the
 * monitor's description of what shaped the guest (vmm_template_key). */
static bool key_field(const char *key, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = key; p && *p; p = strchr(p, ';'), p = p ? p + 1 : NULL) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, nl) && p[nl] == ' ') {
			snprintf(out, n, "%.*s", (int)strcspn(p + nl + 1, ";"), p + nl + 1);
			return true;
		}
	}
	return false;
}

static void add_s(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* what the template is for: "2 vCPUs, 512.0 MiB, NIC, 1 volume" */
static json_object *template_item(const struct vmm_template_info *in)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	char disk[32], mem[32], when[32] = "-", cpus[16] = "?", nic[32] = "?", vols[16] = "?",
				forw[160];
	size_human_iec(in->disk_bytes, disk, sizeof(disk));
	size_human_iec(in->mem_bytes, mem, sizeof(mem));
	time_t t = (time_t)in->created;
	struct tm tm;
	if (t && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	const char *status = in->partial  ? (in->in_progress ? "being written" : "leftover")
			     : in->usable ? "usable"
			     : in->why	  ? in->why
					  : "unusable";
	const char *key = in->key ? in->key : "";
	key_field(key, "cpus", cpus, sizeof(cpus));
	key_field(key, "nic", nic, sizeof(nic));
	key_field(key, "volumes", vols, sizeof(vols));
	/* the parts the key names (an older hull's key may lack some) */
	int fl = 0;
	if (in->key && strcmp(cpus, "?"))
		fl = snprintf(forw, sizeof(forw), "%s vCPU%s, %s", cpus,
			      strcmp(cpus, "1") ? "s" : "", mem);
	else
		fl = snprintf(forw, sizeof(forw), "%s", in->key ? mem : "?");
	if (in->key && strcmp(nic, "?") && fl > 0 && (size_t)fl < sizeof(forw))
		fl += snprintf(forw + fl, sizeof(forw) - (size_t)fl, ", %s",
			       !strcmp(nic, "none") ? "no NIC" : "NIC");
	if (in->key && strcmp(vols, "?") && fl > 0 && (size_t)fl < sizeof(forw))
		snprintf(forw + fl, sizeof(forw) - (size_t)fl, ", %s volume%s", vols,
			 strcmp(vols, "1") ? "s" : "");
	add_s(o, "Name", in->name);
	add_s(o, "Path", in->path);
	add_s(o, "For", forw);
	json_object_object_add(o, "Vcpus", json_object_new_int(atoi(cpus)));
	add_s(o, "Memory", mem);
	json_object_object_add(o, "MemoryBytes", json_object_new_int64((int64_t)in->mem_bytes));
	add_s(o, "Nic", nic);
	json_object_object_add(o, "Volumes", json_object_new_int(atoi(vols)));
	add_s(o, "Disk", disk);
	json_object_object_add(o, "DiskBytes", json_object_new_int64((int64_t)in->disk_bytes));
	add_s(o, "CreatedAt", when);
	json_object_object_add(o, "Created", json_object_new_int64(in->created));
	add_s(o, "Status", status);
	json_object_object_add(o, "Usable", json_object_new_boolean(in->usable && !in->partial));
	add_s(o, "Key", key);
	return o;
}

struct ls_ctx {
	struct format *fmt;
	bool quiet;
	int rc;
	struct errmsg err;
};

static int print_one(void *ctx, const struct vmm_template_info *in)
{
	struct ls_ctx *l = ctx;
	if (l->quiet) {
		printf("%s\n", in->name);
		return 0;
	}
	json_object *o = template_item(in);
	l->rc = o ? format_add(l->fmt, o, &l->err) : -ENOMEM;
	json_object_put(o);
	return l->rc;
}

static const struct format_header ls_heads[] = {
    {"Name", "NAME"},	      {"For", "FOR"},
    {"Disk", "DISK"},	      {"Memory", "MEMORY"},
    {"CreatedAt", "CREATED"}, {"Status", "STATUS"},
    {"Vcpus", "VCPUS"},	      {"Nic", "NIC"},
    {"Volumes", "VOLUMES"},   {0},
};

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
		struct ls_ctx l = {.quiet = o.quiet};
		if (!o.quiet && format_new(o.format,
					   "table {{.Name}}\\t{{.For}}\\t{{.Disk}}\\t{{.CreatedAt}}"
					   "\\t{{.Status}}",
					   ls_heads, &l.fmt, &err)) {
			fprintf(stderr, "hull snapshot ls: --format: %s\n", err.text);
			status = 2;
		} else if (vmm_template_list(root, print_one, &l, &err)) {
			if (l.rc)
				fprintf(stderr, "hull snapshot ls: --format: %s\n",
					l.rc == -ENOMEM ? "out of memory" : l.err.text);
			else
				fprintf(stderr, "hull: %s\n", err.text);
			status = HCP_EXIT_HULL_FAILED;
		} else if (l.fmt) {
			format_flush(l.fmt, stdout);
		}
		format_free(l.fmt);
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
