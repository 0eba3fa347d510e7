/* recfield: field checks of the helpers' records (recfield.h). */
#include "images/recfield.h"

#include <string.h>

#include "images/digest.h"

bool recfield_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

bool recfield_is_digest(const char *s)
{
	return recfield_terminated(s, DIGEST_STR_LEN) && digest_parse(s, NULL, "", NULL) == 0;
}

bool recfield_all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}
