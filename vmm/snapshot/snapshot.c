#include "snapshot.h"

#include "common/fdio.h"
#include "common/fileutil.h"
#include "common/readfile.h"
#include "common/sha256.h"

#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/snapshot/memsum.h"
#include "vmm/snapshot/vmstate.h"

#define STATE_FILE "state"
#define MEM_FILE "mem"
#define MAGIC "HULLSNAP"
#define MAGIC_LEN 8u
/* magic, format u32, flags u32, total length u64, hull version */
#define PREFIX_LEN (MAGIC_LEN + 4 + 4 + 8 + SNAPSHOT_VERSION_MAX + 1)
#define DIGEST_LEN SHA256_LEN
#define PAGE 4096u
/* Longest run of non-zero pages written with one pwrite. */
#define WRITE_RUN (8u << 20)

#define TAG_KEY VMSTATE_TAG('K', 'E', 'Y', ' ')
#define TAG_CPU VMSTATE_TAG('C', 'P', 'U', ' ')
#define TAG_MEM VMSTATE_TAG('M', 'E', 'M', ' ')
#define TAG_TIME VMSTATE_TAG('T', 'I', 'M', 'E')
#define TAG_BLOB VMSTATE_TAG('B', 'L', 'O', 'B')
#define TAG_MSUM VMSTATE_TAG('M', 'S', 'U', 'M')
#define MSUM_HDR_LEN 8u /* shift u32, chunks u32, then a u64 per chunk */
#define CPU_LEN (12u + 8 * 4)
#define MEM_HDR_LEN 16u	   /* total u64, nr u32, zero u32 */
#define MEM_REGION_LEN 24u /* gpa, size, file offset */
/* Guest RAM beyond this is not something a template holds (and keeps the
 * size arithmetic far from overflow). */
#define MEM_MAX (1ull << 46)

#define TMP_MARK ".tmp-"
#define RM_MARK ".rm-"

/* ---- host CPU ---- */

void snapshot_host_cpu(struct snapshot_cpu *c)
{
	memset(c, 0, sizeof(*c));
	unsigned a, b, cx, d;
	unsigned max = __get_cpuid_max(0, NULL);
	__cpuid(0, a, b, cx, d);
	memcpy(c->vendor, &b, 4);
	memcpy(c->vendor + 4, &d, 4);
	memcpy(c->vendor + 8, &cx, 4);
	if (max >= 1) {
		__cpuid(1, a, b, cx, d);
		unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
		c->family = fam == 0xf ? fam + ((a >> 20) & 0xff) : fam;
		c->model = fam == 6 || fam == 0xf ? (((a >> 16) & 0xf) << 4) | model : model;
		c->stepping = a & 0xf;
		c->leaf1_ecx = cx;
		c->leaf1_edx = d;
	}
	if (max >= 7) {
		__cpuid_count(7, 0, a, b, cx, d);
		c->leaf7_ebx = b;
		c->leaf7_ecx = cx;
		c->leaf7_edx = d;
	}
}

static void cpu_encode(uint8_t *p, const struct snapshot_cpu *c)
{
	memcpy(p, c->vendor, 12);
	const uint32_t w[8] = {c->family,    c->model,	   c->stepping,	 c->leaf1_ecx,
			       c->leaf1_edx, c->leaf7_ebx, c->leaf7_ecx, c->leaf7_edx};
	for (int i = 0; i < 8; i++)
		vmstate_st32(p + 12 + 4 * i, w[i]);
}

static void cpu_decode(struct snapshot_cpu *c, const uint8_t *p)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->vendor, p, 12);
	uint32_t *w[8] = {&c->family,	 &c->model,	&c->stepping,  &c->leaf1_ecx,
			  &c->leaf1_edx, &c->leaf7_ebx, &c->leaf7_ecx, &c->leaf7_edx};
	for (int i = 0; i < 8; i++)
		*w[i] = vmstate_le32(p + 12 + 4 * i);
}

static bool cpu_equal(const struct snapshot_cpu *a, const struct snapshot_cpu *b)
{
	return !memcmp(a->vendor, b->vendor, 12) && a->family == b->family &&
	       a->model == b->model && a->stepping == b->stepping && a->leaf1_ecx == b->leaf1_ecx &&
	       a->leaf1_edx == b->leaf1_edx && a->leaf7_ebx == b->leaf7_ebx &&
	       a->leaf7_ecx == b->leaf7_ecx && a->leaf7_edx == b->leaf7_edx;
}

