/* oci_json: index selection, manifest and config parsing, digests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "images/digest.h"
#include "images/oci_json.h"

#define HEX1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D1 "sha256:" HEX1
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define MT_M "application/vnd.oci.image.manifest.v1+json"
#define MT_I "application/vnd.oci.image.index.v1+json"

static struct errmsg err;

static int sel(const char *json, bool top, const char *ref, struct oci_descriptor *d)
{
	memset(&err, 0, sizeof(err));
	return oci_index_select(json, strlen(json), "index.json", top, ref, d, &err);
}

static void test_index_single(void **state)
{
	(void)state;
	struct oci_descriptor d;
	const char *j = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M
			"\",\"digest\":\"" D1 "\",\"size\":12}]}\n";
	assert_int_equal(sel(j, true, NULL, &d), 0);
	assert_string_equal(d.digest, D1);
	assert_int_equal(d.size, 12);
	assert_string_equal(d.media_type, MT_M);
	oci_descriptor_free(&d);
	/* a ref name that the only entry does not carry */
	assert_int_equal(sel(j, true, "v1", &d), -ENOENT);
	assert_non_null(strstr(err.text, "'v1'"));
}

static const char *three = "{\"manifests\":["
			   "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1,"
			   "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}},"
			   "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D2 "\",\"size\":2,"
			   "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}},"
			   "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D3 "\",\"size\":3,"
			   "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v3\","
			   "\"io.containerd.image.name\":\"docker.io/library/x:v3\"}}]}";

static void test_index_ref_names(void **state)
{
	(void)state;
	struct oci_descriptor d;
	assert_int_equal(sel(three, true, NULL, &d), 0); /* "latest" */
	assert_string_equal(d.digest, D2);
	oci_descriptor_free(&d);
	assert_int_equal(sel(three, true, "v1", &d), 0);
	assert_string_equal(d.digest, D1);
	assert_string_equal(d.ref_name, "v1");
	oci_descriptor_free(&d);
	assert_int_equal(sel(three, true, "docker.io/library/x:v3", &d), 0);
	assert_string_equal(d.digest, D3);
	oci_descriptor_free(&d);
	assert_int_equal(sel(three, true, "v9", &d), -ENOENT);
	assert_non_null(strstr(err.text, "'v1'"));
	assert_non_null(strstr(err.text, "'latest'"));

	/* several, none "latest": an error that lists them */
	const char *two = "{\"manifests\":["
			  "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1,"
			  "\"annotations\":{\"org.opencontainers.image.ref.name\":\"a\"}},"
			  "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D2 "\",\"size\":2}]}";
	assert_int_equal(sel(two, true, NULL, &d), -EINVAL);
	assert_non_null(strstr(err.text, "'a'"));
	assert_non_null(strstr(err.text, "unnamed sha256:222"));
}

static void test_index_platform(void **state)
{
	(void)state;
	struct oci_descriptor d;
	const char *list =
	    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
	    "\"manifests\":["
	    "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1,"
	    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
	    "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D2 "\",\"size\":2,"
	    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
	    "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D3 "\",\"size\":3,"
	    "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";
	assert_string_equal(oci_host_arch(), "amd64");
	assert_int_equal(sel(list, false, NULL, &d), 0);
	assert_string_equal(d.digest, D2);
	oci_descriptor_free(&d);
	/* a flat multi-platform index.json resolves by platform too */
	assert_int_equal(sel(list, true, NULL, &d), 0);
	assert_string_equal(d.digest, D2);
	oci_descriptor_free(&d);
	const char *arm = "{\"manifests\":["
			  "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1,"
			  "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}";
	assert_int_equal(sel(arm, false, NULL, &d), -ENOENT);
	assert_non_null(strstr(err.text, "linux/amd64"));
	assert_non_null(strstr(err.text, "linux/arm64"));
	/* an index pointing at a nested index */
	const char *nested =
	    "{\"manifests\":[{\"mediaType\":\"" MT_I "\",\"digest\":\"" D1 "\",\"size\":1}]}";
	assert_int_equal(sel(nested, true, NULL, &d), 0);
	assert_int_equal(oci_media_kind(d.media_type), OCI_KIND_INDEX);
	oci_descriptor_free(&d);
}

