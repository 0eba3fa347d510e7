#include "images/inventory.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json.h>

#include "images/image.h"
#include "images/lstore.h"
#include "images/oci_json.h"
#include "images/oci_source.h"
#include "images/ref.h"
#include "images/store.h"

void inventory_free(struct inventory_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].ref);
		free(items[i].created);
	}
	free(items);
}

/* The config's "created", or NULL. */
static char *config_created(const char *buf, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL, *v;
	if (tok)
		json_tokener_free(tok);
	char *r = NULL;
	if (o && json_object_object_get_ex(o, "created", &v) &&
	    json_object_is_type(v, json_type_string))
		r = strdup(json_object_get_string(v));
	json_object_put(o);
	return r;
}

/* Fill the manifest, sizes and creation time of it (ref set). */
static void describe(struct oci_source *src, const struct store *st, struct inventory_item *it)
{
	struct oci_descriptor md;
	char *buf = NULL, *cbuf = NULL, hex[DIGEST_HEX_LEN + 1];
	size_t len, clen;
	struct oci_manifest m;
	memset(&m, 0, sizeof(m));
	if (image_resolve(src, it->ref, &md, NULL))
		return;
	snprintf(it->manifest, sizeof(it->manifest), "%s", md.digest);
	if (!oci_source_read_blob(src, &md, OCI_JSON_MAX, &buf, &len, NULL) &&
	    !oci_manifest_parse(buf, len, "manifest", &m, NULL)) {
		it->compressed = m.config.size;
		for (size_t i = 0; i < m.n_layers; i++)
			it->compressed += m.layers[i].size;
		if (!oci_source_read_blob(src, &m.config, OCI_JSON_MAX, &cbuf, &clen, NULL))
			it->created = config_created(cbuf, clen);
	}
	if (!digest_parse(md.digest, hex, "manifest", NULL)) {
		char *p = store_path(st, hex, ".ext4");
		struct stat sb;
		if (p && stat(p, &sb) == 0)
			it->rootfs_bytes = (uint64_t)sb.st_blocks * 512;
		free(p);
	}
	oci_manifest_free(&m);
	oci_descriptor_free(&md);
	free(buf);
	free(cbuf);
}

int inventory_list(const char *root, struct inventory_item **items, size_t *n, struct errmsg *err)
{
	*items = NULL;
	*n = 0;
	struct lstore ls;
	struct store st = {NULL};
	struct oci_source *src = NULL;
	struct lstore_entry *es = NULL;
	size_t ne = 0;
	int rc = lstore_open(root, &ls, err);
	if (rc)
		return rc;
	rc = lstore_list(&ls, &es, &ne, err);
	if (!rc)
		rc = store_open(root, &st, err);
	if (!rc)
		rc = oci_source_open(ls.dir, &src, err);
	struct inventory_item *v = ne ? calloc(ne, sizeof(*v)) : NULL;
	if (!rc && ne && !v)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < ne; i++) {
		v[i].ref = es[i].ref ? strdup(es[i].ref) : NULL;
		snprintf(v[i].digest, sizeof(v[i].digest), "%s", es[i].digest);
		if (v[i].ref)
			describe(src, &st, &v[i]);
		if (!v[i].created && es[i].created)
			v[i].created = strdup(es[i].created);
	}
	if (rc) {
		inventory_free(v, ne);
	} else {
		*items = v;
		*n = ne;
	}
	lstore_entries_free(es, ne);
	oci_source_close(src);
	store_close(&st);
	lstore_close(&ls);
	return rc;
}

/* The manifests the stored references use, for keep(). */
struct used {
	struct inventory_item *items;
	size_t n;
};

static bool is_used(void *ctx, const char *hex)
{
	const struct used *u = ctx;
	for (size_t i = 0; i < u->n; i++)
		if (u->items[i].manifest[0] && strcmp(u->items[i].manifest + 7, hex) == 0)
			return true;
	return false;
}

static int collect(const char *root, uint64_t *freed, struct errmsg *err)
{
	struct lstore ls;
	int rc = lstore_open(root, &ls, err);
	if (rc)
		return rc;
	uint64_t f = 0;
	rc = lstore_gc(&ls, &f, err);
	*freed += f;
	lstore_close(&ls);
	return rc;
}

int inventory_rmi(const char *root, const char *ref, uint64_t *freed, struct errmsg *err)
{
	*freed = 0;
	struct image_ref r;
	char *name = ref_parse(ref, &r, NULL) == 0 ? r.name : NULL;
	if (name) {
		r.name = NULL;
		ref_free(&r);
	}
	/* what it runs, before it goes */
	struct inventory_item *items;
	size_t n;
	int rc = inventory_list(root, &items, &n, err);
	if (rc) {
		free(name);
		return rc;
	}
	const char *key = name ? name : ref;
	char gone[72] = "";
	for (size_t i = 0; i < n; i++)
		if (items[i].ref && !strcmp(items[i].ref, key))
			memcpy(gone, items[i].manifest, sizeof(gone));
	inventory_free(items, n);

	struct lstore ls;
	rc = lstore_open(root, &ls, err);
	if (!rc) {
		rc = lstore_untag(&ls, key, NULL);
		if (rc == -ENOENT)
			errmsg_set(err, rc, "no such image: %s", ref);
		else if (rc)
			errmsg_set(err, rc, "removing %s: %s", ref, strerror(-rc));
		lstore_close(&ls);
	}
	if (!rc && gone[0] && !(rc = inventory_list(root, &items, &n, err))) {
		struct used u = {items, n};
		struct store st;
		if (!is_used(&u, gone + 7) && !(rc = store_open(root, &st, err))) {
			rc = store_remove(&st, gone + 7, freed, err);
			store_close(&st);
		}
		inventory_free(items, n);
	}
	if (!rc)
		rc = collect(root, freed, err);
	free(name);
	return rc;
}

int inventory_prune(const char *root, uint64_t *freed, struct errmsg *err)
{
	*freed = 0;
	int rc = collect(root, freed, err);
	struct inventory_item *items;
	size_t n;
	if (!rc)
		rc = inventory_list(root, &items, &n, err);
	if (rc)
		return rc;
	struct used u = {items, n};
	struct store st;
	rc = store_open(root, &st, err);
	if (!rc)
		rc = store_sweep(&st, is_used, &u, freed, err);
	store_close(&st);
	inventory_free(items, n);
	return rc;
}
