#include "images/fstree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fstree {
	struct fstree_node *root;
	struct fstree_node **buckets;
	size_t n_buckets; /* power of two */
	size_t n_nodes;
	size_t n_inodes;
	fstree_release_fn release;
	void *ctx;
	int release_rc; /* first release error of the current apply */
	uint64_t hide_visits;
};

/* ---- paths ---- */

int fstree_normalize(const char *path, char *out)
{
	size_t o = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (o == 0)
				return -EINVAL;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the '/' before the popped component */
			continue;
		}
		if (n > FSTREE_NAME_MAX)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* ---- hash of (parent, name) ---- */

static uint32_t hash_of(const struct fstree_node *parent, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static int grow(struct fstree *t)
{
	size_t nb = t->n_buckets * 2;
	struct fstree_node **b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct fstree_node *n = t->buckets[i];
		while (n) {
			struct fstree_node *next = n->hnext;
			size_t k = n->hash & (nb - 1);
			n->hnext = b[k];
			b[k] = n;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = nb;
	return 0;
}

static struct fstree_node *child(struct fstree *t, struct fstree_node *dir, const char *name,
				 size_t len)
{
	uint32_t h = hash_of(dir, name, len);
	for (struct fstree_node *n = t->buckets[h & (t->n_buckets - 1)]; n; n = n->hnext)
		if (n->hash == h && n->parent == dir && strncmp(n->name, name, len) == 0 &&
		    n->name[len] == '\0')
			return n;
	return NULL;
}

/* ---- inodes and nodes ---- */

static void free_xattrs(struct fstree_inode *ino)
{
	for (size_t i = 0; i < ino->n_xattrs; i++) {
		free(ino->xattrs[i].name);
		free(ino->xattrs[i].value);
	}
	free(ino->xattrs);
	ino->xattrs = NULL;
	ino->n_xattrs = 0;
}

static void free_inode(struct fstree_inode *ino)
{
	free_xattrs(ino);
	free(ino->symlink);
	free(ino);
}

static int set_xattrs(struct fstree_inode *ino, const struct fstree_entry *e)
{
	free_xattrs(ino);
	if (!e->n_xattrs)
		return 0;
	ino->xattrs = calloc(e->n_xattrs, sizeof(*ino->xattrs));
	if (!ino->xattrs)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_xattrs; i++) {
		struct fstree_xattr *x = &ino->xattrs[i];
		x->name = strdup(e->xattrs[i].name);
		x->value = malloc(e->xattrs[i].len ? e->xattrs[i].len : 1);
		ino->n_xattrs = i + 1;
		if (!x->name || !x->value)
			return -ENOMEM;
		memcpy(x->value, e->xattrs[i].value, e->xattrs[i].len);
		x->len = e->xattrs[i].len;
	}
	return 0;
}

static void set_attrs(struct fstree_inode *ino, const struct fstree_entry *e)
{
	ino->perm = e->perm & 07777;
	ino->uid = e->uid;
	ino->gid = e->gid;
	ino->mtime = e->mtime;
	ino->mtime_nsec = e->mtime_nsec;
}

static void unref_inode(struct fstree *t, struct fstree_inode *ino)
{
	if (--ino->nlink)
		return;
	if (t->release) {
		int rc = t->release(t->ctx, ino);
		if (rc && !t->release_rc)
			t->release_rc = rc;
	}
	t->n_inodes--;
	free_inode(ino);
}

static int add_node(struct fstree *t, struct fstree_node *dir, const char *name, size_t len,
		    struct fstree_inode *ino, unsigned layer, struct fstree_node **out)
{
	if (t->n_nodes >= t->n_buckets && grow(t))
		return -ENOMEM;
	struct fstree_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->name = strndup(name, len);
	if (!n->name) {
		free(n);
		return -ENOMEM;
	}
	n->parent = dir;
	n->inode = ino;
	n->layer = layer;
	n->clean = layer + 1; /* nothing below it yet */
	ino->nlink++;
	n->hash = hash_of(dir, name, len);
	size_t k = n->hash & (t->n_buckets - 1);
	n->hnext = t->buckets[k];
	t->buckets[k] = n;
	n->prev = dir->last_child;
	if (dir->last_child)
		dir->last_child->next = n;
	else
		dir->first_child = n;
	dir->last_child = n;
	dir->n_children++;
	t->n_nodes++;
	*out = n;
	return 0;
}

static void remove_node(struct fstree *t, struct fstree_node *n)
{
	while (n->first_child)
		remove_node(t, n->first_child);
	struct fstree_node *dir = n->parent;
	struct fstree_node **pp = &t->buckets[n->hash & (t->n_buckets - 1)];
	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	if (n->prev)
		n->prev->next = n->next;
	else
		dir->first_child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		dir->last_child = n->prev;
	dir->n_children--;
	t->n_nodes--;
	unref_inode(t, n->inode);
	free(n->name);
	free(n);
}

static struct fstree_inode *new_inode(struct fstree *t, enum fstree_type type)
{
	struct fstree_inode *ino = calloc(1, sizeof(*ino));
	if (ino) {
		ino->type = type;
		t->n_inodes++;
	}
	return ino;
}

int fstree_new(fstree_release_fn release, void *ctx, struct fstree **out)
{
	struct fstree *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->release = release;
	t->ctx = ctx;
	t->n_buckets = 1024;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	t->root = calloc(1, sizeof(*t->root));
	if (t->root)
		t->root->name = strdup("");
	if (t->root)
		t->root->inode = new_inode(t, FSTREE_DIR);
	if (!t->buckets || !t->root || !t->root->name || !t->root->inode) {
		fstree_free(t);
		return -ENOMEM;
	}
	t->root->inode->nlink = 1;
	t->root->inode->perm = 0755;
	*out = t;
	return 0;
}

void fstree_free(struct fstree *t)
{
	if (!t)
		return;
	if (t->root && t->buckets) {
		t->release = NULL;
		while (t->root->first_child)
			remove_node(t, t->root->first_child);
	}
	if (t->root) {
		if (t->root->inode)
			free_inode(t->root->inode);
		free(t->root->name);
		free(t->root);
	}
	free(t->buckets);
	free(t);
}

struct fstree_node *fstree_root(struct fstree *t)
{
	return t->root;
}

size_t fstree_inode_count(const struct fstree *t)
{
	return t->n_inodes;
}

uint64_t fstree_hide_visits(const struct fstree *t)
{
	return t->hide_visits;
}

/* ---- resolution ---- */

/* Walk the directories of norm ("a/b/c" -> a, a/b), never following a
 * symlink. With create, missing directories are made (attributes of an
 * implicit parent: 0755 root:root, mtime 0). *dir is NULL when a component
 * is missing and !create. *last points at the final component in norm. */
static int walk(struct fstree *t, unsigned layer, const char *norm, bool create, const char *entry,
		struct fstree_node **dir, const char **last, struct errmsg *err)
{
	struct fstree_node *d = t->root;
	const char *p = norm;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		size_t len = (size_t)(slash - p);
		struct fstree_node *c = child(t, d, p, len);
		if (!c) {
			if (!create) {
				*dir = NULL;
				*last = NULL;
				return 0;
			}
			struct fstree_inode *ino = new_inode(t, FSTREE_DIR);
			if (!ino)
				return -ENOMEM;
			ino->perm = 0755;
			int rc = add_node(t, d, p, len, ino, layer, &c);
			if (rc) {
				t->n_inodes--;
				free_inode(ino);
				return rc;
			}
		} else if (c->inode->type != FSTREE_DIR) {
			int plen = (int)(slash - norm);
			if (c->inode->type == FSTREE_SYMLINK)
				return errmsg_set(err, -ELOOP,
						  "entry '%s': '%.*s' is a symlink; paths through "
						  "symlinks are refused",
						  entry, plen, norm);
			return errmsg_set(err, -ENOTDIR, "entry '%s': '%.*s' is not a directory",
					  entry, plen, norm);
		}
		d = c;
		p = slash + 1;
	}
	*dir = d;
	*last = p;
	return 0;
}