static void test_index_malformed(void **state)
{
	(void)state;
	struct oci_descriptor d;
	static const char *bad[] = {
	    "",
	    "{",
	    "[]",
	    "{\"manifests\":{}}",
	    "{\"manifests\":[]}",
	    "{\"manifests\":[{\"digest\":\"" D1 "\"}]}",		     /* no size */
	    "{\"manifests\":[{\"digest\":\"sha256:12\",\"size\":1}]}",	     /* short */
	    "{\"manifests\":[{\"digest\":\"md5:" D1 "\",\"size\":1}]}",	     /* algorithm */
	    "{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":-1}]}",	     /* negative */
	    "{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1}]} trailing", /* garbage */
	    "{\"schemaVersion\":1,\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1}]}",
	    "{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,\"annotations\":[]}]}",
	    "{\"manifests\":[{\"digest\":\"SHA256:" HEX1 "\",\"size\":1}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = sel(bad[i], true, NULL, &d);
		if (rc == 0)
			fail_msg("accepted bad index #%zu: %s", i, bad[i]);
		assert_true(strncmp(err.text, "index.json", 10) == 0);
	}
	/* bad UTF-8 in a string */
	char utf[256];
	snprintf(utf, sizeof(utf),
		 "{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,\"mediaType\":\"a\xff\"}]}");
	assert_int_not_equal(sel(utf, true, NULL, &d), 0);
	/* oversized */
	size_t big = OCI_JSON_MAX + 1;
	char *huge = malloc(big + 1);
	memset(huge, ' ', big);
	huge[big] = '\0';
	assert_int_equal(oci_index_select(huge, big, "index.json", true, NULL, &d, &err), -EFBIG);
	free(huge);
}

static void test_manifest(void **state)
{
	(void)state;
	struct oci_manifest m;
	const char *j =
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_M "\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	    "\"digest\":\"" D1 "\",\"size\":100},\"layers\":["
	    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2
	    "\",\"size\":5},"
	    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D3
	    "\",\"size\":6},"
	    "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
	    "\"digest\":\"" D1 "\",\"size\":7},"
	    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D2
	    "\",\"size\":8}]}";
	assert_int_equal(oci_manifest_parse(j, strlen(j), "manifest", &m, &err), 0);
	assert_string_equal(m.config.digest, D1);
	assert_int_equal(m.n_layers, 4);
	assert_int_equal(m.layer_kinds[0], OCI_KIND_LAYER_GZIP);
	assert_int_equal(m.layer_kinds[1], OCI_KIND_LAYER_ZSTD);
	assert_int_equal(m.layer_kinds[2], OCI_KIND_LAYER_GZIP);
	assert_int_equal(m.layer_kinds[3], OCI_KIND_LAYER_TAR);
	assert_int_equal(m.layers[3].size, 8);
	oci_manifest_free(&m);

	const char *foreign = "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
			      "\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D1
			      "\",\"size\":1},\"layers\":[{\"mediaType\":"
			      "\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
			      "\"digest\":\"" D2 "\",\"size\":1}]}";
	assert_int_equal(oci_manifest_parse(foreign, strlen(foreign), "manifest X", &m, &err),
			 -EINVAL);
	assert_non_null(strstr(err.text, "manifest X: layers[0].mediaType"));
	assert_non_null(strstr(err.text, "foreign"));

	const char *artifact =
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
	    "\"application/vnd.example.thing\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}";
	assert_int_equal(oci_manifest_parse(artifact, strlen(artifact), "m", &m, &err), -EINVAL);
	assert_non_null(strstr(err.text, "not a container image"));

	const char *index = "{\"schemaVersion\":2,\"mediaType\":\"" MT_I "\",\"manifests\":[]}";
	assert_int_equal(oci_manifest_parse(index, strlen(index), "m", &m, &err), -EINVAL);
}

