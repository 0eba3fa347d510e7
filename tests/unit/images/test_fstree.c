/* fstree: path normalisation and OCI layer semantics on the in-memory tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "images/fstree.h"

struct released {
	int count;
	struct fstree_inode *last;
};

static int on_release(void *ctx, struct fstree_inode *ino)
{
	struct released *r = ctx;
	r->count++;
	r->last = ino;
	return 0;
}

static struct errmsg err;

static int ap(struct fstree *t, unsigned layer, enum fstree_type type, const char *path,
	      const char *link, unsigned perm)
{
	struct fstree_entry e = {
	    .path = path,
	    .type = type,
	    .perm = perm,
	    .link = link,
	    .uid = layer,
	    .gid = layer,
	};
	struct fstree_inode *created;
	memset(&err, 0, sizeof(err));
	int rc = fstree_apply(t, layer, &e, &created, &err);
	if (!rc && (type == FSTREE_DIR || type == FSTREE_HARDLINK || strstr(path, ".wh.") != NULL))
		assert_null(created);
	return rc;
}

#define OK(...) assert_int_equal(ap(__VA_ARGS__), 0)

static bool exists(struct fstree *t, const char *p)
{
	return fstree_lookup(t, p) != NULL;
}

static void test_normalize(void **state)
{
	(void)state;
	char out[512];
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"./a/b/", "a/b"}, {"/abs/x", "abs/x"}, {"a/../b", "b"}, {"a/./b//c", "a/b/c"},
	    {"", ""},	       {"./", ""},	    {".", ""},	     {"a/b/../../c", "c"},
	    {"//x//", "x"},    {"a/b/..", "a"},	    {"...", "..."},  {"..a/b..", "..a/b.."},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(fstree_normalize(ok[i].in, out), 0);
		assert_string_equal(out, ok[i].out);
	}
	assert_int_equal(fstree_normalize("../x", out), -EINVAL);
	assert_int_equal(fstree_normalize("a/../../x", out), -EINVAL);
	assert_int_equal(fstree_normalize("/..", out), -EINVAL);
	assert_int_equal(fstree_normalize("./a/b/../../..", out), -EINVAL);
	char longname[300];
	memset(longname, 'x', 256);
	longname[256] = '\0';
	assert_int_equal(fstree_normalize(longname, out), -ENAMETOOLONG);
	longname[255] = '\0';
	assert_int_equal(fstree_normalize(longname, out), 0);
}

static void test_basic_and_implicit_parents(void **state)
{
	(void)state;
	struct fstree *t;
	assert_int_equal(fstree_new(NULL, NULL, &t), 0);
	OK(t, 0, FSTREE_DIR, "./", NULL, 0700);
	assert_int_equal(fstree_root(t)->inode->perm, 0700);
	OK(t, 0, FSTREE_REG, "./usr/bin/tool", NULL, 04755);
	struct fstree_node *usr = fstree_lookup(t, "usr");
	assert_non_null(usr);
	assert_int_equal(usr->inode->type, FSTREE_DIR);
	assert_int_equal(usr->inode->perm, 0755);
	struct fstree_node *tool = fstree_lookup(t, "/usr/bin/tool");
	assert_non_null(tool);
	assert_int_equal(tool->inode->perm, 04755);
	assert_int_equal(tool->inode->type, FSTREE_REG);
	/* the root can only be a directory */
	assert_int_equal(ap(t, 0, FSTREE_REG, ".", NULL, 0644), -EINVAL);
	assert_non_null(strstr(err.text, "root"));
	/* a path outside the root */
	assert_int_equal(ap(t, 0, FSTREE_REG, "../../etc/shadow", NULL, 0644), -EINVAL);
	assert_non_null(strstr(err.text, "'../../etc/shadow'"));
	/* absolute paths land inside */
	OK(t, 0, FSTREE_REG, "/abs/file", NULL, 0644);
	assert_true(exists(t, "abs/file"));
	assert_int_equal(fstree_inode_count(t), 6); /* root usr bin tool abs file */
	/* deep paths are bounded (the writer recurses over the tree) */
	char *deep = malloc(8192 + 1);
	for (int i = 0; i < 4096; i++)
		memcpy(deep + 2 * i, "d/", 2);
	deep[8191] = 'f';
	deep[8192] = '\0';
	assert_int_equal(ap(t, 0, FSTREE_REG, deep, NULL, 0644), -ENAMETOOLONG);
	deep[4095] = '\0';
	OK(t, 0, FSTREE_REG, deep, NULL, 0644);
	free(deep);
	fstree_free(t);
}

