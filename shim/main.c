/* containerd-shim-hull-v2: containerd's runtime v2 shim for hull.
 *
 * `start` (run by containerd with the bundle as cwd) makes the ttrpc socket,
 * writes <bundle>/address, re-executes itself as the long-lived server (new
 * session, stdio on /dev/null, the listening socket as fd 3) and prints the
 * address -- nothing else: containerd 1.6 reads stdout and stderr combined
 * until both close. The server serves containerd.task.v2.Task (task.h) until
 * Shutdown with no task left, or SIGTERM. `delete` (after the connection
 * closed, always) cleans up after a shim that is gone and prints a
 * DeleteResponse. See ../shared/reference/containerd-shim.md for the contract
 * as observed with containerd 1.6.20. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/version.h"
#include "shim/args.h"
#include "shim/backend.h"
#include "shim/bootstrap.h"
#include "shim/events.h"
#include "shim/task.h"
#include "task.pb-c.h"

#define NAME "containerd-shim-hull-v2"
#define LISTEN_FD 3

static void die(const char *what, const struct errmsg *err, int rc)
{
	fprintf(stderr, NAME ": %s: %s\n", what, err && err->text[0] ? err->text : strerror(-rc));
	exit(1);
}

/* ---- start ---- */

static int do_start(const struct shim_args *a)
{
	/* stdin: runtime options as a google.protobuf.Any, if any; not used yet */
	char buf[4096];
	size_t total = 0;
	ssize_t r;
	while ((r = read(0, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && (total += (size_t)r) > (1u << 20))
			break;

	char bundle[PATH_MAX], path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (!getcwd(bundle, sizeof(bundle)))
		die("start: the bundle (cwd)", NULL, -errno);
	int rc = shim_socket_path(bundle, a->address ? a->address : "", a->ns, a->id, path,
				  sizeof(path));
	if (rc < 0)
		die("start: socket path", NULL, rc);
	struct errmsg err = {{0}};
	int lfd;
	rc = shim_listen(path, &lfd, &err);
	if (rc == -EADDRINUSE) { /* a shim for this id serves already */
		printf("unix://%s", path);
		return 0;
	}
	if (rc < 0)
		die("start", &err, rc);
	rc = shim_write_address(bundle, path, &err);
	if (rc < 0) {
		unlink(path);
		die("start", &err, rc);
	}

	pid_t pid = fork();
	if (pid < 0) {
		unlink(path);
		die("start: fork", NULL, -errno);
	}
	if (pid == 0) {
		setsid();
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(1);
		/* dup2 onto itself keeps FD_CLOEXEC: clear it explicitly */
		if (lfd != LISTEN_FD && dup2(lfd, LISTEN_FD) < 0)
			_exit(1);
		if (fcntl(LISTEN_FD, F_SETFD, 0) < 0)
			_exit(1);
		char *argv[16];
		int n = 0;
		argv[n++] = NAME;
		argv[n++] = "-namespace";
		argv[n++] = (char *)a->ns;
		argv[n++] = "-id";
		argv[n++] = (char *)a->id;
		if (a->address) {
			argv[n++] = "-address";
			argv[n++] = (char *)a->address;
		}
		if (a->publish_binary) {
			argv[n++] = "-publish-binary";
			argv[n++] = (char *)a->publish_binary;
		}
		if (a->debug)
			argv[n++] = "-debug";
		argv[n] = NULL;
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(lfd);
	printf("unix://%s", path);
	return 0;
}

/* ---- serve ---- */

struct server {
	struct shim_task *task;
	int lfd;
	volatile sig_atomic_t stop;
};

static struct server the_server; /* the signal handler's way to the socket */

static void on_exited(void *ctx, const char *exec_id, int status)
{
	struct server *s = ctx;
	shim_task_exited(s->task, exec_id, status);
}

static void on_shutdown(void *ctx)
{
	struct server *s = ctx;
	s->stop = 1;
	shutdown(s->lfd, SHUT_RDWR); /* wakes accept() */
}

static void on_signal(int sig)
{
	(void)sig;
	on_shutdown(&the_server);
}

struct conn_arg {
	int fd;
	const struct ttrpc_service *svc;
};

static void *conn_thread(void *arg)
{
	struct conn_arg *c = arg;
	struct errmsg err = {{0}};
	if (ttrpc_serve_conn(c->fd, c->svc, 1, &err) < 0)
		fprintf(stderr, NAME ": connection: %s\n", err.text);
	free(c);
	return NULL;
}

static int do_serve(const struct shim_args *a)
{
	struct server *s = &the_server;
	s->lfd = LISTEN_FD;
	int acc = 0;
	socklen_t len = sizeof(acc);
	if (getsockopt(LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
		fprintf(stderr, NAME ": fd 3 is not a listening socket: containerd runs `" NAME
				     " ... start`, not this\n");
		return 1;
	}
	fcntl(LISTEN_FD, F_SETFD, FD_CLOEXEC);
	struct sockaddr_un sa;
	len = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	getsockname(LISTEN_FD, (struct sockaddr *)&sa, &len);

	/* containerd holds the read side of <bundle>/log open: our stderr */
	int log = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (log >= 0) {
		dup2(log, 2);
		close(log);
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sact = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sact, NULL);
	sigaction(SIGINT, &sact, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	char bundle[PATH_MAX];
	if (!getcwd(bundle, sizeof(bundle)))
		die("serve: the bundle (cwd)", NULL, -errno);
	struct errmsg err = {{0}};
	struct shim_events *ev;
	int rc = shim_events_start(a->publish_binary, a->address, a->ns, &ev, &err);
	if (rc < 0)
		die("serve", &err, rc);
	struct shim_backend be;
	rc = shim_backend_open(a->id, bundle, on_exited, s, &be, &err);
	if (rc < 0)
		die("serve", &err, rc);
	struct shim_task_config cfg = {
	    .id = a->id,
	    .bundle = bundle,
	    .ops = be.ops,
	    .be = be.be,
	    .publish = shim_events_publish,
	    .publish_ctx = ev,
	    .shutdown = on_shutdown,
	    .shutdown_ctx = s,
	};
	rc = shim_task_new(&cfg, &s->task, &err);
	if (rc < 0)
		die("serve", &err, rc);

	while (!s->stop) {
		int fd = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* shut down (EINVAL) or broken */
		}
		struct conn_arg *c = malloc(sizeof(*c));
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (!c) {
			close(fd);
			continue;
		}
		*c = (struct conn_arg){fd, shim_task_service(s->task)};
		if (pthread_create(&t, &at, conn_thread, c) != 0) {
			close(fd);
			free(c);
		}
		pthread_attr_destroy(&at);
	}
	if (sa.sun_path[0])
		unlink(sa.sun_path);
	shim_events_stop(ev); /* what is queued reaches containerd first */
	shim_backend_close(&be);
	/* Handler threads may still hold the task; the process ends here. */
	return 0;
}

/* ---- delete ---- */

static int do_delete(const struct shim_args *a)
{
	char cwd[PATH_MAX];
	const char *bundle = a->bundle;
	if (!bundle) {
		if (!getcwd(cwd, sizeof(cwd)))
			die("delete: the bundle (cwd)", NULL, -errno);
		bundle = cwd;
	}
	struct errmsg err = {{0}};
	int rc = shim_backend_cleanup(a->id, bundle, &err);
	if (rc < 0)
		fprintf(stderr, NAME ": delete %s: %s\n", a->id, err.text);

	/* a shim killed without Shutdown leaves its socket; the rootfs may stay
	 * mounted where the backend mounted it */
	char path[PATH_MAX + 16], addr[512];
	if (strlen(bundle) >= PATH_MAX) {
		fprintf(stderr, NAME ": delete: bundle path too long\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/address", bundle);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, addr, sizeof(addr) - 1);
		close(fd);
		char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
		struct stat st;
		if (n > 0 &&
		    (addr[n] = 0, shim_socket_from_address(addr, sock, sizeof(sock))) == 0 &&
		    lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sock);
	}
	snprintf(path, sizeof(path), "%s/rootfs", bundle);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		fprintf(stderr, NAME ": delete %s: unmounting %s: %s\n", a->id, path,
			strerror(errno));

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	resp.exit_status = 128 + SIGKILL; /* as containerd's own shims report a lost task */
	resp.exited_at = &ts;
	uint8_t out[64];
	size_t n = containerd__task__v2__delete_response__pack(&resp, out);
	return fdio_write_all(1, out, n) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct shim_args a;
	struct errmsg err = {{0}};
	if (shim_args_parse(argc, argv, &a, &err) < 0) {
		fprintf(stderr, NAME ": %s\n", err.text);
		return 2;
	}
	switch (a.action) {
	case SHIM_VERSION:
		printf(NAME ":\n  Version: %s\n", HULL_VERSION);
		return 0;
	case SHIM_START:
		return do_start(&a);
	case SHIM_DELETE:
		return do_delete(&a);
	case SHIM_SERVE:
		break;
	}
	return do_serve(&a);
}
