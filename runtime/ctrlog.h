/* ctrlog: a container's log, docker's json-file format.
 *
 * Contract
 * - One file, one JSON object per line: {"log":TEXT,"stream":"stdout"|
 *   "stderr","time":RFC3339 UTC with nanoseconds}. Both streams share the
 *   file, so their interleaving is kept, and each record names its stream.
 * - ctrlog_write() splits a chunk of container output at newlines: every
 *   line (with its '\n') is a record, a trailing piece without one is a
 *   record of its own (no buffering: what the container wrote is in the log
 *   at once). Concatenating one stream's records gives its bytes back
 *   exactly (json-c escapes control bytes and NUL).
 * - A chunk's records are appended with one write() (O_APPEND), so a reader sees
 *   whole lines, or a tail it must wait for: the reader only takes lines that
 *   end in '\n'. Lines that are not records (a damaged file) are skipped.
 * - The reader replays from a position: all records, or the last N
 *   (--tail), and then whatever was appended since (follow); optionally
 *   only those in a time window, with their timestamps (docker's logs
 *   --since, --until, -t: every record has carried its time from the
 *   start, so no older log lacks one).
 * Functions return 0 or -errno. */
#ifndef HULL_RUNTIME_CTRLOG_H
#define HULL_RUNTIME_CTRLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ctrlog {
	int fd;
};

/* Create or append to path (0600). */
int ctrlog_open(const char *path, struct ctrlog *l);
/* stream: 1 stdout, 2 stderr. Returns 0 or the write error. */
int ctrlog_write(struct ctrlog *l, int stream, const uint8_t *buf, size_t n);
void ctrlog_close(struct ctrlog *l);

struct ctrlog_reader {
	int fd;
	/* set after ctrlog_reader_open(), before pumping (hull logs --since,
	 * --until, -t): only records stamped in [since_ns, until_ns] (0: no
	 * bound; a record without a readable time is then skipped), each
	 * prefixed with its time and a space when timestamps */
	int64_t since_ns, until_ns;
	bool timestamps;
	bool past; /* a record after until_ns was seen: nothing more passes */
	char *buf; /* a line not complete yet */
	size_t len, cap;
};

/* Open path for replay from its last `tail` records (SIZE_MAX: all). */
int ctrlog_reader_open(const char *path, size_t tail, struct ctrlog_reader *r);
/* Write every complete record from the current position to end of file:
 * stdout records to out_fd, stderr records to err_fd. */
int ctrlog_pump(struct ctrlog_reader *r, int out_fd, int err_fd);
void ctrlog_reader_close(struct ctrlog_reader *r);

#endif