static void test_whiteout(void **state)
{
	(void)state;
	struct released rel = {0};
	struct fstree *t;
	assert_int_equal(fstree_new(on_release, &rel, &t), 0);
	OK(t, 0, FSTREE_DIR, "a", NULL, 0755);
	OK(t, 0, FSTREE_REG, "a/f", NULL, 0644);
	OK(t, 0, FSTREE_REG, "a/g", NULL, 0644);
	OK(t, 0, FSTREE_REG, "a/sub/x", NULL, 0644);
	OK(t, 0, FSTREE_REG, "a/sub/deeper/y", NULL, 0644);

	OK(t, 1, FSTREE_DIR, "a", NULL, 0755);
	OK(t, 1, FSTREE_REG, "a/.wh.f", NULL, 0644);
	assert_false(exists(t, "a/f"));
	assert_true(exists(t, "a/g"));
	assert_int_equal(rel.count, 1);
	OK(t, 1, FSTREE_REG, "a/.wh.sub", NULL, 0644);
	assert_false(exists(t, "a/sub"));
	assert_false(exists(t, "a/sub/x"));
	assert_int_equal(rel.count, 5); /* + sub, x, deeper, y */
	/* the whiteout itself never appears */
	assert_false(exists(t, "a/.wh.f"));
	/* whiting out something absent is fine */
	OK(t, 1, FSTREE_REG, "a/.wh.nothing", NULL, 0644);
	OK(t, 1, FSTREE_REG, "nodir/.wh.nothing", NULL, 0644);

	/* same layer: a whiteout does not hide what this layer added, in
	 * either order */
	OK(t, 1, FSTREE_REG, "a/h", NULL, 0644);
	OK(t, 1, FSTREE_REG, "a/.wh.h", NULL, 0644);
	assert_true(exists(t, "a/h"));
	OK(t, 2, FSTREE_REG, "a/.wh.g", NULL, 0644);
	OK(t, 2, FSTREE_REG, "a/g", NULL, 0600);
	assert_true(exists(t, "a/g"));
	assert_int_equal(fstree_lookup(t, "a/g")->inode->perm, 0600);

	/* a lower directory that this layer already put something in stays,
	 * holding only this layer's entries */
	OK(t, 3, FSTREE_REG, "a/new", NULL, 0644);
	OK(t, 3, FSTREE_REG, ".wh.a", NULL, 0644);
	assert_true(exists(t, "a"));
	assert_true(exists(t, "a/new"));
	assert_false(exists(t, "a/g"));
	assert_false(exists(t, "a/h"));

	/* AUFS bookkeeping is ignored; a bare ".wh." is malformed */
	OK(t, 3, FSTREE_REG, "a/.wh..wh.plnk", NULL, 0644);
	assert_int_equal(ap(t, 3, FSTREE_REG, "a/.wh.", NULL, 0644), -EINVAL);
	assert_non_null(strstr(err.text, "a/.wh."));
	fstree_free(t);
}

