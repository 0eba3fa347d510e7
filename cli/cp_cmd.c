#include "cp_cmd.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cp_path.h"
#include "cli/opts.h"
#include "common/fdio.h"
#include "runtime/runtime.h"

static const struct cmd_opts cp_cmd = {
    .name = "cp",
    .synopsis = "NAME:PATH HOSTPATH | HOSTPATH NAME:PATH",
    .about = "Copy files or directories between a running container and the host, as a tar\n"
	     "stream over the container's control channel. The container side runs the\n"
	     "image's own tar (busybox's will do; an image without tar cannot be copied).\n"
	     "Into an existing directory the source keeps its name; else the destination\n"
	     "names the copy. What comes out of the container is checked: nothing is written\n"
	     "outside the destination (no '..', no absolute names, no symlinks followed),\n"
	     "owners and device nodes are not restored, at most 4 GiB.\n",
    .min_args = 2,
    .max_args = 2,
};

/* An exec session's output: stdout to the spool (bounded), stderr to ours. */
struct spool {
	int fd;
	uint64_t len;
	bool overflow, write_error;
};

static void spool_output(void *ctx, int stream, const uint8_t *buf, size_t n)
{
	struct spool *s = ctx;
	if (stream != 1) {
		fdio_write_all(STDERR_FILENO, buf, n);
		return;
	}
	if (s->overflow || s->write_error)
		return;
	if (s->len + n > CP_MAX_BYTES) {
		s->overflow = true;
		return;
	}
	if (fdio_write_all(s->fd, buf, n))
		s->write_error = true;
	s->len += n;
}

/* Run argv in container name; stdin from in_fd (-1: none), stdout to sp
 * (NULL: ours). Returns the command's status, or -1 after saying why hull
 * could not run it. */
static int run_in(const char *name, const char *const *argv, int in_fd, struct spool *sp)
{
	size_t argc = 0;
	while (argv[argc])
		argc++;
	struct rt_process p = {.argv = (char *const *)argv, .argc = argc, .stdin_open = in_fd >= 0};
	struct rt_io io = {
	    .ctx = sp, .in_fd = in_fd, .output = sp ? spool_output : NULL, .event_fd = -1};
	struct rt_exec *x;
	struct errmsg err;
	if (rt_exec_start(name, &p, &io, &x, &err)) {
		fprintf(stderr, "hull: cp: %s\n", err.text);
		return -1;
	}
	int status = rt_exec_wait(x);
	rt_exec_free(x);
	if (status == 126 || status == 127)
		fprintf(stderr,
			"hull: cp: container %s: cannot run %s (status %d): the image needs "
			"a tar for hull cp\n",
			name, argv[0], status);
	return status;
}

static int tmp_fd(void)
{
	const char *d = getenv("TMPDIR");
	int fd = open(d && *d ? d : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fprintf(stderr, "hull: cp: a temporary file: %s\n", strerror(errno));
	return fd;
}

/* ---- container -> host ---- */

static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t n;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(in, &buf, &n, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, n, off) < ARCHIVE_OK)
			return -1;
	return r == ARCHIVE_EOF ? 0 : -1;
}

/* Extract the spooled tar into the current directory, names moved from base
 * to newbase. */
