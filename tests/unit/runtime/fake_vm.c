#include "fake_vm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fdio.h"
#include "proto/hcp.h"

struct fake_vm_record fake_vm_last;
/* the fake guest's end of its console (in the guest's process only) */
static int guest_console = -1;
bool fake_vm_template_fits;
bool fake_vm_never_ready;

/* ---- the child: guest-init's side ---- */

struct proc {
	int fd;
	struct hcp_reader rd;
	char mode[16];
	bool started, done;
};

static void put(int fd, uint8_t type, const void *p, uint32_t len)
{
	uint8_t hdr[HCP_HDR_LEN];
	hcp_header_encode(hdr, type, len);
	fdio_write_all(fd, hdr, sizeof(hdr));
	if (len)
		fdio_write_all(fd, p, len);
}

static void put_u32(int fd, uint8_t type, uint32_t v)
{
	uint8_t p[4];
	hcp_u32_encode(p, v);
	put(fd, type, p, 4);
}

static void out(struct proc *pr, const char *text)
{
	put(pr->fd, HCP_STDOUT, text, (uint32_t)strlen(text));
}

static void finish(struct proc *pr, int status)
{
	put_u32(pr->fd, HCP_EXIT, (uint32_t)status);
	pr->done = true;
}

static void run(struct proc *pr, const struct hcp_spec *s)
{
	snprintf(pr->mode, sizeof(pr->mode), "%s", s->argc ? s->argv[0] : "");
	if (!strcmp(pr->mode, "fail")) {
		const char *e = "fake: no such command";
		put(pr->fd, HCP_ERROR, e, (uint32_t)strlen(e));
		finish(pr, 127);
		return;
	}
	put_u32(pr->fd, HCP_STARTED, 42);
	pr->started = true;
	char line[512];
	if (!strcmp(pr->mode, "echo")) {
		line[0] = '\0';
		for (size_t i = 1; i < s->argc; i++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s",
				 i > 1 ? " " : "", s->argv[i]);
		strcat(line, "\n");
		out(pr, line);
		finish(pr, 0);
	} else if (!strcmp(pr->mode, "exit")) {
		finish(pr, s->argc > 1 ? atoi(s->argv[1]) : 0);
	} else if (!strcmp(pr->mode, "env")) {
		for (size_t i = 0; i < s->envc; i++) {
			snprintf(line, sizeof(line), "%s\n", s->envp[i]);
			out(pr, line);
		}
		snprintf(line, sizeof(line), "cwd=%s\nuser=%s\nhost=%s\ntty=%d %ux%u\n",
			 s->cwd ? s->cwd : "", s->user ? s->user : "",
			 s->hostname ? s->hostname : "", s->tty, s->rows, s->cols);
		out(pr, line);
		for (size_t i = 0; i < s->n_ulimits; i++) {
			snprintf(line, sizeof(line), "ulimit=%u %llu %llu\n",
				 (unsigned)s->ulimits[i].resource,
				 (unsigned long long)s->ulimits[i].soft,
				 (unsigned long long)s->ulimits[i].hard);
			out(pr, line);
		}
		finish(pr, 0);
	} else if (!strcmp(pr->mode, "oom")) {
		/* guest-init's word on a container the OOM killer ended */
		const char *e = "the container's process was killed by the guest's OOM killer";
		put(pr->fd, HCP_ERROR, e, (uint32_t)strlen(e));
		finish(pr, 137);
	} else if (!strcmp(pr->mode, "crash")) {
		_exit(3); /* the VM dies under the container */
	} else if (!strcmp(pr->mode, "panic")) {
		/* the kernel's panic line (with an escape a guest could send),
		 * then panic=-1's reset */
		const char *p = "[ 1.2] Kernel panic - not syncing: Attempted to kill init!"
				" \x1b[2Jexitcode=0x5\r\n[ 1.3] Kernel Offset: disabled\n";
		fdio_write_all(guest_console, p, strlen(p));
		_exit(0);
	}
}

