#include "opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define OPT_HELP_ID (-2)
#define MAX_OPTS 64

/* arg "=NAME": the value may be left out */
static bool optional(const struct opt *o)
{
	return o->arg && o->arg[0] == '=';
}

static size_t count(const struct opt *o)
{
	size_t n = 0;
	while (o && o[n].name)
		n++;
	return n;
}

void opts_usage(const struct cmd_opts *c, FILE *f)
{
	fprintf(f, "Usage: hull %s %s\n", c->name, c->synopsis);
	if (c->about)
		fprintf(f, "\n%s", c->about);
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0, n = count(c->opts); i <= n; i++) {
		const struct opt *o = &c->opts[i];
		const struct opt help = {.name = "help", .help = "print this help"};
		if (i == n)
			o = &help;
		char left[96];
		bool opt_val = optional(o);
		int w = snprintf(left, sizeof(left), "  %c%c%s--%s%s%s%s",
				 o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
				 o->short_name ? ", " : "  ", o->name,
				 opt_val  ? "[="
				 : o->arg ? " "
					  : "",
				 o->arg ? o->arg + opt_val : "", opt_val ? "]" : "");
		/* the text starts in column 28, its continuation lines too */
		if (w > 26)
			fprintf(f, "%s\n%28s", left, "");
		else
			fprintf(f, "%-28s", left);
		for (const char *p = o->help; *p; p++) {
			fputc(*p, f);
			if (*p == '\n' && p[1])
				fprintf(f, "%28s", "");
		}
		fputc('\n', f);
	}
	if (c->footer)
		fprintf(f, "\n%s", c->footer);
}

static struct opts_doc *doc_sink;

void opts_doc_set(struct opts_doc *sink)
{
	doc_sink = sink;
}

/* text with scdoc's markup characters escaped (and a '-' starting a line,
 * which would start a list); "\n" -> space when join */
static void man_text(FILE *f, const char *t, bool join)
{
	for (const char *p = t; *p; p++) {
		if (*p == '\n' && join) {
			fputc(' ', f);
			continue;
		}
		if (strchr("\\*_`", *p) || (*p == '-' && (p == t || p[-1] == '\n')))
			fputc('\\', f);
		fputc(*p, f);
	}
}

void opts_man(const struct cmd_opts *c, FILE *f)
{
	fprintf(f, "## hull %s\n\n*hull %s* ", c->name, c->name);
	man_text(f, c->synopsis, false);
	fprintf(f, "\n\n");
	if (c->about) {
		man_text(f, c->about, false);
		fputc('\n', f);
	}
	for (size_t i = 0, n = count(c->opts); i <= n; i++) {
		const struct opt help = {.name = "help", .help = "print this help"};
		const struct opt *o = i == n ? &help : &c->opts[i];
		fputc('*', f);
		if (o->short_name)
			fprintf(f, "-%c, ", o->short_name);
		fprintf(f, "--%s*", o->name);
		if (o->arg) {
			fputs(optional(o) ? "[=_" : " _", f);
			man_text(f, o->arg + optional(o), false);
			fputs(optional(o) ? "_]" : "_", f);
		}
		fputs("\n\t", f);
		man_text(f, o->help, true);
		fputs("\n\n", f);
	}
	if (c->footer) {
		man_text(f, c->footer, false);
		fputc('\n', f);
	}
}

static void doc_words(const struct cmd_opts *c, FILE *f)
{
	fprintf(f, "%s\t--help", c->name);
	for (size_t i = 0, n = count(c->opts); i < n; i++) {
		fprintf(f, " --%s", c->opts[i].name);
		if (c->opts[i].short_name)
			fprintf(f, " -%c", c->opts[i].short_name);
	}
	fputc('\n', f);
}

static int usage_error(const struct cmd_opts *c)
{
	fprintf(stderr, "Usage: hull %s %s\nRun 'hull %s --help' for the options.\n", c->name,
		c->synopsis, c->name);
	return OPTS_ERROR;
}

int opts_parse(const struct cmd_opts *c, int argc, char **argv,
	       int (*set)(void *ctx, int id, const char *value), void *ctx, int *first)
{
	size_t n = count(c->opts);
	if (n >= MAX_OPTS)
		abort(); /* a table this long is a programming error */
	struct option lo[MAX_OPTS + 1];
	char shorts[2 * MAX_OPTS + 3];
	size_t s = 0;
	shorts[s++] = c->stop_at_arg ? '+' : '-';
	if (!c->stop_at_arg)
		s--;	   /* permute: GNU getopt's default */
	shorts[s++] = ':'; /* missing values reported as ':' */
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &c->opts[i];
		lo[i] = (struct option){o->name,
					optional(o) ? optional_argument
					: o->arg    ? required_argument
						    : no_argument,
					NULL, o->id};
		if (o->short_name) {
			shorts[s++] = o->short_name;
			if (o->arg)
				shorts[s++] = ':';
			if (optional(o))
				shorts[s++] = ':';
		}
	}
	lo[n] = (struct option){"help", no_argument, NULL, OPT_HELP_ID};
	lo[n + 1] = (struct option){0};
	shorts[s] = '\0';

	optind = 0; /* 0, not 1: glibc then forgets the last parse's permutation state */
	opterr = 0;
	int ch, li;
	while ((li = -1, ch = getopt_long(argc, argv, shorts, lo, &li)) != -1) {
		/* the word that named this option: before a separate value */
		const char *word = argv[optind - 1];
		if (ch != '?' && ch != ':' && li >= 0 && lo[li].has_arg && optarg == word &&
		    optind >= 2)
			word = argv[optind - 2];
		if (li >= 0 && !strncmp(word, "--", 2)) {
			size_t len = strcspn(word + 2, "=");
			if (len != strlen(lo[li].name) || strncmp(word + 2, lo[li].name, len)) {
				fprintf(stderr,
					"hull %s: unknown option %.*s (did you mean --%s? "
					"options are not abbreviated)\n",
					c->name, (int)(len + 2), word, lo[li].name);
				return usage_error(c);
			}
		}
		if (ch == OPT_HELP_ID && doc_sink) {
			opts_man(c, doc_sink->man);
			doc_words(c, doc_sink->words);
			doc_sink->count++;
			return OPTS_HELP;
		}
		if (ch == OPT_HELP_ID) {
			opts_usage(c, stdout);
			return OPTS_HELP;
		}
		if (ch == '?' || ch == ':') {
			const char *w = argv[optind - 1];
			if (ch == ':' && optopt && optopt < 256 && strncmp(w, "--", 2))
				fprintf(stderr, "hull %s: option -%c needs a value\n", c->name,
					optopt);
			else if (ch == ':')
				fprintf(stderr, "hull %s: option %s needs a value\n", c->name, w);
			else if (optopt && optopt < 256 && strncmp(w, "--", 2))
				fprintf(stderr, "hull %s: unknown option -%c\n", c->name, optopt);
			else
				fprintf(stderr, "hull %s: unknown option %s\n", c->name, w);
			return usage_error(c);
		}
		if (set && set(ctx, ch, optarg))
			return OPTS_ERROR;
	}
	int nargs = argc - optind;
	if (nargs < c->min_args) {
		fprintf(stderr, "hull %s: %s\n", c->name,
			nargs ? "too few arguments" : "arguments missing");
		return usage_error(c);
	}
	if (c->max_args >= 0 && nargs > c->max_args) {
		fprintf(stderr, "hull %s: unexpected argument '%s'\n", c->name,
			argv[optind + c->max_args]);
		return usage_error(c);
	}
	*first = optind;
	return OPTS_OK;
}
