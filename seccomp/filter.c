/* seccomp/filter: building, loading and reporting (filter.h has the
 * contract; policy.c has the allow-lists). */
#include "seccomp/filter.h"
#include "seccomp/policy.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The SIGSYS handler can use nothing but what was prepared before any
 * filter existed: who reports, and the syscall names (resolving one calls
 * malloc). Set once by hsc_trap_init(), read-only afterwards. */
#define NAMES 512
#define NAME_MAX_LEN 24
static struct {
	const char *prog;
	hsc_report_fn report;
	void *ctx;
	int exit_status;
	char names[NAMES][NAME_MAX_LEN];
} trap;

/* The calling thread's role, for the message (-1: no filter of ours). */
static __thread int thread_role = -1;

static const char *const role_names[HSC_NROLES] = {
    [HSC_VCPU] = "vcpu",   [HSC_DEVICES] = "devices", [HSC_CONTROL] = "control",
    [HSC_SLIRP] = "slirp", [HSC_CONVERT] = "convert",
};

const char *hsc_role_name(int role)
{
	return role >= 0 && role < HSC_NROLES ? role_names[role] : "?";
}

/* Async-signal-safe text building for the handler. */
struct sbuf {
	char *p;
	size_t n, cap;
};

static void put_s(struct sbuf *b, const char *s)
{
	while (*s && b->n + 1 < b->cap)
		b->p[b->n++] = *s++;
	b->p[b->n] = '\0';
}

static void put_u(struct sbuf *b, unsigned long v)
{
	char d[24];
	int i = 0;
	do
		d[i++] = (char)('0' + v % 10);
	while ((v /= 10) && i < (int)sizeof(d));
	char s[2] = {0};
	while (i > 0) {
		s[0] = d[--i];
		put_s(b, s);
	}
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char text[HSC_REPORT_MAX];
	struct sbuf b = {text, 0, sizeof(text)};
	int nr = si->si_syscall;
	put_s(&b, trap.prog);
	put_s(&b, " killed by its seccomp filter (syscall ");
	put_u(&b, (unsigned long)(unsigned)nr);
	if (nr >= 0 && nr < NAMES && trap.names[nr][0]) {
		put_s(&b, " ");
		put_s(&b, trap.names[nr]);
	}
	put_s(&b, ", thread role ");
	put_s(&b, hsc_role_name(thread_role));
	put_s(&b, ")");
	if (trap.report)
		trap.report(trap.ctx, text);
	char line[HSC_REPORT_MAX + 32];
	struct sbuf l = {line, 0, sizeof(line)};
	put_s(&l, text);
	put_s(&l, "\n");
	ssize_t w = write(2, line, l.n);
	(void)w;
	/* the system call itself: _exit may be a sanitizer's interceptor that
	 * makes calls of its own first */
	syscall(SYS_exit_group, trap.exit_status);
}

int hsc_trap_init(const char *prog, hsc_report_fn report, void *ctx, int exit_status,
		  struct errmsg *err)
{
	trap.exit_status = exit_status;
	trap.prog = prog;
	trap.report = report;
	trap.ctx = ctx;
	for (int nr = 0; nr < NAMES; nr++) {
		char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (s) {
			strncpy(trap.names[nr], s, NAME_MAX_LEN - 1);
			free(s);
		}
	}
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return errmsg_set(err, -errno, "seccomp: SIGSYS handler: %s", strerror(errno));
	return 0;
}

int hsc_install(enum hsc_role role, struct errmsg *err)
{
	if ((int)role < 0 || role >= HSC_NROLES)
		return errmsg_set(err, -EINVAL, "seccomp: no thread role %d", (int)role);
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	if (!f)
		return errmsg_set(err, -ENOMEM, "seccomp: out of memory");
	/* a thread is never made with another thread's filter: no TSYNC;
	 * libseccomp's default attributes set no_new_privs on load */
	int rc = hsc_policy_add(f, role, getpid());
	if (rc) {
		errmsg_set(err, rc, "seccomp: building the %s filter: %s", hsc_role_name(role),
			   strerror(-rc));
	} else {
		/* the role first: a trap right after the load names it */
		int old = thread_role;
		thread_role = role;
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGSYS);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
		rc = seccomp_load(f);
		if (rc) {
			thread_role = old;
			errmsg_set(err, rc, "seccomp: loading the %s filter: %s",
				   hsc_role_name(role), strerror(-rc));
		}
	}
	seccomp_release(f);
	return rc;
}
