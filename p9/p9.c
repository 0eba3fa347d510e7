/* p9: a 9P2000.L server for one directory (see p9.h for the contract). No
 * Debian library provides an embeddable 9p server, hence this file. */
#include "p9.h"
#include "common/fileutil.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
	P9_RLERROR = 7,
	P9_TSTATFS = 8,
	P9_TLOPEN = 12,
	P9_TLCREATE = 14,
	P9_TSYMLINK = 16,
	P9_TMKNOD = 18,
	P9_TRENAME = 20,
	P9_TREADLINK = 22,
	P9_TGETATTR = 24,
	P9_TSETATTR = 26,
	P9_TXATTRWALK = 30,
	P9_TXATTRCREATE = 32,
	P9_TREADDIR = 40,
	P9_TFSYNC = 50,
	P9_TLOCK = 52,
	P9_TGETLOCK = 54,
	P9_TLINK = 70,
	P9_TMKDIR = 72,
	P9_TRENAMEAT = 74,
	P9_TUNLINKAT = 76,
	P9_TVERSION = 100,
	P9_TAUTH = 102,
	P9_TATTACH = 104,
	P9_TFLUSH = 108,
	P9_TWALK = 110,
	P9_TREAD = 116,
	P9_TWRITE = 118,
	P9_TCLUNK = 120,
	P9_TREMOVE = 122,
};

#define P9_NOFID 0xffffffffu
#define P9_NOUID 0xffffffffu
#define P9_MAXWELEM 16
#define P9_QTDIR 0x80
#define P9_QTSYMLINK 0x02
#define P9_GETATTR_BASIC 0x7ffull
#define P9_READ_HDR 11u /* Rread/Rreaddir: size type tag count */
#define P9_DOTL_AT_REMOVEDIR 0x200
#define V9FS_MAGIC 0x01021997u
/* Tsetattr valid bits */
#define P9_ATTR_MODE 0x1
#define P9_ATTR_UID 0x2
#define P9_ATTR_GID 0x4
#define P9_ATTR_SIZE 0x8
#define P9_ATTR_ATIME 0x10
#define P9_ATTR_MTIME 0x20
#define P9_ATTR_ATIME_SET 0x80
#define P9_ATTR_MTIME_SET 0x100
/* Tlopen/Tlcreate flags (9P2000.L "dotl" values, Linux's generic ones) */
#define P9_DOTL_ACCMODE 03
#define P9_DOTL_TRUNC 01000
#define P9_DOTL_APPEND 02000
#define P9_DOTL_DSYNC 010000
#define P9_DOTL_DIRECTORY 0200000
#define P9_DOTL_SYNC 04000000
#define NBUCKETS 256u

/* A host object the server has a handle on. Nodes form a tree mirroring
 * the walks that made them: ".." follows it, never the host's "..". */
struct node {
	int fd; /* O_PATH; -1: closed to keep within the budget (node_fd) */
	unsigned refs;
	unsigned opens;	     /* fids opened on it: never closed while > 0 */
	struct node *parent; /* NULL: the root */
	char *name;	     /* in parent (refreshed on Trename, Trenameat) */
	dev_t dev;	     /* what it stands for: a reopen must find this */
	ino_t ino;
	struct node *lru_prev, *lru_next; /* non-root nodes with an fd, MRU first */
	struct node *all_prev, *all_next; /* every non-root node (Trenameat) */
};

struct fid {
	uint32_t id;
	struct node *node;
	int open_fd;  /* -1: not opened */
	uint32_t uid; /* of the attach: owner of what this fid creates */
	struct fid *next;
};

struct p9_server {
	struct node *root;
	dev_t root_dev;
	bool ro;
	enum p9_owners owners;
	uid_t owner_uid; /* P9_OWNERS_MAPPED: the root directory's owner */
	gid_t owner_gid;
	uint32_t msize; /* 0: no Tversion yet */
	unsigned nnodes;
	unsigned nfids;
	unsigned nfds;	/* non-root nodes with an fd */
	unsigned nopen; /* fids opened (an fd each) */
	struct node *lru_head, *lru_tail;
	struct node *all;
	struct fid *fids[NBUCKETS];
	uint8_t dents[64 * 1024]; /* getdents64 scratch */
};

/* ---- message decoding: a cursor that goes sticky-bad on overrun ---- */

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint8_t rd8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);
	return p ? p[0] : 0;
}

static uint16_t rd16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static uint32_t rd32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);
	uint32_t v;
	if (!p)
		return 0;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t rd64(struct rd *r)
{
	const uint8_t *p = rd_take(r, 8);
	uint64_t v;
	if (!p)
		return 0;
	memcpy(&v, p, 8);
	return le64toh(v);
}

/* A string into buf (NUL-terminated); longer than max or holding a NUL:
 * bad message. */
static void rdstr(struct rd *r, char *buf, size_t max)
{
	uint16_t n = rd16(r);
	const uint8_t *p = rd_take(r, n);
	buf[0] = '\0';
	if (!p)
		return;
	if (n > max || memchr(p, 0, n)) {
		r->bad = true;
		return;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* ---- answer encoding ---- */

struct wr {
	uint8_t *p;
	size_t len, cap;
	bool over;
};

static uint8_t *wr_take(struct wr *w, size_t n)
{
	if (w->over || w->cap - w->len < n) {
		w->over = true;
		return NULL;
	}
	uint8_t *p = w->p + w->len;
	w->len += n;
	return p;
}

static void wr8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_take(w, 1);
	if (p)
		*p = v;
}

static void wr16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_take(w, 2);
	if (p) {
		v = htole16(v);
		memcpy(p, &v, 2);
	}
}

