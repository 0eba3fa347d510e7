#include "system_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/opts.h"
#include "common/fileutil.h"
#include "common/size.h"
#include "common/version.h"
#include "images/inventory.h"
#include "runtime/paths.h"
#include "runtime/runtime.h"
#include "runtime/template.h"
#include "vmm/vmm.h"

enum { O_ROOT = 256 };

static const struct opt root_opts[] = {
    {O_ROOT, 0, "root", "DIR", "hull's state directory (images, templates)"},
    {0},
};

static int root_set(void *ctx, int id, const char *v)
{
	(void)id;
	*(const char **)ctx = v;
	return 0;
}

/* The three places hull keeps things (malloc'd; runtime may be NULL with
 * its reason in err). */
struct places {
	char *runtime, *store, *templates;
	struct errmsg err;
};

static void places_free(struct places *p)
{
	free(p->runtime);
	free(p->store);
	free(p->templates);
}

/* 0, or -ENOMEM after saying so (p freed) */
static int places_find(const char *root, struct places *p)
{
	memset(p, 0, sizeof(*p));
	if (runtime_root(&p->runtime, &p->err))
		p->runtime = NULL;
	p->store = paths_store_root(root);
	p->templates = p->store ? template_root(p->store) : NULL;
	if (p->store && p->templates)
		return 0;
	places_free(p);
	fprintf(stderr, "hull: out of memory\n");
	return -ENOMEM;
}

/* ---- containers ---- */

struct ctr_count {
	size_t n[4]; /* by effective status */
	size_t total;
	uint64_t bytes, reclaimable;
	char **running_digests; /* manifests of running containers' images */
	size_t n_running;
};

static int count_one(void *ctx, struct runtime_state *s)
{
	struct ctr_count *c = ctx;
	enum runtime_status st = runtime_status_eff(s, NULL);
	c->n[st]++;
	c->total++;
	uint64_t b = fileutil_dir_disk_bytes(s->dir);
	c->bytes += b;
	if (st != RUNTIME_RUNNING) {
		c->reclaimable += b;
		return 0;
	}
	char **d = realloc(c->running_digests, (c->n_running + 1) * sizeof(char *));
	if (!d)
		return -ENOMEM;
	c->running_digests = d;
	if (!(d[c->n_running] = strdup(s->digest)))
		return -ENOMEM;
	c->n_running++;
	return 0;
}

static void ctr_count_free(struct ctr_count *c)
{
	for (size_t i = 0; i < c->n_running; i++)
		free(c->running_digests[i]);
	free(c->running_digests);
}

static int containers(const struct places *p, struct ctr_count *c)
{
	memset(c, 0, sizeof(*c));
	if (!p->runtime)
		return -EACCES;
	int rc = runtime_list(p->runtime, count_one, c);
	return rc == -ENOENT ? 0 : rc;
}

/* ---- templates ---- */

struct tpl_count {
	size_t n, usable;
	uint64_t bytes;
};

static int tpl_one(void *ctx, const struct vmm_template_info *t)
{
	struct tpl_count *c = ctx;
	c->n++;
	c->usable += t->usable;
	c->bytes += t->disk_bytes;
	return 0;
}

/* ---- info ---- */

static const struct cmd_opts info_cmd = {
    .name = "info",
    .synopsis = "[OPTIONS]",
    .about = "Print what hull runs on and with: its version, where it keeps state, whether\n"
	     "KVM is usable here and which kind, the guest kernel and init, templates and\n"
	     "counts of containers and images.\n",
    .opts = root_opts,
    .min_args = 0,
    .max_args = 0,
};

/* /dev/kvm: usable, its API version; else why not. */
static void kvm_line(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf(" KVM: not usable: /dev/kvm: %s\n", strerror(errno));
		return;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	struct stat st;
	const char *kind = vmm_host_is_pvm()
			       ? "PVM (kvm_pvm: guest kernel mode is emulated, cold boots are slow)"
			   : stat("/sys/module/kvm_intel", &st) == 0 ? "VMX (kvm_intel)"
			   : stat("/sys/module/kvm_amd", &st) == 0   ? "SVM (kvm_amd)"
								     : "unknown";
	printf(" KVM: available (/dev/kvm, API version %d)\n KVM kind: %s\n", api, kind);
}

static void file_line(const char *what, const char *path)
{
	printf(" %s: %s%s\n", what, path ? path : "?",
	       path && access(path, R_OK) ? " (missing: build hull with the README's setup)" : "");
}

