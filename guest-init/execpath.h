/* execpath: execvp(3) semantics with an explicit PATH and environment.
 *
 * Contract
 * - The PATH searched is the CONTAINER's (from the environment built for it),
 *   not init's: OCI says args[0] has "execvp file" semantics in the
 *   container.
 * - A file name containing '/' is executed as is. Otherwise every element of
 *   search_path is tried in order ("" means the current directory, as POSIX
 *   says; a NULL search_path means ENV_DEFAULT_PATH). ENOENT, ENOTDIR,
 *   ESTALE, ENODEV, ETIMEDOUT and a too-long candidate move on to the next
 *   element, EACCES is remembered and moves on, any other error stops the
 *   search. Unlike glibc, ENOEXEC is not retried with /bin/sh (runc does not
 *   either).
 * - The exec itself is a callback so the search is testable without exec'ing;
 *   execpath_execve is the real one. A callback returns 0 to mean "this
 *   candidate was executed" (never happens with execve) or -errno.
 * - Returns 0 when a callback returned 0, else -errno: -EACCES if any
 *   candidate was not executable, otherwise the last error (-ENOENT when
 *   nothing was found).
 */
#ifndef HULL_GUEST_INIT_EXECPATH_H
#define HULL_GUEST_INIT_EXECPATH_H

typedef int (*execpath_fn)(const char *path, char *const argv[], char *const envp[], void *ctx);

int execpath_exec(const char *file, const char *search_path, char *const argv[], char *const envp[],
		  execpath_fn fn, void *ctx);

/* execve(2) as an execpath_fn (ctx unused). */
int execpath_execve(const char *path, char *const argv[], char *const envp[], void *ctx);

/* The docker exit code for an exec failure: 127 for "not found", else 126. */
int execpath_exit_code(int err);

#endif