static void wr32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_take(w, 4);
	if (p) {
		v = htole32(v);
		memcpy(p, &v, 4);
	}
}

static void wr64(struct wr *w, uint64_t v)
{
	uint8_t *p = wr_take(w, 8);
	if (p) {
		v = htole64(v);
		memcpy(p, &v, 8);
	}
}

static void wrstr(struct wr *w, const char *s, size_t n)
{
	wr16(w, (uint16_t)n);
	uint8_t *p = wr_take(w, n);
	if (p)
		memcpy(p, s, n);
}

struct qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

static void wrqid(struct wr *w, const struct qid *q)
{
	wr8(w, q->type);
	wr32(w, q->version);
	wr64(w, q->path);
}

void p9_error_reply(uint8_t out[P9_ERR_LEN], uint16_t tag, int err)
{
	uint32_t size = htole32(P9_ERR_LEN), e = htole32((uint32_t)(err < 0 ? -err : err));
	tag = htole16(tag);
	memcpy(out, &size, 4);
	out[4] = P9_RLERROR;
	memcpy(out + 5, &tag, 2);
	memcpy(out + 7, &e, 4);
}

/* ---- nodes and fids ---- */

static void lru_unlink(struct p9_server *s, struct node *n)
{
	if (n->lru_prev)
		n->lru_prev->lru_next = n->lru_next;
	else
		s->lru_head = n->lru_next;
	if (n->lru_next)
		n->lru_next->lru_prev = n->lru_prev;
	else
		s->lru_tail = n->lru_prev;
	n->lru_prev = n->lru_next = NULL;
}

static void lru_front(struct p9_server *s, struct node *n)
{
	n->lru_prev = NULL;
	n->lru_next = s->lru_head;
	if (s->lru_head)
		s->lru_head->lru_prev = n;
	else
		s->lru_tail = n;
	s->lru_head = n;
}

static int openat2_beneath(int dirfd, const char *name, uint64_t flags, uint64_t mode);

/* n's O_PATH fd. A node whose fd was closed to keep the server within
 * P9_FD_BUDGET is reopened by its path from the nearest ancestor that
 * still has one (the root always does), beneath it and without following
 * symlinks; -ESTALE when what is there now is not the object n stood for
 * (renamed away, replaced), -ENOENT when nothing is. */
static int node_fd(struct p9_server *s, struct node *n)
{
	if (n->fd >= 0) {
		if (n->parent) {
			lru_unlink(s, n);
			lru_front(s, n);
		}
		return n->fd;
	}
	size_t len = 0;
	struct node *a = n;
	for (; a->fd < 0; a = a->parent)
		len += strlen(a->name) + 1;
	if (len < 2 || len > PATH_MAX)
		return len < 2 ? -ESTALE : -ENAMETOOLONG; /* < 2: n has no name */
	char *p = malloc(len);
	if (!p)
		return -ENOMEM;
	size_t pos = len - 1;
	p[pos] = '\0';
	for (struct node *b = n; b != a; b = b->parent) {
		size_t l = strlen(b->name);
		pos -= l;
		memcpy(p + pos, b->name, l);
		if (b->parent != a)
			p[--pos] = '/';
	}
	int fd = openat2_beneath(node_fd(s, a), p, O_PATH, 0);
	free(p);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != n->dev || st.st_ino != n->ino) {
		close(fd);
		return -ESTALE;
	}
	n->fd = fd;
	lru_front(s, n);
	s->nfds++;
	return fd;
}

/* Between requests: close the least recently used nodes' fds until the
 * server holds at most P9_FD_BUDGET (nodes of opened fids stay). */
static void fd_trim(struct p9_server *s)
{
	struct node *n = s->lru_tail;
	while (n && 1 + s->nfds + s->nopen > P9_FD_BUDGET) { /* 1: the root's */
		struct node *prev = n->lru_prev;
		if (!n->opens) {
			lru_unlink(s, n);
			close(n->fd);
			n->fd = -1;
			s->nfds--;
		}
		n = prev;
	}
}

static struct node *node_new(struct p9_server *s, int fd, struct node *parent, const char *name)
{
	struct node *n = calloc(1, sizeof(*n));
	char *nm = name ? strdup(name) : NULL;
	if (!n || (name && !nm)) {
		free(n);
		free(nm);
		close(fd);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		free(n);
		free(nm);
		close(fd);
		return NULL;
	}
	n->fd = fd;
	n->refs = 1;
	n->parent = parent;
	n->name = nm;
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	if (parent) {
		parent->refs++;
		lru_front(s, n);
		s->nfds++;
		n->all_next = s->all;
		if (s->all)
			s->all->all_prev = n;
		s->all = n;
	}
	s->nnodes++;
	return n;
}

static void node_put(struct p9_server *s, struct node *n)
{
	while (n && --n->refs == 0) {
		struct node *p = n->parent;
		if (p) {
			if (n->fd >= 0) {
				lru_unlink(s, n);
				s->nfds--;
			}
			if (n->all_prev)
				n->all_prev->all_next = n->all_next;
			else
				s->all = n->all_next;
			if (n->all_next)
				n->all_next->all_prev = n->all_prev;
		}
		if (n->fd >= 0)
			close(n->fd);
		free(n->name);
		free(n);
		s->nnodes--;
		n = p;
	}
}

static struct fid **fid_slot(struct p9_server *s, uint32_t id)
{
	struct fid **f = &s->fids[(id * 2654435761u) >> 24 & (NBUCKETS - 1)];
	while (*f && (*f)->id != id)
		f = &(*f)->next;
	return f;
}

