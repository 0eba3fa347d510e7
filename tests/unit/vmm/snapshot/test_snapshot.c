/* Unit tests for vmm/snapshot/snapshot.c: templates on disk with a fake guest RAM
 * (malloc'd, a few non-zero pages), refusals, atomicity, listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/snapshot/memsum.h"
#include "vmm/snapshot/snapshot.h"

#define RAM (8u << 20)
#define PAGE 4096u
#define VERSION "0.1.0"
#define KEY "kernel=abc initrd=def cpus=1 mem=8M disks=rw"

struct fx {
	char root[64];
	char dir[128];
	uint8_t *ram;
	struct guest_mem mem;
	struct snapshot_section secs[3];
	struct snapshot_desc desc;
	struct snapshot_expect exp;
};

static const uint64_t dirty_pages[] = {0, 1, 17, 1000, RAM / PAGE - 1};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/hull-test-snap-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof(f->dir), "%s/t1", f->root);
	f->ram = aligned_alloc(PAGE, RAM);
	memset(f->ram, 0, RAM);
	for (size_t i = 0; i < sizeof(dirty_pages) / sizeof(dirty_pages[0]); i++)
		for (unsigned j = 0; j < PAGE; j += 64)
			f->ram[dirty_pages[i] * PAGE + j] = (uint8_t)(i + j / 64 + 1);
	/* a page whose only non-zero byte is its last one */
	f->ram[501 * PAGE + PAGE - 1] = 0x5a;
	guest_mem_wrap(&f->mem, f->ram, RAM);
	f->secs[0] = (struct snapshot_section){.id = 1, .data = "vcpu0-state", .len = 11};
	f->secs[1] = (struct snapshot_section){.id = 7, .data = "", .len = 0};
	f->secs[2] = (struct snapshot_section){.id = 0x100, .data = "uart", .len = 4};
	f->desc = (struct snapshot_desc){
	    .hull_version = VERSION, .key = KEY, .sections = f->secs, .nsections = 3};
	f->exp = (struct snapshot_expect){.hull_version = VERSION, .key = KEY};
	*state = f;
	return 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f->ram);
	free(f);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	static char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static off_t file_size(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

static void expect_refusal(struct fx *f, int rc_want, const char *text)
{
	struct snapshot s;
	struct errmsg err = {{0}};
	int rc = snapshot_open(f->dir, &f->exp, &s, &err);
	if (rc != rc_want || !strstr(err.text, text))
		fail_msg("want %d \"%s\", got %d \"%s\"", rc_want, text, rc, err.text);
	assert_null(s.state); /* released on failure */
	assert_int_equal(s.mem.nr, 0);
}

static void write_ok(struct fx *f)
{
	struct errmsg err = {{0}};
	if (snapshot_write(f->dir, &f->desc, &f->mem, &err))
		fail_msg("%s", err.text);
}

static void test_host_cpu(void **state)
{
	(void)state;
	struct snapshot_cpu a, b;
	snapshot_host_cpu(&a);
	snapshot_host_cpu(&b);
	assert_true(strlen(a.vendor) == 12);
	assert_true(a.family > 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct errmsg err = {{0}};
	time_t before = time(NULL);
	assert_int_equal(snapshot_write(f->dir, &f->desc, &f->mem, &err), 0);

	struct snapshot s;
	if (snapshot_open(f->dir, &f->exp, &s, &err))
		fail_msg("%s", err.text);
	assert_string_equal(s.hull_version, VERSION);
	assert_string_equal(s.key, KEY);
	assert_true(s.created >= before && s.created <= time(NULL));
	assert_int_equal(s.mem.nr, 1);
	assert_int_equal(s.mem.total, RAM);
	assert_int_equal(s.mem.r[0].gpa, 0);
	assert_int_equal(s.mem.r[0].size, RAM);
	assert_memory_equal(s.mem.r[0].host, f->ram, RAM);
	assert_ptr_equal(guest_mem_ptr(&s.mem, 17 * PAGE, 1), s.mem.r[0].host + 17 * PAGE);

	const uint8_t *d;
	size_t len;
	assert_int_equal(snapshot_section(&s, 1, &d, &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(d, "vcpu0-state", 11);
	assert_int_equal(snapshot_section(&s, 7, &d, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(snapshot_section(&s, 0x100, &d, &len), 0);
	assert_memory_equal(d, "uart", 4);
	assert_int_equal(snapshot_section(&s, 2, &d, &len), -ENOENT);

	/* MAP_PRIVATE: the guest's writes stay in this mapping */
	memset(s.mem.r[0].host + 17 * PAGE, 0xee, PAGE);
	memset(s.mem.r[0].host + 300 * PAGE, 0xee, PAGE);
	int fd = open(path_in(f->dir, "mem"), O_RDONLY);
	uint8_t page[PAGE];
	assert_int_equal(pread(fd, page, PAGE, 17 * PAGE), PAGE);
	assert_memory_equal(page, f->ram + 17 * PAGE, PAGE);
	assert_int_equal(pread(fd, page, PAGE, 300 * PAGE), PAGE);
	assert_memory_equal(page, f->ram + 300 * PAGE, PAGE);
	close(fd);
	snapshot_close(&s);
	snapshot_close(&s); /* idempotent */

	/* and a second VM sees the template, not the first one's writes */
	assert_int_equal(snapshot_open(f->dir, &f->exp, &s, &err), 0);
	assert_memory_equal(s.mem.r[0].host, f->ram, RAM);
	snapshot_close(&s);

	/* sparse: apparent size is all of RAM, blocks only for the 6 pages */
	struct stat st;
	assert_int_equal(stat(path_in(f->dir, "mem"), &st), 0);
	assert_int_equal(st.st_size, RAM);
	if ((uint64_t)st.st_blocks * 512 > 64 * PAGE)
		fail_msg("mem file uses %lld bytes on disk for 6 non-zero pages",
			 (long long)st.st_blocks * 512);
	/* the files are private to the user */
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_creates_parents(void **state)
{
	struct fx *f = *state;
	snprintf(f->dir, sizeof(f->dir), "%s/templates/x86/t1", f->root);
	write_ok(f);
	struct snapshot s;
	struct errmsg err;
	assert_int_equal(snapshot_open(f->dir, &f->exp, &s, &err), 0);
	snapshot_close(&s);
	struct stat st;
	char p[256];
	snprintf(p, sizeof(p), "%s/templates", f->root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_two_regions(void **state)
{
	struct fx *f = *state;
	/* a low region filling the space below the MMIO hole plus a high one,
	 * as guest_mem lays out RAM over 3 GiB (lazily mapped, mostly zero) */
	struct guest_mem m;
	assert_int_equal(guest_mem_init(&m, GUEST_MEM_LOW_LIMIT + RAM), 0);
	assert_int_equal(m.nr, 2);
	memcpy(m.r[0].host + 5 * PAGE, "low", 3);
	memcpy(m.r[1].host + 3 * PAGE, "high", 4);
	struct errmsg err = {{0}};
	if (snapshot_write(f->dir, &f->desc, &m, &err))
		fail_msg("%s", err.text);
	struct snapshot s;
	if (snapshot_open(f->dir, &f->exp, &s, &err))
		fail_msg("%s", err.text);
	assert_int_equal(s.mem.nr, 2);
	assert_int_equal(s.mem.r[1].gpa, GUEST_MEM_HIGH_BASE);
	assert_int_equal(s.mem.r[1].size, RAM);
	assert_memory_equal(guest_mem_ptr(&s.mem, 5 * PAGE, 3), "low", 3);
	assert_memory_equal(guest_mem_ptr(&s.mem, GUEST_MEM_HIGH_BASE + 3 * PAGE, 4), "high", 4);
	snapshot_close(&s);
	struct stat st;
	assert_int_equal(stat(path_in(f->dir, "mem"), &st), 0);
	assert_int_equal((uint64_t)st.st_size, GUEST_MEM_LOW_LIMIT + RAM);
	assert_true((uint64_t)st.st_blocks * 512 <= 64 * PAGE);
	guest_mem_free(&m);
}

static void test_write_refuses_bad_input(void **state)
{
	struct fx *f = *state;
	struct errmsg err = {{0}};
	struct snapshot_section dup[2] = {{.id = 3, .data = "a", .len = 1},
					  {.id = 3, .data = "b", .len = 1}};
	struct snapshot_desc d = f->desc;
	d.sections = dup;
	d.nsections = 2;
	assert_int_equal(snapshot_write(f->dir, &d, &f->mem, &err), -EINVAL);
	d = f->desc;
	d.hull_version = "0.1.0-a-very-long-version-string-that-does-not-fit-in-the-header-x";
	assert_int_equal(snapshot_write(f->dir, &d, &f->mem, &err), -EINVAL);
	struct guest_mem odd = f->mem;
	odd.r[0].size = odd.total = RAM - 100;
	assert_int_equal(snapshot_write(f->dir, &f->desc, &odd, &err), -EINVAL);
	/* nothing was left behind */
	assert_int_equal(access(f->dir, F_OK), -1);
}

static void test_refuse_missing(void **state)
{
	struct fx *f = *state;
	expect_refusal(f, -ENOENT, "not found");
}

static void test_refuse_checksum(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	char *p = path_in(f->dir, "state");
	off_t n = file_size(p);
	/* flip one byte in the body (past the prefix, before the digest) and
	 * one in the digest itself */
	off_t where[] = {100, n / 2, n - 1};
	for (size_t i = 0; i < 3; i++) {
		int fd = open(p, O_RDWR);
		uint8_t b;
		assert_int_equal(pread(fd, &b, 1, where[i]), 1);
		b ^= 0x40;
		assert_int_equal(pwrite(fd, &b, 1, where[i]), 1);
		close(fd);
		expect_refusal(f, -EBADMSG, "checksum mismatch (corrupted)");
		fd = open(p, O_RDWR);
		b ^= 0x40;
		assert_int_equal(pwrite(fd, &b, 1, where[i]), 1);
		close(fd);
	}
	struct snapshot s;
	struct errmsg err;
	assert_int_equal(snapshot_open(f->dir, &f->exp, &s, &err), 0);
	snapshot_close(&s);
}

static void test_refuse_truncated_state(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	char *p = path_in(f->dir, "state");
	off_t n = file_size(p);
	uint8_t *orig = malloc((size_t)n);
	int fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, orig, (size_t)n), n);
	close(fd);
	for (off_t cut = 0; cut < n; cut++) {
		fd = open(p, O_WRONLY | O_TRUNC);
		assert_int_equal(write(fd, orig, (size_t)cut), cut);
		close(fd);
		expect_refusal(f, -EBADMSG, "truncated");
	}
	/* trailing garbage is corruption too */
	fd = open(p, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, orig, (size_t)n), n);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	expect_refusal(f, -EBADMSG, "corrupted");
	free(orig);
}

static void test_refuse_truncated_mem(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	assert_int_equal(truncate(path_in(f->dir, "mem"), RAM - PAGE), 0);
	expect_refusal(f, -EBADMSG, "truncated (mem file");
	assert_int_equal(truncate(path_in(f->dir, "mem"), RAM + PAGE), 0);
	expect_refusal(f, -EBADMSG, "corrupted");
	assert_int_equal(unlink(path_in(f->dir, "mem")), 0);
	expect_refusal(f, -EBADMSG, "mem file missing");
}

static void test_refuse_other_version(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	f->exp.hull_version = "0.2.0";
	char want[256];
	snprintf(want, sizeof(want), "template %s: made by hull 0.1.0, this is 0.2.0", f->dir);
	expect_refusal(f, -ESTALE, want);
}

static void test_refuse_other_key(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	f->exp.key = "kernel=abc initrd=def cpus=2 mem=8M disks=rw";
	expect_refusal(f, -ESTALE, "made for a different configuration");
}

static void test_refuse_other_cpu(void **state)
{
	struct fx *f = *state;
	struct snapshot_cpu other;
	snapshot_host_cpu(&other);
	other.leaf7_ebx ^= 1u << 5; /* the same model with a feature bit off */
	f->desc.cpu = &other;
	write_ok(f);
	expect_refusal(f, -ESTALE, "made on a different host CPU");
	expect_refusal(f, -ESTALE, "other feature flags");
	/* ... and the expectation is injectable the same way */
	f->exp.cpu = &other;
	struct snapshot s;
	struct errmsg err;
	assert_int_equal(snapshot_open(f->dir, &f->exp, &s, &err), 0);
	snapshot_close(&s);
	struct snapshot_cpu third = other;
	memcpy(third.vendor, "GenuineIntel", 12);
	third.family = 6;
	f->exp.cpu = &third;
	expect_refusal(f, -ESTALE, "GenuineIntel family 0x6");
}

static void test_refuse_other_mem_size(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	f->exp.mem_size = 2 * RAM;
	expect_refusal(f, -ESTALE, "made with 8 MiB of guest RAM, want 16 MiB");
}

static void test_refuse_bad_magic(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	int fd = open(path_in(f->dir, "state"), O_RDWR);
	assert_int_equal(pwrite(fd, "HULLSNAQ", 8, 0), 8);
	close(fd);
	expect_refusal(f, -EBADMSG, "not a hull template");
}

static void test_existing_dir_wins(void **state)
{
	struct fx *f = *state;
	/* an empty directory in the way is no template: replaced */
	assert_int_equal(mkdir(f->dir, 0700), 0);
	write_ok(f);
	/* a second writer with other content: returns 0, keeps the first */
	struct snapshot_desc d = f->desc;
	d.key = "another key";
	struct errmsg err;
	assert_int_equal(snapshot_write(f->dir, &d, &f->mem, &err), 0);
	struct snapshot s;
	assert_int_equal(snapshot_open(f->dir, &f->exp, &s, &err), 0);
	assert_string_equal(s.key, KEY);
	snapshot_close(&s);
}

static unsigned count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

struct listed {
	unsigned n;
	struct {
		char name[128];
		char key[128];
		bool valid, partial, in_progress;
		uint64_t disk, mem;
		int64_t created;
		char why[256];
	} e[8];
};

static int collect(void *ctx, const struct snapshot_info *i)
{
	struct listed *l = ctx;
	assert_true(l->n < 8);
	snprintf(l->e[l->n].name, 128, "%s", i->name);
	snprintf(l->e[l->n].key, 128, "%s", i->key ? i->key : "");
	snprintf(l->e[l->n].why, 256, "%s", i->why ? i->why : "");
	l->e[l->n].valid = i->valid;
	l->e[l->n].partial = i->partial;
	l->e[l->n].in_progress = i->in_progress;
	l->e[l->n].disk = i->disk_bytes;
	l->e[l->n].mem = i->mem_bytes;
	l->e[l->n].created = i->created;
	l->n++;
	return 0;
}

static int find(struct listed *l, const char *name)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name))
			return (int)i;
	fail_msg("%s not listed", name);
	return -1;
}

static pid_t dead_pid(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

static void test_crash_leftover_is_not_a_template(void **state)
{
	struct fx *f = *state;
	/* what a writer that died half-way leaves: a temp dir with a mem file
	 * and a partial state file */
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s/.t1.tmp-%ld-AbCdEf", f->root, (long)dead_pid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	int fd = open(path_in(tmp, "state"), O_CREAT | O_WRONLY, 0600);
	assert_int_equal(write(fd, "HULLSNAP", 8), 8);
	close(fd);
	expect_refusal(f, -ENOENT, "not found");

	struct listed l = {0};
	struct errmsg err;
	assert_int_equal(snapshot_list(f->root, &f->exp, collect, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_true(l.e[0].partial);
	assert_false(l.e[0].valid);
	assert_false(l.e[0].in_progress);
	assert_non_null(strstr(l.e[0].why, "left behind"));

	/* a live writer's temp dir is reported as in progress */
	char live[256];
	snprintf(live, sizeof(live), "%s/.t2.tmp-%ld-XyZxYz", f->root, (long)getpid());
	assert_int_equal(mkdir(live, 0700), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(snapshot_list(f->root, &f->exp, collect, &l, &err), 0);
	assert_int_equal(l.n, 2);
	int i = find(&l, live + strlen(f->root) + 1);
	assert_true(l.e[i].in_progress);

	/* a real write next to the leftovers still works; prune removes them */
	write_ok(f);
	assert_int_equal(snapshot_remove(tmp, &err), 0);
	assert_int_equal(snapshot_remove(live, &err), 0);
	assert_int_equal(count_entries(f->root), 1);
}

static void test_racing_writers(void **state)
{
	struct fx *f = *state;
	for (int round = 0; round < 5; round++) {
		pid_t kids[2];
		for (int k = 0; k < 2; k++) {
			kids[k] = fork();
			assert_true(kids[k] >= 0);
			if (kids[k] == 0) {
				struct snapshot_desc d = f->desc;
				d.key = k ? "writer one" : "writer zero";
				struct errmsg err;
				_exit(snapshot_write(f->dir, &d, &f->mem, &err) == 0 ? 0 : 1);
			}
		}
		for (int k = 0; k < 2; k++) {
			int st;
			assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
			assert_true(WIFEXITED(st));
			assert_int_equal(WEXITSTATUS(st), 0);
		}
		/* exactly one template, complete, and no temp dirs */
		assert_int_equal(count_entries(f->root), 1);
		struct snapshot s;
		struct errmsg err;
		f->exp.key = NULL;
		if (snapshot_open(f->dir, &f->exp, &s, &err))
			fail_msg("%s", err.text);
		assert_true(!strcmp(s.key, "writer zero") || !strcmp(s.key, "writer one"));
		assert_memory_equal(s.mem.r[0].host, f->ram, RAM);
		snapshot_close(&s);
		assert_int_equal(snapshot_remove(f->dir, &err), 0);
		assert_int_equal(count_entries(f->root), 0);
	}
}

static int stop_cb(void *ctx, const struct snapshot_info *i)
{
	(void)i;
	(*(unsigned *)ctx)++;
	return 42;
}

static void test_list_and_remove(void **state)
{
	struct fx *f = *state;
	struct errmsg err;
	struct listed l = {0};
	/* a missing root lists nothing */
	assert_int_equal(snapshot_list("/nonexistent/hull/templates", &f->exp, collect, &l, &err),
			 0);
	assert_int_equal(l.n, 0);

	write_ok(f);
	snprintf(f->dir, sizeof(f->dir), "%s/t-old", f->root);
	struct snapshot_desc d = f->desc;
	d.hull_version = "0.0.9";
	d.key = "old key";
	assert_int_equal(snapshot_write(f->dir, &d, &f->mem, &err), 0);
	/* unrelated entries are ignored */
	char junk[256];
	snprintf(junk, sizeof(junk), "%s/.hidden", f->root);
	assert_int_equal(mkdir(junk, 0700), 0);
	snprintf(junk, sizeof(junk), "%s/file", f->root);
	close(open(junk, O_CREAT | O_WRONLY, 0600));

	time_t now = time(NULL);
	assert_int_equal(snapshot_list(f->root, &f->exp, collect, &l, &err), 0);
	assert_int_equal(l.n, 2);
	int a = find(&l, "t1"), b = find(&l, "t-old");
	assert_true(l.e[a].valid);
	assert_string_equal(l.e[a].key, KEY);
	assert_int_equal(l.e[a].mem, RAM);
	assert_true(l.e[a].disk > 0 && l.e[a].disk < RAM / 4);
	assert_true(l.e[a].created <= now && l.e[a].created > now - 60);
	assert_false(l.e[a].partial);
	assert_false(l.e[b].valid);
	assert_non_null(strstr(l.e[b].why, "made by hull 0.0.9"));

	/* a callback can stop the walk */
	unsigned calls = 0;
	assert_int_equal(snapshot_list(f->root, &f->exp, stop_cb, &calls, &err), 42);
	assert_int_equal(calls, 1);

	assert_int_equal(snapshot_remove(f->dir, &err), 0);
	assert_int_equal(snapshot_remove(f->dir, &err), -ENOENT);
	snprintf(f->dir, sizeof(f->dir), "%s/t1/", f->root); /* trailing slash */
	assert_int_equal(snapshot_remove(f->dir, &err), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(snapshot_list(f->root, &f->exp, collect, &l, &err), 0);
	assert_int_equal(l.n, 0);
}

static void test_open_while_removed(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	struct snapshot s;
	struct errmsg err;
	assert_int_equal(snapshot_open(f->dir, &f->exp, &s, &err), 0);
	assert_int_equal(snapshot_remove(f->dir, &err), 0);
	/* the running VM keeps its memory */
	assert_memory_equal(s.mem.r[0].host, f->ram, RAM);
	snapshot_close(&s);
}

/* Write one byte of the mem file at off (returns the old byte). */
static uint8_t poke_mem(struct fx *f, off_t off, uint8_t b)
{
	int fd = open(path_in(f->dir, "mem"), O_RDWR);
	assert_true(fd >= 0);
	uint8_t old;
	assert_int_equal(pread(fd, &old, 1, off), 1);
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
	return old;
}

/* A damaged mem file is refused (it made every restored guest triple-fault):
 * a flipped bit in a data page, a byte written into a hole, a data page
 * zeroed, a page's bytes moved; and the good file opens again after each. */
static void test_refuse_damaged_mem(void **state)
{
	struct fx *f = *state;
	write_ok(f);
	const off_t where[] = {
	    0,			   /* first byte of page 0 */
	    17 * PAGE + 64,	   /* inside a data page */
	    501 * PAGE + PAGE - 1, /* a page's only non-zero byte: zeroed below */
	    300 * PAGE + 5,	   /* a hole */
	    RAM - 1,		   /* the last byte */
	};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		uint8_t old = poke_mem(f, where[i], 0);
		if (old == 0)
			poke_mem(f, where[i], 0x01);
		expect_refusal(f, -EBADMSG, "mem file checksum mismatch");
		poke_mem(f, where[i], old);
		struct snapshot s;
		struct errmsg err = {{0}};
		if (snapshot_open(f->dir, &f->exp, &s, &err))
			fail_msg("restored byte %lld: %s", (long long)where[i], err.text);
		snapshot_close(&s);
	}
	/* the same page content at another page index */
	int fd = open(path_in(f->dir, "mem"), O_RDWR);
	uint8_t page[PAGE], zero[PAGE] = {0};
	assert_int_equal(pread(fd, page, PAGE, 17 * PAGE), PAGE);
	assert_int_equal(pwrite(fd, zero, PAGE, 17 * PAGE), PAGE);
	assert_int_equal(pwrite(fd, page, PAGE, 18 * PAGE), PAGE);
	close(fd);
	expect_refusal(f, -EBADMSG, "mem file checksum mismatch at 0 MiB");
}

/* The checksum: every single-byte change of a page changes its hash, and
 * sums depend on where a page is. */
static void test_memsum(void **state)
{
	(void)state;
	uint8_t *p = aligned_alloc(PAGE, PAGE);
	for (unsigned i = 0; i < PAGE; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	uint64_t h = memsum_page(p);
	for (unsigned i = 0; i < PAGE; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			p[i] ^= (uint8_t)(1u << bit);
			assert_true(memsum_page(p) != h);
			p[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_true(memsum_page(p) == h);
	uint64_t a[2], b[2];
	memsum_init(a, 2);
	memsum_init(b, 2);
	assert_true(a[0] != a[1]);
	memsum_add_page(a, MEMSUM_MIN_SHIFT, 3, p);
	memsum_add_page(b, MEMSUM_MIN_SHIFT, 4, p);
	assert_true(a[0] != b[0]);
	assert_true(a[1] == b[1]);
	/* shifts: 2 MiB chunks for small RAM, never more than MEMSUM_MAX_CHUNKS */
	assert_int_equal(memsum_shift(128ull << 20), MEMSUM_MIN_SHIFT);
	assert_int_equal(memsum_chunks(128ull << 20, MEMSUM_MIN_SHIFT), 64);
	unsigned sh = memsum_shift(1ull << 46);
	assert_true(memsum_chunks(1ull << 46, sh) <= MEMSUM_MAX_CHUNKS);
	free(p);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_cpu), T(test_round_trip),
	    T(test_creates_parents),	     T(test_two_regions),
	    T(test_write_refuses_bad_input), T(test_refuse_missing),
	    T(test_refuse_checksum),	     T(test_refuse_truncated_state),
	    T(test_refuse_truncated_mem),    T(test_refuse_other_version),
	    T(test_refuse_other_key),	     T(test_refuse_other_cpu),
	    T(test_refuse_other_mem_size),   T(test_refuse_bad_magic),
	    T(test_existing_dir_wins),	     T(test_crash_leftover_is_not_a_template),
	    T(test_racing_writers),	     T(test_list_and_remove),
	    T(test_open_while_removed),	     T(test_refuse_damaged_mem),
	    cmocka_unit_test(test_memsum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
