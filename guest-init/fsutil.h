/* fsutil: mkdir -p as init needs it, a thin syscall wrapper (whole-file
 * reads are common/readfile.h).
 *
 * Contract: functions return 0 or -errno and leave no fd open.
 */
#ifndef HULL_GUEST_INIT_FSUTIL_H
#define HULL_GUEST_INIT_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: create path and its missing parents with mode (before umask).
 * An existing path is fine whatever it is; the later chdir() or mount()
 * reports a non-directory. */
int fsutil_mkdir_p(const char *path, mode_t mode);

#endif
