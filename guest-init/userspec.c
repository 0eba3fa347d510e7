#include "userspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ids above this would alias (uid_t)-1, which setuid() treats as "unchanged" */
#define USERSPEC_MAX_ID 4294967294u

/* A field of a colon-separated line; not NUL-terminated. */
struct field {
	const char *p;
	size_t len;
};

static bool parse_id(const char *p, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > USERSPEC_MAX_ID)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool all_digits(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return len > 0;
}

static int parse_part(const char *what, const char *p, size_t len, struct userspec_part *out,
		      struct errmsg *err)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	out->given = true;
	out->name = p;
	out->name_len = len;
	if (all_digits(p, len)) {
		if (!parse_id(p, len, &out->id))
			return errmsg_set(err, -ERANGE, "%s id %.*s out of range", what, (int)len,
					  p);
		out->numeric = true;
	}
	return 0;
}

int userspec_parse(const char *spec, struct userspec *out, struct errmsg *err)
{
	const char *colon;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!spec)
		spec = "";
	len = strlen(spec);
	colon = memchr(spec, ':', len);
	if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - spec)))
		return errmsg_set(err, -EINVAL, "user \"%s\": more than one ':'", spec);
	rc = parse_part("user", spec, colon ? (size_t)(colon - spec) : len, &out->user, err);
	if (rc < 0)
		return rc;
	if (colon)
		rc = parse_part("group", colon + 1, len - (size_t)(colon + 1 - spec), &out->group,
				err);
	return rc;
}

/* Next line of [*pos, end) into *line, advancing *pos. Returns false at end. */
static bool next_line(const char **pos, const char *end, struct field *line)
{
	const char *p = *pos, *nl;

	if (!p || p >= end)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	line->p = p;
	line->len = nl ? (size_t)(nl - p) : (size_t)(end - p);
	*pos = nl ? nl + 1 : end;
	return true;
}

/* Split line on ':' into at most max fields; returns the number found. */
static size_t split_fields(struct field line, struct field *f, size_t max)
{
	size_t n = 0;
	const char *p = line.p, *end = line.p + line.len;

	while (n < max) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		f[n].p = p;
		f[n].len = c ? (size_t)(c - p) : (size_t)(end - p);
		n++;
		if (!c)
			break;
		p = c + 1;
	}
	return n;
}

/* Skip blank lines, comments and lines that cannot be trusted as records. */
static bool usable_line(struct field line)
{
	if (line.len == 0 || line.p[0] == '#' || line.p[0] == '+' || line.p[0] == '-')
		return false;
	return memchr(line.p, '\0', line.len) == NULL;
}

static bool name_eq(struct field f, const char *name, size_t len)
{
	return f.len == len && memcmp(f.p, name, len) == 0;
}

struct pwent {
	struct field name;
	uint32_t uid, gid;
	struct field home;
};

/* Next well-formed passwd record: name:password:uid:gid[:gecos[:home[:shell]]]. */
static bool passwd_next(const char **pos, const char *end, struct pwent *e)
{
	struct field line, f[7];

	while (next_line(pos, end, &line)) {
		size_t n;

		if (!usable_line(line))
			continue;
		n = split_fields(line, f, 7);
		if (n < 4 || f[0].len == 0 || !parse_id(f[2].p, f[2].len, &e->uid) ||
		    !parse_id(f[3].p, f[3].len, &e->gid))
			continue;
		e->name = f[0];
		e->home = n >= 6 ? f[5] : (struct field){NULL, 0};
		return true;
	}
	return false;
}

struct grent {
	struct field name;
	uint32_t gid;
	struct field members; /* comma-separated */
};

/* Next well-formed group record: name:password:gid[:member,member...]. */
static bool group_next(const char **pos, const char *end, struct grent *e)
{
	struct field line, f[4];

	while (next_line(pos, end, &line)) {
		size_t n;

		if (!usable_line(line))
			continue;
		n = split_fields(line, f, 4);
		if (n < 3 || f[0].len == 0 || !parse_id(f[2].p, f[2].len, &e->gid))
			continue;
		e->name = f[0];
		e->members = n >= 4 ? f[3] : (struct field){NULL, 0};
		return true;
	}
	return false;
}

