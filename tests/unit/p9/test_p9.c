/* Unit tests for p9/p9.c: the 9P2000.L server against a real temporary
 * directory tree, with a sibling directory the guest must never reach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p9_msg.h"
#include "p9/p9.h"

enum {
	RLERROR = 7,
	TSTATFS = 8,
	TLOPEN = 12,
	TLCREATE = 14,
	TSYMLINK = 16,
	TMKNOD = 18,
	TRENAME = 20,
	TREADLINK = 22,
	TGETATTR = 24,
	TSETATTR = 26,
	TXATTRWALK = 30,
	TREADDIR = 40,
	TFSYNC = 50,
	TLOCK = 52,
	TGETLOCK = 54,
	TLINK = 70,
	TMKDIR = 72,
	TRENAMEAT = 74,
	TUNLINKAT = 76,
	TVERSION = 100,
	TATTACH = 104,
	TFLUSH = 108,
	TWALK = 110,
	TREAD = 116,
	TWRITE = 118,
	TCLUNK = 120,
	TREMOVE = 122
};

#define ROOT 1u
#define OUT_CAP (P9_MSIZE_MAX)

struct fx {
	char dir[64]; /* holds vol/ and outside/ */
	char vol[96];
	struct p9_server *s;
	uint8_t *out;
	long n; /* length of the last answer */
	struct p9m m;
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static long rpc_cap(struct fx *f, size_t cap)
{
	m_end(&f->m);
	f->n = p9_server_handle(f->s, f->m.b, f->m.n, f->out, cap);
	return f->n;
}

/* Send the message built in f->m; return 0 on an R-message of the
 * expected type, -errno on Rlerror. */
static int rpc(struct fx *f)
{
	uint8_t type = f->m.b[4];
	assert_true(rpc_cap(f, OUT_CAP) >= 7);
	assert_int_equal(r_u32(f->out), f->n);
	assert_int_equal(r_u16(f->out + 5), r_u16(f->m.b + 5)); /* tag echoed */
	if (f->out[4] == RLERROR) {
		assert_int_equal(f->n, P9_ERR_LEN);
		return -(int)r_u32(f->out + 7);
	}
	assert_int_equal(f->out[4], type + 1);
	return 0;
}

static int version(struct fx *f, uint32_t msize, const char *v)
{
	m_begin(&f->m, TVERSION, 0xffff);
	m_u32(&f->m, msize);
	m_str(&f->m, v);
	return rpc(f);
}

static int attach(struct fx *f, uint32_t fid, uint32_t uid)
{
	m_begin(&f->m, TATTACH, 1);
	m_u32(&f->m, fid);
	m_u32(&f->m, 0xffffffff);
	m_str(&f->m, "root");
	m_str(&f->m, "");
	m_u32(&f->m, uid);
	return rpc(f);
}

/* Twalk; returns -errno or the number of qids. */
static int walkv(struct fx *f, uint32_t fid, uint32_t newfid, int n, const char **names)
{
	m_begin(&f->m, TWALK, 2);
	m_u32(&f->m, fid);
	m_u32(&f->m, newfid);
	m_u16(&f->m, (uint16_t)n);
	for (int i = 0; i < n; i++)
		m_str(&f->m, names[i]);
	int rc = rpc(f);
	return rc < 0 ? rc : r_u16(f->out + 7);
}

static int walk1(struct fx *f, uint32_t fid, uint32_t newfid, const char *name)
{
	return walkv(f, fid, newfid, name ? 1 : 0, &name);
}

static int clunk(struct fx *f, uint32_t fid)
{
	m_begin(&f->m, TCLUNK, 3);
	m_u32(&f->m, fid);
	return rpc(f);
}

static int lopen(struct fx *f, uint32_t fid, uint32_t flags)
{
	m_begin(&f->m, TLOPEN, 4);
	m_u32(&f->m, fid);
	m_u32(&f->m, flags);
	return rpc(f);
}

static int lcreate(struct fx *f, uint32_t fid, const char *name, uint32_t flags, uint32_t mode)
{
	m_begin(&f->m, TLCREATE, 5);
	m_u32(&f->m, fid);
	m_str(&f->m, name);
	m_u32(&f->m, flags);
	m_u32(&f->m, mode);
	m_u32(&f->m, 0);
	return rpc(f);
}

static int pwrite9(struct fx *f, uint32_t fid, uint64_t off, const char *data)
{
	m_begin(&f->m, TWRITE, 6);
	m_u32(&f->m, fid);
	m_u64(&f->m, off);
	m_u32(&f->m, (uint32_t)strlen(data));
	memcpy(f->m.b + f->m.n, data, strlen(data));
	f->m.n += strlen(data);
	int rc = rpc(f);
	return rc < 0 ? rc : (int)r_u32(f->out + 7);
}

