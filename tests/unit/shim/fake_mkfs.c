/* A stand-in for mkfs.ext4 that reports the jail it was exec'd into
 * (test_rootfs.c runs it as "mkfs.ext4" through PATH): what the kernel says
 * about its ids, capabilities, no_new_privs, core limit, PID namespace, root
 * directory, network and file descriptors, and whether it can write the
 * tree (-d DIR) and the image. One line on stdout, then exit status 1, so
 * that the shim's error message carries the line back to the test; with a
 * file "die" in the tree it writes a little of the image and crashes
 * instead. Built
 * without sanitizers: it runs where only /usr and /lib* are. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = "", *image = "";
	for (int i = 1; i + 2 < argc; i++)
		if (!strcmp(argv[i], "-d")) {
			dir = argv[i + 1];
			image = argv[i + 2];
		}
	/* a tree holding "die": a crash mid-build (SIGSEGV) */
	char die[4096];
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-d")) {
			snprintf(die, sizeof(die), "%s/die", argv[i + 1]);
			if (access(die, F_OK) == 0) {
				int fd = open(argv[i + 2 < argc ? i + 2 : i], O_WRONLY);
				if (fd >= 0 && write(fd, "half", 4) < 0)
					return 2;
				/* a fault: the signals it could send itself are
				 * ignored, as it is its PID namespace's init */
				*(volatile int *)(uintptr_t)(argc - argc) = 0;
			}
		}
	/* first, before this program opens anything */
	char fds[128] = "";
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), "%s%d",
				 fds[0] ? "," : "", fd);
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	syscall(SYS_capget, &h, d);
	unsigned long long amb = 0, bnd = 0;
	for (int c = 0; c < 64; c++) {
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			amb |= 1ull << c;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			bnd |= 1ull << c;
	}
	struct rlimit core;
	getrlimit(RLIMIT_CORE, &core);
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
	char net[128] = "";
	struct if_nameindex *ifs = if_nameindex();
	for (struct if_nameindex *p = ifs; p && p->if_index; p++)
		snprintf(net + strlen(net), sizeof(net) - strlen(net), "%s%s", net[0] ? "," : "",
			 p->if_name);
	if (ifs)
		if_freenameindex(ifs);
	char probe[4096];
	snprintf(probe, sizeof(probe), "%s/new", dir);
	int w = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
	const char *tree = w >= 0 ? "writable" : errno == EROFS ? "EROFS" : strerror(errno);
	int o = open(image, O_RDWR);
	const char *img = o >= 0 ? "writable" : strerror(errno);
	int shadow = open("/etc/shadow", O_RDONLY);
	printf("jail: uid=%u/%u/%u gid=%u/%u/%u pid=%d eff=%x prm=%x inh=%x amb=%llx bnd=%llx "
	       "nnp=%d core=%llu root=%s net=%s fds=%s tree=%s image=%s shadow=%s end\n",
	       r, e, s, gr, ge, gs, (int)getpid(), d[0].effective, d[0].permitted, d[0].inheritable,
	       amb, bnd, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), (unsigned long long)core.rlim_max,
	       root, net, fds, tree, img, shadow >= 0 ? "readable" : "absent");
	return 1;
}
