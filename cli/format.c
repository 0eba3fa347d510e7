#include "format.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum node_kind { N_TEXT, N_VALUE };
enum func { F_NONE, F_JSON, F_UPPER, F_LOWER, F_INDEX };

struct node {
	enum node_kind kind;
	enum func fn;
	char *text; /* N_TEXT: the text; N_VALUE: the field path without the
		     * leading '.' ("" for the item itself) */
	char *key;  /* F_INDEX: the map key */
};

struct tmpl {
	struct node *n;
	size_t len;
};

enum mode { M_LINES, M_TABLE, M_JSON };

struct format {
	enum mode mode;
	struct tmpl t;
	const struct format_header *headers;
	char **rows;
	size_t n_rows, cap;
};

static void tmpl_free(struct tmpl *t)
{
	for (size_t i = 0; i < t->len; i++) {
		free(t->n[i].text);
		free(t->n[i].key);
	}
	free(t->n);
	t->n = NULL;
	t->len = 0;
}

static int push(struct tmpl *t, struct node nd)
{
	struct node *n = realloc(t->n, (t->len + 1) * sizeof(*n));
	if (!n) {
		free(nd.text);
		free(nd.key);
		return -ENOMEM;
	}
	t->n = n;
	t->n[t->len++] = nd;
	return 0;
}

/* docker turns the two characters \t and \n into a tab and a newline */
static char *unescape(const char *s)
{
	char *o = malloc(strlen(s) + 1), *p = o;
	if (!o)
		return NULL;
	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
			*p++ = s[1] == 't' ? '\t' : '\n';
			s++;
		} else {
			*p++ = *s;
		}
	}
	*p = '\0';
	return o;
}

static int perr(struct errmsg *err, size_t at, const char *what, const char *word)
{
	return errmsg_set(err, -EINVAL, "template parsing error: %s%s%s (at character %zu)", what,
			  word ? " " : "", word ? word : "", at + 1);
}

/* ".", ".A", ".A.B": identifiers of letters, digits and '_' */
static bool field_ok(const char *w, size_t n)
{
	if (n == 0 || w[0] != '.')
		return false;
	if (n == 1)
		return true;
	for (size_t i = 1; i < n; i++) {
		if (w[i] == '.') {
			if (w[i - 1] == '.' || i == n - 1)
				return false;
		} else if (!isalnum((unsigned char)w[i]) && w[i] != '_') {
			return false;
		}
	}
	return true;
}

/* Split the action into words; a word may be a "quoted string" (no escapes
 * beyond \" and \\). Returns the count or -1 on an unterminated string. */
static int words(const char *a, size_t n, const char *w[4], size_t wl[4], size_t *consumed)
{
	int k = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && isspace((unsigned char)a[i]))
			i++;
		if (i == n)
			break;
		if (k == 4)
			return 5;
		size_t s = i;
		if (a[i] == '"') {
			for (i++; i < n && a[i] != '"'; i++)
				if (a[i] == '\\' && i + 1 < n)
					i++;
			if (i == n)
				return -1;
			i++;
		} else {
			while (i < n && !isspace((unsigned char)a[i]))
				i++;
		}
		w[k] = a + s;
		wl[k++] = i - s;
	}
	*consumed = i;
	return k;
}

static char *unquote(const char *w, size_t n)
{
	char *o = malloc(n), *p = o;
	if (!o)
		return NULL;
	for (size_t i = 1; i + 1 < n; i++) {
		if (w[i] == '\\' && i + 2 < n)
			i++;
		*p++ = w[i];
	}
	*p = '\0';
	return o;
}