/* One frame from the host. */
static void frame(struct proc *pr, const struct hcp_msg *m)
{
	struct hcp_spec s;
	uint32_t v;
	char line[64];
	switch (m->type) {
	case HCP_SPEC:
	case HCP_EXEC:
		if ((m->type == HCP_SPEC ? hcp_spec_decode : hcp_exec_decode)(m->payload, m->len,
									      &s))
			_exit(90);
		run(pr, &s);
		hcp_spec_free(&s);
		break;
	case HCP_STDIN:
		if (!strcmp(pr->mode, "cat"))
			put(pr->fd, HCP_STDOUT, m->payload, m->len);
		break;
	case HCP_STDIN_EOF:
		if (!strcmp(pr->mode, "cat"))
			finish(pr, 0);
		break;
	case HCP_SIGNAL:
		if (hcp_u32_decode(m, &v))
			_exit(91);
		if (!strcmp(pr->mode, "sleep")) {
			finish(pr, 128 + (int)v);
		} else if (!strcmp(pr->mode, "stubborn")) {
			snprintf(line, sizeof(line), "got %u\n", v);
			out(pr, line);
			if (v == SIGKILL)
				finish(pr, 128 + SIGKILL);
		}
		break;
	default:
		break;
	}
}

/* Returns false when the connection ended. */
static bool serve(struct proc *pr)
{
	uint8_t buf[4096];
	ssize_t n = read(pr->fd, buf, sizeof(buf));
	if (n <= 0)
		return false;
	size_t off = 0;
	for (;;) {
		struct hcp_msg m;
		int rc = hcp_reader_next(&pr->rd, &m);
		if (rc < 0)
			_exit(93);
		if (rc == 1) {
			frame(pr, &m);
			continue;
		}
		if (off >= (size_t)n)
			break;
		size_t taken = 0;
		if (hcp_reader_push(&pr->rd, buf + off, (size_t)n - off, &taken))
			_exit(92);
		off += taken;
	}
	return true;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		_exit(95);
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		_exit(94);
	return fd;
}

static void exec_accept(int lfd, struct proc *x)
{
	int fd = accept(lfd, NULL, NULL);
	char req[32] = {0};
	size_t n = 0;
	while (fd >= 0 && n < sizeof(req) - 1 && read(fd, req + n, 1) == 1 && req[n] != '\n')
		n++;
	if (fd < 0 || strcmp(req, "CONNECT 1025\n") != 0 || x->fd >= 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fdio_write_all(fd, "OK 1\n", 5);
	hcp_reader_free(&x->rd);
	*x = (struct proc){.fd = fd};
	hcp_reader_init(&x->rd);
}

static void guest(const char *uds, int lfd)
{
	signal(SIGPIPE, SIG_IGN);
	char ctl_path[160];
	snprintf(ctl_path, sizeof(ctl_path), "%s_1024", uds);
	struct proc main = {.fd = unix_connect(ctl_path)}, x = {.fd = -1};
	hcp_reader_init(&main.rd);
	hcp_reader_init(&x.rd);
	while (fake_vm_never_ready)
		pause(); /* a guest stuck in boot: only stop() ends it */
	put(main.fd, HCP_READY, NULL, 0);
	for (;;) {
		struct pollfd p[3] = {{.fd = main.fd, .events = POLLIN},
				      {.fd = lfd, .events = POLLIN},
				      {.fd = x.fd, .events = POLLIN}};
		if (poll(p, 3, -1) < 0)
			continue;
		if (p[0].revents && (!serve(&main) || main.done))
			_exit(0); /* the container exited: the VM reboots */
		if (p[1].revents)
			exec_accept(lfd, &x);
		if (p[2].revents && (!serve(&x) || x.done)) {
			close(x.fd);
			x.fd = -1;
		}
	}
}

/* ---- the host side: the VM "process" ---- */

struct fake {
	pid_t pid;
	int pidfd, queue_fd, console[2];
	struct vmhost_event queued[2];
	int nqueued, taken;
	bool stopped, stop_asked;
};

static int spawn(const struct vmm_config *vc, const struct vmhost_spawn *sp, void **out,
		 struct errmsg *err)
{
	memset(&fake_vm_last, 0, sizeof(fake_vm_last));
	snprintf(fake_vm_last.uds, sizeof(fake_vm_last.uds), "%s", vc->vsock_uds);
	fake_vm_last.cpus = vc->cpus;
	fake_vm_last.mem = (unsigned long long)vc->mem_bytes;
	fake_vm_last.nvolumes = vc->nvolumes;
	fake_vm_last.template_root = sp->template_root != NULL;
	struct fake *f = calloc(1, sizeof(*f));
	if (!f)
		return errmsg_set(err, -ENOMEM, "out of memory");
	/* the exec port's socket exists before the guest "boots" */
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(vc->vsock_uds) >= sizeof(a.sun_path))
		return errmsg_set(err, -ENAMETOOLONG, "fake vm: %s: too long", vc->vsock_uds);
	memcpy(a.sun_path, vc->vsock_uds, strlen(vc->vsock_uds) + 1);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4) ||
	    pipe2(f->console, O_CLOEXEC | O_NONBLOCK))
		return errmsg_set(err, -errno, "fake vm: %s", strerror(errno));
	f->pid = fork();
	if (f->pid == 0) {
		/* with an escape sequence a guest could send to the terminal */
		fdio_write_all(f->console[1], "fake console\x1b[2J\n", 17);
		guest_console = f->console[1];
		guest(vc->vsock_uds, lfd);
	}
	close(lfd);
	close(f->console[1]);
	f->pidfd = pidfd_open(f->pid, 0);
	f->queue_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	f->queued[0] = (struct vmhost_event){
	    .kind = VMHOST_CREATED,
	    .boot = !sp->template_root	    ? VMHOST_BOOT_NO_TEMPLATE
		    : fake_vm_template_fits ? VMHOST_BOOT_RESTORED
					    : VMHOST_BOOT_COLD,
	};
	f->queued[1] = (struct vmhost_event){.kind = VMHOST_STARTED, .t_ns = clock_now_ns()};
	f->nqueued = 2;
	*out = f;
	return 0;
}