static int info_run(const char *root)
{
	struct places p;
	if (places_find(root, &p))
		return 1;
	int status = 0;
	struct utsname u;
	printf("Client:\n Version: %s\n", HULL_VERSION);
	printf("Server:\n");
	if (uname(&u) == 0)
		printf(" Host: %s %s %s, %ld CPUs\n", u.sysname, u.release, u.machine,
		       sysconf(_SC_NPROCESSORS_ONLN));
	kvm_line();
	char *kernel = paths_data_file("vmlinux"), *initrd = paths_data_file("initramfs.cpio");
	file_line("Guest kernel", kernel);
	file_line("Guest init", initrd);
	free(kernel);
	free(initrd);
	printf(" Runtime directory: %s\n", p.runtime ? p.runtime : p.err.text);
	printf(" Store root: %s\n", p.store);
	struct ctr_count c;
	int rc = containers(&p, &c);
	if (rc) {
		status = 1;
		printf(" Containers: ? (%s)\n", p.runtime ? strerror(-rc) : p.err.text);
	} else {
		printf(" Containers: %zu\n  Running: %zu\n  Created: %zu\n  Exited: %zu\n  Dead: "
		       "%zu\n",
		       c.total, c.n[RUNTIME_RUNNING], c.n[RUNTIME_CREATED], c.n[RUNTIME_EXITED],
		       c.n[RUNTIME_DEAD]);
	}
	ctr_count_free(&c);
	struct inventory_item *it;
	size_t n;
	struct errmsg err;
	if (inventory_list(p.store, &it, &n, &err)) {
		status = 1;
		printf(" Images: ? (%s)\n", err.text);
	} else {
		printf(" Images: %zu\n", n);
		inventory_free(it, n);
	}
	struct tpl_count t = {0};
	if (vmm_template_list(p.templates, tpl_one, &t, &err)) {
		status = 1;
		printf(" Templates: ? (%s)\n", err.text);
	} else {
		printf(" Templates: %zu (%zu usable here) in %s\n", t.n, t.usable, p.templates);
	}
	places_free(&p);
	return status;
}

int info_main(int argc, char **argv)
{
	const char *root = NULL;
	int first, rc = opts_parse(&info_cmd, argc, argv, root_set, &root, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	return info_run(root);
}

/* ---- system df ---- */

static const struct cmd_opts df_cmd = {
    .name = "system df",
    .synopsis = "[OPTIONS]",
    .about = "Show the disk space hull uses: images (their blobs and converted root\n"
	     "filesystems; active: used by a running container), containers (state and\n"
	     "logs; reclaimable: those not running, hull rm) and templates (pre-booted VMs;\n"
	     "all reclaimable: hull snapshot prune, the next run makes one again).\n",
    .opts = root_opts,
    .min_args = 0,
    .max_args = 0,
};

static void df_row(const char *type, size_t total, const char *active, uint64_t size,
		   uint64_t reclaim)
{
	char s[32], r[32], n[32];
	size_human(size, s, sizeof(s));
	size_human(reclaim, r, sizeof(r));
	snprintf(n, sizeof(n), "%zu", total);
	printf("%-14s %-8s %-8s %-12s %s (%.0f%%)\n", type, n, active, s, r,
	       size ? 100.0 * (double)reclaim / (double)size : 0.0);
}

static int df_run(const char *root)
{
	struct places p;
	if (places_find(root, &p))
		return 1;
	int status = 0;
	struct ctr_count c;
	int rc = containers(&p, &c);
	if (rc) {
		fprintf(stderr, "hull: system df: containers: %s\n",
			p.runtime ? strerror(-rc) : p.err.text);
		status = 1;
	}
	struct inventory_item *it = NULL;
	size_t n = 0;
	struct errmsg err;
	if (inventory_list(p.store, &it, &n, &err)) {
		fprintf(stderr, "hull: system df: images: %s\n", err.text);
		status = 1;
		n = 0;
	}
	uint64_t isize = 0, ireclaim = 0;
	size_t iactive = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t b = it[i].compressed + it[i].rootfs_bytes;
		bool active = false;
		for (size_t k = 0; k < c.n_running && !active; k++)
			active = it[i].manifest[0] && !strcmp(c.running_digests[k], it[i].manifest);
		isize += b;
		iactive += active;
		if (!active)
			ireclaim += b;
	}
	struct tpl_count t = {0};
	if (vmm_template_list(p.templates, tpl_one, &t, &err)) {
		fprintf(stderr, "hull: system df: templates: %s\n", err.text);
		status = 1;
	}
	char a[3][32];
	snprintf(a[0], sizeof(a[0]), "%zu", iactive);
	snprintf(a[1], sizeof(a[1]), "%zu", c.n[RUNTIME_RUNNING]);
	snprintf(a[2], sizeof(a[2]), "%zu", t.usable);
	printf("%-14s %-8s %-8s %-12s %s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
	df_row("Images", n, a[0], isize, ireclaim);
	df_row("Containers", c.total, a[1], c.bytes, c.reclaimable);
	df_row("Templates", t.n, a[2], t.bytes, t.bytes);
	if (it)
		inventory_free(it, n);
	ctr_count_free(&c);
	places_free(&p);
	return status;
}

static const char system_usage[] = "Usage: hull system COMMAND [OPTIONS]\n\n"
				   "Commands:\n"
				   "  df     show hull's disk usage\n"
				   "  info   the same as hull info\n\n"
				   "Run 'hull system COMMAND --help' for a command's options.\n";

int system_main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(system_usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(system_usage, stdout);
		return 0;
	}
	const char *root = NULL;
	int first, rc;
	if (!strcmp(argv[1], "df")) {
		rc = opts_parse(&df_cmd, argc - 1, argv + 1, root_set, &root, &first);
		return rc ? (rc == OPTS_HELP ? 0 : 2) : df_run(root);
	}
	if (!strcmp(argv[1], "info")) {
		rc = opts_parse(&info_cmd, argc - 1, argv + 1, root_set, &root, &first);
		return rc ? (rc == OPTS_HELP ? 0 : 2) : info_run(root);
	}
	fprintf(stderr, "hull system: unknown command '%s'\n", argv[1]);
	fputs(system_usage, stderr);
	return 2;
}