static void test_opaque(void **state)
{
	(void)state;
	struct released rel = {0};
	struct fstree *t;
	assert_int_equal(fstree_new(on_release, &rel, &t), 0);
	OK(t, 0, FSTREE_REG, "d/x", NULL, 0644);
	OK(t, 0, FSTREE_REG, "d/y", NULL, 0644);
	OK(t, 0, FSTREE_REG, "d/sub/z", NULL, 0644);
	OK(t, 0, FSTREE_REG, "other/keep", NULL, 0644);

	OK(t, 1, FSTREE_DIR, "d", NULL, 0700);
	OK(t, 1, FSTREE_REG, "d/early", NULL, 0644); /* before the marker */
	OK(t, 1, FSTREE_REG, "d/.wh..wh..opq", NULL, 0644);
	OK(t, 1, FSTREE_REG, "d/late", NULL, 0644);
	assert_false(exists(t, "d/x"));
	assert_false(exists(t, "d/y"));
	assert_false(exists(t, "d/sub"));
	assert_true(exists(t, "d/early"));
	assert_true(exists(t, "d/late"));
	assert_true(exists(t, "other/keep"));
	assert_false(exists(t, "d/.wh..wh..opq"));
	struct fstree_node *d = fstree_lookup(t, "d");
	assert_int_equal(d->inode->perm, 0700);
	assert_int_equal(d->n_children, 2);
	assert_int_equal(rel.count, 4); /* x y sub z */

	/* a dir set by this layer over a lower one: opaque also hides the
	 * lower content below it */
	OK(t, 1, FSTREE_REG, "e/sub/old", NULL, 0644);
	OK(t, 2, FSTREE_DIR, "e", NULL, 0755);
	OK(t, 2, FSTREE_DIR, "e/sub", NULL, 0755);
	OK(t, 2, FSTREE_REG, "e/.wh..wh..opq", NULL, 0644);
	assert_true(exists(t, "e/sub"));
	assert_false(exists(t, "e/sub/old"));
	fstree_free(t);
}

static void test_replace(void **state)
{
	(void)state;
	struct released rel = {0};
	struct fstree *t;
	assert_int_equal(fstree_new(on_release, &rel, &t), 0);
	OK(t, 0, FSTREE_DIR, "d", NULL, 0755);
	OK(t, 0, FSTREE_REG, "d/child", NULL, 0644);
	/* dir over dir: children stay, attributes change */
	OK(t, 1, FSTREE_DIR, "d", NULL, 01777);
	struct fstree_node *d = fstree_lookup(t, "d");
	assert_int_equal(d->inode->perm, 01777);
	assert_int_equal(d->inode->uid, 1);
	assert_true(exists(t, "d/child"));
	/* a file over a dir replaces the subtree */
	OK(t, 2, FSTREE_REG, "d", NULL, 0644);
	assert_int_equal(fstree_lookup(t, "d")->inode->type, FSTREE_REG);
	assert_false(exists(t, "d/child"));
	assert_int_equal(rel.count, 2);
	/* a dir over a file, a symlink over a file */
	OK(t, 3, FSTREE_DIR, "d", NULL, 0755);
	assert_int_equal(fstree_lookup(t, "d")->inode->type, FSTREE_DIR);
	assert_int_equal(rel.count, 3);
	OK(t, 3, FSTREE_REG, "f", NULL, 0644);
	OK(t, 4, FSTREE_SYMLINK, "f", "/target", 0777);
	assert_string_equal(fstree_lookup(t, "f")->inode->symlink, "/target");
	assert_int_equal(rel.count, 4);
	assert_int_equal(ap(t, 4, FSTREE_SYMLINK, "empty", "", 0777), -EINVAL);
	fstree_free(t);
}

