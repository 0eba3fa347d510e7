/* fsutil: the few filesystem helpers init needs, as thin syscall wrappers.
 *
 * Contract: functions return 0 or -errno and leave no fd open.
 */
#ifndef HULL_GUEST_INIT_FSUTIL_H
#define HULL_GUEST_INIT_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Read a whole file into a malloc'd, NUL-terminated buffer (*len excludes the
 * NUL). Files larger than max bytes give -EFBIG: image files are not trusted
 * to be reasonable. */
int fsutil_read_file(const char *path, size_t max, char **buf, size_t *len);

/* mkdir -p: create path and its missing parents with mode (before umask).
 * An existing path is fine whatever it is; the later chdir() or mount()
 * reports a non-directory. */
int fsutil_mkdir_p(const char *path, mode_t mode);

#endif