struct fstree_node *fstree_lookup(struct fstree *t, const char *path)
{
	char *norm = malloc(strlen(path) + 1);
	struct fstree_node *d = NULL, *r = NULL;
	const char *last;
	if (!norm || fstree_normalize(path, norm))
		goto out;
	if (!*norm) {
		r = t->root;
		goto out;
	}
	if (walk(t, 0, norm, false, path, &d, &last, NULL) || !d)
		goto out;
	r = child(t, d, last, strlen(last));
out:
	free(norm);
	return r;
}

/* Remove what layers before `layer` set below directory d. Once done, every
 * node below d belongs to `layer` (a lower directory kept because this layer
 * put something in it is taken over by it), and d->clean records that. Nodes
 * added later in the same layer belong to it too, so the subtree stays clean
 * for the rest of the layer and a second whiteout or opaque marker over it
 * costs O(1): each directory is walked at most once per layer, and each node
 * visited is either removed or belongs to the layer. */
static void hide_lower(struct fstree *t, struct fstree_node *n, unsigned layer);

static void hide_children(struct fstree *t, struct fstree_node *d, unsigned layer)
{
	if (d->clean == layer + 1)
		return;
	struct fstree_node *c = d->first_child;
	while (c) {
		struct fstree_node *next = c->next;
		hide_lower(t, c, layer);
		c = next;
	}
	d->clean = layer + 1;
}