static void test_hardlinks(void **state)
{
	(void)state;
	struct released rel = {0};
	struct fstree *t;
	assert_int_equal(fstree_new(on_release, &rel, &t), 0);
	OK(t, 0, FSTREE_REG, "bin/f", NULL, 04755);
	OK(t, 0, FSTREE_HARDLINK, "bin/l", "bin/f", 0);
	OK(t, 0, FSTREE_HARDLINK, "./other/l2", "./bin/f", 0);
	struct fstree_inode *orig = fstree_lookup(t, "bin/f")->inode;
	assert_ptr_equal(fstree_lookup(t, "bin/l")->inode, orig);
	assert_ptr_equal(fstree_lookup(t, "other/l2")->inode, orig);
	assert_int_equal(orig->nlink, 3);
	assert_int_equal(orig->perm, 04755); /* the link keeps the target's metadata */

	/* a later layer replaces the original path: the links keep the old
	 * inode, the path gets a new one */
	OK(t, 1, FSTREE_REG, "bin/f", NULL, 0644);
	struct fstree_inode *fresh = fstree_lookup(t, "bin/f")->inode;
	assert_ptr_not_equal(fresh, orig);
	assert_int_equal(fresh->nlink, 1);
	assert_int_equal(orig->nlink, 2);
	assert_ptr_equal(fstree_lookup(t, "bin/l")->inode, orig);
	assert_int_equal(rel.count, 0);
	/* whiting out the links frees it */
	OK(t, 2, FSTREE_REG, "bin/.wh.l", NULL, 0);
	assert_int_equal(orig->nlink, 1);
	OK(t, 2, FSTREE_REG, "other/.wh.l2", NULL, 0);
	assert_int_equal(rel.count, 1);
	assert_ptr_equal(rel.last, orig);

	/* linking a path to its own inode, and over another of its links */
	OK(t, 3, FSTREE_HARDLINK, "bin/f", "bin/f", 0);
	OK(t, 3, FSTREE_HARDLINK, "bin/g", "bin/f", 0);
	OK(t, 3, FSTREE_HARDLINK, "bin/g", "bin/f", 0);
	assert_int_equal(fresh->nlink, 2);
	assert_int_equal(rel.count, 1);
	/* a link replacing a file */
	OK(t, 3, FSTREE_REG, "bin/victim", NULL, 0644);
	OK(t, 3, FSTREE_HARDLINK, "bin/victim", "bin/f", 0);
	assert_int_equal(fresh->nlink, 3);
	assert_int_equal(rel.count, 2);

	/* bad targets */
	assert_int_equal(ap(t, 3, FSTREE_HARDLINK, "x", "missing", 0), -ENOENT);
	assert_non_null(strstr(err.text, "'x'"));
	assert_non_null(strstr(err.text, "missing"));
	assert_int_equal(ap(t, 3, FSTREE_HARDLINK, "x", "bin", 0), -EPERM);
	assert_int_equal(ap(t, 3, FSTREE_HARDLINK, "x", "../../etc/passwd", 0), -EINVAL);
	OK(t, 3, FSTREE_SYMLINK, "lnk", "bin", 0777);
	assert_int_equal(ap(t, 3, FSTREE_HARDLINK, "x", "lnk/f", 0), -ELOOP);
	assert_false(exists(t, "x"));
	fstree_free(t);
}

static void test_no_symlink_traversal(void **state)
{
	(void)state;
	struct fstree *t;
	assert_int_equal(fstree_new(NULL, NULL, &t), 0);
	OK(t, 0, FSTREE_SYMLINK, "etc", "/host/etc", 0777);
	OK(t, 0, FSTREE_SYMLINK, "up", "../../..", 0777);
	OK(t, 0, FSTREE_REG, "file", NULL, 0644);
	assert_int_equal(ap(t, 1, FSTREE_REG, "etc/passwd", NULL, 0644), -ELOOP);
	assert_non_null(strstr(err.text, "'etc/passwd'"));
	assert_non_null(strstr(err.text, "symlink"));
	assert_int_equal(ap(t, 1, FSTREE_REG, "up/x/y", NULL, 0644), -ELOOP);
	assert_int_equal(ap(t, 1, FSTREE_REG, "etc/.wh.passwd", NULL, 0644), -ELOOP);
	assert_int_equal(ap(t, 1, FSTREE_REG, "file/x", NULL, 0644), -ENOTDIR);
	assert_non_null(strstr(err.text, "not a directory"));
	/* replacing the symlink itself is fine, and then the path works */
	OK(t, 1, FSTREE_DIR, "etc", NULL, 0755);
	OK(t, 1, FSTREE_REG, "etc/passwd", NULL, 0644);
	assert_true(exists(t, "etc/passwd"));
	/* ".." is lexical: it never walks back through a symlink */
	OK(t, 1, FSTREE_REG, "up/../f2", NULL, 0644);
	assert_true(exists(t, "f2"));
	fstree_free(t);
}

