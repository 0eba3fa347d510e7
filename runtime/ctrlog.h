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
 * - Size cap with rotation (docker's --log-opt max-size, max-file): the
 *   file is PATH; when a record would take it past max_size bytes, PATH
 *   becomes PATH.1 (PATH.1 becomes PATH.2, ..., the oldest beyond
 *   max_files - 1 is replaced) and a new PATH begins; max_files 1 truncates
 *   PATH instead. The cap counts the file's bytes, records' JSON and time
 *   stamps included (a line of one '\n' costs ~70 bytes), so the log never
 *   holds more than max_size * max_files bytes (plus one record, if a
 *   single record is larger than max_size). max_size 0: no cap.
 * - The reader replays PATH.N .. PATH.1 then PATH, from a position: all
 *   records, or the last N (--tail), and then whatever was appended since
 *   (follow), moving on to the new PATH when the writer rotates (a reader
 *   slower than two rotations loses the file in between); optionally
 *   only those in a time window, with their timestamps (docker's logs
 *   --since, --until, -t: every record has carried its time from the
 *   start, so no older log lacks one; the window applies to the rotated
 *   files' records as to PATH's).
 * Functions return 0 or -errno. */
#ifndef HULL_RUNTIME_CTRLOG_H
#define HULL_RUNTIME_CTRLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errmsg.h"

#define CTRLOG_DEFAULT_MAX_SIZE (10ull << 20) /* 10m */
#define CTRLOG_DEFAULT_MAX_FILES 3u
#define CTRLOG_MAX_FILES 20u
#define CTRLOG_MIN_SIZE 4096ull /* a smaller max-size is refused */

struct ctrlog_opts {
	uint64_t max_size;  /* bytes per file; 0: no cap */
	unsigned max_files; /* 1..CTRLOG_MAX_FILES */
};

/* The defaults above. */
void ctrlog_opts_init(struct ctrlog_opts *o);
/* One --log-opt value: "max-size=SIZE" (common/size.h units, or -1 for no
 * cap) or "max-file=N". err names the value. */
int ctrlog_opts_parse(struct ctrlog_opts *o, const char *kv, struct errmsg *err);

struct ctrlog {
	int fd;
	char *path;
	uint64_t size; /* of the current file */
	struct ctrlog_opts opts;
};

/* Create or append to path (0600, never through a symlink); o NULL: the
 * defaults. */
int ctrlog_open(const char *path, const struct ctrlog_opts *o, struct ctrlog *l);
/* stream: 1 stdout, 2 stderr. Returns 0 or the write error. */
int ctrlog_write(struct ctrlog *l, int stream, const uint8_t *buf, size_t n);
void ctrlog_close(struct ctrlog *l);

struct ctrlog_reader {
	int fd;			    /* the file being read */
	int next[CTRLOG_MAX_FILES]; /* newer rotated files, oldest first, then PATH */
	unsigned n_next;
	char *path;
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

/* Open path (and its rotated files) for replay from the last `tail`
 * records (SIZE_MAX: all). */
int ctrlog_reader_open(const char *path, size_t tail, struct ctrlog_reader *r);
/* Write every complete record from the current position to end of file:
 * stdout records to out_fd, stderr records to err_fd. */
int ctrlog_pump(struct ctrlog_reader *r, int out_fd, int err_fd);
void ctrlog_reader_close(struct ctrlog_reader *r);

#endif