static struct fid *fid_get(struct p9_server *s, uint32_t id)
{
	return *fid_slot(s, id);
}

static int fid_add(struct p9_server *s, uint32_t id, struct node *n, uint32_t uid)
{
	struct fid **slot = fid_slot(s, id);
	if (id == P9_NOFID || *slot)
		return -EBADF;
	if (s->nfids >= P9_MAX_FIDS)
		return -ENFILE; /* a guest must not grow the VMM without bound */
	struct fid *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	*f = (struct fid){.id = id, .node = n, .open_fd = -1, .uid = uid};
	n->refs++;
	*slot = f;
	s->nfids++;
	return 0;
}

static void fid_del(struct p9_server *s, uint32_t id)
{
	struct fid **slot = fid_slot(s, id);
	struct fid *f = *slot;
	if (!f)
		return;
	*slot = f->next;
	if (f->open_fd >= 0) {
		close(f->open_fd);
		s->nopen--;
		f->node->opens--;
	}
	node_put(s, f->node);
	free(f);
	s->nfids--;
}

void p9_server_reset(struct p9_server *s)
{
	for (unsigned b = 0; b < NBUCKETS; b++)
		while (s->fids[b])
			fid_del(s, s->fids[b]->id);
}

unsigned p9_server_nodes(const struct p9_server *s)
{
	return s->nnodes;
}

unsigned p9_server_fds(const struct p9_server *s)
{
	return 1 + s->nfds + s->nopen;
}

/* ---- host helpers ---- */

