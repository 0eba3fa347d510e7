/* format: docker's --format for listings and inspect, over JSON objects.
 *
 * A command describes each item (a container, an image, a template) as a
 * json-c object whose keys are docker's field names ("ID", "Names",
 * "State": {"Status": ...}) and hands it to format_add(); format_flush()
 * prints what the user asked for:
 *
 *   json            one compact JSON object per line (docker 24+'s
 *                   `ps --format json`); inspect prints its own array
 *   table           the command's default table
 *   table TEMPLATE  a header line, then one line per item, the cells
 *                   (separated by tabs in TEMPLATE) aligned in columns
 *   TEMPLATE        one line per item, nothing aligned
 *
 * TEMPLATE is a subset of Go's text/template: literal text and actions
 *   {{.}}                  the whole item
 *   {{.Field}}, {{.A.B}}   a field, a nested field (an unknown one is an error)
 *   {{json .}}, {{json .Field}}  the value as compact JSON
 *   {{index .Map "key"}}   a map's entry ("" when the key is absent)
 *   {{upper .F}}, {{lower .F}}
 * Values print as Go prints them: strings raw, numbers, true/false, "" for
 * null, [a b] for arrays, map[k:v] for objects (keys sorted). The two
 * characters \t and \n in TEMPLATE mean a tab and a newline, as in docker.
 * Header cells come from the caller's table (field path -> title), else
 * the field path upper-cased.
 *
 * Contract
 * - format_new() parses the spec: -EINVAL with err "template parsing
 *   error: ..." naming the problem and its offset for a malformed template
 *   (unclosed {{, unknown function, empty action, a field not starting
 *   with '.').
 * - format_add() renders the item at once (it does not keep obj): -EINVAL
 *   with err naming the field when the template names a field the item
 *   lacks; -ENOMEM.
 * - format_flush() writes everything added to out; the rows stay (calling
 *   it twice prints twice). format_free(NULL) is a no-op.
 * - Hostile input: the template is the user's, the items may carry
 *   anything from a container's state (names, labels, commands); nothing is
 *   interpreted twice, no output is bounded by a fixed buffer.
 * - No global state; one struct format per thread.
 */
#ifndef HULL_CLI_FORMAT_H
#define HULL_CLI_FORMAT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errmsg.h"

struct format_header {
	const char *field; /* "ID", "State.Status" */
	const char *title; /* "CONTAINER ID" */
};

struct format;

/* spec: the user's --format (NULL or "": the default table); def_table: the
 * command's default, "table {{.ID}}\t..." ; headers: ended by {0}, may be
 * NULL. */
int format_new(const char *spec, const char *def_table, const struct format_header *headers,
	       struct format **out, struct errmsg *err);
/* --format json: the caller may print differently (inspect's array). */
bool format_is_json(const struct format *f);
int format_add(struct format *f, json_object *obj, struct errmsg *err);
int format_flush(struct format *f, FILE *out);
void format_free(struct format *f);

/* One item through one template, without a table: *out is malloc'd. */
int format_render(const char *tmpl, json_object *obj, char **out, struct errmsg *err);

/* Display width of UTF-8 text (one column per character). */
size_t format_width(const char *s);

#endif