static bool has_member(struct field members, const char *name, size_t len)
{
	const char *p = members.p, *end = members.p + members.len;

	while (p && p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		struct field m = {p, c ? (size_t)(c - p) : (size_t)(end - p)};
		if (name_eq(m, name, len))
			return true;
		p = c ? c + 1 : end;
	}
	return false;
}

static int add_group(struct user_ids *u, size_t *cap, gid_t gid, struct errmsg *err)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return 0;
	if (u->ngroups == USERSPEC_MAX_GROUPS)
		return errmsg_set(err, -E2BIG, "user is in more than %d groups",
				  USERSPEC_MAX_GROUPS);
	if (u->ngroups == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		gid_t *g = realloc(u->groups, ncap * sizeof(*g));
		if (!g)
			return errmsg_set(err, -ENOMEM, "out of memory");
		u->groups = g;
		*cap = ncap;
	}
	u->groups[u->ngroups++] = gid;
	return 0;
}

void user_ids_free(struct user_ids *u)
{
	if (!u)
		return;
	free(u->groups);
	free(u->home);
	memset(u, 0, sizeof(*u));
}

int userspec_resolve(const char *spec, const char *passwd, size_t passwd_len, const char *group,
		     size_t group_len, struct user_ids *out, struct errmsg *err)
{
	const char *pw_end = passwd ? passwd + passwd_len : NULL;
	const char *gr_end = group ? group + group_len : NULL;
	const char *pos;
	struct userspec s;
	struct pwent pw = {0};
	bool found = false;
	struct field home = {NULL, 0};
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = userspec_parse(spec, &s, err);
	if (rc < 0)
		return rc;

	/* An absent user part means root, looked up by uid so that HOME and the
	 * supplementary groups still come from the image. */
	if (!s.user.given) {
		s.user.given = true;
		s.user.numeric = true;
		s.user.id = 0;
	}
	pos = passwd;
	while (passwd_next(&pos, pw_end, &pw)) {
		if (s.user.numeric ? pw.uid == s.user.id
				   : name_eq(pw.name, s.user.name, s.user.name_len)) {
			found = true;
			break;
		}
	}
	if (found) {
		out->uid = pw.uid;
		out->gid = pw.gid;
		home = pw.home;
	} else if (s.user.numeric) {
		out->uid = s.user.id;
		out->gid = 0;
	} else {
		return errmsg_set(err, -EINVAL,
				  "unable to find user %.*s: no matching entries in passwd file",
				  (int)s.user.name_len, s.user.name);
	}

	if (s.group.given && s.group.numeric) {
		out->gid = s.group.id;
	} else if (s.group.given) {
		struct grent gr;
		bool gfound = false;

		pos = group;
		while (group_next(&pos, gr_end, &gr)) {
			if (name_eq(gr.name, s.group.name, s.group.name_len)) {
				gfound = true;
				break;
			}
		}
		if (!gfound)
			return errmsg_set(
			    err, -EINVAL,
			    "unable to find group %.*s: no matching entries in group file",
			    (int)s.group.name_len, s.group.name);
		out->gid = gr.gid;
	}

	rc = add_group(out, &cap, out->gid, err);
	if (rc < 0)
		goto fail;
	/* Membership is by name, so a uid absent from passwd has none. */
	if (!s.group.given && found) {
		struct grent gr;

		pos = group;
		while (group_next(&pos, gr_end, &gr)) {
			if (!has_member(gr.members, pw.name.p, pw.name.len))
				continue;
			rc = add_group(out, &cap, gr.gid, err);
			if (rc < 0)
				goto fail;
		}
	}

	out->home = home.len ? strndup(home.p, home.len) : strdup("/");
	if (!out->home) {
		rc = errmsg_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	return 0;
fail:
	user_ids_free(out);
	return rc;
}