static int extract(int fd, const char *base, const char *newbase)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	int rc = -1;
	if (!in || !out)
		goto done;
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(
	    out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		     ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
		fprintf(stderr, "hull: cp: the container's tar stream: %s\n",
			archive_error_string(in));
		goto done;
	}
	struct archive_entry *e;
	size_t n = 0;
	int r;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		char *to = NULL, *link_to = NULL;
		if (++n > CP_MAX_ENTRIES) {
			fprintf(stderr, "hull: cp: more than %d entries from the container\n",
				CP_MAX_ENTRIES);
			goto done;
		}
		if (!name || cp_entry_rename(name, base, newbase, &to)) {
			fprintf(stderr,
				"hull: cp: refused an entry from the container: \"%s\" (not "
				"under %s)\n",
				name ? name : "", base);
			goto done;
		}
		const char *hl = archive_entry_hardlink(e);
		if (hl && cp_entry_rename(hl, base, newbase, &link_to)) {
			fprintf(stderr,
				"hull: cp: refused a hard link from the container: \"%s\"\n", hl);
			free(to);
			goto done;
		}
		mode_t type = archive_entry_filetype(e);
		if (!hl && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
			fprintf(stderr, "hull: cp: skipped %s: not a file, directory or symlink\n",
				to);
			free(to);
			continue;
		}
		archive_entry_set_pathname(e, to);
		if (link_to)
			archive_entry_set_hardlink(e, link_to);
		free(to);
		free(link_to);
		if (archive_write_header(out, e) < ARCHIVE_OK ||
		    (archive_entry_size(e) > 0 && copy_data(in, out)) ||
		    archive_write_finish_entry(out) < ARCHIVE_OK) {
			fprintf(stderr, "hull: cp: %s: %s\n", archive_entry_pathname(e),
				archive_error_string(out) ? archive_error_string(out)
							  : archive_error_string(in));
			goto done;
		}
	}
	if (r != ARCHIVE_EOF) {
		fprintf(stderr, "hull: cp: the container's tar stream: %s\n",
			archive_error_string(in));
		goto done;
	}
	if (!n) {
		fprintf(stderr, "hull: cp: the container sent nothing\n");
		goto done;
	}
	rc = 0;
done:
	if (out) {
		archive_write_close(out);
		archive_write_free(out);
	}
	if (in)
		archive_read_free(in);
	return rc;
}

static int from_container(const char *name, const char *cpath, const char *dst)
{
	char *cdir = NULL, *cbase = NULL, *hdir = NULL, *hbase = NULL;
	int rc = 1, fd = -1, here = -1, there = -1;
	if (cp_split(cpath, &cdir, &cbase) || cp_split(dst, &hdir, &hbase))
		goto out;
	struct stat st;
	const char *parent = hdir, *newbase = hbase;
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
		parent = dst;
		newbase = cbase;
	}
	if ((there = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "hull: cp: %s: %s\n", parent, strerror(errno));
		goto out;
	}
	if ((fd = tmp_fd()) < 0)
		goto out;
	struct spool sp = {.fd = fd};
	const char *argv[] = {"tar", "-C", cdir, "-cf", "-", cbase, NULL};
	int status = run_in(name, argv, -1, &sp);
	if (status < 0)
		goto out;
	if (status) {
		if (status != 126 && status != 127)
			fprintf(stderr,
				"hull: cp: %s:%s: tar in the container failed (status %d)\n", name,
				cpath, status);
		goto out;
	}
	if (sp.overflow || sp.write_error) {
		fprintf(stderr, "hull: cp: %s:%s: %s\n", name, cpath,
			sp.overflow ? "more than 4 GiB: refused" : "cannot spool the stream");
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    (here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fchdir(there) < 0) {
		fprintf(stderr, "hull: cp: %s: %s\n", parent, strerror(errno));
		goto out;
	}
	rc = extract(fd, cbase, newbase) ? 1 : 0;
	if (fchdir(here) < 0)
		rc = 1;
out:
	if (fd >= 0)
		close(fd);
	if (here >= 0)
		close(here);
	if (there >= 0)
		close(there);
	free(cdir);
	free(cbase);
	free(hdir);
	free(hbase);
	return rc;
}

/* ---- host -> container ---- */

