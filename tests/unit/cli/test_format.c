/* format: --format's Go-template subset, tables and json lines; malformed
 * templates, missing fields, hostile values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/format.h"

static json_object *item(void)
{
	return json_tokener_parse(
	    "{\"ID\":\"abc123\",\"Names\":\"web\",\"Size\":42,\"Running\":true,"
	    "\"Error\":null,\"Cmd\":[\"sleep\",\"300\"],"
	    "\"State\":{\"Status\":\"running\",\"Pid\":7},"
	    "\"Labels\":{\"b\":\"2\",\"a\":\"x y\"},\"Q\":\"say \\\"hi\\\"\\n/\"}");
}

static char *rendered(const char *t)
{
	json_object *o = item();
	char *out = NULL;
	struct errmsg err = {""};
	int rc = format_render(t, o, &out, &err);
	json_object_put(o);
	if (rc)
		fail_msg("%s: %s", t, err.text);
	return out;
}

static void expect(const char *t, const char *want)
{
	char *got = rendered(t);
	assert_string_equal(got, want);
	free(got);
}

static void test_fields(void **state)
{
	(void)state;
	expect("{{.ID}}", "abc123");
	expect("id={{.ID}} name={{ .Names }}!", "id=abc123 name=web!");
	expect("{{.State.Status}}/{{.State.Pid}}", "running/7");
	expect("{{.Size}} {{.Running}}", "42 true");
	expect("[{{.Error}}]", "[]");
	expect("{{.Cmd}}", "[sleep 300]");
	expect("{{.Labels}}", "map[a:x y b:2]");
	expect("{{index .Labels \"a\"}}|{{index .Labels \"nope\"}}", "x y|");
	expect("{{upper .Names}}{{lower .State.Status}}", "WEBrunning");
	expect("no actions at all", "no actions at all");
	expect("a\\tb\\nc", "a\tb\nc");
	expect("{{.ID -}}   x  {{- .Names}}", "abc123xweb");
}

static void test_json(void **state)
{
	(void)state;
	expect("{{json .Cmd}}", "[\"sleep\",\"300\"]");
	expect("{{json .State}}", "{\"Status\":\"running\",\"Pid\":7}");
	expect("{{json .Names}}", "\"web\"");
	/* quotes and control characters escaped, '/' left alone */
	expect("{{json .Q}}", "\"say \\\"hi\\\"\\n/\"");
	/* the raw value is printed as it is */
	expect("{{.Q}}", "say \"hi\"\n/");
	char *all = rendered("{{json .}}");
	json_object *back = json_tokener_parse(all);
	assert_non_null(back);
	json_object *st;
	assert_true(json_object_object_get_ex(back, "State", &st));
	json_object_put(back);
	free(all);
}

static void expect_parse_error(const char *t, const char *needle)
{
	struct format *f = (struct format *)1;
	struct errmsg err = {""};
	assert_int_equal(format_new(t, "table {{.ID}}", NULL, &f, &err), -EINVAL);
	assert_null(f);
	if (!strstr(err.text, "template parsing error") || !strstr(err.text, needle))
		fail_msg("%s: error '%s' lacks '%s'", t, err.text, needle);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_parse_error("{{.ID", "unclosed action");
	expect_parse_error("x {{.ID}} {{", "unclosed action");
	expect_parse_error("{{}}", "missing value");
	expect_parse_error("{{   }}", "missing value");
	expect_parse_error("{{foo .ID}}", "function not defined");
	expect_parse_error("{{.ID | json}}", "unexpected words");
	expect_parse_error("{{ID}}", "function not defined");
	expect_parse_error("{{json}}", "wrong number of arguments");
	expect_parse_error("{{json .A .B}}", "wrong number of arguments");
	expect_parse_error("{{.A..B}}", "bad field");
	expect_parse_error("{{.A.}}", "bad field");
	expect_parse_error("{{json A}}", "bad field");
	expect_parse_error("{{.A-B}}", "bad field");
	expect_parse_error("{{index .Labels a}}", "quoted key");
	expect_parse_error("{{index .Labels \"a}}", "unterminated");
	expect_parse_error("{{\"x\"}}", "a string where");
	expect_parse_error("table {{.ID", "unclosed action");
	/* the offset names where the action starts */
	expect_parse_error("abc{{nope .X}}", "character 4");
}

