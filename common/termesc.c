#include "termesc.h"

#include <stdint.h>

size_t term_escape(const void *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = in;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = b[i];
		if (c == '\r' && i + 1 < n && b[i + 1] == '\n')
			continue;
		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}
