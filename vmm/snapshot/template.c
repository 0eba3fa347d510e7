/* template: templates on disk as vmm.h presents them (naming, listing,
 * removal). Apart from vm.c so that a front end can manage templates
 * (hull snapshot) linking this, snapshot.c and vmstate.c only. */
#include "vmm/vmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sha256.h"
#include "common/version.h"
#include "vmm/snapshot/snapshot.h"

char *vmm_template_dir(const char *root, const char *key)
{
	uint8_t md[SHA256_LEN];
	char hex[33], *s;
	sha256(key, strlen(key), md);
	/* 128 bits of name are plenty for a cache; the key inside decides */
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return asprintf(&s, "%s/%s", root, hex) < 0 ? NULL : s;
}

bool vmm_template_exists(const char *dir)
{
	char *p;
	if (asprintf(&p, "%s/state", dir) < 0)
		return false;
	bool ok = access(p, F_OK) == 0;
	free(p);
	return ok;
}

int vmm_template_remove(const char *dir, struct errmsg *err)
{
	return snapshot_remove(dir, err);
}

struct list_ctx {
	vmm_template_fn fn;
	void *ctx;
};

static int list_one(void *ctx, const struct snapshot_info *in)
{
	struct list_ctx *l = ctx;
	struct vmm_template_info t = {
	    .name = in->name,
	    .path = in->path,
	    .key = in->key,
	    .disk_bytes = in->disk_bytes,
	    .mem_bytes = in->mem_bytes,
	    .created = in->created,
	    .usable = in->valid,
	    .why = in->why,
	    .partial = in->partial,
	    .in_progress = in->in_progress,
	};
	return l->fn(l->ctx, &t);
}

int vmm_template_list(const char *root, vmm_template_fn fn, void *ctx, struct errmsg *err)
{
	struct snapshot_expect e = {.hull_version = HULL_VERSION};
	struct list_ctx l = {fn, ctx};
	return snapshot_list(root, &e, list_one, &l, err);
}
