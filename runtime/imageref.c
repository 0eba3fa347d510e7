#include "runtime/imageref.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/lstore.h"
#include "images/pull.h"
#include "images/ref.h"

/* Set by the SIGINT/SIGTERM handler during a pull: a handler can only
 * reach a global. */
static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

int imageref_parse_policy(const char *s, enum imageref_policy *p)
{
	static const char *const names[] = {"missing", "always", "never"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*p = (enum imageref_policy)i;
			return 0;
		}
	return -EINVAL;
}

/* opts->insecure + $HULL_INSECURE_REGISTRIES; *list and *env_copy freed by
 * the caller. */
static int insecure_list(const struct imageref_opts *o, const char ***list, size_t *n,
			 char **env_copy)
{
	const char *env = getenv("HULL_INSECURE_REGISTRIES");
	*env_copy = env ? strdup(env) : NULL;
	size_t max = o->n_insecure + (env ? strlen(env) / 2 + 1 : 0);
	*list = calloc(max + 1, sizeof(**list));
	if (!*list || (env && !*env_copy))
		return -ENOMEM;
	*n = 0;
	for (size_t i = 0; i < o->n_insecure; i++)
		(*list)[(*n)++] = o->insecure[i];
	char *save = NULL;
	for (char *t = *env_copy ? strtok_r(*env_copy, ", ", &save) : NULL; t;
	     t = strtok_r(NULL, ", ", &save))
		(*list)[(*n)++] = t;
	return 0;
}

static int do_pull(const struct image_ref *ref, const char *root, const struct imageref_opts *o,
		   struct errmsg *err)
{
	const char **list = NULL;
	char *env_copy = NULL;
	size_t n = 0;
	int rc = insecure_list(o, &list, &n, &env_copy);
	if (rc) {
		free(list);
		free(env_copy);
		return rc;
	}
	bool tty = !o->quiet && isatty(STDERR_FILENO);
	struct pull_opts po = {
	    .reg = {.insecure = list, .n_insecure = n, .cancel = &cancelled},
	    .progress = tty,
	    .progress_out = stderr,
	    .limits = o->limits,
	};
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	cancelled = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (tty)
		fprintf(stderr, "Pulling %s\n", ref->name);
	char digest[DIGEST_STR_LEN];
	rc = pull_image(root, ref, &po, digest, err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (tty) /* after a progress line the error starts on a line of its own */
		fprintf(stderr, rc ? "\n" : "Digest: %s\n", digest);
	free(list);
	free(env_copy);
	return rc;
}

static int prepare_ref(const struct image_ref *ref, const char *root, const struct imageref_opts *o,
		       struct image_rootfs *out, struct errmsg *err)
{
	char *oci;
	if (asprintf(&oci, "%s/oci", root) < 0)
		return -ENOMEM;
	/* image_prepare names the reference, not the store's path */
	int rc = image_prepare_limits(oci, ref->name, root, o->limits, out, err);
	free(oci);
	return rc;
}

static int parse(const char *image, struct image_ref *ref, struct errmsg *err)
{
	struct errmsg e = {{0}};
	int rc = ref_parse(image, ref, &e);
	if (rc == -EINVAL)
		return errmsg_set(err, rc,
				  "%s: no such file or directory, and not an image "
				  "reference: %s",
				  image, e.text);
	return rc ? errmsg_set(err, rc, "%s: %s", image, strerror(-rc)) : 0;
}

int imageref_prepare(const char *image, const char *root, const struct imageref_opts *o,
		     struct image_rootfs *out, struct errmsg *err)
{
	struct stat st;
	if (stat(image, &st) == 0)
		return image_prepare_limits(image, NULL, root, o->limits, out, err);
	struct image_ref ref;
	int rc = parse(image, &ref, err);
	if (rc)
		return rc;
	bool stored = false;
	struct lstore s;
	if (o->policy != IMAGEREF_PULL_ALWAYS) {
		struct lstore_entry e;
		rc = lstore_open(root, &s, err);
		if (!rc) {
			rc = lstore_resolve(&s, ref.name, &e, err);
			stored = rc == 0;
			if (stored)
				lstore_entry_free(&e);
			if (rc == -ENOENT)
				rc = 0;
			lstore_close(&s);
		}
	}
	if (!rc && !stored && o->policy == IMAGEREF_PULL_NEVER)
		rc = errmsg_set(err, -ENOENT,
				"image %s is not stored locally and --pull never "
				"forbids pulling it",
				ref.name);
	if (!rc && !stored)
		rc = do_pull(&ref, root, o, err);
	if (!rc)
		rc = prepare_ref(&ref, root, o, out, err);
	ref_free(&ref);
	return rc;
}

int imageref_pull(const char *image, const char *root, const struct imageref_opts *o, char **name,
		  struct image_rootfs *out, struct errmsg *err)
{
	*name = NULL;
	struct image_ref ref;
	int rc = ref_parse(image, &ref, err);
	if (rc)
		return rc;
	rc = do_pull(&ref, root, o, err);
	if (!rc)
		rc = prepare_ref(&ref, root, o, out, err);
	if (!rc && !(*name = strdup(ref.name)))
		rc = -ENOMEM;
	ref_free(&ref);
	return rc;
}