/* The tar of src, its names under newbase, into fd. */
static int make_tar(const char *src, const char *newbase, int fd)
{
	struct archive *disk = archive_read_disk_new(), *out = archive_write_new();
	int rc = -1;
	if (!disk || !out)
		goto done;
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	archive_write_set_format_pax_restricted(out);
	if (archive_write_open_fd(out, fd) != ARCHIVE_OK ||
	    archive_read_disk_open(disk, src) != ARCHIVE_OK) {
		fprintf(stderr, "hull: cp: %s: %s\n", src, archive_error_string(disk));
		goto done;
	}
	size_t sl = strlen(src);
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		int r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r < ARCHIVE_WARN) {
			fprintf(stderr, "hull: cp: %s: %s\n", src, archive_error_string(disk));
			archive_entry_free(e);
			goto done;
		}
		archive_read_disk_descend(disk);
		const char *p = archive_entry_pathname(e);
		char *name = NULL;
		if (!p || strncmp(p, src, sl) || asprintf(&name, "%s%s", newbase, p + sl) < 0) {
			archive_entry_free(e);
			goto done;
		}
		archive_entry_set_pathname(e, name);
		free(name);
		if (archive_write_header(out, e) < ARCHIVE_OK) {
			fprintf(stderr, "hull: cp: %s: %s\n", p, archive_error_string(out));
			archive_entry_free(e);
			goto done;
		}
		if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
			char buf[65536];
			la_ssize_t n;
			while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
				if (archive_write_data(out, buf, (size_t)n) != n)
					break;
			if (n != 0) {
				fprintf(stderr, "hull: cp: %s: %s\n", p,
					archive_error_string(n < 0 ? disk : out));
				archive_entry_free(e);
				goto done;
			}
		}
		archive_entry_free(e);
	}
	if (archive_write_close(out) == ARCHIVE_OK)
		rc = 0;
done:
	if (disk)
		archive_read_free(disk);
	if (out)
		archive_write_free(out);
	return rc;
}

static int to_container(const char *src, const char *name, const char *cpath)
{
	char *hdir = NULL, *hbase = NULL, *cdir = NULL, *cbase = NULL, *srcn = NULL;
	int rc = 1, fd = -1;
	struct stat st;
	if (lstat(src, &st) < 0) {
		fprintf(stderr, "hull: cp: %s: %s\n", src, strerror(errno));
		return 1;
	}
	if (cp_split(src, &hdir, &hbase) || cp_split(cpath, &cdir, &cbase))
		goto out;
	/* src without its trailing slashes: the names under it start there */
	size_t n = strlen(src);
	while (n > 1 && src[n - 1] == '/')
		n--;
	if (!(srcn = strndup(src, n)))
		goto out;
	const char *test[] = {"sh", "-c", "test -d \"$1\"", "sh", cpath, NULL};
	int isdir = run_in(name, test, -1, NULL);
	if (isdir < 0 || isdir > 1)
		goto out;
	const char *into = isdir == 0 ? cpath : cdir, *newbase = isdir == 0 ? hbase : cbase;
	if ((fd = tmp_fd()) < 0 || make_tar(srcn, newbase, fd))
		goto out;
	if (lseek(fd, 0, SEEK_SET) < 0)
		goto out;
	const char *argv[] = {"tar", "-xf", "-", "-C", into, NULL};
	int status = run_in(name, argv, fd, NULL);
	if (status > 0 && status != 126 && status != 127)
		fprintf(stderr, "hull: cp: %s:%s: tar in the container failed (status %d)\n", name,
			cpath, status);
	rc = status == 0 ? 0 : 1;
out:
	if (fd >= 0)
		close(fd);
	free(hdir);
	free(hbase);
	free(cdir);
	free(cbase);
	free(srcn);
	return rc;
}

int cp_main(int argc, char **argv)
{
	int first, rc = opts_parse(&cp_cmd, argc, argv, NULL, NULL, &first);
	if (rc)
		return rc == OPTS_HELP ? 0 : 2;
	struct cp_arg src = {0}, dst = {0};
	for (int i = 0; i < 2; i++) {
		if (cp_arg_parse(argv[first + i], i ? &dst : &src)) {
			fprintf(stderr, "hull cp: \"%s\": expected NAME:PATH or a host path\n",
				argv[first + i]);
			cp_arg_free(&src);
			return 2;
		}
	}
	int status = 2;
	if (src.container && dst.container)
		fprintf(stderr, "hull cp: copying between containers is not supported\n");
	else if (!src.container && !dst.container)
		fprintf(stderr, "hull cp: one of the paths must be a container's (NAME:PATH)\n");
	else if (src.container)
		status = from_container(src.container, src.path, dst.path);
	else
		status = to_container(src.path, dst.container, dst.path);
	cp_arg_free(&src);
	cp_arg_free(&dst);
	return status;
}
