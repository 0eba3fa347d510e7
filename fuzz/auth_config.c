/* Fuzz images/auth's JSON parsers: a docker config file's "auths" (looked
 * up for a domain the first input byte picks) and a token server's answer
 * (the same bytes). */
#include "fuzz/fuzz.h"
#include "images/auth.h"

static const char *const domains[] = {
    "docker.io", "registry.example:5000", "localhost", "[::1]:5000", "ghcr.io", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *domain = domains[data[0] % (sizeof(domains) / sizeof(domains[0]))];
	char *json = fz_cstr(data + 1, size - 1);
	char *user = NULL, *pass = NULL, *token = NULL;
	struct errmsg err = {{0}};
	int rc = auth_config_find(json, size - 1, domain, &user, &pass, &err);
	if (rc == 0) {
		FZ_CHECK(user && pass);
		free(user);
		free(pass);
	} else if (rc != -ENOENT) {
		FZ_CHECK(err.text[0]);
	}
	memset(&err, 0, sizeof(err));
	if (auth_token_parse(json, size - 1, &token, &err) == 0) {
		FZ_CHECK(token);
		free(token);
	} else {
		FZ_CHECK(err.text[0]);
	}
	free(json);
	return 0;
}