static void test_many_children(void **state)
{
	(void)state;
	struct fstree *t;
	assert_int_equal(fstree_new(NULL, NULL, &t), 0);
	char p[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(p, sizeof(p), "big/f%d", i);
		OK(t, 0, FSTREE_REG, p, NULL, 0644);
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(p, sizeof(p), "big/.wh.f%d", i);
		OK(t, 1, FSTREE_REG, p, NULL, 0644);
	}
	assert_int_equal(fstree_lookup(t, "big")->n_children, 2500);
	assert_false(exists(t, "big/f0"));
	assert_true(exists(t, "big/f4999"));
	fstree_free(t);
}

/* The work whiteouts cost, for an input of size n (two layers): a lower
 * directory of n files, then a layer that adds n files to it with an opaque
 * marker after each (pattern 0), or a whiteout of the directory itself after
 * each (pattern 1); or 40 nested lower directories that the upper layer adds
 * files to, then makes opaque one by one, deepest first (pattern 2). Checks the result, returns the
 * visits. */
static uint64_t whiteout_work(int pattern, int n)
{
	struct fstree *t;
	char p[64];
	assert_int_equal(fstree_new(NULL, NULL, &t), 0);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "d/low%d", i);
		OK(t, 0, FSTREE_REG, p, NULL, 0644);
	}
	if (pattern == 2) {
		/* lower d/s/s/.../s (depth 40) with n/40 files at each level;
		 * the upper layer adds n/40 files at each level, then makes
		 * each level opaque, deepest first */
		char dir[64 * 4] = "d";
		for (int lvl = 0; lvl < 40; lvl++) {
			strcat(dir, "/s");
			for (int i = 0; i < n / 40; i++) {
				char f[320];
				snprintf(f, sizeof(f), "%s/old%d", dir, i);
				OK(t, 0, FSTREE_REG, f, NULL, 0644);
				snprintf(f, sizeof(f), "%s/new%d", dir, i);
				OK(t, 1, FSTREE_REG, f, NULL, 0644);
			}
		}
		for (size_t len = strlen(dir); len >= 1; len -= 2) {
			char f[320];
			snprintf(f, sizeof(f), "%.*s/.wh..wh..opq", (int)len, dir);
			OK(t, 1, FSTREE_REG, f, NULL, 0644);
			if (len == 1)
				break;
		}
		assert_int_equal(fstree_lookup(t, "d")->n_children, 1);
		assert_false(exists(t, "d/s/s/old0"));
		assert_true(exists(t, "d/s/s/new0"));
	} else {
		for (int i = 0; i < n; i++) {
			snprintf(p, sizeof(p), "d/new%d", i);
			OK(t, 1, FSTREE_REG, p, NULL, 0644);
			OK(t, 1, FSTREE_REG, pattern ? ".wh.d" : "d/.wh..wh..opq", NULL, 0644);
		}
		assert_int_equal(fstree_lookup(t, "d")->n_children, n);
	}
	assert_false(exists(t, "d/low0"));
	uint64_t v = fstree_hide_visits(t);
	fstree_free(t);
	return v;
}

/* 20,000 opaque markers took 1.9 s when each walked its whole directory:
 * the work must grow linearly. Counted, not timed: doubling the input may
 * not much more than double the visits (quadratic growth would quadruple
 * them), and they stay within a few per entry. */
static void test_whiteouts_linear(void **state)
{
	(void)state;
	for (int pattern = 0; pattern < 3; pattern++) {
		uint64_t a = whiteout_work(pattern, 2000), b = whiteout_work(pattern, 4000);
		print_message("pattern %d: %llu visits for n=2000, %llu for n=4000\n", pattern,
			      (unsigned long long)a, (unsigned long long)b);
		assert_true(b <= a * 5 / 2);
		assert_true(a <= 4 * 2000 + 100);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_basic_and_implicit_parents),
	    cmocka_unit_test(test_whiteout),
	    cmocka_unit_test(test_opaque),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_hardlinks),
	    cmocka_unit_test(test_no_symlink_traversal),
	    cmocka_unit_test(test_many_children),
	    cmocka_unit_test(test_whiteouts_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