static void test_config(void **state)
{
	(void)state;
	struct image_config c;
	char **ids;
	size_t n;
	const char *full = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
			   "\"Entrypoint\":[\"/bin/tini\",\"--\"],\"Cmd\":[\"sh\",\"-c\",\"x\"],"
			   "\"Env\":[\"PATH=/bin\",\"A=b=c\"],\"WorkingDir\":\"/srv\","
			   "\"User\":\"app:extra\",\"StopSignal\":\"SIGINT\"},"
			   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
	assert_int_equal(oci_config_parse(full, strlen(full), "config", &c, &ids, &n, &err), 0);
	assert_true(c.has_entrypoint);
	assert_int_equal(c.n_entrypoint, 2);
	assert_string_equal(c.entrypoint[1], "--");
	assert_true(c.has_cmd);
	assert_int_equal(c.n_cmd, 3);
	assert_string_equal(c.cmd[2], "x");
	assert_int_equal(c.n_env, 2);
	assert_string_equal(c.env[1], "A=b=c");
	assert_string_equal(c.working_dir, "/srv");
	assert_string_equal(c.user, "app:extra");
	assert_string_equal(c.stop_signal, "SIGINT");
	assert_int_equal(n, 2);
	assert_string_equal(ids[1], D2);
	oci_strv_free(ids, n);
	image_config_free(&c);

	/* absent vs null vs empty */
	const char *absent = "{\"config\":{\"Cmd\":null,\"WorkingDir\":\"\"},"
			     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	assert_int_equal(oci_config_parse(absent, strlen(absent), "c", &c, NULL, NULL, &err), 0);
	assert_false(c.has_entrypoint);
	assert_false(c.has_cmd);
	assert_null(c.cmd);
	assert_null(c.working_dir);
	assert_null(c.user);
	assert_int_equal(c.n_env, 0);
	image_config_free(&c);
	const char *empty = "{\"config\":{\"Entrypoint\":[],\"Cmd\":[]},"
			    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	assert_int_equal(oci_config_parse(empty, strlen(empty), "c", &c, NULL, NULL, &err), 0);
	assert_true(c.has_entrypoint);
	assert_int_equal(c.n_entrypoint, 0);
	assert_true(c.has_cmd);
	assert_int_equal(c.n_cmd, 0);
	image_config_free(&c);
	/* no "config" object at all */
	const char *none = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	assert_int_equal(oci_config_parse(none, strlen(none), "c", &c, NULL, NULL, &err), 0);
	assert_false(c.has_cmd);
	image_config_free(&c);
	/* Docker's string form */
	const char *str = "{\"config\":{\"Cmd\":\"echo hi\"},"
			  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	assert_int_equal(oci_config_parse(str, strlen(str), "c", &c, NULL, NULL, &err), 0);
	assert_int_equal(c.n_cmd, 1);
	assert_string_equal(c.cmd[0], "echo hi");
	image_config_free(&c);

	static const char *bad[] = {
	    "{\"config\":{\"Cmd\":[1]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    "{\"config\":{\"Env\":[\"NOEQUALS\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"
	    "}",
	    "{\"config\":{\"User\":5},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    "{\"config\":{\"Cmd\":[\"a\\u0000b\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"
	    "}",
	    "{\"config\":{}}",
	    "{\"rootfs\":{\"type\":\"layers\"}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"nope\"]}}",
	    "{\"os\":\"windows\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    "{\"architecture\":\"arm64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (oci_config_parse(bad[i], strlen(bad[i]), "config X", &c, &ids, &n, &err) == 0)
			fail_msg("accepted bad config #%zu: %s", i, bad[i]);
		assert_true(strncmp(err.text, "config X: ", 10) == 0);
		assert_null(c.cmd);
	}
	assert_non_null(strstr(err.text, "arm64"));
}

static void test_digest(void **state)
{
	(void)state;
	char hex[DIGEST_HEX_LEN + 1], out[DIGEST_STR_LEN];
	assert_int_equal(digest_parse(D1, hex, "x", &err), 0);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(digest_parse("sha512:abc", hex, "x", &err), -EINVAL);
	assert_non_null(strstr(err.text, "sha512"));
	assert_int_equal(digest_parse("sha256:../../../../etc/passwd", hex, "x", &err), -EINVAL);
	assert_int_equal(digest_buf("abc", 3, out), 0);
	assert_string_equal(
	    out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(oci_media_kind("application/vnd.oci.image.layer.v1.tar+zstd"),
			 OCI_KIND_LAYER_ZSTD);
	assert_int_equal(oci_media_kind(NULL), OCI_KIND_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_single),   cmocka_unit_test(test_index_ref_names),
	    cmocka_unit_test(test_index_platform), cmocka_unit_test(test_index_malformed),
	    cmocka_unit_test(test_manifest),	   cmocka_unit_test(test_config),
	    cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
