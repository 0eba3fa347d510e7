/* A stand-in for mkfs.ext4 that reports the jail it was exec'd into
 * (test_rootfs.c runs it as "mkfs.ext4" through PATH), with the calls its
 * seccomp filter allows mkfs.ext4 (seccomp/policy.c HSC_MKFS): its ids, PID,
 * resource limits, root directory and file descriptors, and whether it can
 * write the tree (-d DIR) and the image. One line on stdout, then exit
 * status 1, so that the shim's error message carries the line back to the
 * test (what needs a forbidden call to see, capabilities, no_new_privs,
 * the filter, the network, test_rootfs.c reads from /proc outside). A file
 * in the tree picks another act instead:
 *   die     write a little of the image, then crash (SIGSEGV)
 *   hang    block forever (a futex nobody wakes; sleeping is no mkfs call)
 *   big     write the image 1 MiB at a time past its size (-d DIR IMAGE
 *           SIZEk): the shim's file size limit stops it
 *   socket  socket(AF_INET): a call outside the filter
 *   exec    execve(/usr/bin/true)
 *   execat  execveat() of an fd, as the jail's own exec of it
 * Built without sanitizers: it runs where only /usr and /lib* are. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has(const char *dir, const char *name)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* The other acts (the header), or 0 to report. */
static int act(const char *dir, const char *image, const char *size)
{
	if (has(dir, "die")) {
		int fd = open(image, O_WRONLY);
		if (fd >= 0 && write(fd, "half", 4) < 0)
			return 2;
		/* a fault: the signals it could send itself are ignored, as it
		 * is its PID namespace's init */
		*(volatile int *)(uintptr_t)(dir[0] - dir[0]) = 0;
	}
	if (has(dir, "hang")) {
		static int word;
		for (;;)
			syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	}
	if (has(dir, "big")) {
		static char mib[1 << 20];
		int fd = open(image, O_WRONLY);
		off_t off = (off_t)strtoull(size, NULL, 10) * 1024;
		for (int i = 0; fd >= 0 && i < 4; i++, off += sizeof(mib))
			if (pwrite(fd, mib, sizeof(mib), off) != (ssize_t)sizeof(mib)) {
				printf("big: write at %lld: %s\n", (long long)off, strerror(errno));
				return 1;
			}
		printf("big: wrote past the size\n");
		exit(0); /* a success: the shim would take it */
	}
	if (has(dir, "socket")) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		printf("socket: %d\n", s);
		return 3;
	}
	if (has(dir, "exec")) {
		execl("/usr/bin/true", "true", (char *)NULL);
		printf("exec: %s\n", strerror(errno));
		return 3;
	}
	if (has(dir, "execat")) {
		int fd = open("/usr/bin/true", O_PATH);
		char *const argv[] = {"true", NULL};
		syscall(SYS_execveat, fd, "", argv, (char *const[]){NULL}, AT_EMPTY_PATH);
		printf("execat: %s\n", strerror(errno));
		return 3;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = "", *image = "", *size = "0";
	for (int i = 1; i + 2 < argc; i++)
		if (!strcmp(argv[i], "-d")) {
			dir = argv[i + 1];
			image = argv[i + 2];
			size = i + 3 < argc ? argv[i + 3] : "0";
		}
	int rc = act(dir, image, size);
	if (rc)
		return rc;
	/* first, before this program opens anything */
	char fds[128] = "";
	struct stat sb;
	for (int fd = 0; fd < 1024; fd++)
		if (fstat(fd, &sb) == 0)
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), "%s%d",
				 fds[0] ? "," : "", fd);
	struct rlimit core, fsize, as;
	getrlimit(RLIMIT_CORE, &core);
	getrlimit(RLIMIT_FSIZE, &fsize);
	getrlimit(RLIMIT_AS, &as);
	/* the root's entries, sorted */
	char *names[64], root[512] = "";
	size_t n = 0;
	DIR *rd = opendir("/");
	struct dirent *de;
	while (rd && (de = readdir(rd)) && n < 64)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	if (rd)
		closedir(rd);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++)
		snprintf(root + strlen(root), sizeof(root) - strlen(root), "%s%s", i ? "," : "",
			 names[i]);
	char probe[4096];
	snprintf(probe, sizeof(probe), "%s/new", dir);
	int w = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
	const char *tree = w >= 0 ? "writable" : errno == EROFS ? "EROFS" : strerror(errno);
	int o = open(image, O_RDWR);
	const char *img = o >= 0 ? "writable" : strerror(errno);
	int shadow = open("/etc/shadow", O_RDONLY);
	printf("jail: uid=%u/%u gid=%u/%u pid=%d core=%llu/%llu fsize=%llu/%llu as=%llu/%llu "
	       "root=%s fds=%s tree=%s image=%s shadow=%s end\n",
	       getuid(), geteuid(), getgid(), getegid(), (int)getpid(),
	       (unsigned long long)core.rlim_cur, (unsigned long long)core.rlim_max,
	       (unsigned long long)fsize.rlim_cur, (unsigned long long)fsize.rlim_max,
	       (unsigned long long)as.rlim_cur, (unsigned long long)as.rlim_max, root, fds, tree,
	       img, shadow >= 0 ? "readable" : "absent");
	return 1;
}
