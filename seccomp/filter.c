/* seccomp/filter: building, loading and reporting (filter.h has the
 * contract; policy.c has the allow-lists). */
#include "seccomp/filter.h"
#include "seccomp/policy.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
/* For a thread without one (made after a filter, under its creator's): the
 * one role the process installed (-1: none yet, ROLES_MIXED: several). */
#define ROLES_MIXED (-2)
static int process_role = -1;

static const char *const role_names[HSC_MKFS + 1] = {
    [HSC_VCPU] = "vcpu",     [HSC_DEVICES] = "devices", [HSC_CONTROL] = "control",
    [HSC_SLIRP] = "slirp",   [HSC_CONVERT] = "convert", [HSC_FETCH] = "fetch",
    [HSC_IMPORT] = "import", [HSC_MKFS] = "mkfs",
};

const char *hsc_role_name(int role)
{
	return role >= 0 && role <= HSC_MKFS ? role_names[role] : "?";
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

/* The one wording of a violation (the trap's and hsc_violation_text()'s);
 * name may be NULL or empty. */
static void put_violation(struct sbuf *b, const char *prog, int nr, const char *name, int role)
{
	put_s(b, prog);
	put_s(b, " killed by its seccomp filter (syscall ");
	put_u(b, (unsigned long)(unsigned)nr);
	if (name && name[0]) {
		put_s(b, " ");
		put_s(b, name);
	}
	put_s(b, ", thread role ");
	put_s(b, hsc_role_name(role));
	put_s(b, ")");
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char text[HSC_REPORT_MAX];
	struct sbuf b = {text, 0, sizeof(text)};
	int nr = si->si_syscall;
	int role =
	    thread_role >= 0 ? thread_role : __atomic_load_n(&process_role, __ATOMIC_RELAXED);
	put_violation(&b, trap.prog, nr, nr >= 0 && nr < NAMES ? trap.names[nr] : NULL, role);
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

void hsc_violation_text(char *buf, size_t size, const char *prog, int nr, int role)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	struct sbuf b = {buf, 0, size};
	if (size)
		put_violation(&b, prog, nr, name, role);
	free(name);
}

int hsc_export(enum hsc_role role, pid_t self, struct sock_fprog *out, struct errmsg *err)
{
	*out = (struct sock_fprog){0};
	if (role != HSC_MKFS)
		return errmsg_set(err, -EINVAL, "seccomp: role %d is not a foreign program's",
				  (int)role);
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_NOTIFY);
	if (!f)
		return errmsg_set(err, -ENOMEM, "seccomp: out of memory");
	/* another ABI is no call of the program's: killed, not asked about */
	int rc = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!rc)
		rc = hsc_policy_add(f, role, self);
	/* libseccomp 2.5 exports to a file descriptor only: a memfd, read
	 * back (a program is at most BPF_MAXINSNS instructions, 32 KiB) */
	int fd = rc ? -1 : memfd_create("hsc-export", MFD_CLOEXEC);
	if (!rc && fd < 0)
		rc = -errno;
	if (!rc)
		rc = seccomp_export_bpf(f, fd);
	struct stat st;
	if (!rc && fstat(fd, &st))
		rc = -errno;
	if (!rc && (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
		    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -E2BIG;
	if (!rc && !(out->filter = malloc((size_t)st.st_size)))
		rc = -ENOMEM;
	if (!rc && pread(fd, out->filter, (size_t)st.st_size, 0) != st.st_size)
		rc = -EIO;
	if (!rc)
		out->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	if (fd >= 0)
		close(fd);
	seccomp_release(f);
	if (rc) {
		hsc_prog_free(out);
		return errmsg_set(err, rc, "seccomp: building the %s filter: %s",
				  hsc_role_name(role), strerror(-rc));
	}
	return 0;
}

void hsc_prog_free(struct sock_fprog *p)
{
	free(p->filter);
	*p = (struct sock_fprog){0};
}

int hsc_notif_recv(int listener, struct hsc_notif *n)
{
	struct seccomp_notif req;
	memset(&req, 0, sizeof(req)); /* the kernel refuses one that is not */
	while (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req))
		if (errno != EINTR)
			return -errno;
	n->id = req.id;
	n->nr = req.data.nr;
	for (int i = 0; i < 6; i++)
		n->args[i] = req.data.args[i];
	return 0;
}

int hsc_notif_continue(int listener, uint64_t id)
{
	struct seccomp_notif_resp resp = {.id = id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp))
		return -errno;
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
		} else {
			int none = -1;
			if (!__atomic_compare_exchange_n(&process_role, &none, (int)role, false,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
			    none != (int)role)
				__atomic_store_n(&process_role, ROLES_MIXED, __ATOMIC_RELAXED);
		}
	}
	seccomp_release(f);
	return rc;
}
