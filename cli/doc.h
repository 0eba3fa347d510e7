/* doc: hull(1) and hull's bash completion, generated at build time from the
 * command table (cli/hull.c) and each command's option table (cli/opts.h)
 * by `hull __doc MAN.scd COMPLETION`, so the man page and the completion
 * say what --help says, for every command in the table.
 *
 * Contract
 * - Every command in the table is asked for --help (and each of its verbs:
 *   `hull snapshot ls --help`) with opts' documentation mode on: commands
 *   that parse with opts_parse() give their scdoc section and option words;
 *   what any other command prints for --help goes into the page verbatim,
 *   as a literal block.
 * - Both files are written to temp names and renamed into place.
 * - Returns 0, or an exit status (2) after a message on stderr.
 */
#ifndef HULL_CLI_DOC_H
#define HULL_CLI_DOC_H

#include <stddef.h>

struct cli_command {
	const char *name;
	int (*main)(int argc, char **argv); /* argv[0] is the command's name */
	const char *summary;
};

/* A command's sub-commands ("snapshot": "ls", "rm", ...), NULL-terminated. */
struct cli_verbs {
	const char *command;
	const char *const *verbs;
};

/* verbs: ended by { NULL } */
int doc_main(const struct cli_command *cmds, size_t n, const struct cli_verbs *verbs, int argc,
	     char **argv);

#endif
