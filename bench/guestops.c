// guestops: per-operation cost of kernel work, measured from user mode
// (bench/guestops runs it in a hull VM, under runsc and on the host).
//
//   guestops [-f DATAFILE] [-s MIB] [-t SECONDS] [-w] [OP...]
//
// OPs (default: all but none, in this order): none syscall readhot readcold
// filefault anonfault forkexec pipe stdout irq. Each op repeats its unit until at least
// SECONDS (default 1) of measured time and at least 1 unit (3 for forkexec)
// have passed, then prints one line on stderr:
//   op NAME COST UNIT iters=N minflt=.. majflt=.. pgfault=.. irqs=.. units=N
//      stime-us=.. [note]
// COST is the measured time per UNIT (us); minflt/majflt are getrusage()'s
// counts (self and reaped children) per UNIT, pgfault the guest-wide
// /proc/vmstat pgfault delta per UNIT and irqs the delta of the sum of
// /proc/interrupts per UNIT ("-" where the file is unreadable, e.g. runsc),
// units how many UNITs were done, stime-us getrusage()'s system (kernel
// mode) time per UNIT (the kernel's tick-sampled account: coarse).
// -w (step): before the first op and after each one, print "wait" on stderr
// and read one byte from stdin (EOF ends the program): a driver samples
// counters between the ops. Op "none" (run only when named, first) does no
// work: with -w, the cost of one step. "guestops --idle" only waits for SIGTERM (a container's main
// process that ops are exec'd into).
//
// DATAFILE (default /data; created with MIB MiB of non-zero bytes if absent)
// is what readhot, readcold and filefault read. readcold drops its pages with
// posix_fadvise(POSIX_FADV_DONTNEED) before each read (not timed) and reports
// how much of the file mincore() still saw resident afterwards: a file in
// the hull image lives on /dev/vda, so a cold read is virtio-blk requests.
// stdout writes MIB MiB to fd 1 (the harness discards it on the host; in
// hull that is the container's stdout: a pipe to guest-init, then vsock).
// irq spins in user mode for SECONDS and reports the time the kernel took
// away (slices slower than the fastest), per second and per interrupt.
// forkexec executes this program itself (/proc/self/exe, argument
// "--exit"), which exits at once: a static binary, no dynamic loader.
//
// Results go to stderr, so stdout carries only the stdout op's bytes.
// Exit status 0, or 1 with a message naming the op and the failed call.
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define CHUNK (64 * 1024)

static const char *data_path = "/data";
static long data_mib = 8;
static double min_secs = 1.0;
static char buf[CHUNK];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *op, const char *what)
{
	fprintf(stderr, "guestops: %s: %s: %s\n", op, what, strerror(errno));
	exit(1);
}

// The counters read around each op: -1 where unavailable.
struct counters {
	long minflt, majflt;
	long long pgfault, irqs;
	double stime; // seconds in kernel mode (self and reaped children)
};

static long long vmstat_pgfault(void)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char name[64];
	long long v, r = -1;
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		if (strcmp(name, "pgfault") == 0) {
			r = v;
			break;
		}
	fclose(f);
	return r;
}

// The sum of every per-CPU count in /proc/interrupts (the first line names
// the CPUs; each other line is "NAME: COUNT... description").
static long long interrupts_sum(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	long long sum = 0;
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':'), *end;
		if (!p)
			continue;
		for (p++;; p = end) {
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			sum += v;
		}
	}
	fclose(f);
	return sum;
}

static void read_counters(struct counters *c)
{
	struct rusage s, ch;
	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &ch);
	c->stime = s.ru_stime.tv_sec + s.ru_stime.tv_usec / 1e6 + ch.ru_stime.tv_sec +
		   ch.ru_stime.tv_usec / 1e6;
	c->minflt = s.ru_minflt + ch.ru_minflt;
	c->majflt = s.ru_majflt + ch.ru_majflt;
	c->pgfault = vmstat_pgfault();
	c->irqs = interrupts_sum();
}

// One unit of an op: returns the seconds that count (setup excluded) and
// adds how many UNITs it did to *units.
typedef double (*unit_fn)(double *units);

static double u_syscall(double *units)
{
	double t = now();
	for (int i = 0; i < 100; i++)
		syscall(SYS_getppid);
	t = now() - t;
	*units += 100;
	return t;
}

static int open_data(const char *op)
{
	int fd = open(data_path, O_RDONLY);
	if (fd < 0)
		die(op, data_path);
	return fd;
}

static double read_whole(const char *op, int fd, double *units)
{
	ssize_t n;
	long long total = 0;
	double t = now();
	if (lseek(fd, 0, SEEK_SET) < 0)
		die(op, "lseek");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	t = now() - t;
	if (n < 0)
		die(op, "read");
	*units += (double)total / MIB;
	return t;
}

static double u_readhot(double *units)
{
	int fd = open_data("readhot");
	double dummy = 0, t;
	read_whole("readhot", fd, &dummy); // make it hot
	t = read_whole("readhot", fd, units);
	close(fd);
	return t;
}

