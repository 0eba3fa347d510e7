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
/* The same on a connected socket with send(MSG_NOSIGNAL): a peer gone away
 * is -EPIPE, never a SIGPIPE that ends the whole process (a library must
 * not depend on the process's signal dispositions). A non-blocking socket
 * whose buffer is full is -EAGAIN. */
int fdio_send_all(int fd, const void *buf, size_t n);
int fdio_pwrite_all(int fd, const void *buf, size_t n, uint64_t off);
/* The whole of [off, off + n) of fd into buf with pread(), retrying short
 * reads and EINTR: 0, -errno, or -ENODATA when the file ends first. */
int fdio_pread_all(int fd, void *buf, size_t n, uint64_t off);

/* For helper processes that inherit numbered fds (hull-vmm, hull-slirp):
 * fdio_parse_fd() reads a decimal fd number from argv, 3 to 65535 (never
 * stdin/stdout/stderr), or -1. fdio_close_others() closes every fd >= 3
 * except the nkeep listed in keep (entries < 3 are ignored), so that
 * nothing the parent leaked reaches a process facing a guest. */
int fdio_parse_fd(const char *s);
void fdio_close_others(const int *keep, unsigned nkeep);

#endif