static const char *cpu_name(const struct snapshot_cpu *c, char *buf, size_t n)
{
	char v[13];
	memcpy(v, c->vendor, 12);
	v[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (v[i] && (v[i] < 0x20 || v[i] > 0x7e))
			v[i] = '?';
	snprintf(buf, n, "%s family 0x%x model 0x%x stepping %u", v, c->family, c->model,
		 c->stepping);
	return buf;
}

/* ---- small file helpers ---- */

/* Delete the regular files in dir, then dir itself. No recursion: a
 * template holds no subdirectories, and anything else is not ours. */
static int remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && !rc)
			rc = -errno;
	}
	closedir(d);
	if (rmdir(path) < 0 && !rc)
		rc = -errno;
	return rc;
}

/* "a/b/c/" -> parent "a/b", base "c". Both malloc'd. */
static int split_path(const char *dir, char **parent, char **base)
{
	*parent = *base = NULL;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	char *a = strndup(dir, n), *b = strndup(dir, n);
	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	const char *bn = basename(b);
	if (!*bn || !strcmp(bn, ".") || !strcmp(bn, "..") || !strcmp(bn, "/")) {
		free(a);
		free(b);
		return -EINVAL;
	}
	*base = strdup(bn);
	*parent = strdup(dirname(a));
	free(a);
	free(b);
	if (!*base || !*parent) {
		free(*base);
		free(*parent);
		return -ENOMEM;
	}
	return 0;
}

/* mkdir -p, for the templates root on first use. */
static int make_dirs(const char *path, mode_t mode)
{
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		if (!c)
			break;
		*s = c;
	}
	free(p);
	return rc;
}

/* mkdtemp "<parent>/.<base><mark><pid>-XXXXXX". */
static char *make_temp_dir(const char *parent, const char *base, const char *mark)
{
	char *t = NULL;
	if (asprintf(&t, "%s/.%s%s%ld-XXXXXX", parent, base, mark, (long)getpid()) < 0)
		return NULL;
	if (!mkdtemp(t)) {
		int e = errno;
		free(t);
		errno = e;
		return NULL;
	}
	return t;
}

static char *join(const char *a, const char *b)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

/* ---- memory layout ---- */

/* The layouts guest_mem produces: low RAM at 0 (up to the MMIO hole), and
 * above 4 GiB only once low RAM fills the space below the hole. */
static bool layout_ok(const uint64_t *gpa, const uint64_t *size, unsigned nr, uint64_t total)
{
	if (nr < 1 || nr > 2)
		return false;
	uint64_t sum = 0;
	for (unsigned i = 0; i < nr; i++) {
		if (size[i] == 0 || size[i] % PAGE || size[i] > MEM_MAX)
			return false;
		sum += size[i];
	}
	if (gpa[0] != 0 || size[0] > GUEST_MEM_LOW_LIMIT)
		return false;
	if (nr == 2 && (gpa[1] != GUEST_MEM_HIGH_BASE || size[0] != GUEST_MEM_LOW_LIMIT))
		return false;
	return sum == total && total <= MEM_MAX;
}

/* The checksums of guest RAM (memsum.h), filled by write_mem. */
struct msum {
	unsigned shift;
	uint32_t n;
	uint64_t *sums;
};

/* Guest RAM into fd, region after region, writing only non-zero pages;
 * the rest stays holes. Each non-zero page is summed on the way. */
static int write_mem(int fd, const struct guest_mem *m, struct msum *ms)
{
	uint64_t base = 0;
	for (unsigned r = 0; r < m->nr; r++) {
		const uint8_t *h = m->r[r].host;
		uint64_t size = m->r[r].size;
		uint64_t i = 0;
		while (i < size) {
			if (memsum_page_is_zero(h + i)) {
				i += PAGE;
				continue;
			}
			memsum_add_page(ms->sums, ms->shift, (base + i) / PAGE, h + i);
			uint64_t j = i + PAGE;
			while (j < size && j - i < WRITE_RUN && !memsum_page_is_zero(h + j)) {
				memsum_add_page(ms->sums, ms->shift, (base + j) / PAGE, h + j);
				j += PAGE;
			}
			int rc = fdio_pwrite_all(fd, h + i, (size_t)(j - i), base + i);
			if (rc)
				return rc;
			i = j;
		}
		base += size;
	}
	return ftruncate(fd, (off_t)base) < 0 ? -errno : 0;
}

