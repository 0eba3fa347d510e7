/* readfile: read a whole small regular file into memory.
 *
 * Contract: readfile() reads `path` (a regular file of at most `max` bytes)
 * into a malloc'd buffer with a NUL byte after the content (so text can be
 * used as a C string; *len does not count it). Returns 0, -errno from
 * open/read, -EISDIR for a directory, -EINVAL for any other non-regular file
 * (a device node in a hostile image is not read), -EFBIG when larger than
 * max, -ENOMEM. A file that shrinks while read yields what was there. Used
 * by the static, unsanitized guest-init too: libc only, no global state. */
#ifndef HULL_READFILE_H
#define HULL_READFILE_H

#include <stddef.h>

int readfile(const char *path, size_t max, char **buf, size_t *len);
/* The same, but a symlink as path's last component is not followed: -ELOOP
 * (for files in a directory the caller owns, such as hull's state). */
int readfile_nofollow(const char *path, size_t max, char **buf, size_t *len);
/* For the kernel's pseudo files (proc, sysfs, cgroupfs), which say size 0:
 * read until EOF, -EFBIG once there are more than max bytes (max <
 * SIZE_MAX - 1); a symlink as the last component is -ELOOP. */
int readfile_pseudo(const char *path, size_t max, char **buf, size_t *len);

#endif
