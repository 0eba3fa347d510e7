/* size: "128M", "1G", "512m", "64KiB", "1073741824" -> bytes (binary
 * units k/m/g, an optional i, b or iB after them). Pure; 0 or -EINVAL (not a
 * size, negative, or over 2^64-1 bytes). */
#ifndef HULL_COMMON_SIZE_H
#define HULL_COMMON_SIZE_H

#include <stdint.h>

int parse_size(const char *s, uint64_t *out);

#endif