static int parse_action(const char *a, size_t n, size_t at, struct tmpl *t, struct errmsg *err)
{
	const char *w[4];
	size_t wl[4], used;
	int k = words(a, n, w, wl, &used);
	if (k < 0)
		return perr(err, at, "unterminated quoted string", NULL);
	if (k == 0)
		return perr(err, at, "missing value for command", NULL);
	char word[64];
	snprintf(word, sizeof(word), "\"%.*s\"", (int)(wl[0] < 60 ? wl[0] : 60), w[0]);
	struct node nd = {.kind = N_VALUE};
	const char *field;
	size_t fl;
	int want;
	if (w[0][0] == '.') {
		field = w[0], fl = wl[0], want = 1;
	} else if (w[0][0] == '"') {
		return perr(err, at, "a string where a field belongs:", word);
	} else {
		static const struct {
			const char *name;
			enum func fn;
			int args;
		} fns[] = {{"json", F_JSON, 2},
			   {"upper", F_UPPER, 2},
			   {"lower", F_LOWER, 2},
			   {"index", F_INDEX, 3}};
		size_t i = 0;
		while (i < sizeof(fns) / sizeof(fns[0]) &&
		       (strlen(fns[i].name) != wl[0] || strncmp(fns[i].name, w[0], wl[0])))
			i++;
		if (i == sizeof(fns) / sizeof(fns[0]))
			return perr(err, at,
				    wl[0] == 1 && w[0][0] == '|'
					? "pipelines are not supported:"
					: "function not defined (json, index, upper, lower are):",
				    word);
		nd.fn = fns[i].fn;
		want = fns[i].args;
		if (k < 2)
			return perr(err, at, "wrong number of arguments for", word);
		field = w[1], fl = wl[1];
	}
	if (k != want)
		return perr(err, at,
			    want == 1 ? "unexpected words after the field"
				      : "wrong number of arguments for",
			    want == 1 ? NULL : word);
	if (!field_ok(field, fl)) {
		snprintf(word, sizeof(word), "\"%.*s\"", (int)(fl < 60 ? fl : 60), field);
		return perr(err, at, "bad field (expected .Name or .A.B):", word);
	}
	if (nd.fn == F_INDEX) {
		if (w[2][0] != '"')
			return perr(err, at, "index takes a quoted key, as in index .Labels \"k\"",
				    NULL);
		if (!(nd.key = unquote(w[2], wl[2])))
			return -ENOMEM;
	}
	if (!(nd.text = strndup(field + 1, fl - 1))) {
		free(nd.key);
		return -ENOMEM;
	}
	return push(t, nd);
}

static int text_node(struct tmpl *t, const char *s, size_t n)
{
	if (!n)
		return 0;
	struct node nd = {.kind = N_TEXT, .text = strndup(s, n)};
	return nd.text ? push(t, nd) : -ENOMEM;
}

static int tmpl_parse(const char *src, struct tmpl *t, struct errmsg *err)
{
	char *s = unescape(src);
	if (!s)
		return -ENOMEM;
	int rc = 0;
	bool trim_next = false;
	const char *p = s;
	while (!rc && *p) {
		const char *o = strstr(p, "{{");
		const char *c = o ? strstr(o + 2, "}}") : NULL;
		if (o && !c) {
			rc = perr(err, (size_t)(o - s), "unclosed action", NULL);
			break;
		}
		const char *end = o ? o : p + strlen(p);
		const char *b = p;
		if (trim_next)
			while (b < end && isspace((unsigned char)*b))
				b++;
		const char *a = o ? o + 2 : NULL, *ae = c;
		/* Go's trim markers: {{- and -}} eat the spaces next to them */
		bool trim_prev = a && a[0] == '-' && (a[1] == ' ' || a + 1 == ae);
		trim_next = a && ae - a >= 2 && ae[-1] == '-' && ae[-2] == ' ';
		const char *te = end;
		if (trim_prev)
			while (te > b && isspace((unsigned char)te[-1]))
				te--;
		rc = text_node(t, b, (size_t)(te - b));
		if (rc || !o)
			break;
		if (trim_prev)
			a++;
		if (trim_next)
			ae--;
		rc = parse_action(a, (size_t)(ae - a), (size_t)(o - s), t, err);
		p = c + 2;
	}
	free(s);
	if (rc)
		tmpl_free(t);
	return rc;
}

