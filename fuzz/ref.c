/* Fuzz images/ref: image references as a user (or a registry's redirect)
 * may spell them. Checks beyond memory safety: a parsed reference's
 * normalised name parses again to the same name (docker's round trip). */
#include "fuzz/fuzz.h"
#include "images/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size);
	struct image_ref r;
	struct errmsg err = {{0}};
	if (ref_parse(s, &r, &err) == 0) {
		FZ_CHECK(r.name && r.domain && r.path);
		FZ_CHECK(r.tag || r.digest[0]);
		struct image_ref again;
		struct errmsg err2 = {{0}};
		FZ_CHECK(ref_parse(r.name, &again, &err2) == 0);
		FZ_CHECK(strcmp(again.name, r.name) == 0);
		ref_free(&again);
		ref_free(&r);
	} else {
		FZ_CHECK(err.text[0]);
	}
	free(s);
	return 0;
}