/* ---- state file ---- */

static int build_state(const struct snapshot_desc *d, const struct guest_mem *m,
		       const struct msum *ms, struct vmstate_buf *b)
{
	uint8_t prefix[PREFIX_LEN];
	memset(prefix, 0, sizeof(prefix));
	memcpy(prefix, MAGIC, MAGIC_LEN);
	vmstate_st32(prefix + 8, SNAPSHOT_FORMAT);
	/* flags (+12) 0, total length (+16) patched below */
	memcpy(prefix + 24, d->hull_version, strlen(d->hull_version));
	vmstate_buf_append(b, prefix, sizeof(prefix));

	vmstate_put(b, TAG_KEY, d->key, strlen(d->key));
	struct snapshot_cpu host;
	if (!d->cpu)
		snapshot_host_cpu(&host);
	uint8_t cpu[CPU_LEN];
	cpu_encode(cpu, d->cpu ? d->cpu : &host);
	vmstate_put(b, TAG_CPU, cpu, sizeof(cpu));

	uint8_t mem[MEM_HDR_LEN + 2 * MEM_REGION_LEN];
	memset(mem, 0, sizeof(mem));
	vmstate_st64(mem, m->total);
	vmstate_st32(mem + 8, m->nr);
	uint64_t off = 0;
	for (unsigned i = 0; i < m->nr; i++) {
		uint8_t *r = mem + MEM_HDR_LEN + i * MEM_REGION_LEN;
		vmstate_st64(r, m->r[i].gpa);
		vmstate_st64(r + 8, m->r[i].size);
		vmstate_st64(r + 16, off);
		off += m->r[i].size;
	}
	vmstate_put(b, TAG_MEM, mem, MEM_HDR_LEN + m->nr * MEM_REGION_LEN);

	uint8_t t[8];
	vmstate_st64(t, (uint64_t)time(NULL));
	vmstate_put(b, TAG_TIME, t, sizeof(t));

	uint8_t mh[VMSTATE_HDR_LEN + MSUM_HDR_LEN];
	vmstate_st32(mh, TAG_MSUM);
	vmstate_st32(mh + 4, MSUM_HDR_LEN + 8 * ms->n);
	vmstate_st32(mh + 8, ms->shift);
	vmstate_st32(mh + 12, ms->n);
	vmstate_buf_append(b, mh, sizeof(mh));
	for (uint32_t i = 0; i < ms->n; i++) {
		uint8_t w[8];
		vmstate_st64(w, ms->sums[i]);
		vmstate_buf_append(b, w, sizeof(w));
	}

	for (unsigned i = 0; i < d->nsections; i++) {
		const struct snapshot_section *s = &d->sections[i];
		if (s->len > SNAPSHOT_STATE_MAX)
			return -EFBIG;
		uint8_t hdr[VMSTATE_HDR_LEN + 4];
		vmstate_st32(hdr, TAG_BLOB);
		vmstate_st32(hdr + 4, (uint32_t)(4 + s->len));
		vmstate_st32(hdr + 8, s->id);
		vmstate_buf_append(b, hdr, sizeof(hdr));
		vmstate_buf_append(b, s->data, s->len);
	}
	if (b->err)
		return b->err;
	uint64_t total = b->len + DIGEST_LEN;
	if (total > SNAPSHOT_STATE_MAX)
		return -EFBIG;
	vmstate_st64(b->data + 16, total);
	uint8_t md[SHA256_LEN];
	sha256(b->data, b->len, md);
	return vmstate_buf_append(b, md, DIGEST_LEN);
}

static int write_file(const char *dir, const char *name, const struct vmstate_buf *state,
		      const struct guest_mem *mem, struct msum *ms)
{
	char *path = join(dir, name);
	if (!path)
		return -ENOMEM;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return -errno;
	int rc = state ? fdio_pwrite_all(fd, state->data, state->len, 0) : write_mem(fd, mem, ms);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}

