/* Fuzz images/auth's WWW-Authenticate parser (a registry's 401 answer) and
 * the token URL built from what it parsed. */
#include "fuzz/fuzz.h"
#include "images/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *hdr = fz_cstr(data, size);
	struct auth_challenge c;
	struct errmsg err = {{0}};
	memset(&c, 0, sizeof(c));
	if (auth_challenge_parse(hdr, &c, &err) == 0) {
		FZ_CHECK(c.scheme == AUTH_BASIC || c.scheme == AUTH_BEARER);
		if (c.scheme == AUTH_BEARER) {
			FZ_CHECK(c.realm && (strncmp(c.realm, "http://", 7) == 0 ||
					     strncmp(c.realm, "https://", 8) == 0));
			char *url = auth_token_url(&c, "repository:library/x:pull");
			FZ_CHECK(url);
			FZ_CHECK(strncmp(url, c.realm, strlen(c.realm)) == 0);
			/* the escaped query adds no raw separator or blank */
			FZ_CHECK(!strpbrk(url + strlen(c.realm), " \r\n#"));
			free(url);
		}
		auth_challenge_free(&c);
	} else {
		FZ_CHECK(err.text[0]);
	}
	free(hdr);
	return 0;
}
