/* The hostile-image corpus (corpus.c) through image_prepare_limits(): every
 * case fails with an error naming the image and the problem, leaves no cache
 * entry and no temp file, and writes nothing outside the store: a sentinel
 * tree around the store (with the layout, an etc/, a tmp/ and the working
 * directory of the conversion in it) is listed before and after and must not
 * change. The `contained` case converts, and what it holds stays inside the
 * image. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "corpus.h"
#include "images/image.h"
#include "ocitest.h"

static char *listing;
static size_t listing_len;
static const char *skip_prefix;

static int list_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (strncmp(p, skip_prefix, strlen(skip_prefix)) == 0)
		return 0;
	char line[4400];
	int n =
	    snprintf(line, sizeof(line), "%s %o %lld %lld.%09ld\n", p, st->st_mode,
		     (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	listing = realloc(listing, listing_len + (size_t)n + 1);
	memcpy(listing + listing_len, line, (size_t)n + 1);
	listing_len += (size_t)n;
	return 0;
}

/* Everything under dir but the store, one line per file. */
static char *list_tree(const char *dir, const char *store)
{
	listing = NULL;
	listing_len = 0;
	skip_prefix = store;
	assert_int_equal(nftw(dir, list_one, 16, FTW_PHYS), 0);
	return listing;
}

/* Names in <store>/rootfs other than lock files (which hold no data). */
static int store_entries(const char *store, char *first, size_t n)
{
	char p[4300];
	snprintf(p, sizeof(p), "%s/rootfs", store);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	int count = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (l > 5 && !strcmp(de->d_name + l - 5, ".lock")))
			continue;
		if (!count)
			snprintf(first, n, "%s", de->d_name);
		count++;
	}
	closedir(d);
	return count;
}

static void check_contained(const char *image)
{
	struct ext4r *r = ext4r_open(image);
	struct ext4r_stat st;
	assert_true(ext4r_stat(r, "abs/file", &st));
	assert_true(ext4r_stat(r, "inside", &st));
	assert_true(ext4r_stat(r, "dev/sda", &st));
	assert_true(S_ISBLK(st.mode));
	assert_int_equal(st.rdev_major, 8);
	assert_true(ext4r_stat(r, "dev/kmsg", &st));
	assert_true(S_ISCHR(st.mode));
	assert_true(ext4r_stat(r, "out", &st));
	assert_true(S_ISLNK(st.mode));
	size_t len;
	char *target = ext4r_read(r, "out", &len);
	assert_string_equal(target, "../../../../../../etc");
	free(target);
	ext4r_close(r);
	assert_int_equal(fsck_image(image), 0);
}

static void test_case(void **state)
{
	const struct corpus_case *cc = *state;
	char *dir = tmpdir_new();
	char layout[4200], store[4200], p[4300], cwd[4300];
	snprintf(layout, sizeof(layout), "%s/%s.oci", dir, cc->name);
	snprintf(store, sizeof(store), "%s/store", dir);
	const char *sub[] = {"etc", "etc/cron.d", "tmp", "cwd", "store"};
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/etc/passwd", dir);
	write_file(p, "root:x:0:0::/root:/bin/sh\n", 26);
	cc->build(layout);

	char *before = list_tree(dir, store);
	struct image_limits lim = image_limits_default();
	if (cc->lim.max_bytes)
		lim.max_bytes = cc->lim.max_bytes;
	if (cc->lim.max_entries)
		lim.max_entries = cc->lim.max_entries;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(p, sizeof(p), "%s/cwd", dir);
	assert_int_equal(chdir(p), 0);
	struct image_rootfs r;
	struct errmsg err = {{0}};
	alarm(60); /* a case that blocks (a FIFO blob) fails instead of hanging */
	int rc = image_prepare_limits(layout, NULL, store, &lim, &r, &err);
	alarm(0);
	assert_int_equal(chdir(cwd), 0);

	if (cc->ok) {
		if (rc)
			fail_msg("%s: %s", cc->name, err.text);
		check_contained(r.path);
		image_rootfs_free(&r);
	} else {
		if (!rc)
			fail_msg("%s: converted; expected an error", cc->name);
		char prefix[4300];
		snprintf(prefix, sizeof(prefix), "image %s: ", layout);
		if (strncmp(err.text, prefix, strlen(prefix)))
			fail_msg("%s: error does not name the image: %s", cc->name, err.text);
		for (size_t i = 0; i < 3 && cc->needles[i]; i++)
			if (!strstr(err.text, cc->needles[i]))
				fail_msg("%s: error lacks '%s': %s", cc->name, cc->needles[i],
					 err.text);
		print_message("%-24s %s\n", cc->name, err.text + strlen(prefix));
		assert_null(r.path);
		char name[300];
		if (store_entries(store, name, sizeof(name)))
			fail_msg("%s: left '%s' in the store", cc->name, name);
	}
	char *after = list_tree(dir, store);
	if (strcmp(before, after))
		fail_msg("%s: the tree around the store changed:\nbefore:\n%s\nafter:\n%s",
			 cc->name, before, after);
	free(before);
	free(after);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	struct CMUnitTest *tests = calloc(corpus_n, sizeof(*tests));
	for (size_t i = 0; i < corpus_n; i++) {
		tests[i].name = corpus_cases[i].name;
		tests[i].test_func = test_case;
		tests[i].initial_state = (void *)&corpus_cases[i];
	}
	int rc = _cmocka_run_group_tests("hostile", tests, corpus_n, NULL, NULL);
	free(tests);
	return rc;
}