static int check_desc(const char *dir, const struct snapshot_desc *d, const struct guest_mem *m,
		      struct errmsg *err)
{
	if (!d->hull_version || strlen(d->hull_version) > SNAPSHOT_VERSION_MAX || !d->key ||
	    strlen(d->key) > SNAPSHOT_KEY_MAX || d->nsections > SNAPSHOT_SECTIONS_MAX ||
	    (d->nsections && !d->sections))
		return errmsg_set(err, -EINVAL, "template %s: invalid description", dir);
	for (unsigned i = 0; i < d->nsections; i++) {
		if (d->sections[i].len && !d->sections[i].data)
			return errmsg_set(err, -EINVAL, "template %s: section %u has no data", dir,
					  d->sections[i].id);
		for (unsigned j = 0; j < i; j++)
			if (d->sections[i].id == d->sections[j].id)
				return errmsg_set(err, -EINVAL, "template %s: section id %u twice",
						  dir, d->sections[i].id);
	}
	uint64_t gpa[2] = {0}, size[2] = {0};
	for (unsigned i = 0; i < m->nr && i < 2; i++) {
		gpa[i] = m->r[i].gpa;
		size[i] = m->r[i].size;
	}
	if (!layout_ok(gpa, size, m->nr, m->total))
		return errmsg_set(err, -EINVAL, "template %s: unsupported guest memory layout",
				  dir);
	return 0;
}

int snapshot_write(const char *dir, const struct snapshot_desc *d, const struct guest_mem *mem,
		   struct errmsg *err)
{
	int rc = check_desc(dir, d, mem, err);
	if (rc)
		return rc;
	char *parent, *base;
	if ((rc = split_path(dir, &parent, &base)))
		return errmsg_set(err, rc, "template %s: invalid path", dir);

	struct vmstate_buf state;
	vmstate_buf_init(&state);
	char *tmp = NULL;
	struct msum ms = {.shift = memsum_shift(mem->total)};
	ms.n = memsum_chunks(mem->total, ms.shift);
	ms.sums = calloc(ms.n ? ms.n : 1, sizeof(*ms.sums));
	if (!ms.sums) {
		rc = errmsg_set(err, -ENOMEM, "template %s: out of memory", dir);
		goto out;
	}
	memsum_init(ms.sums, ms.n);
	tmp = make_temp_dir(parent, base, TMP_MARK);
	if (!tmp && errno == ENOENT && make_dirs(parent, 0700) == 0)
		tmp = make_temp_dir(parent, base, TMP_MARK);
	if (!tmp) {
		rc = -errno;
		errmsg_set(err, rc, "template %s: cannot create a directory in %s: %s", dir, parent,
			   strerror(errno));
		goto out;
	}
	/* mem first: a state file is the last thing a complete template gets,
	 * and it holds the sums of mem */
	rc = write_file(tmp, MEM_FILE, NULL, mem, &ms);
	if (!rc && (rc = build_state(d, mem, &ms, &state))) {
		errmsg_set(err, rc, "template %s: cannot encode state: %s", dir, strerror(-rc));
		goto discard;
	}
	if (rc || (rc = write_file(tmp, STATE_FILE, &state, NULL, NULL)) ||
	    (rc = fileutil_fsync_path(tmp, O_RDONLY | O_DIRECTORY))) {
		errmsg_set(err, rc, "template %s: writing %s: %s", dir, tmp, strerror(-rc));
		goto discard;
	}
	int renamed = renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE);
	/* An empty directory at `dir` is no template (someone made the
	 * directory, or a removal was interrupted): take its place. rmdir
	 * fails on anything non-empty, so a real template is never lost. */
	if (renamed < 0 && errno == EEXIST && rmdir(dir) == 0)
		renamed = renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE);
	if (renamed < 0) {
		int e = errno;
		/* file systems without RENAME_NOREPLACE: plain rename() still
		 * never replaces a non-empty directory */
		if ((e == EINVAL || e == ENOSYS) && rename(tmp, dir) == 0)
			e = 0;
		else if (e == EINVAL || e == ENOSYS)
			e = errno;
		if (e == EEXIST || e == ENOTEMPTY) {
			rc = 0; /* somebody else's template is in place: keep theirs */
			goto discard;
		}
		if (e) {
			rc = errmsg_set(err, -e, "template %s: rename from %s: %s", dir, tmp,
					strerror(e));
			goto discard;
		}
	}
	/* the rename itself must survive a crash too */
	rc = fileutil_fsync_path(parent, O_RDONLY | O_DIRECTORY);
	if (rc)
		errmsg_set(err, rc, "template %s: fsync of %s: %s", dir, parent, strerror(-rc));
	goto out;
discard:
	remove_tree(tmp);
