#include "imgopt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/size.h"

int imgopt_limits(const char *cli_value, struct image_limits *l)
{
	*l = image_limits_default();
	const char *v = cli_value, *where = "--max-image-size";
	if (!v) {
		v = getenv(IMAGE_MAX_SIZE_ENV);
		where = IMAGE_MAX_SIZE_ENV "=";
		if (!v || !*v)
			return 0;
	}
	uint64_t n;
	if (parse_size(v, &n) || n == 0) {
		fprintf(stderr, "hull: %s%s%s: expected a size like 4G or 500M\n", where,
			cli_value ? " " : "", v);
		return -EINVAL;
	}
	l->max_bytes = n;
	return 0;
}
