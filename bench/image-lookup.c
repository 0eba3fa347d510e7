/* image-lookup: time image_prepare() cache hits, what `hull run` of an
 * already converted image pays before it boots (bench/image).
 *
 *   image-lookup LAYOUT REF STORE_ROOT N
 *
 * Prints "lookup first_ms median_ms p95_ms max_ms" over N calls (the first
 * call of a process is what one `hull run` pays); exits 1 if any call fails
 * or is not a cache hit. */
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "images/image.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: image-lookup LAYOUT REF STORE_ROOT N\n");
		return 2;
	}
	int n = atoi(argv[4]);
	if (n < 1)
		return 2;
	double *ms = calloc((size_t)n, sizeof(*ms));
	if (!ms)
		return 1;
	for (int i = 0; i < n; i++) {
		struct image_rootfs r;
		struct errmsg err = {{0}};
		uint64_t t0 = clock_now_ns();
		int rc = image_prepare(argv[1], argv[2], argv[3], &r, &err);
		ms[i] = (double)(clock_now_ns() - t0) / 1e6;
		if (rc || !r.cache_hit) {
			fprintf(stderr, "image-lookup: %s\n", rc ? err.text : "not a cache hit");
			return 1;
		}
		image_rootfs_free(&r);
	}
	double first = ms[0];
	qsort(ms, (size_t)n, sizeof(*ms), cmp);
	printf("lookup %.3f %.3f %.3f %.3f\n", first, ms[n / 2], ms[n * 95 / 100], ms[n - 1]);
	free(ms);
	return 0;
}