out:
	free(tmp);
	free(parent);
	free(base);
	free(ms.sums);
	vmstate_buf_free(&state);
	return rc;
}

/* ---- reading ---- */

/* Read and verify dir/state into s (everything but the RAM mapping) and
 * check that dir/mem has the recorded size. Fills as much of s as it could
 * decode even on failure (for listing). */
static int load(const char *dir, const struct snapshot_expect *e, bool check_key,
		struct snapshot *s, struct errmsg *err)
{
	memset(s, 0, sizeof(*s));
	if (!e || !e->hull_version)
		return errmsg_set(err, -EINVAL, "template %s: no expectations given", dir);
	char *path = join(dir, STATE_FILE);
	if (!path)
		return errmsg_set(err, -ENOMEM, "template %s: out of memory", dir);
	char *buf;
	int rc = readfile(path, SNAPSHOT_STATE_MAX, &buf, &s->state_len);
	s->state = (uint8_t *)buf;
	free(path);
	if (rc == -ENOENT)
		return errmsg_set(err, rc, "template %s: not found", dir);
	if (rc == -EFBIG || rc == -EINVAL)
		return errmsg_set(err, -EBADMSG,
				  "template %s: state file is not a regular file "
				  "of at most %u bytes (corrupted)",
				  dir, SNAPSHOT_STATE_MAX);
	if (rc)
		return errmsg_set(err, rc, "template %s: state: %s", dir, strerror(-rc));