static void test_missing_field(void **state)
{
	(void)state;
	json_object *o = item();
	char *out = (char *)1;
	struct errmsg err = {""};
	assert_int_equal(format_render("{{.Nope}}", o, &out, &err), -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err.text, "no field \"Nope\""));
	assert_non_null(strstr(err.text, "ID"));
	assert_int_equal(format_render("{{.State.Nope}}", o, &out, &err), -EINVAL);
	assert_non_null(strstr(err.text, ".State.Nope"));
	assert_int_equal(format_render("{{.Names.First}}", o, &out, &err), -EINVAL);
	assert_non_null(strstr(err.text, "not an object"));
	assert_int_equal(format_render("{{index .Names \"x\"}}", o, &out, &err), -EINVAL);
	assert_non_null(strstr(err.text, "not a map"));
	struct format *f;
	assert_int_equal(format_new("{{.ID}} {{.Missing}}", "", NULL, &f, &err), 0);
	assert_int_equal(format_add(f, o, &err), -EINVAL);
	assert_non_null(strstr(err.text, "Missing"));
	format_free(f);
	json_object_put(o);
}

static char *flushed(struct format *f)
{
	char *buf = NULL;
	size_t len;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	assert_int_equal(format_flush(f, m), 0);
	fclose(m);
	return buf;
}

static void add(struct format *f, const char *json)
{
	json_object *o = json_tokener_parse(json);
	assert_non_null(o);
	struct errmsg err;
	assert_int_equal(format_add(f, o, &err), 0);
	json_object_put(o);
}

static const struct format_header heads[] = {{"ID", "CONTAINER ID"}, {"Names", "NAMES"}, {0}};

static void test_table(void **state)
{
	(void)state;
	struct format *f;
	struct errmsg err;
	assert_int_equal(format_new(NULL, "table {{.ID}}\\t{{.Names}}", heads, &f, &err), 0);
	assert_false(format_is_json(f));
	add(f, "{\"ID\":\"a\",\"Names\":\"first\"}");
	add(f, "{\"ID\":\"0123456789abcdef\",\"Names\":\"x\"}");
	char *out = flushed(f);
	assert_string_equal(out, "CONTAINER ID       NAMES\n"
				 "a                  first\n"
				 "0123456789abcdef   x\n");
	free(out);
	format_free(f);

	/* a user's table: titles from the table, else the field upper-cased;
	 * a multi-byte character is one column */
	assert_int_equal(
	    format_new("table {{.Names}}\t{{.State.Status}}\t{{index .Labels \"app\"}}", "", heads,
		       &f, &err),
	    0);
	add(f, "{\"Names\":\"caf\xc3\xa9\",\"State\":{\"Status\":\"up\"},\"Labels\":{}}");
	add(f, "{\"Names\":\"b\",\"State\":{\"Status\":\"exited\"},\"Labels\":{\"app\":\"w\"}}");
	out = flushed(f);
	assert_string_equal(out, "NAMES   STATE STATUS   APP\n"
				 "caf\xc3\xa9    up             \n"
				 "b       exited         w\n");
	free(out);
	format_free(f);

	/* "table" alone is the default table */
	assert_int_equal(format_new("table", "table {{.ID}}", heads, &f, &err), 0);
	add(f, "{\"ID\":\"z\"}");
	out = flushed(f);
	assert_string_equal(out, "CONTAINER ID\nz\n");
	free(out);
	format_free(f);
}

static void test_lines_and_json(void **state)
{
	(void)state;
	struct format *f;
	struct errmsg err;
	assert_int_equal(format_new("{{.ID}}: {{.Names}}", "table {{.ID}}", heads, &f, &err), 0);
	add(f, "{\"ID\":\"a\",\"Names\":\"n1\"}");
	add(f, "{\"ID\":\"b\",\"Names\":\"n\\tb\"}");
	char *out = flushed(f);
	assert_string_equal(out, "a: n1\nb: n\tb\n");
	free(out);
	format_free(f);

	assert_int_equal(format_new("json", "table {{.ID}}", heads, &f, &err), 0);
	assert_true(format_is_json(f));
	add(f, "{\"ID\":\"a\",\"Names\":\"line\\nbreak\"}");
	add(f, "{\"ID\":\"b\",\"Labels\":{\"k\":\"v\"}}");
	out = flushed(f);
	assert_string_equal(out, "{\"ID\":\"a\",\"Names\":\"line\\nbreak\"}\n"
				 "{\"ID\":\"b\",\"Labels\":{\"k\":\"v\"}}\n");
	free(out);
	format_free(f);
	format_free(NULL);
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(format_width(""), 0);
	assert_int_equal(format_width("abc"), 3);
	assert_int_equal(format_width("\"sleep 300\xe2\x80\xa6\""), 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_malformed), cmocka_unit_test(test_missing_field),
	    cmocka_unit_test(test_table),     cmocka_unit_test(test_lines_and_json),
	    cmocka_unit_test(test_width),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