static int fd(void *vp)
{
	struct fake *f = vp;
	return f->taken < f->nqueued ? f->queue_fd : f->pidfd;
}

static int next_event(void *vp, struct vmhost_event *ev, struct errmsg *err)
{
	(void)err;
	struct fake *f = vp;
	if (f->taken < f->nqueued) {
		*ev = f->queued[f->taken++];
		return 1;
	}
	int ws;
	if (f->stopped || waitpid(f->pid, &ws, WNOHANG) != f->pid)
		return 0;
	f->stopped = true;
	memset(ev, 0, sizeof(*ev));
	ev->kind = VMHOST_STOPPED;
	ev->t_ns = clock_now_ns();
	ev->reason = f->stop_asked			 ? "hull stopped it"
		     : WIFEXITED(ws) && !WEXITSTATUS(ws) ? "the guest rebooted"
							 : "the guest shut down";
	ev->guest_reset = !f->stop_asked && WIFEXITED(ws) && !WEXITSTATUS(ws);
	snprintf(ev->why, sizeof(ev->why), "fake guest status %d", ws);
	return 1;
}

static int console_fd(void *vp)
{
	return ((struct fake *)vp)->console[0];
}

static int save_template(void *vp, struct errmsg *err)
{
	(void)vp;
	(void)err;
	fake_vm_last.templates_saved++;
	return 0;
}

static int attach_disk(void *vp, unsigned index, const char *path, struct errmsg *err)
{
	(void)vp;
	if (index != 0)
		return errmsg_set(err, -EINVAL, "fake vm: disk %u", index);
	snprintf(fake_vm_last.disk, sizeof(fake_vm_last.disk), "%s", path);
	return 0;
}

static int stop(void *vp)
{
	struct fake *f = vp;
	fake_vm_last.stops++;
	f->stop_asked = true;
	if (!f->stopped)
		kill(f->pid, SIGKILL);
	return 0;
}

static void release(void *vp)
{
	struct fake *f = vp;
	if (!f)
		return;
	if (!f->stopped) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	close(f->pidfd);
	close(f->queue_fd);
	close(f->console[0]);
	free(f);
}

const struct vmhost_ops fake_vm_ops = {
    .name = "fake",
    .spawn = spawn,
    .fd = fd,
    .next_event = next_event,
    .console_fd = console_fd,
    .save_template = save_template,
    .attach_disk = attach_disk,
    .stop = stop,
    .release = release,
};
