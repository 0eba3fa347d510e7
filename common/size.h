/* size: "128M", "1G", "512m", "64KiB", "1073741824" -> bytes (binary
 * units k/m/g, an optional i, b or iB after them). Pure; 0 or -EINVAL (not a
 * size, negative, or over 2^64-1 bytes). */
#ifndef HULL_COMMON_SIZE_H
#define HULL_COMMON_SIZE_H

#include <stddef.h>
#include <stdint.h>

int parse_size(const char *s, uint64_t *out);

/* Sizes for people, as docker prints them: decimal units ("1.5 MB", hull
 * images, system df) and binary ones ("12.5MiB", stats' memory). */
void size_human(uint64_t b, char *out, size_t n);
void size_human_binary(uint64_t b, char *out, size_t n);
/* Powers of 1024 with one decimal and a space, for memory and disk sizes
 * hull prints of its own (snapshots): "128.0 MiB", "1 B". */
void size_human_iec(uint64_t b, char *out, size_t n);
/* docker stats' I/O columns: decimal, 3 significant digits, no space
 * ("1.23kB", "512B", "0B"). */
void size_human_tight(uint64_t b, char *out, size_t n);

#endif