/* Tread; the data is at f->out + 11. Returns -errno or the count. */
static int pread9(struct fx *f, uint32_t fid, uint64_t off, uint32_t count)
{
	m_begin(&f->m, TREAD, 7);
	m_u32(&f->m, fid);
	m_u64(&f->m, off);
	m_u32(&f->m, count);
	int rc = rpc(f);
	return rc < 0 ? rc : (int)r_u32(f->out + 7);
}

static int dir_op(struct fx *f, uint8_t type, uint32_t fid, const char *name, uint32_t mode)
{
	m_begin(&f->m, type, 8);
	m_u32(&f->m, fid);
	m_str(&f->m, name);
	if (type == TMKDIR) {
		m_u32(&f->m, mode);
		m_u32(&f->m, 0);
	} else if (type == TMKNOD) {
		m_u32(&f->m, mode);
		m_u32(&f->m, 1);
		m_u32(&f->m, 3);
		m_u32(&f->m, 0);
	} else if (type == TUNLINKAT) {
		m_u32(&f->m, mode);
	}
	return rpc(f);
}

static int symlink9(struct fx *f, uint32_t fid, const char *name, const char *target)
{
	m_begin(&f->m, TSYMLINK, 9);
	m_u32(&f->m, fid);
	m_str(&f->m, name);
	m_str(&f->m, target);
	m_u32(&f->m, 0);
	return rpc(f);
}

static int link9(struct fx *f, uint32_t dfid, uint32_t fid, const char *name)
{
	m_begin(&f->m, TLINK, 10);
	m_u32(&f->m, dfid);
	m_u32(&f->m, fid);
	m_str(&f->m, name);
	return rpc(f);
}

static int renameat9(struct fx *f, uint32_t ofid, const char *on, uint32_t nfid, const char *nn)
{
	m_begin(&f->m, TRENAMEAT, 11);
	m_u32(&f->m, ofid);
	m_str(&f->m, on);
	m_u32(&f->m, nfid);
	m_str(&f->m, nn);
	return rpc(f);
}

static int setattr9(struct fx *f, uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size)
{
	m_begin(&f->m, TSETATTR, 12);
	m_u32(&f->m, fid);
	m_u32(&f->m, valid);
	m_u32(&f->m, mode);
	m_u32(&f->m, 0);
	m_u32(&f->m, 0);
	m_u64(&f->m, size);
	for (int i = 0; i < 4; i++)
		m_u64(&f->m, 0);
	return rpc(f);
}

static int simple(struct fx *f, uint8_t type, uint32_t fid)
{
	m_begin(&f->m, type, 13);
	m_u32(&f->m, fid);
	if (type == TGETATTR)
		m_u64(&f->m, 0x7ff);
	if (type == TFSYNC)
		m_u32(&f->m, 0);
	return rpc(f);
}

static bool host_exists(struct fx *f, const char *rel)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", f->vol, rel);
	return lstat(p, &st) == 0;
}

