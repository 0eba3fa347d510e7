/* fdio: write a whole buffer to a file descriptor.
 *
 * Contract: fdio_write_all() retries short writes and EINTR; returns 0, or
 * -errno of the first failed write (a reader gone away is -EPIPE: callers
 * that merely forward output may ignore it). fdio_pwrite_all() does the same
 * at file offset off with pwrite() (the fd's own offset is left alone). A
 * write that makes no progress is -EIO. */
#ifndef HULL_FDIO_H
#define HULL_FDIO_H

#include <stddef.h>
#include <stdint.h>

int fdio_write_all(int fd, const void *buf, size_t n);
int fdio_pwrite_all(int fd, const void *buf, size_t n, uint64_t off);

#endif
