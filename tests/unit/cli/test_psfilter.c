/* psfilter: ps --filter's keys, same key ORed, different keys ANDed,
 * labels all required, bad filters refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/psfilter.h"

static char *labels[] = {"app=web", "tier=front end", "empty=", NULL};

static void fill(struct runtime_state *s)
{
	memset(s, 0, sizeof(*s));
	memset(s->id, 'a', RUNTIME_ID_LEN);
	memcpy(s->id, "0123beef", 8);
	strcpy(s->name, "web_server");
	s->cfg.labels = labels;
	s->cfg.n_labels = 3;
}

static bool m(const char *const *args, enum runtime_status eff)
{
	struct psfilter p = {0};
	struct errmsg err;
	for (; *args; args++)
		if (psfilter_add(&p, *args, &err))
			fail_msg("%s: %s", *args, err.text);
	struct runtime_state s;
	fill(&s);
	return psfilter_match(&p, &s, eff);
}

#define M(eff, ...) m((const char *const[]){__VA_ARGS__, NULL}, eff)

static void test_keys(void **st)
{
	(void)st;
	assert_true(m((const char *const[]){NULL}, RUNTIME_RUNNING));
	assert_true(M(RUNTIME_RUNNING, "name=web"));
	assert_true(M(RUNTIME_RUNNING, "name=server"));
	assert_false(M(RUNTIME_RUNNING, "name=db"));
	assert_true(M(RUNTIME_RUNNING, "id=0123"));
	assert_false(M(RUNTIME_RUNNING, "id=beef"));
	assert_true(M(RUNTIME_RUNNING, "label=app"));
	assert_true(M(RUNTIME_RUNNING, "label=app=web"));
	assert_true(M(RUNTIME_RUNNING, "label=tier=front end"));
	assert_true(M(RUNTIME_RUNNING, "label=empty="));
	assert_false(M(RUNTIME_RUNNING, "label=app=db"));
	assert_false(M(RUNTIME_RUNNING, "label=ap"));
	assert_false(M(RUNTIME_RUNNING, "label=nope"));
	assert_true(M(RUNTIME_RUNNING, "status=running"));
	assert_false(M(RUNTIME_EXITED, "status=running"));
	assert_true(M(RUNTIME_DEAD, "status=dead"));
	assert_false(M(RUNTIME_RUNNING, "status=paused"));
}

static void test_combining(void **st)
{
	(void)st;
	/* same key: any */
	assert_true(M(RUNTIME_EXITED, "status=running", "status=exited"));
	assert_true(M(RUNTIME_RUNNING, "name=db", "name=web"));
	/* different keys: all */
	assert_true(M(RUNTIME_RUNNING, "name=web", "status=running"));
	assert_false(M(RUNTIME_EXITED, "name=web", "status=running"));
	assert_false(M(RUNTIME_RUNNING, "name=db", "id=0123"));
	/* labels: every one */
	assert_true(M(RUNTIME_RUNNING, "label=app", "label=tier"));
	assert_false(M(RUNTIME_RUNNING, "label=app", "label=nope"));
}

static void test_bad(void **st)
{
	(void)st;
	struct psfilter p = {0};
	struct errmsg err;
	assert_int_equal(psfilter_add(&p, "colour=red", &err), -EINVAL);
	assert_non_null(strstr(err.text, "colour=red"));
	assert_int_equal(psfilter_add(&p, "name", &err), -EINVAL);
	assert_non_null(strstr(err.text, "name=VALUE"));
	assert_int_equal(psfilter_add(&p, "id=", &err), -EINVAL);
	assert_int_equal(psfilter_add(&p, "status=sleeping", &err), -EINVAL);
	assert_non_null(strstr(err.text, "invalid status"));
	assert_int_equal(psfilter_add(&p, "=x", &err), -EINVAL);
	assert_int_equal(p.n, 0);
	assert_false(psfilter_has_status(&p));
	assert_int_equal(psfilter_add(&p, "status=exited", &err), 0);
	assert_true(psfilter_has_status(&p));
	for (int i = 1; i < PSFILTER_MAX; i++)
		assert_int_equal(psfilter_add(&p, "name=x", &err), 0);
	assert_int_equal(psfilter_add(&p, "name=x", &err), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_combining),
	    cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