static int setup_ro(void **state, bool ro)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];
	snprintf(f->dir, sizeof(f->dir), "/tmp/hull-test-p9-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->vol, sizeof(f->vol), "%s/vol", f->dir);
	assert_int_equal(mkdir(f->vol, 0755), 0);
	snprintf(p, sizeof(p), "%s/outside", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/outside/secret", f->dir);
	put(p, "SECRET");
	snprintf(p, sizeof(p), "%s/hostfile", f->vol);
	put(p, "hostdata");
	snprintf(p, sizeof(p), "%s/sub", f->vol);
	assert_int_equal(mkdir(p, 0755), 0);
	/* escapes: an absolute link, a relative one, one to a file */
	char target[128];
	snprintf(target, sizeof(target), "%s/outside", f->dir);
	snprintf(p, sizeof(p), "%s/abs", f->vol);
	assert_int_equal(symlink(target, p), 0);
	snprintf(p, sizeof(p), "%s/up", f->vol);
	assert_int_equal(symlink("../outside", p), 0);
	snprintf(target, sizeof(target), "%s/outside/secret", f->dir);
	snprintf(p, sizeof(p), "%s/filelink", f->vol);
	assert_int_equal(symlink(target, p), 0);
	struct errmsg err;
	assert_int_equal(p9_server_new(&f->s, f->vol, ro,
				       geteuid() == 0 ? P9_OWNERS_PASSTHROUGH : P9_OWNERS_KEEP,
				       &err),
			 0);
	f->out = malloc(OUT_CAP);
	assert_int_equal(version(f, 1u << 20, "9P2000.L"), 0);
	assert_int_equal(attach(f, ROOT, 0), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_ro(state, false);
}

static int setup_readonly(void **state)
{
	return setup_ro(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	p9_server_reset(f->s);
	assert_int_equal(p9_server_nodes(f->s), 1); /* only the root: no fd leaked */
	p9_server_free(f->s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->out);
	free(f);
	return 0;
}

static void test_version(void **state)
{
	struct fx *f = *state;
	assert_int_equal(version(f, 1u << 30, "9P2000.L"), 0);
	assert_int_equal(r_u32(f->out + 7), P9_MSIZE_MAX); /* capped */
	assert_int_equal(version(f, 8192, "9P2000.L"), 0);
	assert_int_equal(r_u32(f->out + 7), 8192);
	assert_int_equal(version(f, 100, "9P2000.L"), -EINVAL);
	assert_int_equal(version(f, 8192, "9P2000.u"), 0);
	assert_memory_equal(f->out + 13, "unknown", 7);
	/* nothing but Tversion until a version is agreed */
	assert_int_equal(attach(f, 5, 0), -EPROTO);
	assert_int_equal(version(f, 8192, "9P2000.L"), 0);
	/* Tversion dropped the fids */
	assert_int_equal(walk1(f, ROOT, 2, NULL), -EBADF);
	assert_int_equal(attach(f, ROOT, 0), 0);
	assert_int_equal(attach(f, ROOT, 0), -EBADF); /* fid in use */
}

static void test_walk_basics(void **state)
{
	struct fx *f = *state;
	const char *two[] = {"sub", ".."};
	assert_int_equal(walkv(f, ROOT, 2, 2, two), 2);
	/* ".." of sub is the root: same qid path */
	uint64_t root_path = r_u64(f->out + 9 + 13 + 5);
	assert_int_equal(walk1(f, ROOT, 3, ".."), 1); /* the root's ".." is the root */
	assert_int_equal(r_u64(f->out + 9 + 5), root_path);
	assert_int_equal(walk1(f, 3, 4, "hostfile"), 1);
	assert_int_equal(walk1(f, ROOT, 5, "nope"), -ENOENT);
	assert_int_equal(walk1(f, 99, 6, "sub"), -EBADF);	/* unknown fid */
	assert_int_equal(walk1(f, ROOT, 4, "sub"), -EBADF);	/* newfid in use */
	assert_int_equal(walk1(f, ROOT, 6, "sub/.."), -EINVAL); /* no '/' */
	assert_int_equal(walk1(f, ROOT, 6, "."), -EINVAL);
	assert_int_equal(walk1(f, ROOT, 6, ""), -EINVAL);
	const char *many[17];
	for (int i = 0; i < 17; i++)
		many[i] = "sub";
	assert_int_equal(walkv(f, ROOT, 6, 17, many), -EINVAL);
	/* a partial walk answers the qids it got and makes no fid */
	const char *part[] = {"sub", "nope", "x"};
	assert_int_equal(walkv(f, ROOT, 6, 3, part), 1);
	assert_int_equal(clunk(f, 6), -EBADF);
	/* fids are bounded: a guest cannot grow the server without limit */
	uint32_t id = 1000;
	for (unsigned i = 0; i < P9_MAX_FIDS; i++) {
		m_begin(&f->m, TWALK, 2);
		m_u32(&f->m, ROOT);
		m_u32(&f->m, id++);
		m_u16(&f->m, 0);
		if (rpc(f) == -ENFILE)
			break;
	}
	assert_int_equal(walk1(f, ROOT, id, NULL), -ENFILE);
	for (uint32_t i = 1000; i < id; i++)
		clunk(f, i);
	assert_int_equal(walk1(f, ROOT, id, NULL), 0);
	assert_int_equal(clunk(f, id), 0);
	/* clone, then walk in place */
	assert_int_equal(walk1(f, ROOT, 7, NULL), 0);
	assert_int_equal(walk1(f, 7, 7, "sub"), 1);
	assert_int_equal(simple(f, TGETATTR, 7), 0);
	assert_true(S_ISDIR(r_u32(f->out + 7 + 8 + 13)));
	for (uint32_t i = 2; i <= 7; i++)
		clunk(f, i);
	assert_int_equal(p9_server_nodes(f->s), 1);
}

/* Symlinks in the volume never lead outside it: they are nodes of their
 * own, never walked through, never opened, never hard-linked. */
static void test_symlink_escapes(void **state)
{
	struct fx *f = *state;
	const char *abs[] = {"abs", "secret"};
	assert_int_equal(walkv(f, ROOT, 2, 2, abs), 1); /* stops at the link */
	const char *up[] = {"up", "secret"};
	assert_int_equal(walkv(f, ROOT, 2, 2, up), 1);
	const char *dots[] = {"..", "outside", "secret"};
	assert_int_equal(walkv(f, ROOT, 2, 3, dots), 1); /* ".." stays at the root */
	const char *dots2[] = {"sub", "..", "..", "outside"};
	assert_int_equal(walkv(f, ROOT, 2, 4, dots2), 3);

	assert_int_equal(walk1(f, ROOT, 2, "filelink"), 1);
	assert_int_equal(f->out[9], 0x02); /* QTSYMLINK */
	assert_int_equal(lopen(f, 2, O_RDONLY), -ENXIO);
	m_begin(&f->m, TREADLINK, 1);
	m_u32(&f->m, 2);
	assert_int_equal(rpc(f), 0);
	assert_int_equal(r_u16(f->out + 7), strlen(f->dir) + strlen("/outside/secret"));
	assert_int_equal(link9(f, ROOT, 2, "hard"), -EPERM);
	assert_false(host_exists(f, "hard"));
	assert_int_equal(setattr9(f, 2, 0x1, 0777, 0), -EOPNOTSUPP);
	assert_int_equal(setattr9(f, 2, 0x8, 0, 0), -EINVAL);
	struct stat st;
	char p[256];
	snprintf(p, sizeof(p), "%s/outside/secret", f->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(st.st_size, 6);

	/* a symlink to a directory is no directory to create in */
	assert_int_equal(walk1(f, ROOT, 3, "abs"), 1);
	assert_int_equal(lcreate(f, 3, "planted", O_RDWR, 0644), -ENOTDIR);
	assert_int_equal(dir_op(f, TMKDIR, 3, "planted", 0755), -ENOTDIR);
	assert_int_equal(symlink9(f, 3, "planted", "x"), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/outside/planted", f->dir);
	assert_int_equal(lstat(p, &st), -1);
	/* names with a slash cannot reach through a link either */
	assert_int_equal(lcreate(f, ROOT, "abs/planted", O_RDWR, 0644), -EINVAL);
	assert_int_equal(dir_op(f, TMKDIR, ROOT, "up/planted", 0755), -EINVAL);
	assert_int_equal(dir_op(f, TUNLINKAT, ROOT, "up/secret", 0), -EINVAL);
	assert_int_equal(renameat9(f, ROOT, "abs/secret", ROOT, "stolen"), -EINVAL);
	assert_int_equal(renameat9(f, ROOT, "hostfile", ROOT, ".."), -EINVAL);
	assert_int_equal(lstat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/outside/secret", f->dir);
	assert_int_equal(lstat(p, &st), 0);
	/* creating over an existing symlink does not follow it */
	assert_int_equal(lcreate(f, ROOT, "filelink", O_RDWR | O_TRUNC, 0644), -EEXIST);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 6);
	clunk(f, 2);
	clunk(f, 3);
}

static void test_file_lifecycle(void **state)
{
	struct fx *f = *state;
	/* create, write, read back */
	assert_int_equal(walk1(f, ROOT, 2, NULL), 0);
	assert_int_equal(lcreate(f, 2, "new", O_RDWR, 0640), 0);
	assert_int_equal(pwrite9(f, 2, 0, "hello world"), 11);
	assert_int_equal(pread9(f, 2, 6, 100), 5);
	assert_memory_equal(f->out + 11, "world", 5);
	assert_int_equal(simple(f, TFSYNC, 2), 0);
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/new", f->vol);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* exact, not the umask's */
	assert_int_equal(st.st_size, 11);
	/* the host's file reads through */
	assert_int_equal(walk1(f, ROOT, 3, "hostfile"), 1);
	assert_int_equal(lopen(f, 3, O_RDONLY), 0);
	assert_int_equal(lopen(f, 3, O_RDONLY), -EBUSY);
	assert_int_equal(pread9(f, 3, 0, 0xffffffff), 8); /* huge count: clamped */
	assert_memory_equal(f->out + 11, "hostdata", 8);
	assert_int_equal(pread9(f, 3, 1ull << 63, 10), -EINVAL);
	assert_int_equal(pwrite9(f, 3, 0, "x"), -EBADF); /* opened read-only */
	/* setattr: truncate, chmod, times */
	assert_int_equal(walk1(f, ROOT, 4, "new"), 1);
	assert_int_equal(setattr9(f, 4, 0x8, 0, 5), 0);
	assert_int_equal(setattr9(f, 4, 0x1, 0600, 0), 0);
	assert_int_equal(setattr9(f, 4, 0x10 | 0x20, 0, 0), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* mkdir, symlink, readdir */
	assert_int_equal(dir_op(f, TMKDIR, ROOT, "d", 0750), 0);
	assert_int_equal(symlink9(f, ROOT, "ln", "../anywhere"), 0);
	snprintf(p, sizeof(p), "%s/d", f->vol);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(walk1(f, ROOT, 5, NULL), 0);
	assert_int_equal(lopen(f, 5, O_RDONLY | O_DIRECTORY), 0);
	int names = 0;
	bool seen_new = false;
	uint64_t off = 0;
	for (;;) {
		m_begin(&f->m, TREADDIR, 1);
		m_u32(&f->m, 5);
		m_u64(&f->m, off);
		m_u32(&f->m, 60); /* small: forces several rounds */
		assert_int_equal(rpc(f), 0);
		uint32_t cnt = r_u32(f->out + 7);
		if (cnt == 0)
			break;
		for (const uint8_t *e = f->out + 11; e < f->out + 11 + cnt;) {
			uint16_t nl = r_u16(e + 22);
			off = r_u64(e + 13);
			seen_new |= nl == 3 && memcmp(e + 24, "new", 3) == 0;
			names++;
			e += 24 + nl;
		}
		assert_true(names < 100);
	}
	assert_true(seen_new);
	assert_int_equal(names, 10); /* . .. hostfile sub abs up filelink new d ln */
	/* rename, hard link, unlink */
	assert_int_equal(walk1(f, ROOT, 6, "d"), 1);
	assert_int_equal(renameat9(f, ROOT, "new", 6, "moved"), 0);
	assert_false(host_exists(f, "new"));
	assert_true(host_exists(f, "d/moved"));
	assert_int_equal(link9(f, ROOT, 4, "hard"), 0); /* fid 4: the file, now d/moved */
	snprintf(p, sizeof(p), "%s/hard", f->vol);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(dir_op(f, TUNLINKAT, ROOT, "hard", 0), 0);
	assert_int_equal(dir_op(f, TUNLINKAT, ROOT, "d", 0x200), -ENOTEMPTY);
	assert_int_equal(dir_op(f, TUNLINKAT, 6, "moved", 0), 0);
	assert_int_equal(dir_op(f, TUNLINKAT, ROOT, "d", 0x200), 0);
	/* Trename moves the fid's own entry; a stale one is refused */
	assert_int_equal(walk1(f, ROOT, 7, "ln"), 1);
	m_begin(&f->m, TRENAME, 1);
	m_u32(&f->m, 7);
	m_u32(&f->m, ROOT);
	m_str(&f->m, "ln2");
	assert_int_equal(rpc(f), 0);
	assert_true(host_exists(f, "ln2"));
	assert_int_equal(simple(f, TREMOVE, 7), 0);
	assert_false(host_exists(f, "ln2"));
	assert_int_equal(simple(f, TREMOVE, 4), -ESTALE); /* its file is gone */
	/* devices are refused, FIFOs made but never opened */
	assert_int_equal(dir_op(f, TMKNOD, ROOT, "dev", S_IFCHR | 0600), -EPERM);
	assert_int_equal(dir_op(f, TMKNOD, ROOT, "blk", S_IFBLK | 0600), -EPERM);
	assert_false(host_exists(f, "dev"));
	assert_int_equal(dir_op(f, TMKNOD, ROOT, "fifo", S_IFIFO | 0600), 0);
	assert_int_equal(walk1(f, ROOT, 8, "fifo"), 1);
	assert_int_equal(lopen(f, 8, O_RDONLY), -ENXIO);
	assert_int_equal(simple(f, TSTATFS, ROOT), 0);
	assert_int_equal(r_u32(f->out + 7), 0x01021997);
	m_begin(&f->m, TXATTRWALK, 1);
	m_u32(&f->m, ROOT);
	m_u32(&f->m, 9);
	m_str(&f->m, "security.capability");
	assert_int_equal(rpc(f), -EOPNOTSUPP);
	for (uint32_t i = 2; i <= 8; i++)
		clunk(f, i);
}

static void test_locks_flush(void **state)
{
	struct fx *f = *state;
	m_begin(&f->m, TLOCK, 1);
	m_u32(&f->m, ROOT);
	m_u8(&f->m, 1);
	m_u32(&f->m, 0);
	m_u64(&f->m, 0);
	m_u64(&f->m, 10);
	m_u32(&f->m, 42);
	m_str(&f->m, "guest");
	assert_int_equal(rpc(f), 0);
	assert_int_equal(f->out[7], 0); /* granted */
	m_begin(&f->m, TGETLOCK, 1);
	m_u32(&f->m, ROOT);
	m_u8(&f->m, 1);
	m_u64(&f->m, 0);
	m_u64(&f->m, 10);
	m_u32(&f->m, 42);
	m_str(&f->m, "guest");
	assert_int_equal(rpc(f), 0);
	assert_int_equal(f->out[7], 2); /* unlocked: no conflict */
	m_begin(&f->m, TFLUSH, 1);
	m_u16(&f->m, 5);
	assert_int_equal(rpc(f), 0);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	assert_int_equal(walk1(f, ROOT, 2, "hostfile"), 1);
	assert_int_equal(lopen(f, 2, O_RDWR), -EROFS);
	assert_int_equal(lopen(f, 2, O_RDONLY | O_TRUNC), -EROFS);
	assert_int_equal(lopen(f, 2, O_RDONLY), 0);
	assert_int_equal(pread9(f, 2, 0, 100), 8);
	assert_int_equal(pwrite9(f, 2, 0, "x"), -EROFS);
	assert_int_equal(setattr9(f, 2, 0x8, 0, 0), -EROFS);
	assert_int_equal(walk1(f, ROOT, 3, NULL), 0);
	assert_int_equal(lcreate(f, 3, "new", O_RDWR, 0644), -EROFS);
	assert_int_equal(dir_op(f, TMKDIR, ROOT, "d", 0755), -EROFS);
	assert_int_equal(dir_op(f, TMKNOD, ROOT, "p", S_IFIFO | 0644), -EROFS);
	assert_int_equal(dir_op(f, TUNLINKAT, ROOT, "hostfile", 0), -EROFS);
	assert_int_equal(symlink9(f, ROOT, "l", "x"), -EROFS);
	assert_int_equal(link9(f, ROOT, 2, "h"), -EROFS);
	assert_int_equal(renameat9(f, ROOT, "hostfile", ROOT, "h"), -EROFS);
	assert_int_equal(simple(f, TREMOVE, 2), -EROFS);
	assert_true(host_exists(f, "hostfile"));
	assert_false(host_exists(f, "new") || host_exists(f, "d") || host_exists(f, "h"));
	clunk(f, 3);
}

static void test_malformed(void **state)
{
	struct fx *f = *state;
	uint8_t small[6] = {6, 0, 0, 0, TCLUNK, 0};
	assert_int_equal(p9_server_handle(f->s, small, sizeof(small), f->out, OUT_CAP), -EBADMSG);
	m_begin(&f->m, TCLUNK, 1);
	m_u32(&f->m, ROOT);
	m_end(&f->m);
	assert_int_equal(p9_server_handle(f->s, f->m.b, f->m.n, f->out, 10), -EBADMSG);
	/* size field larger than the bytes given, or below the header */
	m_begin(&f->m, TCLUNK, 1);
	m_u32(&f->m, ROOT);
	m_end(&f->m);
	f->n = p9_server_handle(f->s, f->m.b, f->m.n - 1, f->out, OUT_CAP);
	assert_int_equal(f->out[4], RLERROR);
	assert_int_equal(r_u32(f->out + 7), EBADMSG);
	f->m.b[0] = 3;
	f->n = p9_server_handle(f->s, f->m.b, f->m.n, f->out, OUT_CAP);
	assert_int_equal(r_u32(f->out + 7), EBADMSG);
	/* truncated fields and strings */
	m_begin(&f->m, TWALK, 1);
	m_u32(&f->m, ROOT);
	m_u32(&f->m, 2);
	m_u16(&f->m, 1);
	m_u16(&f->m, 200); /* string claims 200 bytes, has 3 */
	memcpy(f->m.b + f->m.n, "abc", 3);
	f->m.n += 3;
	assert_int_equal(rpc(f), -EBADMSG);
	m_begin(&f->m, TGETATTR, 1);
	m_u32(&f->m, ROOT);
	assert_int_equal(rpc(f), -EBADMSG); /* no request mask */
	/* a NUL inside a name */
	m_begin(&f->m, TWALK, 1);
	m_u32(&f->m, ROOT);
	m_u32(&f->m, 2);
	m_u16(&f->m, 1);
	m_u16(&f->m, 3);
	memcpy(f->m.b + f->m.n, "s\0b", 3);
	f->m.n += 3;
	assert_int_equal(rpc(f), -EBADMSG);
	/* Twrite claiming more data than it carries */
	assert_int_equal(walk1(f, ROOT, 2, NULL), 0);
	assert_int_equal(lcreate(f, 2, "w", O_RDWR, 0644), 0);
	m_begin(&f->m, TWRITE, 1);
	m_u32(&f->m, 2);
	m_u64(&f->m, 0);
	m_u32(&f->m, 0x7fffffff);
	m_u32(&f->m, 0xabcdabcd);
	assert_int_equal(rpc(f), -EBADMSG);
	/* an R-message, an unknown type */
	m_begin(&f->m, TCLUNK + 1, 1);
	assert_int_equal(rpc_cap(f, OUT_CAP), P9_ERR_LEN);
	assert_int_equal(r_u32(f->out + 7), EBADMSG);
	m_begin(&f->m, 200, 1);
	assert_int_equal(rpc(f), -EOPNOTSUPP);
	/* larger than the negotiated msize */
	assert_int_equal(version(f, 8192, "9P2000.L"), 0);
	static uint8_t big[9000];
	memset(big, 0, sizeof(big));
	uint32_t sz = htole32(sizeof(big));
	memcpy(big, &sz, 4);
	big[4] = TWRITE;
	f->n = p9_server_handle(f->s, big, sizeof(big), f->out, OUT_CAP);
	assert_int_equal(r_u32(f->out + 7), EMSGSIZE);
	/* a read never answers more than msize */
	assert_int_equal(attach(f, ROOT, 0), 0);
	assert_int_equal(walk1(f, ROOT, 3, "hostfile"), 1);
	assert_int_equal(lopen(f, 3, O_RDONLY), 0);
	assert_int_equal(pread9(f, 3, 0, 1u << 20), 8);
	assert_true(f->n <= 8192);
	/* an answer that does not fit the room given */
	m_begin(&f->m, TGETATTR, 1);
	m_u32(&f->m, ROOT);
	m_u64(&f->m, 0x7ff);
	assert_int_equal(rpc_cap(f, 50), P9_ERR_LEN);
	assert_int_equal(r_u32(f->out + 7), EMSGSIZE);
}

/* Random and mutated messages: every one is answered or refused, never a
 * crash (ASan watches), never a leaked node. */
static void test_fuzz(void **state)
{
	struct fx *f = *state;
	static const uint8_t types[] = {TSTATFS,  TLOPEN,    TLCREATE,	TSYMLINK, TMKNOD,
					TRENAME,  TREADLINK, TGETATTR,	TSETATTR, TXATTRWALK,
					TREADDIR, TFSYNC,    TLOCK,	TGETLOCK, TLINK,
					TMKDIR,	  TRENAMEAT, TUNLINKAT, TATTACH,  TFLUSH,
					TWALK,	  TREAD,     TWRITE,	TCLUNK,	  TREMOVE};
	srand(1234);
	for (int i = 0; i < 20000; i++) {
		size_t len = 7 + (size_t)(rand() % 64);
		m_begin(&f->m, types[rand() % sizeof(types)], 1);
		for (size_t j = 7; j < len; j++)
			f->m.b[j] = (uint8_t)(rand() % 4 ? rand() % 4 : rand());
		f->m.n = len;
		/* mostly small fids so some requests get far */
		long n = rpc_cap(f, (size_t)(11 + rand() % 4096));
		assert_true(n >= (long)P9_HDR_LEN);
		assert_int_equal(r_u32(f->out), n);
	}
	char p[256];
	snprintf(p, sizeof(p), "%s/outside/secret", f->dir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 6);
}

/* Tsetattr of fid: mode (valid MODE) or owner (valid UID|GID). */
static int setattr_ids(struct fx *f, uint32_t fid, uint32_t valid, uint32_t mode, uint32_t uid,
		       uint32_t gid)
{
	m_begin(&f->m, TSETATTR, 6);
	m_u32(&f->m, fid);
	m_u32(&f->m, valid);
	m_u32(&f->m, mode);
	m_u32(&f->m, uid);
	m_u32(&f->m, gid);
	for (int i = 0; i < 5; i++)
		m_u64(&f->m, 0); /* size, atime, mtime */
	return rpc(f);
}

/* Owners and setuid/setgid bits: left to the host (KEEP), mapped to the
 * volume directory's owner (MAPPED, root's default) or passed through
 * (PASSTHROUGH, root's opt-in). */
static void test_ownership(void **state)
{
	struct fx *f = *state;
	struct errmsg err;
	struct stat vst;
	assert_int_equal(stat(f->vol, &vst), 0);
	/* MAPPED and PASSTHROUGH need root to chown (CI runs as root) */
	for (int pass = 0; pass < (geteuid() == 0 ? 3 : 1); pass++) {
		struct p9_server *s;
		enum p9_owners own = pass == 0	 ? P9_OWNERS_KEEP
				     : pass == 1 ? P9_OWNERS_PASSTHROUGH
						 : P9_OWNERS_MAPPED;
		if (pass == 2)
			assert_int_equal(chown(f->vol, 4321, 8765), 0); /* the volume's owner */
		assert_int_equal(p9_server_new(&s, f->vol, false, own, &err), 0);
		struct p9_server *keep = f->s;
		f->s = s;
		assert_int_equal(version(f, 65536, "9P2000.L"), 0);
		assert_int_equal(attach(f, 20, 1234), 0); /* a guest user, uid 1234 */
		assert_int_equal(walk1(f, 20, 21, NULL), 0);
		char name[16];
		snprintf(name, sizeof(name), "owned%d", pass);
		m_begin(&f->m, TLCREATE, 5);
		m_u32(&f->m, 21);
		m_str(&f->m, name);
		m_u32(&f->m, O_RDWR);
		m_u32(&f->m, 06755); /* setuid + setgid asked for */
		m_u32(&f->m, 5678);
		assert_int_equal(rpc(f), 0);
		char p[256];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", f->vol, name);
		assert_int_equal(stat(p, &st), 0);
		if (pass == 1) {
			assert_int_equal(st.st_uid, 1234);
			assert_int_equal(st.st_gid, 5678);
			assert_int_equal(st.st_mode & 07777, 06755);
		} else if (pass == 2) {
			assert_int_equal(st.st_uid, 4321);
			assert_int_equal(st.st_gid, 8765);
			assert_int_equal(st.st_mode & 07777, 0755);
		} else {
			assert_int_equal(st.st_uid, geteuid()); /* hull's own user */
			assert_int_equal(st.st_gid, getegid());
			assert_int_equal(st.st_mode & 07777, 0755);
		}
		/* chmod u+s,g+s and chown to root afterwards */
		assert_int_equal(setattr_ids(f, 21, 0x1 /* MODE */, 06700, 0, 0), 0);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, pass == 1 ? 06700 : 0700);
		if (pass > 0) {
			assert_int_equal(setattr_ids(f, 21, 0x2 | 0x4 /* UID|GID */, 0, 0, 0), 0);
			assert_int_equal(stat(p, &st), 0);
			assert_int_equal(st.st_uid, pass == 1 ? 0u : 4321u);
			assert_int_equal(st.st_gid, pass == 1 ? 0u : 8765u);
		}
		/* a directory: no setgid bit either (unless passed through) */
		snprintf(name, sizeof(name), "dir%d", pass);
		m_begin(&f->m, TMKDIR, 7);
		m_u32(&f->m, 20);
		m_str(&f->m, name);
		m_u32(&f->m, 02775);
		m_u32(&f->m, 5678);
		assert_int_equal(rpc(f), 0);
		snprintf(p, sizeof(p), "%s/%s", f->vol, name);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, pass == 1 ? 02775 : 0775);
		if (pass == 2)
			assert_int_equal(st.st_uid, 4321);
		p9_server_free(s);
		f->s = keep;
	}
}

/* Number of fds this process holds. */
static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", "..", the DIR's own fd */
}

/* Host fds per volume: a fixed budget, whatever the guest holds. 1000
 * files looked up (a fid each): at most P9_FD_BUDGET fds; every one still
 * works (its fd reopened by path), also after a rename; one replaced on
 * the host behind the server's back is ESTALE, not the new file; opens
 * beyond P9_MAX_OPEN get EMFILE. */
static void test_fd_budget(void **state)
{
	struct fx *f = *state;
	char p[256], name[32];
	snprintf(p, sizeof(p), "%s/many", f->vol);
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(p, sizeof(p), "%s/many/f%04d", f->vol, i);
		put(p, "x");
	}
	int before = fd_count();
	assert_int_equal(walk1(f, ROOT, 2, "many"), 1);
	for (uint32_t i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "f%04u", i);
		assert_int_equal(walk1(f, 2, 100 + i, name), 1);
		assert_true(p9_server_fds(f->s) <= P9_FD_BUDGET);
	}
	assert_int_equal(p9_server_nodes(f->s), 1 + 1 + 1000);
	assert_true(fd_count() - before <= (int)P9_FD_BUDGET);
	/* the oldest ones lost their fd: they are reopened on use */
	for (uint32_t i = 0; i < 1000; i += 7)
		assert_int_equal(simple(f, TGETATTR, 100 + i), 0);
	assert_true(p9_server_fds(f->s) <= P9_FD_BUDGET);
	/* a node renamed through the server, then evicted, follows the rename */
	assert_int_equal(renameat9(f, 2, "f0001", 2, "moved"), 0);
	for (uint32_t i = 500; i < 1000; i++) /* push f0001's node out */
		assert_int_equal(simple(f, TGETATTR, 100 + i), 0);
	assert_int_equal(simple(f, TGETATTR, 101), 0);
	assert_int_equal(lopen(f, 101, O_RDONLY), 0);
	assert_int_equal(clunk(f, 101), 0);
	/* replaced on the host while its fd was closed: ESTALE */
	snprintf(p, sizeof(p), "%s/many/f0002", f->vol);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s/impostor", f->vol);
	put(tmp, "impostor"); /* exists alongside: another inode */
	assert_int_equal(rename(tmp, p), 0);
	assert_int_equal(simple(f, TGETATTR, 102), -ESTALE);
	/* opened files hold an fd each, up to P9_MAX_OPEN */
	unsigned opened = 0;
	int rc = 0;
	for (uint32_t i = 10; i < 1000 && rc == 0; i++) {
		rc = lopen(f, 100 + i, O_RDONLY);
		opened += rc == 0;
	}
	assert_int_equal(rc, -EMFILE);
	assert_int_equal(opened, P9_MAX_OPEN);
	assert_true(p9_server_fds(f->s) <= P9_FD_BUDGET);
	assert_true(fd_count() - before <= (int)P9_FD_BUDGET);
	/* a clunk frees a slot */
	assert_int_equal(clunk(f, 110), 0);
	assert_int_equal(lopen(f, 100 + 999, O_RDONLY), 0);
	p9_server_reset(f->s);
	assert_int_equal(fd_count(), before);
}

/* The root is opened without following symlinks: a volume path through a
 * symlink (one a container could have planted) is refused. */
static void test_root_symlink(void **state)
{
	struct fx *f = *state;
	struct errmsg err;
	char p[256];
	snprintf(p, sizeof(p), "%s/abs", f->vol); /* -> outside */
	struct p9_server *s = NULL;
	assert_int_equal(p9_server_new(&s, p, false, P9_OWNERS_KEEP, &err), -ELOOP);
	assert_null(s);
	assert_non_null(strstr(err.text, "symlink"));
	snprintf(p, sizeof(p), "%s/abs/", f->vol);
	assert_int_equal(p9_server_new(&s, p, false, P9_OWNERS_KEEP, &err), -ELOOP);
	snprintf(p, sizeof(p), "%s/sub", f->vol);
	assert_int_equal(p9_server_new(&s, p, false, P9_OWNERS_KEEP, &err), 0);
	p9_server_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_walk_basics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_locks_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup_readonly, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ownership, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_root_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fd_budget, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
