#include "doc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/opts.h"
#include "common/version.h"

static const char *const *verbs_of(const struct cli_verbs *v, const char *cmd)
{
	for (; v && v->command; v++)
		if (!strcmp(v->command, cmd))
			return v->verbs;
	return NULL;
}

/* What one `--help` gave: the sink's section, or the captured stdout. */
static int document(const struct cli_command *c, const char *verb, struct opts_doc *d, FILE *man)
{
	char *argv[] = {(char *)c->name, (char *)(verb ? verb : "--help"), verb ? "--help" : NULL,
			NULL};
	FILE *cap = tmpfile();
	int saved = dup(1);
	if (!cap || saved < 0)
		return -errno;
	fflush(stdout);
	dup2(fileno(cap), 1);
	int before = d->count;
	c->main(verb ? 3 : 2, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	if (d->count == before) {
		/* not an opts_parse() command: its own text, verbatim */
		fprintf(man, "## hull %s%s%s\n\n```\n", c->name, verb ? " " : "", verb ? verb : "");
		rewind(cap);
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), cap)) > 0)
			fwrite(buf, 1, n, man);
		fprintf(man, "```\n\n");
	} else {
		fputc('\n', man);
	}
	fclose(cap);
	return 0;
}

static void man_head(FILE *f, const struct cli_command *cmds, size_t n)
{
	fprintf(f,
		"hull(1) \"hull %s\"\n\n# NAME\n\nhull - run OCI containers, one per KVM "
		"microVM\n\n# SYNOPSIS\n\n*hull* _COMMAND_ [_OPTIONS_] [_ARGS_]\n\n"
		"# DESCRIPTION\n\nhull runs each container in its own microVM: a small guest "
		"kernel and a static init (guest-init) that runs exactly one container. Long "
		"options are never abbreviated; every command refuses options and arguments it "
		"does not know.\n\n# COMMANDS\n\n",
		HULL_VERSION);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "*%s*\n\t%s\n\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "# COMMAND OPTIONS\n\n");
}

/* words: "NAME\t--help --x -x\n" lines from the sink */
static void completion(FILE *f, const struct cli_command *cmds, size_t n,
		       const struct cli_verbs *verbs, const char *words)
{
	fprintf(f, "# bash completion for hull, generated from its option tables (hull __doc)\n"
		   "_hull() {\n"
		   "\tlocal cur=${COMP_WORDS[COMP_CWORD]} key=${COMP_WORDS[1]} w=\n"
		   "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n"
		   "\t\tw=\"");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", cmds[i].name);
	fprintf(f, "\"\n\t\tmapfile -t COMPREPLY < <(compgen -W \"$w\" -- \"$cur\")\n"
		   "\t\treturn\n\tfi\n\tcase $key in\n");
	for (const struct cli_verbs *cv = verbs; cv && cv->command; cv++)
		if (cv->verbs) {
			fprintf(f, "\t%s)\n\t\tif [ \"$COMP_CWORD\" -eq 2 ]; then\n\t\t\tw=\"",
				cv->command);
			for (size_t v = 0; cv->verbs[v]; v++)
				fprintf(f, "%s%s", v ? " " : "", cv->verbs[v]);
			fprintf(f, "\"\n\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$w\" -- "
				   "\"$cur\")\n\t\t\treturn\n\t\tfi\n"
				   "\t\tkey=\"$key ${COMP_WORDS[2]}\"\n\t\t;;\n");
		}
	fprintf(f, "\tesac\n\tcase $key in\n");
	for (const char *l = words; *l;) {
		const char *tab = strchr(l, '\t'), *nl = strchr(l, '\n');
		if (!tab || !nl || tab > nl)
			break;
		fprintf(f, "\t\"%.*s\") w=\"%.*s\" ;;\n", (int)(tab - l), l, (int)(nl - tab - 1),
			tab + 1);
		l = nl + 1;
	}
	fprintf(f, "\tesac\n"
		   "\tif [[ $cur == -* ]]; then\n"
		   "\t\tmapfile -t COMPREPLY < <(compgen -W \"$w\" -- \"$cur\")\n"
		   "\telse\n"
		   "\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
		   "\tfi\n}\ncomplete -o filenames -F _hull hull\n");
}

static int publish(FILE *f, const char *tmp, const char *path)
{
	int rc = fclose(f) || rename(tmp, path) ? -errno : 0;
	if (rc)
		fprintf(stderr, "hull __doc: %s: %s\n", path, strerror(-rc));
	return rc;
}

int doc_main(const struct cli_command *cmds, size_t n, const struct cli_verbs *verbs, int argc,
	     char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "Usage: hull __doc MAN.scd COMPLETION\n");
		return 2;
	}
	char *tmp_man, *tmp_bash, *words = NULL;
	size_t wlen = 0;
	if (asprintf(&tmp_man, "%s.tmp", argv[1]) < 0 || asprintf(&tmp_bash, "%s.tmp", argv[2]) < 0)
		return 2;
	FILE *man = fopen(tmp_man, "we"), *bash = fopen(tmp_bash, "we");
	struct opts_doc d = {.man = man, .words = open_memstream(&words, &wlen)};
	int rc = man && bash && d.words ? 0 : -errno;
	if (!rc)
		man_head(man, cmds, n);
	opts_doc_set(&d);
	for (size_t i = 0; !rc && i < n; i++) {
		const char *const *vs = verbs_of(verbs, cmds[i].name);
		rc = document(&cmds[i], NULL, &d, man);
		for (size_t v = 0; !rc && vs && vs[v]; v++)
			rc = document(&cmds[i], vs[v], &d, man);
	}
	opts_doc_set(NULL);
	if (d.words)
		fclose(d.words);
	if (!rc)
		completion(bash, cmds, n, verbs, words ? words : "");
	if (!rc)
		rc = publish(man, tmp_man, argv[1]);
	if (!rc)
		rc = publish(bash, tmp_bash, argv[2]);
	else
		fprintf(stderr, "hull __doc: %s\n", strerror(-rc));
	free(words);
	free(tmp_man);
	free(tmp_bash);
	return rc ? 2 : 0;
}