static double resident_after_drop = -1; // fraction, last readcold unit

static double resident_fraction(int fd, off_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t npages = (size + pg - 1) / pg, in = 0;
	unsigned char *vec;
	void *p;
	if (size == 0)
		return 0;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	vec = malloc(npages);
	if (!vec || mincore(p, size, vec) != 0) {
		free(vec);
		munmap(p, size);
		return -1;
	}
	for (size_t i = 0; i < npages; i++)
		in += vec[i] & 1;
	free(vec);
	munmap(p, size);
	return (double)in / npages;
}

static double u_readcold(double *units)
{
	int fd = open_data("readcold");
	struct stat st;
	double t;
	if (fstat(fd, &st) != 0)
		die("readcold", "fstat");
	fdatasync(fd);
	errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (errno)
		die("readcold", "posix_fadvise");
	resident_after_drop = resident_fraction(fd, st.st_size);
	t = read_whole("readcold", fd, units);
	close(fd);
	return t;
}

static double u_filefault(double *units)
{
	int fd = open_data("filefault");
	struct stat st;
	long pg = sysconf(_SC_PAGESIZE);
	volatile unsigned char sink = 0;
	double dummy = 0, t;
	unsigned char *p;
	if (fstat(fd, &st) != 0)
		die("filefault", "fstat");
	read_whole("filefault", fd, &dummy); // page cache hot: only the mapping faults
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("filefault", "mmap");
	t = now();
	for (off_t o = 0; o < st.st_size; o += pg)
		sink += p[o];
	t = now() - t;
	(void)sink;
	munmap(p, st.st_size);
	close(fd);
	*units += (double)(st.st_size / pg);
	return t;
}

static double u_anonfault(double *units)
{
	size_t size = (size_t)data_mib * MIB;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t;
	if (p == MAP_FAILED)
		die("anonfault", "mmap");
	t = now();
	for (size_t o = 0; o < size; o += pg)
		p[o] = 1;
	t = now() - t;
	munmap(p, size);
	*units += (double)(size / pg);
	return t;
}

static double u_forkexec(double *units)
{
	double t = now();
	int status;
	pid_t pid = fork();
	if (pid < 0)
		die("forkexec", "fork");
	if (pid == 0) {
		execl("/proc/self/exe", "guestops", "--exit", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("forkexec", "waitpid");
	t = now() - t;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "guestops: forkexec: the child's exec failed (status %d)\n",
			status);
		exit(1);
	}
	*units += 1;
	return t;
}

static void write_all(const char *op, int fd, long long bytes)
{
	while (bytes > 0) {
		ssize_t n = write(fd, buf, bytes < CHUNK ? (size_t)bytes : CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(op, "write");
		}
		bytes -= n;
	}
}