static int openat2_beneath(int dirfd, const char *name, uint64_t flags, uint64_t mode)
{
	return fileutil_openat2(dirfd, name, flags | O_NOFOLLOW, mode,
				RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static void proc_path(char buf[32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* A name the guest may use for an entry of a directory. */
static bool name_ok(const char *n)
{
	return n[0] && strcmp(n, ".") && strcmp(n, "..") && !strchr(n, '/');
}

static struct qid qid_of(const struct p9_server *s, const struct stat *st)
{
	struct qid q = {0};
	q.type = S_ISDIR(st->st_mode) ? P9_QTDIR : S_ISLNK(st->st_mode) ? P9_QTSYMLINK : 0;
	q.path = st->st_ino;
	if (st->st_dev != s->root_dev) /* a mount below the root: keep paths apart */
		q.path ^= (uint64_t)st->st_dev << 40;
	return q;
}

static int fstat_node(struct p9_server *s, struct node *n, struct stat *st)
{
	int fd = node_fd(s, n);
	if (fd < 0)
		return fd;
	return fstat(fd, st) < 0 ? -errno : 0;
}

/* Whether n is still its parent's entry `name` (renames make it stale). */
static int node_check(struct p9_server *s, struct node *n)
{
	struct stat a, b;
	if (!n->parent)
		return -EBUSY; /* the root itself */
	int fd = node_fd(s, n), pfd = fd < 0 ? fd : node_fd(s, n->parent);
	if (fd < 0 || pfd < 0 || fstat(fd, &a) < 0 ||
	    fstatat(pfd, n->name, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return -ESTALE;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev ? 0 : -ESTALE;
}

/* The mode bits the guest may set on the host (see p9.h, Ownership). */
static mode_t allowed_mode(const struct p9_server *s, uint32_t mode)
{
	mode_t m = mode & 07777;
	return s->owners == P9_OWNERS_PASSTHROUGH ? m : m & ~(mode_t)(S_ISUID | S_ISGID);
}

/* Change fd's owner as the guest asked (uid/gid -1: unchanged), per the
 * server's ownership mode. */
static int chown_as_asked(const struct p9_server *s, int fd, uid_t uid, gid_t gid)
{
	if (s->owners == P9_OWNERS_MAPPED) {
		uid = uid == (uid_t)-1 ? uid : s->owner_uid;
		gid = gid == (gid_t)-1 ? gid : s->owner_gid;
	}
	return fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Give a new object its owner and exact mode (fd: O_PATH to it). */
static int set_cred(const struct p9_server *s, int fd, uint32_t uid, uint32_t gid, uint32_t mode,
		    bool is_link)
{
	int rc = 0;
	if (s->owners == P9_OWNERS_MAPPED)
		rc = chown_as_asked(s, fd, 0, 0); /* any id: the volume's owner */
	else if (s->owners == P9_OWNERS_PASSTHROUGH)
		rc = chown_as_asked(s, fd, uid == P9_NOUID ? (uid_t)-1 : uid,
				    gid == P9_NOUID ? (gid_t)-1 : gid);
	if (rc)
		return rc;
	if (is_link)
		return 0;
	char p[32];
	proc_path(p, fd);
	return chmod(p, allowed_mode(s, mode)) < 0 ? -errno : 0;
}

/* ---- requests ---- */

struct req {
	struct p9_server *s;
	struct rd in;
	struct wr out;
	char name[NAME_MAX + 1];
	char name2[NAME_MAX + 1];
};

/* The fid a decoded request names: NULL with *err set when the message
 * was malformed (EBADMSG) or the fid is unknown (EBADF). */
static struct fid *req_fid(struct req *q, uint32_t id, int *err)
{
	struct fid *f = q->in.bad ? NULL : fid_get(q->s, id);
	if (!f)
		*err = q->in.bad ? -EBADMSG : -EBADF;
	return f;
}

static int do_version(struct req *q)
{
	uint32_t msize = rd32(&q->in);
	char ver[32];
	rdstr(&q->in, ver, sizeof(ver) - 1);
	if (q->in.bad)
		return -EBADMSG;
	if (msize < P9_MSIZE_MIN)
		return -EINVAL;
	p9_server_reset(q->s);
	q->s->msize = msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX;
	const char *answer = strcmp(ver, "9P2000.L") == 0 ? "9P2000.L" : "unknown";
	if (strcmp(answer, "unknown") == 0)
		q->s->msize = 0;
	wr32(&q->out, msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX);
	wrstr(&q->out, answer, strlen(answer));
	return 0;
}

static int do_attach(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	rd32(&q->in); /* afid: no authentication */
	char uname[256], aname[256];
	rdstr(&q->in, uname, sizeof(uname) - 1);
	/* aname is ignored: the guest gets the root, never a path of its choice */
	rdstr(&q->in, aname, sizeof(aname) - 1);
	uint32_t uid = rd32(&q->in);
	if (q->in.bad)
		return -EBADMSG;
	struct stat st;
	int rc = fstat_node(q->s, q->s->root, &st);
	if (!rc)
		rc = fid_add(q->s, fid, q->s->root, uid);
	if (rc)
		return rc;
	struct qid qd = qid_of(q->s, &st);
	wrqid(&q->out, &qd);
	return 0;
}

/* One walk step from n; *out gets a new reference. */
static int walk_one(struct p9_server *s, struct node *n, const char *name, struct node **out,
		    struct stat *st)
{
	if (strcmp(name, "..") == 0) {
		struct node *to = n;
		if (n->parent) {
			int rc = node_check(s, n);
			if (rc)
				return rc;
			to = n->parent;
		}
		int rc = fstat_node(s, to, st);
		if (rc)
			return rc;
		to->refs++;
		*out = to;
		return 0;
	}
	if (!name_ok(name))
		return -EINVAL;
	if (s->nnodes >= P9_MAX_NODES)
		return -ENFILE;
	int fd = node_fd(s, n);
	if (fd >= 0)
		fd = openat2_beneath(fd, name, O_PATH, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	*out = node_new(s, fd, n, name);
	return *out ? 0 : -ENOMEM;
}

static int do_walk(struct req *q)
{
	uint32_t fid = rd32(&q->in), newfid = rd32(&q->in);
	uint16_t nw = rd16(&q->in);
	char names[P9_MAXWELEM][NAME_MAX + 1];
	if (nw > P9_MAXWELEM)
		return -EINVAL;
	for (unsigned i = 0; i < nw; i++)
		rdstr(&q->in, names[i], NAME_MAX);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	if (newfid != fid && fid_get(q->s, newfid))
		return -EBADF;
	struct node *cur = f->node;
	cur->refs++;
	unsigned done = 0;
	struct qid qids[P9_MAXWELEM];
	for (; done < nw; done++) {
		struct node *next = NULL;
		struct stat st;
		rc = walk_one(q->s, cur, names[done], &next, &st);
		if (rc)
			break;
		node_put(q->s, cur);
		cur = next;
		qids[done] = qid_of(q->s, &st);
	}
	if (done == 0 && nw > 0) {
		node_put(q->s, cur);
		return rc;
	}
	if (done == nw) {
		uint32_t uid = f->uid;
		if (newfid == fid) {
			if (f->open_fd >= 0) { /* the pin moves with the fid */
				f->node->opens--;
				cur->opens++;
			}
			node_put(q->s, f->node);
			f->node = cur;
			cur->refs++;
		} else if ((rc = fid_add(q->s, newfid, cur, uid))) {
			node_put(q->s, cur);
			return rc;
		}
	}
	node_put(q->s, cur);
	wr16(&q->out, (uint16_t)done);
	for (unsigned i = 0; i < done; i++)
		wrqid(&q->out, &qids[i]);
	return 0;
}

static int do_getattr(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	rd64(&q->in); /* request mask: everything basic is always returned */
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	struct stat st;
	if (!f || (rc = fstat_node(q->s, f->node, &st)))
		return rc;
	struct qid qd = qid_of(q->s, &st);
	wr64(&q->out, P9_GETATTR_BASIC);
	wrqid(&q->out, &qd);
	wr32(&q->out, st.st_mode);
	wr32(&q->out, st.st_uid);
	wr32(&q->out, st.st_gid);
	wr64(&q->out, st.st_nlink);
	wr64(&q->out, st.st_rdev);
	wr64(&q->out, (uint64_t)st.st_size);
	wr64(&q->out, (uint64_t)st.st_blksize);
	wr64(&q->out, (uint64_t)st.st_blocks);
	wr64(&q->out, (uint64_t)st.st_atim.tv_sec);
	wr64(&q->out, (uint64_t)st.st_atim.tv_nsec);
	wr64(&q->out, (uint64_t)st.st_mtim.tv_sec);
	wr64(&q->out, (uint64_t)st.st_mtim.tv_nsec);
	wr64(&q->out, (uint64_t)st.st_ctim.tv_sec);
	wr64(&q->out, (uint64_t)st.st_ctim.tv_nsec);
	for (int i = 0; i < 4; i++) /* btime sec/nsec, gen, data_version */
		wr64(&q->out, 0);
	return 0;
}

static struct timespec set_time(uint32_t valid, uint32_t bit, uint32_t set_bit, uint64_t sec,
				uint64_t nsec)
{
	if (valid & set_bit)
		return (struct timespec){.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
	return (struct timespec){.tv_nsec = (valid & bit) ? UTIME_NOW : UTIME_OMIT};
}

static int do_setattr(struct req *q)
{
	uint32_t fid = rd32(&q->in), valid = rd32(&q->in), mode = rd32(&q->in);
	uint32_t uid = rd32(&q->in), gid = rd32(&q->in);
	uint64_t size = rd64(&q->in);
	uint64_t as = rd64(&q->in), ans = rd64(&q->in), ms = rd64(&q->in), mns = rd64(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	if (q->s->ro)
		return -EROFS;
	struct stat st;
	if ((rc = fstat_node(q->s, f->node, &st)))
		return rc;
	int fd = node_fd(q->s, f->node);
	if (fd < 0)
		return fd;
	bool link = S_ISLNK(st.st_mode);
	char p[32];
	proc_path(p, fd);
	if (valid & (P9_ATTR_UID | P9_ATTR_GID)) {
		uid_t u = (valid & P9_ATTR_UID) ? uid : (uid_t)-1;
		gid_t g = (valid & P9_ATTR_GID) ? gid : (gid_t)-1;
		if ((rc = chown_as_asked(q->s, fd, u, g)))
			return rc;
	}
	if (valid & P9_ATTR_MODE) {
		if (link)
			return -EOPNOTSUPP;
		if (chmod(p, allowed_mode(q->s, mode)) < 0)
			return -errno;
	}
	if (valid & P9_ATTR_SIZE) {
		if (!S_ISREG(st.st_mode))
			return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		if (size > INT64_MAX)
			return -EFBIG;
		if (truncate(p, (off_t)size) < 0)
			return -errno;
	}
	if (valid & (P9_ATTR_ATIME | P9_ATTR_MTIME | P9_ATTR_ATIME_SET | P9_ATTR_MTIME_SET)) {
		if (ans >= 1000000000 || mns >= 1000000000)
			return -EINVAL;
		struct timespec ts[2] = {
		    set_time(valid, P9_ATTR_ATIME, P9_ATTR_ATIME_SET, as, ans),
		    set_time(valid, P9_ATTR_MTIME, P9_ATTR_MTIME_SET, ms, mns),
		};
		if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	return 0;
}

static int open_flags(uint32_t dotl)
{
	int fl = (int)(dotl & P9_DOTL_ACCMODE);
	if (fl == 3)
		return -EINVAL;
	if (dotl & P9_DOTL_TRUNC)
		fl |= O_TRUNC;
	if (dotl & P9_DOTL_APPEND)
		fl |= O_APPEND;
	if (dotl & P9_DOTL_DSYNC)
		fl |= O_DSYNC;
	if (dotl & P9_DOTL_SYNC)
		fl |= O_SYNC;
	if (dotl & P9_DOTL_DIRECTORY)
		fl |= O_DIRECTORY;
	return fl;
}

static bool writes(int fl)
{
	return (fl & O_ACCMODE) != O_RDONLY || (fl & O_TRUNC);
}

static int do_lopen(struct req *q)
{
	uint32_t fid = rd32(&q->in), flags = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	if (f->open_fd >= 0)
		return -EBUSY;
	int fl = open_flags(flags);
	if (fl < 0)
		return fl;
	if (q->s->ro && writes(fl))
		return -EROFS;
	struct stat st;
	if ((rc = fstat_node(q->s, f->node, &st)))
		return rc;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -ENXIO; /* nodev, and a FIFO would block the server */
	if (q->s->nopen >= P9_MAX_OPEN)
		return -EMFILE;
	int nfd = node_fd(q->s, f->node);
	if (nfd < 0)
		return nfd;
	char p[32];
	proc_path(p, nfd);
	int fd = open(p, fl | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	f->open_fd = fd;
	f->node->opens++;
	q->s->nopen++;
	struct qid qd = qid_of(q->s, &st);
	wrqid(&q->out, &qd);
	wr32(&q->out, 0); /* iounit: the client uses msize */
	return 0;
}

static int do_lcreate(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	uint32_t flags = rd32(&q->in), mode = rd32(&q->in), gid = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	if (f->open_fd >= 0)
		return -EBUSY;
	if (q->s->ro)
		return -EROFS;
	if (!name_ok(q->name))
		return -EINVAL;
	int fl = open_flags(flags);
	if (fl < 0)
		return fl;
	if (q->s->nnodes >= P9_MAX_NODES)
		return -ENFILE;
	if (q->s->nopen >= P9_MAX_OPEN)
		return -EMFILE;
	int fd = node_fd(q->s, f->node);
	if (fd >= 0)
		fd = openat2_beneath(fd, q->name, (uint64_t)(fl & ~O_DIRECTORY) | O_CREAT | O_EXCL,
				     mode & 0777);
	if (fd < 0)
		return fd;
	char p[32];
	proc_path(p, fd);
	int pfd = open(p, O_PATH | O_CLOEXEC);
	struct stat st;
	if (pfd < 0 || fstat(pfd, &st) < 0 ||
	    (rc = set_cred(q->s, pfd, f->uid, gid, mode, false)) != 0) {
		rc = rc ? rc : -errno;
		if (pfd >= 0)
			close(pfd);
		close(fd);
		return rc;
	}
	struct node *n = node_new(q->s, pfd, f->node, q->name);
	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	node_put(q->s, f->node);
	f->node = n;
	f->open_fd = fd;
	n->opens++;
	q->s->nopen++;
	struct qid qd = qid_of(q->s, &st);
	wrqid(&q->out, &qd);
	wr32(&q->out, 0);
	return 0;
}

/* After mkdir/mknod/symlink of q->name in dir: owner, mode, qid. */
static int finish_create(struct req *q, int dirfd, uint32_t uid, uint32_t gid, uint32_t mode,
			 bool link)
{
	int fd = openat2_beneath(dirfd, q->name, O_PATH, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	int rc = set_cred(q->s, fd, uid, gid, mode, link);
	if (!rc && fstat(fd, &st) < 0)
		rc = -errno;
	close(fd);
	if (rc)
		return rc;
	struct qid qd = qid_of(q->s, &st);
	wrqid(&q->out, &qd);
	return 0;
}

/* The directory fid of a create-like request, checked. */
static struct fid *dir_for_create(struct req *q, uint32_t fid, int *rc)
{
	struct fid *f = req_fid(q, fid, rc);
	if (!f)
		return NULL;
	if (q->s->ro) {
		*rc = -EROFS;
		return NULL;
	}
	if (!name_ok(q->name)) {
		*rc = -EINVAL;
		return NULL;
	}
	return f;
}

static int do_mkdir(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	uint32_t mode = rd32(&q->in), gid = rd32(&q->in);
	int rc = 0;
	struct fid *f = dir_for_create(q, fid, &rc);
	if (!f)
		return rc;
	int dfd = node_fd(q->s, f->node);
	if (dfd < 0)
		return dfd;
	if (mkdirat(dfd, q->name, mode & 0777) < 0)
		return -errno;
	return finish_create(q, dfd, f->uid, gid, mode, false);
}

static int do_symlink(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	char *target = malloc(PATH_MAX);
	if (!target)
		return -ENOMEM;
	rdstr(&q->in, target, PATH_MAX - 1);
	uint32_t gid = rd32(&q->in);
	int rc = 0;
	struct fid *f = dir_for_create(q, fid, &rc);
	int dfd = f ? node_fd(q->s, f->node) : -1;
	if (f && dfd < 0)
		rc = dfd;
	else if (f && !target[0])
		rc = -ENOENT;
	else if (f && symlinkat(target, dfd, q->name) < 0)
		rc = -errno;
	else if (f)
		rc = finish_create(q, dfd, f->uid, gid, 0, true);
	free(target);
	return rc;
}

static int do_mknod(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	uint32_t mode = rd32(&q->in);
	rd32(&q->in); /* major */
	rd32(&q->in); /* minor */
	uint32_t gid = rd32(&q->in);
	int rc = 0;
	struct fid *f = dir_for_create(q, fid, &rc);
	if (!f)
		return rc;
	mode_t type = mode & S_IFMT;
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK)
		return -EPERM; /* no device nodes: the volume is nodev */
	int dfd = node_fd(q->s, f->node);
	if (dfd < 0)
		return dfd;
	if (mknodat(dfd, q->name, type | (mode & 0777), 0) < 0)
		return -errno;
	return finish_create(q, dfd, f->uid, gid, mode, false);
}

static int do_readlink(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	int fd = node_fd(q->s, f->node);
	if (fd < 0)
		return fd;
	char buf[PATH_MAX];
	ssize_t n = readlinkat(fd, "", buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	wrstr(&q->out, buf, (size_t)n);
	return 0;
}

static int do_rw(struct req *q, bool write)
{
	uint32_t fid = rd32(&q->in);
	uint64_t off = rd64(&q->in);
	uint32_t count = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	if (f->open_fd < 0)
		return -EBADF;
	if (off > INT64_MAX)
		return -EINVAL;
	ssize_t n;
	if (write) {
		const uint8_t *data = rd_take(&q->in, count);
		if (!data)
			return -EBADMSG;
		if (q->s->ro)
			return -EROFS;
		n = pwrite(f->open_fd, data, count, (off_t)off);
		if (n < 0)
			return -errno;
		wr32(&q->out, (uint32_t)n);
		return 0;
	}
	size_t room = q->out.cap - q->out.len - 4;
	if (count > room)
		count = (uint32_t)room;
	n = pread(f->open_fd, q->out.p + q->out.len + 4, count, (off_t)off);
	if (n < 0)
		return -errno;
	wr32(&q->out, (uint32_t)n);
	wr_take(&q->out, (size_t)n);
	return 0;
}

static int do_readdir(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	uint64_t off = rd64(&q->in);
	uint32_t count = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	if (f->open_fd < 0)
		return -EBADF;
	if (off > INT64_MAX)
		return -EINVAL;
	size_t room = q->out.cap - q->out.len - 4;
	if (count > room)
		count = (uint32_t)room;
	if (lseek(f->open_fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	struct stat dst;
	if ((rc = fstat_node(q->s, f->node, &dst)))
		return rc;
	bool is_root = f->node == q->s->root || !f->node->parent;
	struct wr ents = {.p = q->out.p + q->out.len + 4, .cap = count};
	for (;;) {
		long n = syscall(SYS_getdents64, f->open_fd, q->s->dents, sizeof(q->s->dents));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		bool full = false;
		uint64_t last = off;
		for (long pos = 0; pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(q->s->dents + pos);
			pos += d->d_reclen;
			size_t nl = strlen(d->d_name);
			if (24 + nl > ents.cap - ents.len) {
				full = true;
				break;
			}
			struct stat est = {.st_ino = d->d_ino,
					   .st_dev = dst.st_dev,
					   .st_mode = d->d_type == DT_DIR   ? S_IFDIR
						      : d->d_type == DT_LNK ? S_IFLNK
									    : S_IFREG};
			/* the root's ".." is the root: no host inode beyond it */
			if (is_root && strcmp(d->d_name, "..") == 0)
				est = dst;
			struct qid qd = qid_of(q->s, &est);
			wrqid(&ents, &qd);
			wr64(&ents, (uint64_t)d->d_off);
			wr8(&ents, d->d_type);
			wrstr(&ents, d->d_name, nl);
			last = (uint64_t)d->d_off;
		}
		if (full) {
			/* what did not fit is read again next time from `last` */
			if (lseek(f->open_fd, (off_t)last, SEEK_SET) < 0)
				return -errno;
			break;
		}
	}
	wr32(&q->out, (uint32_t)ents.len);
	wr_take(&q->out, ents.len);
	return 0;
}

static int do_fsync(struct req *q)
{
	uint32_t fid = rd32(&q->in), datasync = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	if (f->open_fd < 0)
		return -EBADF;
	if ((datasync ? fdatasync(f->open_fd) : fsync(f->open_fd)) < 0)
		return -errno;
	return 0;
}

static int do_statfs(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	struct statfs sf;
	int fd = node_fd(q->s, f->node);
	if (fd < 0)
		return fd;
	if (fstatfs(fd, &sf) < 0)
		return -errno;
	uint64_t fsid;
	memcpy(&fsid, &sf.f_fsid, sizeof(fsid));
	wr32(&q->out, V9FS_MAGIC);
	wr32(&q->out, (uint32_t)sf.f_bsize);
	wr64(&q->out, sf.f_blocks);
	wr64(&q->out, sf.f_bfree);
	wr64(&q->out, sf.f_bavail);
	wr64(&q->out, sf.f_files);
	wr64(&q->out, sf.f_ffree);
	wr64(&q->out, fsid);
	wr32(&q->out, (uint32_t)sf.f_namelen);
	return 0;
}

static int do_unlinkat(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	uint32_t flags = rd32(&q->in);
	int rc = 0;
	struct fid *f = dir_for_create(q, fid, &rc);
	if (!f)
		return rc;
	int dfd = node_fd(q->s, f->node);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, q->name, (flags & P9_DOTL_AT_REMOVEDIR) ? AT_REMOVEDIR : 0) < 0)
		return -errno;
	return 0;
}

static int do_renameat(struct req *q)
{
	uint32_t ofid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	uint32_t nfid = rd32(&q->in);
	rdstr(&q->in, q->name2, NAME_MAX);
	int rc = 0;
	struct fid *of = dir_for_create(q, ofid, &rc);
	struct fid *nf = of ? req_fid(q, nfid, &rc) : NULL;
	if (!nf)
		return rc;
	if (!name_ok(q->name2))
		return -EINVAL;
	int ofd = node_fd(q->s, of->node), nfd = ofd < 0 ? ofd : node_fd(q->s, nf->node);
	if (nfd < 0)
		return nfd;
	if (renameat(ofd, q->name, nfd, q->name2) < 0)
		return -errno;
	/* nodes of the moved entry follow it, so that one whose fd was closed
	 * reopens where the object now is */
	for (struct node *m = q->s->all; m; m = m->all_next) {
		if (m->parent == of->node && !strcmp(m->name, q->name)) {
			char *nm = strdup(q->name2);
			if (!nm)
				continue; /* an fd still open works; a closed one: ESTALE */
			free(m->name);
			m->name = nm;
			nf->node->refs++;
			node_put(q->s, m->parent);
			m->parent = nf->node;
		}
	}
	return 0;
}

/* Trename: the fid's own entry moves; its node remembers where it went. */
static int do_rename(struct req *q)
{
	uint32_t fid = rd32(&q->in), dfid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	int rc = 0;
	struct fid *d = dir_for_create(q, dfid, &rc);
	struct fid *f = d ? req_fid(q, fid, &rc) : NULL;
	if (!f)
		return rc;
	struct node *n = f->node;
	if ((rc = node_check(q->s, n)))
		return rc;
	char *nm = strdup(q->name);
	if (!nm)
		return -ENOMEM;
	int pfd = node_fd(q->s, n->parent), dfd = pfd < 0 ? pfd : node_fd(q->s, d->node);
	if (dfd < 0) {
		free(nm);
		return dfd;
	}
	if (renameat(pfd, n->name, dfd, q->name) < 0) {
		rc = -errno;
		free(nm);
		return rc;
	}
	d->node->refs++;
	node_put(q->s, n->parent);
	n->parent = d->node;
	free(n->name);
	n->name = nm;
	return 0;
}

static int do_link(struct req *q)
{
	uint32_t dfid = rd32(&q->in), fid = rd32(&q->in);
	rdstr(&q->in, q->name, NAME_MAX);
	int rc = 0;
	struct fid *d = dir_for_create(q, dfid, &rc);
	struct fid *f = d ? req_fid(q, fid, &rc) : NULL;
	if (!f)
		return rc;
	struct stat st;
	if ((rc = fstat_node(q->s, f->node, &st)))
		return rc;
	/* Only regular files: the /proc link below is followed, and following
	 * a symlink could link in a file from outside the root. */
	if (!S_ISREG(st.st_mode))
		return -EPERM;
	int fd = node_fd(q->s, f->node), dfd = fd < 0 ? fd : node_fd(q->s, d->node);
	if (dfd < 0)
		return dfd;
	char p[32];
	proc_path(p, fd);
	if (linkat(AT_FDCWD, p, dfd, q->name, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
}

static int do_remove(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	int rc = 0;
	struct fid *f = req_fid(q, fid, &rc);
	if (!f)
		return rc;
	struct stat st;
	if (q->s->ro)
		rc = -EROFS;
	else if (!(rc = node_check(q->s, f->node)) && !(rc = fstat_node(q->s, f->node, &st)) &&
		 unlinkat(node_fd(q->s, f->node->parent), f->node->name,
			  S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		rc = -errno;
	fid_del(q->s, fid); /* clunked whatever happened */
	return rc;
}

static int do_lock(struct req *q, bool get)
{
	rd32(&q->in); /* fid */
	uint8_t type = rd8(&q->in);
	if (!get)
		rd32(&q->in); /* flags */
	uint64_t start = rd64(&q->in), len = rd64(&q->in);
	uint32_t pid = rd32(&q->in);
	char client[256];
	rdstr(&q->in, client, sizeof(client) - 1);
	if (q->in.bad)
		return -EBADMSG;
	(void)type;
	if (!get) {
		wr8(&q->out, 0); /* P9_LOCK_SUCCESS */
		return 0;
	}
	wr8(&q->out, 2); /* F_UNLCK: nothing conflicts */
	wr64(&q->out, start);
	wr64(&q->out, len);
	wr32(&q->out, pid);
	wrstr(&q->out, client, strlen(client));
	return 0;
}

static int do_clunk(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	if (q->in.bad)
		return -EBADMSG;
	if (!fid_get(q->s, fid))
		return -EBADF;
	fid_del(q->s, fid);
	return 0;
}

static int dispatch(struct req *q, uint8_t type)
{
	if (type == P9_TVERSION)
		return do_version(q);
	if (!q->s->msize)
		return -EPROTO; /* Tversion first */
	switch (type) {
	case P9_TATTACH:
		return do_attach(q);
	case P9_TWALK:
		return do_walk(q);
	case P9_TGETATTR:
		return do_getattr(q);
	case P9_TSETATTR:
		return do_setattr(q);
	case P9_TLOPEN:
		return do_lopen(q);
	case P9_TLCREATE:
		return do_lcreate(q);
	case P9_TREAD:
		return do_rw(q, false);
	case P9_TWRITE:
		return do_rw(q, true);
	case P9_TCLUNK:
		return do_clunk(q);
	case P9_TREADDIR:
		return do_readdir(q);
	case P9_TMKDIR:
		return do_mkdir(q);
	case P9_TSYMLINK:
		return do_symlink(q);
	case P9_TMKNOD:
		return do_mknod(q);
	case P9_TREADLINK:
		return do_readlink(q);
	case P9_TUNLINKAT:
		return do_unlinkat(q);
	case P9_TRENAMEAT:
		return do_renameat(q);
	case P9_TRENAME:
		return do_rename(q);
	case P9_TLINK:
		return do_link(q);
	case P9_TREMOVE:
		return do_remove(q);
	case P9_TSTATFS:
		return do_statfs(q);
	case P9_TFSYNC:
		return do_fsync(q);
	case P9_TLOCK:
		return do_lock(q, false);
	case P9_TGETLOCK:
		return do_lock(q, true);
	case P9_TFLUSH:
		rd16(&q->in); /* requests are served in order: nothing in flight */
		return q->in.bad ? -EBADMSG : 0;
	case P9_TAUTH:
	case P9_TXATTRWALK:
	case P9_TXATTRCREATE:
		return -EOPNOTSUPP;
	default:
		return -EOPNOTSUPP;
	}
}

long p9_server_handle(struct p9_server *s, const uint8_t *in, size_t in_len, uint8_t *out,
		      size_t out_cap)
{
	if (in_len < P9_HDR_LEN || out_cap < P9_ERR_LEN)
		return -EBADMSG;
	struct rd h = {.p = in, .left = in_len};
	uint32_t size = rd32(&h);
	uint8_t type = rd8(&h);
	uint16_t tag = rd16(&h);
	uint32_t limit = s->msize ? s->msize : P9_MSIZE_MAX;
	if (out_cap > limit)
		out_cap = limit;
	int rc;
	if (size < P9_HDR_LEN || size > in_len) {
		rc = -EBADMSG;
	} else if (size > limit) {
		rc = -EMSGSIZE;
	} else if (type & 1) {
		rc = -EBADMSG; /* an R-message */
	} else {
		struct req q = {.s = s,
				.in = {.p = in + P9_HDR_LEN, .left = size - P9_HDR_LEN},
				.out = {.p = out, .len = P9_HDR_LEN, .cap = out_cap}};
		rc = dispatch(&q, type);
		fd_trim(s);
		if (!rc && q.out.over)
			rc = -EMSGSIZE; /* the client left too little room */
		if (!rc) {
			struct wr w = {.p = out, .cap = P9_HDR_LEN};
			wr32(&w, (uint32_t)q.out.len);
			wr8(&w, type + 1);
			wr16(&w, tag);
			return (long)q.out.len;
		}
	}
	p9_error_reply(out, tag, rc);
	return P9_ERR_LEN;
}

int p9_server_new(struct p9_server **out, const char *root, bool read_only, enum p9_owners owners,
		  struct errmsg *err)
{
	*out = NULL;
	int fd = fileutil_openat2(AT_FDCWD, root, O_PATH | O_DIRECTORY, 0,
				  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return errmsg_set(err, fd, "volume %s: %s", root,
				  fd == -ELOOP ? "a component of the path is a symlink (volumes "
						 "are opened without following symlinks)"
					       : strerror(-fd));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return errmsg_set(err, -e, "volume %s: %s", root, strerror(e));
	}
	struct p9_server *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	s->root = node_new(s, fd, NULL, NULL);
	if (!s->root) {
		free(s);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	s->root_dev = st.st_dev;
	s->ro = read_only;
	s->owners = owners;
	s->owner_uid = st.st_uid;
	s->owner_gid = st.st_gid;
	*out = s;
	return 0;
}

void p9_server_free(struct p9_server *s)
{
	if (!s)
		return;
	p9_server_reset(s);
	node_put(s, s->root);
	free(s);
}