	const uint8_t *p = s->state;
	size_t n = s->state_len;
	if (n >= MAGIC_LEN && memcmp(p, MAGIC, MAGIC_LEN))
		return errmsg_set(err, -EBADMSG, "template %s: not a hull template (bad magic)",
				  dir);
	if (n < PREFIX_LEN + DIGEST_LEN)
		return errmsg_set(err, -EBADMSG, "template %s: state file truncated", dir);
	/* the prefix is the same in every format: the version check can say
	 * which hull made it even when nothing else is readable */
	memcpy(s->hull_version, p + 24, SNAPSHOT_VERSION_MAX + 1);
	if (s->hull_version[SNAPSHOT_VERSION_MAX])
		return errmsg_set(err, -EBADMSG, "template %s: state header corrupted", dir);
	for (char *c = s->hull_version; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?'; /* it goes into messages */
	if (strcmp(s->hull_version, e->hull_version))
		return errmsg_set(err, -ESTALE, "template %s: made by hull %s, this is %s", dir,
				  s->hull_version, e->hull_version);
	uint32_t format = vmstate_le32(p + 8);
	if (format != SNAPSHOT_FORMAT || vmstate_le32(p + 12) != 0)
		return errmsg_set(err, -ESTALE,
				  "template %s: state format %u (flags 0x%x), this hull reads %u",
				  dir, format, vmstate_le32(p + 12), SNAPSHOT_FORMAT);
	uint64_t total = vmstate_le64(p + 16);
	if (total > n)
		return errmsg_set(err, -EBADMSG,
				  "template %s: truncated (state file has %zu of %llu bytes)", dir,
				  n, (unsigned long long)total);
	if (total < n || total < PREFIX_LEN + DIGEST_LEN)
		return errmsg_set(
		    err, -EBADMSG,
		    "template %s: state file length %zu, header says %llu (corrupted)", dir, n,
		    (unsigned long long)total);
	uint8_t md[SHA256_LEN];
	sha256(p, n - DIGEST_LEN, md);
	if (memcmp(md, p + n - DIGEST_LEN, DIGEST_LEN))
		return errmsg_set(err, -EBADMSG,
				  "template %s: state file checksum mismatch (corrupted)", dir);

	/* sections: hostile even with a good checksum */
	const uint8_t *key = NULL, *cpu = NULL, *mem = NULL, *tm = NULL, *msum = NULL;
	uint32_t key_len = 0, mem_len = 0, msum_len = 0, nblobs = 0;
	struct vmstate_reader r;
	vmstate_reader_init(&r, p + PREFIX_LEN, n - PREFIX_LEN - DIGEST_LEN);
	uint32_t tag, plen;
	const uint8_t *q;
	char tn[12];
	while ((rc = vmstate_next(&r, &tag, &q, &plen)) > 0) {
		bool ok = true;
		switch (tag) {
		case TAG_KEY:
			ok = !key && plen <= SNAPSHOT_KEY_MAX && !memchr(q, 0, plen);
			key = q;
			key_len = plen;
			break;
		case TAG_CPU:
			ok = !cpu && plen == CPU_LEN;
			cpu = q;
			break;
		case TAG_MEM:
			ok = !mem && plen >= MEM_HDR_LEN;
			mem = q;
			mem_len = plen;
			break;
		case TAG_TIME:
			ok = !tm && plen == 8;
			tm = q;
			break;
		case TAG_MSUM:
			ok = !msum && plen >= MSUM_HDR_LEN;
			msum = q;
			msum_len = plen;
			break;
		case TAG_BLOB:
			ok = plen >= 4 && nblobs < SNAPSHOT_SECTIONS_MAX;
			nblobs++;
			break;
		default:
			ok = false;
		}
		if (!ok)
			return errmsg_set(
			    err, -EBADMSG,
			    "template %s: unexpected section %s of %u bytes (corrupted)", dir,
			    vmstate_tag_name(tag, tn), plen);
	}
	if (rc < 0)
		return errmsg_set(err, -EBADMSG, "template %s: section cut off (corrupted)", dir);
	if (!key || !cpu || !mem || !tm || !msum)
		return errmsg_set(err, -EBADMSG, "template %s: incomplete header (corrupted)", dir);

	s->key = strndup((const char *)key, key_len);
	if (!s->key)
		return errmsg_set(err, -ENOMEM, "template %s: out of memory", dir);
	cpu_decode(&s->cpu, cpu);
	s->created = (int64_t)vmstate_le64(tm);

	uint64_t mtotal = vmstate_le64(mem);
	uint32_t nr = vmstate_le32(mem + 8);
	uint64_t gpa[2] = {0}, size[2] = {0};
	bool lay = nr >= 1 && nr <= 2 && vmstate_le32(mem + 12) == 0 &&
		   mem_len == MEM_HDR_LEN + nr * MEM_REGION_LEN;
	uint64_t off = 0;
	for (uint32_t i = 0; lay && i < nr; i++) {
		const uint8_t *rg = mem + MEM_HDR_LEN + i * MEM_REGION_LEN;
		gpa[i] = vmstate_le64(rg);
		size[i] = vmstate_le64(rg + 8);
		lay = vmstate_le64(rg + 16) == off && size[i] <= MEM_MAX;
		off += size[i];
	}
	if (!lay || !layout_ok(gpa, size, nr, mtotal))
		return errmsg_set(err, -EBADMSG, "template %s: invalid memory layout (corrupted)",
				  dir);
	s->msum_shift = vmstate_le32(msum);
	s->msum_n = vmstate_le32(msum + 4);
	s->msum = msum + MSUM_HDR_LEN;
	if (s->msum_shift != memsum_shift(mtotal) ||
	    s->msum_n != memsum_chunks(mtotal, s->msum_shift) ||
	    msum_len != MSUM_HDR_LEN + 8ull * s->msum_n)
		return errmsg_set(err, -EBADMSG,
				  "template %s: invalid memory checksum table (corrupted)", dir);
	s->mem.nr = nr;
	s->mem.total = mtotal;
	for (uint32_t i = 0; i < nr; i++)
		s->mem.r[i] = (struct guest_mem_region){.gpa = gpa[i], .size = size[i]};

	s->blobs = calloc(nblobs ? nblobs : 1, sizeof(*s->blobs));
	if (!s->blobs)
		return errmsg_set(err, -ENOMEM, "template %s: out of memory", dir);
	vmstate_reader_init(&r, p + PREFIX_LEN, n - PREFIX_LEN - DIGEST_LEN);
	while (vmstate_next(&r, &tag, &q, &plen) > 0) {
		if (tag != TAG_BLOB)
			continue;
		struct snapshot_blob *bl = &s->blobs[s->nblobs];
		bl->id = vmstate_le32(q);
		bl->len = plen - 4;
		bl->data = q + 4;
		for (unsigned j = 0; j < s->nblobs; j++)
			if (s->blobs[j].id == bl->id)
				return errmsg_set(err, -EBADMSG,
						  "template %s: section id %u twice (corrupted)",
						  dir, bl->id);
		s->nblobs++;
	}

	if (check_key && e->key && strcmp(s->key, e->key))
		return errmsg_set(err, -ESTALE,
				  "template %s: made for a different configuration (key \"%s\", "
				  "want \"%s\")",
				  dir, s->key, e->key);
	struct snapshot_cpu host;
	if (!e->cpu)
		snapshot_host_cpu(&host);
	const struct snapshot_cpu *want = e->cpu ? e->cpu : &host;
	if (!cpu_equal(&s->cpu, want)) {
		char a[96], b[96];
		cpu_name(&s->cpu, a, sizeof(a));
		cpu_name(want, b, sizeof(b));
		return errmsg_set(err, -ESTALE,
				  "template %s: made on a different host CPU (%s%s; this host: %s)",
				  dir, a, strcmp(a, b) ? "" : ", other feature flags", b);
	}
	if (e->mem_size && e->mem_size != mtotal)
		return errmsg_set(err, -ESTALE,
				  "template %s: made with %llu MiB of guest RAM, want %llu MiB",
				  dir, (unsigned long long)(mtotal >> 20),
				  (unsigned long long)(e->mem_size >> 20));

	path = join(dir, MEM_FILE);
	if (!path)
		return errmsg_set(err, -ENOMEM, "template %s: out of memory", dir);
	struct stat st;
	rc = stat(path, &st) < 0 ? -errno : 0;
	free(path);
	if (rc == -ENOENT)
		return errmsg_set(err, -EBADMSG, "template %s: mem file missing", dir);
	if (rc)
		return errmsg_set(err, rc, "template %s: mem: %s", dir, strerror(-rc));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > mtotal)
		return errmsg_set(err, -EBADMSG,
				  "template %s: mem file is not %llu bytes (corrupted)", dir,
				  (unsigned long long)mtotal);
	if ((uint64_t)st.st_size < mtotal)
		return errmsg_set(err, -EBADMSG,
				  "template %s: truncated (mem file has %llu of %llu bytes)", dir,
				  (unsigned long long)st.st_size, (unsigned long long)mtotal);
	return 0;
}

