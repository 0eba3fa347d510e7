/* Fuzz images/oci_json: index, manifest and config JSON as a registry or an
 * image layout serves them. The first input byte picks the parser (and, for
 * an index, top-level or nested and a ref name); the rest is the document. */
#include "fuzz/fuzz.h"
#include "images/oci_json.h"

static void index_select(const char *buf, size_t len, uint8_t sel)
{
	struct oci_descriptor d;
	struct errmsg err = {{0}};
	const char *ref = (sel & 0x10) ? "latest" : (sel & 0x20) ? "v1" : NULL;
	if (oci_index_select(buf, len, "index", sel & 0x08, ref, &d, &err) == 0) {
		FZ_CHECK(strncmp(d.digest, "sha256:", 7) == 0);
		oci_descriptor_free(&d);
	} else {
		FZ_CHECK(err.text[0]);
	}
}

static void index_entries(const char *buf, size_t len)
{
	struct oci_descriptor *d = NULL;
	size_t n = 0;
	struct errmsg err = {{0}};
	if (oci_index_entries(buf, len, "index", &d, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			oci_descriptor_free(&d[i]);
		free(d);
	} else {
		FZ_CHECK(err.text[0]);
	}
}

static void manifest(const char *buf, size_t len)
{
	struct oci_manifest m;
	struct errmsg err = {{0}};
	if (oci_manifest_parse(buf, len, "manifest", &m, &err) == 0) {
		for (size_t i = 0; i < m.n_layers; i++)
			FZ_CHECK(m.layer_kinds[i] >= OCI_KIND_LAYER_TAR &&
				 m.layer_kinds[i] <= OCI_KIND_LAYER_ZSTD);
		oci_manifest_free(&m);
	} else {
		FZ_CHECK(err.text[0]);
	}
}

static void config(const char *buf, size_t len, bool want_diff_ids)
{
	struct image_config cfg;
	char **ids = NULL;
	size_t n = 0;
	struct errmsg err = {{0}};
	memset(&cfg, 0, sizeof(cfg));
	if (oci_config_parse(buf, len, "config", &cfg, want_diff_ids ? &ids : NULL,
			     want_diff_ids ? &n : NULL, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			FZ_CHECK(strncmp(ids[i], "sha256:", 7) == 0 && strlen(ids[i]) == 71);
		oci_strv_free(ids, n);
		image_config_free(&cfg);
	} else {
		FZ_CHECK(err.text[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	/* The parsers take a length, but their callers' buffers are always
	 * NUL-terminated (readfile, oci_source_read_blob): so is this one. */
	char *buf = fz_cstr(data + 1, size - 1);
	size_t len = size - 1;
	switch (sel & 7) {
	case 0:
	case 1:
		index_select(buf, len, sel);
		break;
	case 2:
		index_entries(buf, len);
		break;
	case 3:
	case 4:
		manifest(buf, len);
		break;
	case 5:
	case 6:
		config(buf, len, sel & 1);
		break;
	case 7:
		(void)oci_json_is_index(buf, len);
		(void)oci_media_kind(buf);
		break;
	}
	free(buf);
	return 0;
}