/* Remove what layers before `layer` set in the subtree of n (see header). */
static void hide_lower(struct fstree *t, struct fstree_node *n, unsigned layer)
{
	t->hide_visits++;
	if (n->inode->type == FSTREE_DIR) {
		hide_children(t, n, layer);
		if (n->layer < layer && !n->first_child)
			remove_node(t, n);
		else
			n->layer = layer;
	} else if (n->layer < layer) {
		remove_node(t, n);
	}
}

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static int apply(struct fstree *t, unsigned layer, const struct fstree_entry *e, char *norm,
		 struct fstree_inode **created, struct errmsg *err)
{
	int rc;
	if (!*norm) {
		if (e->type != FSTREE_DIR)
			return errmsg_set(err, -EINVAL, "entry '%s': the root must be a directory",
					  e->path);
		set_attrs(t->root->inode, e);
		t->root->layer = layer;
		return set_xattrs(t->root->inode, e);
	}
	struct fstree_node *dir;
	const char *name;
	rc = walk(t, layer, norm, true, e->path, &dir, &name, err);
	if (rc)
		return rc;
	size_t nlen = strlen(name);

	if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
		if (strcmp(name, WH_OPAQUE) == 0) {
			hide_children(t, dir, layer);
			return 0;
		}
		if (strncmp(name, WH_PREFIX WH_PREFIX, 2 * strlen(WH_PREFIX)) == 0)
			return 0; /* AUFS bookkeeping (.wh..wh.plnk, ...) */
		const char *victim = name + strlen(WH_PREFIX);
		if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
			return errmsg_set(err, -EINVAL, "entry '%s': malformed whiteout", e->path);
		struct fstree_node *c = child(t, dir, victim, strlen(victim));
		if (c)
			hide_lower(t, c, layer);
		return 0;
	}

	struct fstree_node *old = child(t, dir, name, nlen);
	struct fstree_node *n;

	if (e->type == FSTREE_HARDLINK) {
		char *tnorm = malloc(strlen(e->link ? e->link : "") + 1);
		if (!tnorm)
			return -ENOMEM;
		rc = e->link ? fstree_normalize(e->link, tnorm) : -EINVAL;
		struct fstree_node *tdir = NULL, *target = NULL;
		const char *tname;
		if (rc) {
			free(tnorm);
			return errmsg_set(err, -EINVAL, "entry '%s': hard link target '%s' %s",
					  e->path, e->link ? e->link : "",
					  e->link ? "leaves the image root" : "is empty");
		}
		if (*tnorm) {
			rc = walk(t, layer, tnorm, false, e->path, &tdir, &tname, err);
			if (!rc && tdir)
				target = child(t, tdir, tname, strlen(tname));
		}
		free(tnorm);
		if (rc)
			return rc;
		if (!target)
			return errmsg_set(err, -ENOENT,
					  "entry '%s': hard link target '%s' does not exist",
					  e->path, e->link);
		if (target->inode->type == FSTREE_DIR)
			return errmsg_set(err, -EPERM,
					  "entry '%s': hard link target '%s' is a directory",
					  e->path, e->link);
		if (target == old) {
			old->layer = layer;
			return 0;
		}
		if (target->inode->nlink >= 65000)
			return errmsg_set(err, -EMLINK, "entry '%s': too many hard links to '%s'",
					  e->path, e->link);
		struct fstree_inode *ino = target->inode;
		ino->nlink++; /* keep it alive if `old` is one of its links */
		if (old)
			remove_node(t, old);
		rc = add_node(t, dir, name, nlen, ino, layer, &n);
		ino->nlink--;
		return rc;
	}

	if (e->type == FSTREE_DIR && old && old->inode->type == FSTREE_DIR) {
		set_attrs(old->inode, e);
		old->layer = layer;
		return set_xattrs(old->inode, e);
	}

	switch (e->type) {
	case FSTREE_REG:
	case FSTREE_DIR:
	case FSTREE_SYMLINK:
	case FSTREE_CHR:
	case FSTREE_BLK:
	case FSTREE_FIFO:
	case FSTREE_SOCK:
		break;
	default:
		return errmsg_set(err, -EINVAL, "entry '%s': unsupported file type", e->path);
	}
	if (e->type == FSTREE_SYMLINK && (!e->link || !*e->link))
		return errmsg_set(err, -EINVAL, "entry '%s': symlink with an empty target",
				  e->path);
	if (old)
		remove_node(t, old);
	struct fstree_inode *ino = new_inode(t, e->type);
	if (!ino)
		return -ENOMEM;
	set_attrs(ino, e);
	if (e->type == FSTREE_SYMLINK) {
		ino->symlink = strdup(e->link);
		if (!ino->symlink) {
			t->n_inodes--;
			free_inode(ino);
			return -ENOMEM;
		}
	}
	if (e->type == FSTREE_REG)
		ino->size = e->size;
	if (e->type == FSTREE_CHR || e->type == FSTREE_BLK) {
		ino->rdev_major = e->rdev_major;
		ino->rdev_minor = e->rdev_minor;
	}
	rc = set_xattrs(ino, e);
	if (!rc)
		rc = add_node(t, dir, name, nlen, ino, layer, &n);
	if (rc) {
		t->n_inodes--;
		free_inode(ino);
		return rc;
	}
	if (e->type != FSTREE_DIR)
		*created = ino;
	return 0;
}

int fstree_apply(struct fstree *t, unsigned layer, const struct fstree_entry *e,
		 struct fstree_inode **created, struct errmsg *err)
{
	*created = NULL;
	char *norm = malloc(strlen(e->path) + 1);
	if (!norm)
		return -ENOMEM;
	int rc = fstree_normalize(e->path, norm);
	if (rc == -EINVAL)
		rc = errmsg_set(err, rc, "entry '%s': path leaves the image root", e->path);
	else if (rc)
		rc = errmsg_set(err, rc, "entry '%s': a path component is longer than %d bytes",
				e->path, FSTREE_NAME_MAX);
	else if (strlen(norm) > FSTREE_PATH_MAX)
		rc = errmsg_set(err, -ENAMETOOLONG, "entry '%.64s...': path longer than %d bytes",
				e->path, FSTREE_PATH_MAX);
	t->release_rc = 0;
	if (!rc)
		rc = apply(t, layer, e, norm, created, err);
	free(norm);
	if (!rc && t->release_rc) {
		rc = errmsg_set(err, t->release_rc,
				"entry '%s': freeing what it replaces failed: %s", e->path,
				strerror(-t->release_rc));
		*created = NULL;
	}
	return rc;
}