void snapshot_close(struct snapshot *s)
{
	for (unsigned i = 0; i < s->mem.nr && i < 2; i++)
		if (s->mem.r[i].host)
			munmap(s->mem.r[i].host, s->mem.r[i].size);
	free(s->state);
	free(s->key);
	free(s->blobs);
	memset(s, 0, sizeof(*s));
}

/* The mem file against the sums the state file holds: every non-zero page
 * is read once (from the page cache, usually: the restored guest reads the
 * same pages next), a few milliseconds for a fresh guest's ~20 MiB. */
static int check_mem(const char *dir, int fd, const struct snapshot *s, struct errmsg *err)
{
	uint64_t *want = malloc(s->msum_n * sizeof(*want) + 1);
	if (!want)
		return errmsg_set(err, -ENOMEM, "template %s: out of memory", dir);
	for (uint32_t i = 0; i < s->msum_n; i++)
		want[i] = vmstate_le64(s->msum + 8 * i);
	uint32_t bad;
	int rc = memsum_check_fd(fd, s->mem.total, s->msum_shift, want, s->msum_n, &bad);
	free(want);
	if (rc == -EBADMSG)
		return errmsg_set(
		    err, rc, "template %s: mem file checksum mismatch at %llu MiB (corrupted)", dir,
		    (unsigned long long)(((uint64_t)bad << s->msum_shift) >> 20));
	if (rc)
		return errmsg_set(err, rc, "template %s: reading mem: %s", dir, strerror(-rc));
	return 0;
}

int snapshot_open(const char *dir, const struct snapshot_expect *e, struct snapshot *out,
		  struct errmsg *err)
{
	int rc = load(dir, e, true, out, err);
	if (rc) {
		snapshot_close(out);
		return rc;
	}
	char *path = join(dir, MEM_FILE);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	rc = fd < 0 ? (path ? -errno : -ENOMEM) : 0;
	free(path);
	if (rc) {
		snapshot_close(out);
		return errmsg_set(err, rc, "template %s: mem: %s", dir, strerror(-rc));
	}
	/* Re-check the size on the fd we map: a short file would SIGBUS the
	 * guest's first touch past its end. */
	struct stat st;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != out->mem.total) {
		close(fd);
		snapshot_close(out);
		return errmsg_set(err, -EBADMSG, "template %s: mem file changed size", dir);
	}
	if ((rc = check_mem(dir, fd, out, err))) {
		close(fd);
		snapshot_close(out);
		return rc;
	}
	uint64_t off = 0;
	for (unsigned i = 0; i < out->mem.nr; i++) {
		struct guest_mem_region *r = &out->mem.r[i];
		/* Private and writable: the guest's writes go to anonymous
		 * copies; NORESERVE as for fresh guest RAM. */
		void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
			       fd, (off_t)off);
		if (p == MAP_FAILED) {
			rc = -errno;
			close(fd);
			snapshot_close(out);
			return errmsg_set(err, rc, "template %s: mapping mem: %s", dir,
					  strerror(-rc));
		}
		/* restored guest memory stays out of core dumps too */
		madvise(p, r->size, MADV_DONTDUMP);
		r->host = p;
		off += r->size;
	}
	close(fd);
	return 0;
}

