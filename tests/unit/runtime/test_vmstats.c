/* vmstats: the monitor found among the supervisor's children by name, its
 * /proc figures read, CPU % computed; a process that is gone is -ESRCH. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/vmstats.h"

/* a child named comm that lives until go[1] closes */
static pid_t child(const char *comm, const int go[2])
{
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		prctl(PR_SET_NAME, comm);
		char c;
		_exit(read(go[0], &c, 1) == 0 ? 0 : 1);
	}
	return pid;
}

static void test_find_sample(void **st)
{
	(void)st;
	pid_t vmm;
	int p[2];
	assert_int_equal(pipe(p), 0);
	/* another child, not named hull-vmm, is no monitor */
	pid_t other = child("hull-slirp", p);
	pid_t mon = child("hull-vmm", p);
	close(p[0]);
	/* the name is set after fork: look until it shows */
	int rc = -ESRCH;
	for (int i = 0; i < 200 && rc; i++) {
		rc = vmstats_find(getpid(), &vmm);
		if (rc)
			usleep(10000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(vmm, mon);
	assert_int_equal(vmstats_find(mon, &vmm), -ESRCH); /* no children of its own */
	struct vmstats a, b;
	assert_int_equal(vmstats_sample(mon, &a), 0);
	assert_true(a.rss_bytes > 0);
	assert_int_equal(a.threads, 1);
	assert_true(a.at_ns > 0);
	/* CPU % between samples: bounded by elapsed time, never negative */
	b = a;
	b.at_ns += 1000000000;
	b.cpu_ns += 500000000;
	assert_true(vmstats_cpu_percent(&a, &b) > 49.9 && vmstats_cpu_percent(&a, &b) < 50.1);
	assert_true(vmstats_cpu_percent(&b, &a) == 0.0);
	close(p[1]);
	waitpid(mon, NULL, 0);
	waitpid(other, NULL, 0);
	assert_int_equal(vmstats_sample(mon, &a), -ESRCH);
	assert_int_equal(vmstats_find(getpid(), &vmm), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find_sample),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
