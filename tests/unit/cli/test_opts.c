/* opts: option tables -> getopt_long, with abbreviations refused, unknown
 * options and wrong argument counts reported, --help answered. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/opts.h"

enum { O_INIT = 256, O_INITRD, O_NAME, O_RM };

static const struct opt table[] = {
    {O_INIT, 0, "init", NULL, "an init"},   {O_INITRD, 0, "initrd", "PATH", "an initramfs"},
    {O_NAME, 0, "name", "NAME", "a name"},  {O_RM, 0, "rm", NULL, "remove"},
    {'m', 'm', "memory", "SIZE", "memory"}, {'i', 'i', "interactive", NULL, "stdin"},
    {'t', 't', "tty", NULL, "a tty"},	    {0},
};

static const struct cmd_opts run_like = {
    .name = "run",
    .synopsis = "[OPTIONS] IMAGE [COMMAND...]",
    .about = "Run.\n",
    .opts = table,
    .min_args = 1,
    .max_args = -1,
    .stop_at_arg = true,
};

static const struct cmd_opts ls_like = {
    .name = "snapshot ls",
    .synopsis = "[OPTIONS]",
    .opts = table,
    .min_args = 0,
    .max_args = 0,
};

static const struct cmd_opts stop_like = {
    .name = "stop",
    .synopsis = "[OPTIONS] NAME...",
    .opts = table,
    .min_args = 1,
    .max_args = 2,
};

struct seen {
	int ids[16];
	const char *vals[16];
	int n;
	int refuse; /* set() fails for this id */
};

static int set(void *ctx, int id, const char *v)
{
	struct seen *s = ctx;
	assert_true(s->n < 16);
	s->ids[s->n] = id;
	s->vals[s->n++] = v;
	return id == s->refuse ? -EINVAL : 0;
}

static char err_text[4096];

/* Parse argv (NULL-terminated) with stderr captured into err_text. */
static int parse(const struct cmd_opts *c, struct seen *s, int *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, first);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	memset(s, 0, sizeof(*s));
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	dup2(fileno(tmp), 2);
	int out = dup(1);
	int null = open("/dev/null", O_WRONLY);
	dup2(null, 1); /* --help's usage */
	int rc = opts_parse(c, argc, argv, set, s, first);
	fflush(stderr);
	fflush(stdout);
	dup2(saved, 2);
	dup2(out, 1);
	close(saved);
	close(out);
	close(null);
	rewind(tmp);
	size_t n = fread(err_text, 1, sizeof(err_text) - 1, tmp);
	err_text[n] = '\0';
	fclose(tmp);
	return rc;
}

static void test_exact_names(void **st)
{
	(void)st;
	struct seen s;
	int first;
	assert_int_equal(parse(&run_like, &s, &first, "run", "--init", "--initrd", "/x",
			       "--name=web", "-it", "-m", "1G", "img", "sh", "--rm", NULL),
			 OPTS_OK);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.ids[0], O_INIT);
	assert_null(s.vals[0]);
	assert_int_equal(s.ids[1], O_INITRD);
	assert_string_equal(s.vals[1], "/x");
	assert_int_equal(s.ids[2], O_NAME);
	assert_string_equal(s.vals[2], "web");
	assert_int_equal(s.ids[3], 'i');
	assert_int_equal(s.ids[4], 't');
	assert_int_equal(s.ids[5], 'm');
	assert_string_equal(s.vals[5], "1G");
	/* options end at IMAGE: --rm belongs to the container */
	assert_int_equal(first, 8);
	/* a value that looks like an option is still the value */
	assert_int_equal(parse(&run_like, &s, &first, "run", "--name", "--rm", "img", NULL),
			 OPTS_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.vals[0], "--rm");
	assert_string_equal(err_text, "");
}

static void test_abbreviations_refused(void **st)
{
	(void)st;
	struct seen s;
	int first;
	/* a unique prefix getopt_long would take for --initrd */
	assert_int_equal(parse(&run_like, &s, &first, "run", "--initr", "/x", "img", NULL),
			 OPTS_ERROR);
	assert_int_equal(s.n, 0);
	assert_non_null(strstr(err_text, "--initr"));
	assert_non_null(strstr(err_text, "not abbreviated"));
	/* with the value attached, and for flags */
	assert_int_equal(parse(&run_like, &s, &first, "run", "--initr=/x", "img", NULL),
			 OPTS_ERROR);
	assert_int_equal(parse(&run_like, &s, &first, "run", "--inter", "img", NULL), OPTS_ERROR);
	assert_int_equal(parse(&run_like, &s, &first, "run", "--memo", "1G", "img", NULL),
			 OPTS_ERROR);
	assert_int_equal(parse(&run_like, &s, &first, "run", "--he", NULL), OPTS_ERROR);
	/* an ambiguous prefix */
	assert_int_equal(parse(&run_like, &s, &first, "run", "--ini", "img", NULL), OPTS_ERROR);
	assert_non_null(strstr(err_text, "--ini"));
	assert_int_equal(s.n, 0);
}

