/* volume: a host directory for the 9p harnesses, and the check that a
 * hostile guest changed nothing outside it.
 *
 * Layout under a fresh temporary directory R:
 *   R/outside/  files, a directory, a symlink: what must never change
 *   R/vol/      the volume served to the guest, rebuilt for every input:
 *               a file, a directory with a file, and the symlinks a hostile
 *               image or user could plant there: "up" -> ../outside,
 *               "abs" -> R/outside/secret, "root" -> /, "dotdot" -> ..
 * vol_reset() rebuilds R/vol; vol_check() aborts (a libFuzzer crash, with
 * the input) if anything under R other than R/vol's contents differs from
 * the first snapshot: names, types, modes, owners, sizes, mtimes, link
 * counts, inode numbers, file contents and symlink targets.
 * Single-threaded; one volume per process. */
#ifndef HULL_FUZZ_VOLUME_H
#define HULL_FUZZ_VOLUME_H

#include <dirent.h>
#include <fcntl.h>

#include "fuzz/fuzz.h"

struct vol {
	char *root, *vol;
	char *before; /* the description of everything outside R/vol */
};

static inline void vol_put(const char *dir, const char *name, const char *content)
{
	char *p;
	FZ_CHECK(asprintf(&p, "%s/%s", dir, name) > 0);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FZ_CHECK(fd >= 0 && write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	close(fd);
	free(p);
}

static inline void vol_link(const char *dir, const char *name, const char *target)
{
	char *p;
	FZ_CHECK(asprintf(&p, "%s/%s", dir, name) > 0 && symlink(target, p) == 0);
	free(p);
}

static inline void vol_mkdir(const char *dir, const char *name)
{
	char *p;
	FZ_CHECK(asprintf(&p, "%s/%s", dir, name) > 0 && mkdir(p, 0755) == 0);
	free(p);
}

/* Append a line describing path (and, for a directory, everything below it
 * in name order) to *out. skip: a path whose contents are not described. */
static inline void vol_describe(const char *path, const char *skip, FILE *out)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		fprintf(out, "%s: missing\n", path);
		return;
	}
	bool is_skip = strcmp(path, skip) == 0;
	fprintf(out, "%s: mode %o uid %u gid %u", path, st.st_mode, st.st_uid, st.st_gid);
	if (!S_ISDIR(st.st_mode))
		fprintf(out, " size %lld nlink %lu ino %lu mtime %lld.%09ld", (long long)st.st_size,
			(unsigned long)st.st_nlink, (unsigned long)st.st_ino,
			(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (S_ISLNK(st.st_mode)) {
		char t[4096];
		ssize_t n = readlink(path, t, sizeof(t) - 1);
		fprintf(out, " -> %.*s", (int)(n > 0 ? n : 0), t);
	} else if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		char buf[4096];
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		if (fd >= 0)
			close(fd);
		fprintf(out, " data %zd:", n);
		for (ssize_t i = 0; i < n; i++)
			fprintf(out, "%02x", (uint8_t)buf[i]);
	}
	fputc('\n', out);
	if (!S_ISDIR(st.st_mode) || is_skip)
		return;
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort);
	FZ_CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
			char *p;
			FZ_CHECK(asprintf(&p, "%s/%s", path, ents[i]->d_name) > 0);
			vol_describe(p, skip, out);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
}

static inline char *vol_state(const struct vol *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FZ_CHECK(f);
	/* R's own directory entry changes whenever R/vol is rebuilt: describe
	 * only what is inside it */
	struct dirent **ents;
	int n = scandir(v->root, &ents, NULL, alphasort);
	FZ_CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
			char *p;
			FZ_CHECK(asprintf(&p, "%s/%s", v->root, ents[i]->d_name) > 0);
			if (strcmp(p, v->vol) == 0)
				fprintf(f, "%s: the volume\n", p);
			else
				vol_describe(p, v->vol, f);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	fclose(f);
	return buf;
}

static inline void vol_reset(struct vol *v)
{
	fz_rmtree(v->vol);
	FZ_CHECK(mkdir(v->vol, 0755) == 0);
	vol_put(v->vol, "a", "hello from the volume\n");
	vol_mkdir(v->vol, "d");
	vol_put(v->vol, "d/f", "nested\n");
	vol_link(v->vol, "up", "../outside");
	vol_link(v->vol, "dotdot", "..");
	vol_link(v->vol, "root", "/");
	char *abs;
	FZ_CHECK(asprintf(&abs, "%s/outside/secret", v->root) > 0);
	vol_link(v->vol, "abs", abs);
	free(abs);
}

static inline void vol_init(struct vol *v, const char *what)
{
	v->root = fz_tmpdir(what);
	FZ_CHECK(asprintf(&v->vol, "%s/vol", v->root) > 0);
	char *out;
	FZ_CHECK(asprintf(&out, "%s/outside", v->root) > 0 && mkdir(out, 0755) == 0);
	vol_put(out, "secret", "host secret\n");
	vol_mkdir(out, "dir");
	vol_put(out, "dir/file", "host file\n");
	vol_link(out, "link", "secret");
	free(out);
	vol_reset(v);
	v->before = vol_state(v);
}

static inline void vol_check(const struct vol *v)
{
	char *now = vol_state(v);
	if (strcmp(now, v->before) != 0) {
		fprintf(stderr, "outside the volume changed:\n--- before\n%s--- now\n%s", v->before,
			now);
		abort();
	}
	free(now);
}

static inline void vol_free(struct vol *v)
{
	fz_rmtree(v->root);
	free(v->root);
	free(v->vol);
	free(v->before);
}

#endif
