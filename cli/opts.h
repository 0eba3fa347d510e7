/* opts: a command's options, described once in a table from which the
 * getopt_long option array, the parsing and the usage text all come (as
 * kvmtool and crun do it).
 *
 * Contract
 * - struct cmd_opts names the command, its argument synopsis and text, and
 *   its options (an array ended by { 0 }); every command takes --help.
 * - opts_parse() runs getopt_long over argv (argv[0]: the command's name),
 *   calling set(ctx, id, value) for each option in order (value NULL for a
 *   flag; set may be NULL for a command without options). Long options
 *   must be spelled out: getopt_long's prefix matching is refused (`--init`
 *   is not `--initrd`; docker accepts no abbreviations either). Unknown
 *   options, missing values, abbreviations and a wrong number of arguments
 *   are errors naming the problem, followed by the synopsis and a pointer
 *   to --help, on stderr.
 * - With stop_at_arg, options end at the first argument (what follows
 *   belongs to the container, as with `hull run IMAGE CMD -x`); otherwise
 *   options and arguments may mix (`hull stop web -t 3`).
 * - Returns OPTS_OK with *first set to the index of the first argument,
 *   OPTS_HELP after printing the usage on stdout (--help), OPTS_ERROR after
 *   printing the problem (also when set() returned non-zero: set() printed
 *   its own message first).
 * - Documentation mode (hull's man page and bash completion, made at build
 *   time by `hull __doc`, cli/doc.c): while opts_doc_set() holds a sink,
 *   --help writes the command's scdoc section (opts_man) to sink->man and
 *   its option words to sink->words instead of the usage, and counts the
 *   command in sink->count. The sink is the only state here beyond
 *   getopt's own (optind is reset on every call); single-threaded.
 */
#ifndef HULL_CLI_OPTS_H
#define HULL_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

struct opt {
	int id;		  /* handed to set(); a short option's letter, or >= 256 */
	char short_name;  /* 0: none */
	const char *name; /* the long name, without "--" */
	/* the value's name in the usage ("N", "SIZE"); NULL: a flag; "=NAME":
	 * the value may be left out: --name or --name=VALUE, never a separate
	 * word (docker's --sig-proxy=false), set() gets NULL without one, and
	 * the usage shows --name[=NAME] */
	const char *arg;
	const char *help; /* may span lines ("\n" then the continuation) */
};

struct cmd_opts {
	const char *name;     /* "run", "snapshot ls" */
	const char *synopsis; /* "[OPTIONS] IMAGE [COMMAND [ARG...]]" */
	const char *about;    /* one paragraph, ends in '\n' */
	const struct opt *opts;
	int min_args, max_args; /* max_args < 0: no limit */
	bool stop_at_arg;
	const char *footer; /* printed after the options, or NULL */
};

enum { OPTS_OK = 0, OPTS_HELP = 1, OPTS_ERROR = -1 };

int opts_parse(const struct cmd_opts *c, int argc, char **argv,
	       int (*set)(void *ctx, int id, const char *value), void *ctx, int *first);
void opts_usage(const struct cmd_opts *c, FILE *f);

struct opts_doc {
	FILE *man;   /* scdoc sections */
	FILE *words; /* "--name -x ..." of the command, one line per command */
	int count;   /* commands documented through opts_parse() */
};
void opts_doc_set(struct opts_doc *sink); /* NULL: normal --help */
/* The command's section of hull(1) in scdoc: "## hull NAME", the synopsis,
 * the text, every option with its help (--help included), the footer; the
 * same words as opts_usage(), with scdoc's markup characters escaped. */
void opts_man(const struct cmd_opts *c, FILE *f);

#endif