static double u_pipe(double *units)
{
	int p[2], status;
	pid_t pid;
	double t;
	if (pipe(p) != 0)
		die("pipe", "pipe");
	pid = fork();
	if (pid < 0)
		die("pipe", "fork");
	if (pid == 0) {
		static char rbuf[CHUNK];
		close(p[1]);
		while (read(p[0], rbuf, sizeof(rbuf)) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	t = now();
	write_all("pipe", p[1], (long long)data_mib * MIB);
	close(p[1]);
	if (waitpid(pid, &status, 0) != pid)
		die("pipe", "waitpid");
	t = now() - t;
	*units += data_mib;
	return t;
}

static double u_stdout(double *units)
{
	double t = now();
	write_all("stdout", 1, (long long)data_mib * MIB);
	t = now() - t;
	*units += data_mib;
	return t;
}

// Interrupts as user mode sees them: a user-mode loop cut into short slices
// for min_secs of wall time; a slice slower than the fastest lost the excess
// to the kernel (an interrupt, mostly the timer tick, or the host taking the
// CPU away). Units: wall seconds; the measured time is the total excess, so
// the cost is the microseconds stolen per second (run_op divides it by the
// interrupts counted to give the cost of one).
static double u_irq(double *units)
{
	enum { SLICES = 1 << 20 };
	static float d[SLICES];
	volatile unsigned long x = 0;
	double start = now(), prev = start, t, min = 1e9, total;
	long n = 0;
	do {
		for (int i = 0; i < 2000; i++)
			x += i;
		t = now();
		d[n] = (float)(t - prev);
		if (d[n] < min)
			min = d[n];
		prev = t;
	} while (++n < SLICES && t - start < (min_secs > 0 ? min_secs : 0.1));
	total = t - start;
	*units += total;
	return total - n * min;
}

// none: no work, one unit; with -w the cost of a step itself (a baseline)
static double u_none(double *units)
{
	*units += 1;
	return 0;
}

static const struct op {
	const char *name, *unit;
	unit_fn fn;
	int min_iters;
} ops[] = {
    {"none", "us/none", u_none, 1}, // only when named
    {"syscall", "us/getppid", u_syscall, 1},
    {"readhot", "us/MiB", u_readhot, 1},
    {"readcold", "us/MiB", u_readcold, 1},
    {"filefault", "us/page", u_filefault, 1},
    {"anonfault", "us/page", u_anonfault, 1},
    {"forkexec", "us/fork+exec+exit", u_forkexec, 3},
    {"pipe", "us/MiB", u_pipe, 1},
    {"stdout", "us/MiB", u_stdout, 1},
    {"irq", "us-stolen/s", u_irq, 1},
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static void per_unit(char *out, size_t len, long long delta, double units)
{
	if (delta < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.3g", delta / units);
}

static void run_op(const struct op *op)
{
	struct counters a, b;
	double secs = 0, units = 0;
	int iters = 0;
	char minf[32], majf[32], pgf[32], irq[32];
	read_counters(&a);
	// irq times itself: its measured time is what the kernel stole
	while (iters < op->min_iters || (op->fn != u_irq && op->fn != u_none && secs < min_secs)) {
		secs += op->fn(&units);
		iters++;
	}
	read_counters(&b);
	per_unit(minf, sizeof(minf), b.minflt - a.minflt, units);
	per_unit(majf, sizeof(majf), b.majflt - a.majflt, units);
	per_unit(pgf, sizeof(pgf), a.pgfault < 0 || b.pgfault < 0 ? -1 : b.pgfault - a.pgfault,
		 units);
	per_unit(irq, sizeof(irq), a.irqs < 0 || b.irqs < 0 ? -1 : b.irqs - a.irqs, units);
	fprintf(stderr,
		"op %s %.3f %s iters=%d minflt=%s majflt=%s pgfault=%s irqs=%s units=%.0f "
		"stime-us=%.4g",
		op->name, secs / units * 1e6, op->unit, iters, minf, majf, pgf, irq, units,
		(b.stime - a.stime) / units * 1e6);
	if (op->fn == u_readcold)
		fprintf(stderr, " resident-after-drop=%.0f%%", resident_after_drop * 100);
	if (op->fn == u_irq && a.irqs >= 0 && b.irqs > a.irqs)
		fprintf(stderr, " us-per-irq=%.1f", secs / (b.irqs - a.irqs) * 1e6);
	fputc('\n', stderr);
}

// The data file: created (temp + rename) with non-zero bytes when absent, so
// that no file system can store it sparse.
static void ensure_data(void)
{
	char tmp[4096];
	int fd;
	if (access(data_path, R_OK) == 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", data_path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		die("data", tmp);
	memset(buf, 0xa5, sizeof(buf));
	write_all("data", fd, (long long)data_mib * MIB);
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, data_path) != 0)
		die("data", data_path);
}

// -w: say "wait" and block until a byte arrives on stdin (EOF: the end),
// so that whoever drives the run samples counters between two ops only.
static int step_mode;
static void step(void)
{
	char c;
	fprintf(stderr, "wait\n");
	if (read(0, &c, 1) != 1)
		exit(0);
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

// --idle: the detached container's main process while bench/guestops execs
// the ops into it; ends on SIGTERM (a handler: as a namespace's pid 1 the
// default action would be ignored).
static __attribute__((noreturn)) int idle(void)
{
	signal(SIGTERM, on_term);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int opt, any = 0;
	if (argc == 2 && strcmp(argv[1], "--exit") == 0)
		return 0;
	if (argc == 2 && strcmp(argv[1], "--idle") == 0)
		return idle();
	while ((opt = getopt(argc, argv, "f:s:t:w")) != -1) {
		switch (opt) {
		case 'w':
			step_mode = 1;
			break;
		case 'f':
			data_path = optarg;
			break;
		case 's':
			data_mib = strtol(optarg, NULL, 10);
			if (data_mib < 1 || data_mib > 4096) {
				fprintf(stderr, "guestops: -s %s: expected 1..4096 MiB\n", optarg);
				return 2;
			}
			break;
		case 't':
			min_secs = strtod(optarg, NULL);
			if (!(min_secs >= 0 && min_secs <= 3600)) {
				fprintf(stderr, "guestops: -t %s: expected 0..3600 seconds\n",
					optarg);
				return 2;
			}
			break;
		default:
			fprintf(
			    stderr,
			    "usage: guestops [-f DATAFILE] [-s MIB] [-t SECONDS] [-w] [OP...]\n");
			return 2;
		}
	}
	ensure_data();
	memset(buf, 0xa5, sizeof(buf));
	for (int i = optind; i < argc; i++) {
		size_t k;
		for (k = 0; k < NOPS; k++)
			if (strcmp(argv[i], ops[k].name) == 0)
				break;
		if (k == NOPS) {
			fprintf(stderr, "guestops: %s: no such op\n", argv[i]);
			return 2;
		}
	}
	if (step_mode)
		step();
	for (size_t k = 0; k < NOPS; k++) {
		int picked = optind == argc && ops[k].fn != u_none;
		for (int i = optind; i < argc; i++)
			picked |= strcmp(argv[i], ops[k].name) == 0;
		if (picked) {
			run_op(&ops[k]);
			any = 1;
			if (step_mode)
				step();
		}
	}
	return any ? 0 : 2;
}