/* ---- values ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Go's fmt %v of a decoded JSON value */
static void go_print(FILE *f, json_object *v, bool top)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		if (!top)
			fputs("<nil>", f);
		break;
	case json_type_string:
		fwrite(json_object_get_string(v), 1, (size_t)json_object_get_string_len(v), f);
		break;
	case json_type_array:
		fputc('[', f);
		for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
			if (i)
				fputc(' ', f);
			go_print(f, json_object_array_get_idx(v, i), false);
		}
		fputc(']', f);
		break;
	case json_type_object: {
		size_t n = (size_t)json_object_object_length(v), k = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));
		if (!keys)
			break;
		json_object_object_foreach(v, key, val)
		{
			(void)val;
			keys[k++] = key;
		}
		qsort(keys, k, sizeof(*keys), cmp_str);
		fputs("map[", f);
		for (size_t i = 0; i < k; i++) {
			fprintf(f, "%s%s:", i ? " " : "", keys[i]);
			go_print(f, json_object_object_get(v, keys[i]), false);
		}
		fputc(']', f);
		free(keys);
		break;
	}
	default: /* numbers, booleans */
		fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), f);
	}
}

static int lookup(json_object *obj, const char *path, json_object **out, struct errmsg *err)
{
	json_object *v = obj;
	const char *p = path;
	while (*p) {
		size_t n = strcspn(p, ".");
		char key[256];
		if (n >= sizeof(key) || !json_object_is_type(v, json_type_object))
			return errmsg_set(err, -EINVAL, "template: .%.*s: .%.*s is not an object",
					  (int)(p - path + n), path,
					  (int)(p > path ? p - path - 1 : 0), path);
		memcpy(key, p, n);
		key[n] = '\0';
		json_object *next;
		if (!json_object_object_get_ex(v, key, &next)) {
			char have[512] = "";
			size_t used = 0;
			json_object_object_foreach(v, k, val)
			{
				(void)val;
				int w = snprintf(have + used, sizeof(have) - used, "%s%s",
						 used ? ", " : "", k);
				if (w < 0 || (size_t)w >= sizeof(have) - used)
					break;
				used += (size_t)w;
			}
			return errmsg_set(err, -EINVAL,
					  "template: can't evaluate field .%.*s: no field \"%s\" "
					  "(there are: %s)",
					  (int)(p - path + n), path, key, have);
		}
		v = next;
		p += n;
		if (*p == '.')
			p++;
	}
	*out = v;
	return 0;
}

static int render(const struct tmpl *t, json_object *obj, char **out, struct errmsg *err)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	if (!f)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; !rc && i < t->len; i++) {
		const struct node *nd = &t->n[i];
		if (nd->kind == N_TEXT) {
			fputs(nd->text, f);
			continue;
		}
		json_object *v;
		if ((rc = lookup(obj, nd->text, &v, err)))
			break;
		switch (nd->fn) {
		case F_JSON:
			fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE),
			      f);
			break;
		case F_INDEX: {
			json_object *e;
			if (!json_object_is_type(v, json_type_object))
				rc = errmsg_set(err, -EINVAL, "template: index of .%s: not a map",
						nd->text);
			else if (json_object_object_get_ex(v, nd->key, &e))
				go_print(f, e, true);
			break;
		}
		case F_UPPER:
		case F_LOWER: {
			char *s = NULL;
			size_t sl;
			FILE *g = open_memstream(&s, &sl);
			if (!g) {
				rc = -ENOMEM;
				break;
			}
			go_print(g, v, true);
			fclose(g);
			for (char *c = s; *c; c++)
				*c = (char)(nd->fn == F_UPPER ? toupper((unsigned char)*c)
							      : tolower((unsigned char)*c));
			fputs(s, f);
			free(s);
			break;
		}
		default:
			go_print(f, v, true);
		}
	}
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int format_render(const char *tmpl, json_object *obj, char **out, struct errmsg *err)
{
	struct tmpl t = {0};
	int rc = tmpl_parse(tmpl, &t, err);
	if (!rc)
		rc = render(&t, obj, out, err);
	tmpl_free(&t);
	return rc;
}

/* ---- the listing ---- */