static void test_unknown_and_missing(void **st)
{
	(void)st;
	struct seen s;
	int first;
	assert_int_equal(parse(&ls_like, &s, &first, "snapshot ls", "--format", "json", NULL),
			 OPTS_ERROR);
	assert_non_null(strstr(err_text, "unknown option --format"));
	assert_int_equal(parse(&ls_like, &s, &first, "snapshot ls", "-q", NULL), OPTS_ERROR);
	assert_non_null(strstr(err_text, "unknown option -q"));
	assert_int_equal(parse(&run_like, &s, &first, "run", "img", "-m", NULL), OPTS_OK);
	assert_int_equal(parse(&run_like, &s, &first, "run", "-m", NULL), OPTS_ERROR);
	assert_non_null(strstr(err_text, "-m needs a value"));
	assert_int_equal(parse(&run_like, &s, &first, "run", "--name", NULL), OPTS_ERROR);
	assert_non_null(strstr(err_text, "--name needs a value"));
	/* the usage follows every error */
	assert_non_null(strstr(err_text, "Usage: hull run [OPTIONS] IMAGE"));
}

static void test_argument_counts(void **st)
{
	(void)st;
	struct seen s;
	int first;
	assert_int_equal(parse(&ls_like, &s, &first, "snapshot ls", "extra", NULL), OPTS_ERROR);
	assert_non_null(strstr(err_text, "unexpected argument 'extra'"));
	assert_int_equal(parse(&run_like, &s, &first, "run", NULL), OPTS_ERROR);
	assert_int_equal(parse(&run_like, &s, &first, "run", "--rm", NULL), OPTS_ERROR);
	/* without stop_at_arg, options may follow the arguments */
	assert_int_equal(parse(&stop_like, &s, &first, "stop", "a", "--name", "x", "b", NULL),
			 OPTS_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(first, 3);
	assert_int_equal(parse(&stop_like, &s, &first, "stop", "a", "b", "c", NULL), OPTS_ERROR);
	assert_non_null(strstr(err_text, "unexpected argument 'c'"));
	assert_int_equal(parse(&stop_like, &s, &first, "stop", "--bogus", "a", NULL), OPTS_ERROR);
}

static void test_help_and_set_errors(void **st)
{
	(void)st;
	struct seen s;
	int first;
	assert_int_equal(parse(&ls_like, &s, &first, "snapshot ls", "--help", NULL), OPTS_HELP);
	assert_int_equal(parse(&run_like, &s, &first, "run", "--help", "img", NULL), OPTS_HELP);
	/* set() refusing a value ends the parse */
	memset(&s, 0, sizeof(s));
	char *argv[] = {"run", "-m", "lots", "img", NULL};
	s.refuse = 'm';
	assert_int_equal(opts_parse(&run_like, 4, argv, set, &s, &first), OPTS_ERROR);
}

/* c's usage text (malloc'd) */
static char *usage_of(const struct cmd_opts *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	opts_usage(c, f);
	fclose(f);
	return buf;
}

static void test_usage_text(void **st)
{
	(void)st;
	char *buf = usage_of(&run_like);
	/* every option once, from the table, and --help */
	assert_non_null(strstr(buf, "Usage: hull run [OPTIONS] IMAGE [COMMAND...]\n"));
	assert_non_null(strstr(buf, "      --initrd PATH         an initramfs\n"));
	assert_non_null(strstr(buf, "  -m, --memory SIZE         memory\n"));
	assert_non_null(strstr(buf, "      --help"));
	free(buf);
}

/* An optional value ("=BOOL"): --name alone or --name=VALUE, never the
 * next word (that is an argument, as with docker's --sig-proxy). */
static void test_optional_value(void **st)
{
	(void)st;
	static const struct opt opt_table[] = {{O_NAME, 0, "sig-proxy", "=BOOL", "proxy"}, {0}};
	const struct cmd_opts attach_like = {
	    .name = "attach", .synopsis = "NAME", .opts = opt_table, .min_args = 1, .max_args = 1};
	struct seen s;
	int first;
	assert_int_equal(parse(&attach_like, &s, &first, "attach", "--sig-proxy", "false", NULL),
			 OPTS_OK);
	assert_int_equal(s.n, 1);
	assert_null(s.vals[0]);
	assert_int_equal(first, 2);
	assert_int_equal(parse(&attach_like, &s, &first, "attach", "--sig-proxy=false", "c", NULL),
			 OPTS_OK);
	assert_string_equal(s.vals[0], "false");
	assert_int_equal(parse(&attach_like, &s, &first, "attach", "--sig", "c", NULL), OPTS_ERROR);
	char *buf = usage_of(&attach_like);
	assert_non_null(strstr(buf, "      --sig-proxy[=BOOL]    proxy\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_names),
	    cmocka_unit_test(test_abbreviations_refused),
	    cmocka_unit_test(test_unknown_and_missing),
	    cmocka_unit_test(test_argument_counts),
	    cmocka_unit_test(test_help_and_set_errors),
	    cmocka_unit_test(test_usage_text),
	    cmocka_unit_test(test_optional_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
