/* image_import and its naming: OCI layouts built here (ocitest), a failed
 * conversion putting a moved tag back, and import_ref_name()'s rules. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "images/import.h"
#include "images/lstore.h"
#include "ocitest.h"

static void name_is(const char *path, const char *full, const char *tag, const char *want)
{
	char *got = NULL;
	struct errmsg err = {{0}};
	if (import_ref_name(path, full, tag, &got, &err))
		fail_msg("%s/%s/%s: %s", path, full ? full : "-", tag ? tag : "-", err.text);
	assert_string_equal(got, want);
	free(got);
}

static void test_names(void **state)
{
	(void)state;
	name_is("x/busybox.tar.gz", NULL, "v1", "localhost/busybox:v1");
	name_is("x/busybox.oci/", NULL, NULL, "localhost/busybox:latest");
	name_is("/tmp/My Image!.tar", NULL, NULL, "localhost/my-image:latest");
	name_is("/tmp/...tar", NULL, NULL, "localhost/image:latest");
	name_is("a.tar", "alpine", NULL, "docker.io/library/alpine:latest");
	name_is("a.tar", "example.com:5000/team/app:v2", NULL, "example.com:5000/team/app:v2");
	char *got = NULL;
	struct errmsg err = {{0}};
	assert_int_equal(import_ref_name("a.tar", "Bad/Name", NULL, &got, &err), -EINVAL);
	assert_non_null(strstr(err.text, "--name"));
	assert_int_equal(import_ref_name("a.tar", NULL, "bad tag!", &got, &err), -EINVAL);
	assert_null(got);
}

static const char *layout_with(const char *dir, const char *path, const char *ref)
{
	struct tarb *t = tarb_new();
	tarb_file(t, path, 0644, 0, 0, "x", 1);
	uint8_t *tar;
	size_t len;
	tarb_finish(t, &tar, &len);
	struct ocib_layer l = {tar, len, OCIB_GZIP, OCIB_INTACT, NULL};
	struct ocib_opts o = {.ref = ref, .config_obj = "{}"};
	const char *d = ocib_write(dir, &l, 1, &o);
	free(tar);
	return d;
}

static void test_rollback(void **state)
{
	(void)state;
	char *dir = tmpdir_new(), good[4200], bad[4200], root[4200];
	snprintf(good, sizeof(good), "%s/good.oci", dir);
	snprintf(bad, sizeof(bad), "%s/bad.oci", dir);
	snprintf(root, sizeof(root), "%s/store", dir);
	char d1[80];
	snprintf(d1, sizeof(d1), "%s", layout_with(good, "ok", "app:1"));
	layout_with(bad, "a/../../escape", "app:1");

	struct import_result r;
	struct errmsg err = {{0}};
	if (image_import(root, good, NULL, NULL, &r, &err))
		fail_msg("%s", err.text);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.images[0].ref, "docker.io/library/app:1");
	assert_string_equal(r.images[0].digest, d1);
	assert_false(r.images[0].cache_hit);
	import_result_free(&r);

	/* the same name, a hostile image: refused, and the name stays on d1 */
	assert_int_not_equal(image_import(root, bad, NULL, NULL, &r, &err), 0);
	assert_non_null(strstr(err.text, "image docker.io/library/app:1: layer 1"));
	assert_non_null(strstr(err.text, "leaves the image root"));
	assert_int_equal(r.n, 0);
	struct lstore st;
	struct lstore_entry e;
	assert_int_equal(lstore_open(root, &st, NULL), 0);
	assert_int_equal(lstore_resolve(&st, "docker.io/library/app:1", &e, NULL), 0);
	assert_string_equal(e.digest, d1);
	lstore_entry_free(&e);

	/* a new name for the hostile image: refused, and not left behind */
	assert_int_not_equal(image_import(root, bad, "evil:2", NULL, &r, &err), 0);
	assert_int_equal(lstore_resolve(&st, "docker.io/library/evil:2", &e, NULL), -ENOENT);
	lstore_close(&st);

	/* --name with a layout of two images that none named latest: refused */
	layout_with(good, "other", "app:2");
	struct ocib_opts o = {.ref = "app:3", .add = true};
	ocib_write(good, NULL, 0, &o);
	assert_int_not_equal(image_import(root, good, "x:1", NULL, &r, &err), 0);
	assert_non_null(strstr(err.text, "none is named 'latest'"));
	rm_rf(dir);
	free(dir);
}

/* An oci-archive: read by hull-import (HULL_IMPORT: the sanitized one),
 * the same result and errors as a layout; a layer whose bytes are not its
 * digest is refused by name, nothing tagged, no temp file left. */
static void test_archive(void **state)
{
	(void)state;
	char *dir = tmpdir_new(), lay[4200], tar[4200], root[4200], path[4300];
	snprintf(lay, sizeof(lay), "%s/good.oci", dir);
	snprintf(tar, sizeof(tar), "%s/good.tar", dir);
	snprintf(root, sizeof(root), "%s/store", dir);
	char d1[80];
	snprintf(d1, sizeof(d1), "%s", layout_with(lay, "ok", "app:1"));
	ocib_archive(lay, tar);
	struct import_result r;
	struct errmsg err = {{0}};
	if (image_import(root, tar, NULL, NULL, &r, &err))
		fail_msg("%s", err.text);
	assert_int_equal(r.format, IMPORT_OCI_ARCHIVE);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.images[0].ref, "docker.io/library/app:1");
	assert_string_equal(r.images[0].digest, d1);
	import_result_free(&r);
	/* once more: every blob is there, nothing copied, a cache hit */
	if (image_import(root, tar, "other:2", NULL, &r, &err))
		fail_msg("%s", err.text);
	assert_true(r.images[0].cache_hit);
	import_result_free(&r);

	/* the layer's bytes changed, its size kept */
	const char *lp = ocib_blob_path(lay, ocib_last_layer_digest(0));
	size_t len;
	uint8_t *b = read_whole(lp, &len);
	b[len / 2] ^= 0xff;
	write_file(lp, b, len);
	free(b);
	ocib_archive(lay, tar);
	snprintf(root, sizeof(root), "%s/store2", dir);
	assert_int_not_equal(image_import(root, tar, "bad:1", NULL, &r, &err), 0);
	assert_non_null(strstr(err.text, "image docker.io/library/bad:1: layer 1 (sha256:"));
	assert_non_null(strstr(err.text, "content does not match its digest"));
	struct lstore st;
	struct lstore_entry e;
	assert_int_equal(lstore_open(root, &st, NULL), 0);
	assert_int_equal(lstore_resolve(&st, "docker.io/library/bad:1", &e, NULL), -ENOENT);
	lstore_close(&st);
	snprintf(path, sizeof(path), "%s/oci/blobs/sha256", root);
	DIR *d = opendir(path);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		assert_null(strstr(de->d_name, ".tmp."));
	closedir(d);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_rollback),
	    cmocka_unit_test(test_archive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