int format_new(const char *spec, const char *def_table, const struct format_header *headers,
	       struct format **out, struct errmsg *err)
{
	*out = NULL;
	struct format *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->headers = headers;
	if (!spec || !spec[0] || !strcmp(spec, "table"))
		spec = def_table;
	int rc = 0;
	if (!strcmp(spec, "json")) {
		f->mode = M_JSON;
	} else if (!strncmp(spec, "table", 5) && isspace((unsigned char)spec[5])) {
		f->mode = M_TABLE;
		rc = tmpl_parse(spec + 6, &f->t, err);
	} else {
		f->mode = M_LINES;
		rc = tmpl_parse(spec, &f->t, err);
	}
	if (rc) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

bool format_is_json(const struct format *f)
{
	return f->mode == M_JSON;
}

int format_add(struct format *f, json_object *obj, struct errmsg *err)
{
	if (f->n_rows == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		char **r = realloc(f->rows, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		f->rows = r;
		f->cap = cap;
	}
	char *row;
	if (f->mode == M_JSON) {
		const char *j = json_object_to_json_string_ext(
		    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!j || !(row = strdup(j)))
			return -ENOMEM;
	} else {
		int rc = render(&f->t, obj, &row, err);
		if (rc)
			return rc;
	}
	f->rows[f->n_rows++] = row;
	return 0;
}

static size_t width_n(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n && s[i]; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

size_t format_width(const char *s)
{
	return width_n(s, strlen(s));
}

static char *header_row(const struct format *f)
{
	char *s;
	size_t len;
	FILE *m = open_memstream(&s, &len);
	if (!m)
		return NULL;
	for (size_t i = 0; i < f->t.len; i++) {
		const struct node *nd = &f->t.n[i];
		if (nd->kind == N_TEXT) {
			fputs(nd->text, m);
			continue;
		}
		const char *title = NULL;
		for (const struct format_header *h = f->headers; h && h->field; h++)
			if (!strcmp(h->field, nd->text))
				title = h->title;
		if (title) {
			fputs(title, m);
			continue;
		}
		const char *src = nd->fn == F_INDEX ? nd->key : nd->text;
		for (const char *c = src; *c; c++)
			fputc(*c == '.' ? ' ' : toupper((unsigned char)*c), m);
	}
	return fclose(m) ? NULL : s;
}

/* Lines of rows, cells split at tabs: every column as wide as its widest
 * cell plus 3 spaces (docker's tabwriter padding), the last unpadded. */
static int print_table(char **rows, size_t n, FILE *out)
{
	size_t ncols = 0, *w = NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t r = 0; r < n; r++) {
			const char *line = rows[r];
			while (*line || line == rows[r]) {
				size_t ll = strcspn(line, "\n"), col = 0;
				const char *c = line;
				while (c < line + ll) {
					size_t cl = strcspn(c, "\t\n");
					bool last = c[cl] != '\t';
					size_t cw = width_n(c, cl);
					if (pass == 0 && col >= ncols) {
						size_t *nw = realloc(w, (col + 1) * sizeof(*nw));
						if (!nw) {
							free(w);
							return -ENOMEM;
						}
						w = nw;
						w[col] = 0;
						ncols = col + 1;
					}
					if (pass == 0 && !last && cw > w[col])
						w[col] = cw;
					if (pass == 1)
						fprintf(out, "%.*s%*s", (int)cl, c,
							last ? 0 : (int)(w[col] - cw + 3), "");
					c += cl + (last ? 0 : 1);
					col++;
					if (last)
						break;
				}
				if (pass == 1)
					fputc('\n', out);
				line += ll;
				if (*line != '\n')
					break;
				line++;
			}
		}
	}
	free(w);
	return 0;
}

int format_flush(struct format *f, FILE *out)
{
	if (f->mode != M_TABLE) {
		for (size_t r = 0; r < f->n_rows; r++)
			fprintf(out, "%s\n", f->rows[r]);
		return ferror(out) ? -EIO : 0;
	}
	char **all = malloc((f->n_rows + 1) * sizeof(*all));
	char *head = header_row(f);
	int rc = -ENOMEM;
	if (all && head) {
		all[0] = head;
		memcpy(all + 1, f->rows, f->n_rows * sizeof(*all));
		rc = print_table(all, f->n_rows + 1, out);
	}
	free(head);
	free(all);
	return rc ? rc : ferror(out) ? -EIO : 0;
}

void format_free(struct format *f)
{
	if (!f)
		return;
	tmpl_free(&f->t);
	for (size_t r = 0; r < f->n_rows; r++)
		free(f->rows[r]);
	free(f->rows);
	free(f);
}
