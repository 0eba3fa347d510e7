#include "execpath.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "proto/hcp.h"

int execpath_execve(const char *path, char *const argv[], char *const envp[], void *ctx)
{
	(void)ctx;
	execve(path, argv, envp);
	return -errno;
}

int execpath_exec(const char *file, const char *search_path, char *const argv[], char *const envp[],
		  execpath_fn fn, void *ctx)
{
	char cand[PATH_MAX];
	size_t flen;
	bool eacces = false;
	int last = -ENOENT;
	const char *p;

	if (!file || !*file)
		return -ENOENT;
	if (strchr(file, '/'))
		return fn(file, argv, envp, ctx);
	if (!search_path)
		search_path = ENV_DEFAULT_PATH;
	flen = strlen(file);
	p = search_path;
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		int rc;

		/* Too long to exist: skip it like a missing candidate. */
		if (dlen + 1 + flen + 1 <= sizeof(cand)) {
			size_t k = 0;
			if (dlen) {
				memcpy(cand, p, dlen);
				k = dlen;
				cand[k++] = '/';
			}
			memcpy(cand + k, file, flen + 1);
			rc = fn(cand, argv, envp, ctx);
			switch (rc) {
			case 0:
				return 0;
			case -EACCES:
				eacces = true;
				/* fall through */
			case -ENOENT:
			case -ENOTDIR:
			case -ESTALE:
			case -ENODEV:
			case -ETIMEDOUT:
				last = rc;
				break;
			default:
				return rc;
			}
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return eacces ? -EACCES : last;
}

int execpath_exit_code(int err)
{
	if (err < 0)
		err = -err;
	return err == ENOENT || err == ENOTDIR ? HCP_EXIT_NOT_FOUND : HCP_EXIT_CANNOT_EXEC;
}