int snapshot_section(const struct snapshot *s, uint32_t id, const uint8_t **data, size_t *len)
{
	for (unsigned i = 0; i < s->nblobs; i++) {
		if (s->blobs[i].id == id) {
			*data = s->blobs[i].data;
			*len = s->blobs[i].len;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- managing ---- */

/* ".<name>.tmp-<pid>-XXXXXX" or ".<name>.rm-<pid>-XXXXXX": the pid, or 0
 * if the name is not one of ours. */
static long temp_owner(const char *name)
{
	if (name[0] != '.')
		return 0;
	const char *m = strstr(name, TMP_MARK);
	size_t ml = strlen(TMP_MARK);
	if (!m) {
		m = strstr(name, RM_MARK);
		ml = strlen(RM_MARK);
	}
	if (!m)
		return 0;
	char *end;
	long pid = strtol(m + ml, &end, 10);
	return pid > 0 && *end == '-' ? pid : 0;
}

int snapshot_list(const char *root, const struct snapshot_expect *e, snapshot_list_fn fn, void *ctx,
		  struct errmsg *err)
{
	DIR *d = opendir(root);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		int en = errno;
		return errmsg_set(err, -en, "%s: %s", root, strerror(en));
	}
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		long owner = temp_owner(name);
		if (name[0] == '.' && !owner)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		char *path = join(root, name);
		if (!path) {
			rc = errmsg_set(err, -ENOMEM, "%s: out of memory", root);
			break;
		}
		struct snapshot_info info = {
		    .name = name,
		    .path = path,
		    .disk_bytes = fileutil_dir_disk_bytes(path),
		    .created = (int64_t)st.st_mtime,
		};
		struct snapshot s;
		struct errmsg why = {{0}};
		if (owner) {
			info.partial = true;
			info.in_progress = kill((pid_t)owner, 0) == 0 || errno == EPERM;
			snprintf(why.text, sizeof(why.text), "%s by process %ld",
				 info.in_progress ? "being written or removed"
						  : "left behind, unfinished,",
				 owner);
			info.why = why.text;
			rc = fn(ctx, &info);
		} else {
			info.valid = load(path, e, false, &s, &why) == 0;
			info.why = info.valid ? NULL : why.text;
			info.key = s.key;
			info.mem_bytes = s.mem.total;
			if (s.created)
				info.created = s.created;
			rc = fn(ctx, &info);
			snapshot_close(&s);
		}
		free(path);
	}
	closedir(d);
	return rc;
}

int snapshot_remove(const char *dir, struct errmsg *err)
{
	char *parent, *base;
	int rc = split_path(dir, &parent, &base);
	if (rc)
		return errmsg_set(err, rc, "template %s: invalid path", dir);
	struct stat st;
	char *tmp = NULL;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = errno == ENOENT ? -ENOENT : -ENOTDIR;
		errmsg_set(err, rc, "template %s: %s", dir,
			   rc == -ENOENT ? "not found" : "not a directory");
		goto out;
	}
	/* Renaming onto an empty directory replaces it atomically: from here
	 * on the template is gone for everyone, whatever happens next. */
	tmp = make_temp_dir(parent, base, RM_MARK);
	if (!tmp || rename(dir, tmp) < 0) {
		rc = -errno;
		errmsg_set(err, rc, "template %s: %s", dir, strerror(-rc));
		if (tmp)
			rmdir(tmp);
		goto out;
	}
	rc = remove_tree(tmp);
	if (rc)
		errmsg_set(err, rc, "template %s: removing %s: %s", dir, tmp, strerror(-rc));
out:
	free(tmp);
	free(parent);
	free(base);
	return rc;
}
