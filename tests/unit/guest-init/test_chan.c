/* chan: frames out, frames in (fragmented, batched, hostile), vsock open, the
 * serial fallback's decision and its raw tty. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest-init/chan.h"
#include "peer.h"

struct fixture {
	int host;
	struct chan ch;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	f->host = sv[0];
	chan_init(&f->ch, sv[1]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->host);
	chan_close(&f->ch);
	free(f);
	return 0;
}

static void test_send(void **state)
{
	struct fixture *f = *state;
	uint8_t type, *p;
	uint32_t len, v;
	(void)v;

	assert_int_equal(chan_send(&f->ch, HCP_READY, NULL, 0), 0);
	assert_int_equal(chan_send(&f->ch, HCP_STDOUT, "abc", 3), 0);
	assert_int_equal(chan_send_u32(&f->ch, HCP_EXIT, 0x01020304), 0);

	assert_int_equal(peer_recv(f->host, &type, &p, &len, 1000), 1);
	assert_int_equal(type, HCP_READY);
	assert_int_equal(len, 0);
	free(p);
	assert_int_equal(peer_recv(f->host, &type, &p, &len, 1000), 1);
	assert_int_equal(type, HCP_STDOUT);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "abc", 3);
	free(p);
	assert_int_equal(peer_recv(f->host, &type, &p, &len, 1000), 1);
	assert_int_equal(type, HCP_EXIT);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "\x04\x03\x02\x01", 4);
	free(p);
}

static void test_send_rejects(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[HCP_MAX_PAYLOAD + 1];

	assert_int_equal(chan_send(&f->ch, 0x7f, NULL, 0), -EINVAL);
	assert_int_equal(chan_send(&f->ch, HCP_STDOUT, big, sizeof(big)), -EMSGSIZE);
}

static void test_send_max_payload(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[HCP_MAX_PAYLOAD];
	int sz = 4096;
	uint8_t type, *p;
	uint32_t len;

	/* A small socket buffer forces partial writes; a reader runs alongside. */
	assert_int_equal(setsockopt(f->ch.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(chan_send(&f->ch, HCP_STDERR, big, sizeof(big)) == 0 ? 0 : 1);
	}
	assert_int_equal(peer_recv(f->host, &type, &p, &len, 5000), 1);
	assert_int_equal(type, HCP_STDERR);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(p, big, sizeof(big));
	free(p);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
}

/* A bulk cut into frames: full ones, then the rest; more frames than one
 * writev takes; the bytes in order; nothing for zero bytes. */
static void test_send_split(void **state)
{
	struct fixture *f = *state;
	size_t frames = CHAN_SPLIT_FRAMES + 2, total = (frames - 1) * HCP_MAX_PAYLOAD + 1234;
	uint8_t *big = malloc(total), type, *p;
	uint32_t len;
	size_t got = 0;

	assert_non_null(big);
	for (size_t i = 0; i < total; i++)
		big[i] = (uint8_t)(i * 31 + i / 4093);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = chan_send_split(&f->ch, HCP_STDOUT, big, 0);
		if (rc == 0)
			rc = chan_send_split(&f->ch, HCP_STDOUT, big, total);
		if (rc == 0)
			rc = chan_send(&f->ch, HCP_STDERR, "end", 3);
		_exit(rc == 0 ? 0 : 1);
	}
	for (size_t k = 0; k < frames; k++) {
		assert_int_equal(peer_recv(f->host, &type, &p, &len, 5000), 1);
		assert_int_equal(type, HCP_STDOUT);
		assert_int_equal(len, k + 1 < frames ? HCP_MAX_PAYLOAD : 1234);
		assert_memory_equal(p, big + got, len);
		got += len;
		free(p);
	}
	assert_int_equal(got, total);
	assert_int_equal(peer_recv(f->host, &type, &p, &len, 5000), 1);
	assert_int_equal(type, HCP_STDERR);
	assert_int_equal(len, 3);
	free(p);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	assert_int_equal(chan_send_split(&f->ch, 0x7f, "x", 1), -EINVAL);
	free(big);
}

/* Feed bytes to the chan one read at a time and collect frames. */
static void test_recv_fragmented(void **state)
{
	struct fixture *f = *state;
	uint8_t stream[64];
	size_t n = 0;
	struct hcp_msg m;
	int frames = 0;

	/* STDIN "hi", STDIN_EOF, SIGNAL 15 */
	hcp_header_encode(stream + n, HCP_STDIN, 2);
	n += 8;
	memcpy(stream + n, "hi", 2);
	n += 2;
	hcp_header_encode(stream + n, HCP_STDIN_EOF, 0);
	n += 8;
	hcp_header_encode(stream + n, HCP_SIGNAL, 4);
	n += 8;
	hcp_u32_encode(stream + n, 15);
	n += 4;

	for (size_t i = 0; i < n; i++) {
		peer_write_all(f->host, stream + i, 1);
		assert_false(chan_pending(&f->ch));
		assert_int_equal(chan_fill(&f->ch), 1);
		int rc;
		while ((rc = chan_next(&f->ch, &m)) == 1) {
			frames++;
			if (frames == 1) {
				assert_int_equal(m.type, HCP_STDIN);
				assert_int_equal(m.len, 2);
				assert_memory_equal(m.payload, "hi", 2);
			} else if (frames == 2) {
				assert_int_equal(m.type, HCP_STDIN_EOF);
			} else {
				uint32_t v;
				assert_int_equal(m.type, HCP_SIGNAL);
				assert_int_equal(hcp_u32_decode(&m, &v), 0);
				assert_int_equal(v, 15);
			}
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(frames, 3);
}

static void test_recv_batched(void **state)
{
	struct fixture *f = *state;
	struct hcp_msg m;

	peer_send(f->host, HCP_STDIN, "one", 3);
	peer_send(f->host, HCP_STDIN, "two", 3);
	peer_send(f->host, HCP_STDIN_EOF, NULL, 0);
	assert_int_equal(chan_fill(&f->ch), 3 * 8 + 6);
	assert_int_equal(chan_next(&f->ch, &m), 1);
	assert_memory_equal(m.payload, "one", 3);
	/* bytes remain buffered: the caller must not poll the fd yet */
	assert_true(chan_pending(&f->ch));
	assert_int_equal(chan_fill(&f->ch), -EBUSY);
	assert_int_equal(chan_next(&f->ch, &m), 1);
	assert_memory_equal(m.payload, "two", 3);
	assert_int_equal(chan_next(&f->ch, &m), 1);
	assert_int_equal(m.type, HCP_STDIN_EOF);
	assert_int_equal(chan_next(&f->ch, &m), 0);
	assert_false(chan_pending(&f->ch));
}

static void test_recv_garbage(void **state)
{
	struct fixture *f = *state;
	struct hcp_msg m;
	const uint8_t junk[8] = {0x42, 0, 0, 0, 0, 0, 0, 0};

	peer_write_all(f->host, junk, sizeof(junk));
	assert_int_equal(chan_fill(&f->ch), 8);
	assert_int_equal(chan_next(&f->ch, &m), -EPROTO);
	/* sticky */
	assert_int_equal(chan_next(&f->ch, &m), -EPROTO);
}

static void test_recv_oversized(void **state)
{
	struct fixture *f = *state;
	struct hcp_msg m;
	uint8_t hdr[8] = {HCP_STDIN, 0, 0, 0};

	hcp_u32_encode(hdr + 4, HCP_MAX_PAYLOAD + 1);
	peer_write_all(f->host, hdr, sizeof(hdr));
	assert_int_equal(chan_fill(&f->ch), 8);
	assert_int_equal(chan_next(&f->ch, &m), -EPROTO);
}

static void test_eof(void **state)
{
	struct fixture *f = *state;

	close(f->host);
	f->host = open("/dev/null", O_RDONLY);
	assert_int_equal(chan_fill(&f->ch), 0);
}

/* No vsock peer on this host (or no vsock at all): a clean -errno, no fd
 * left behind. (The connected path runs in every e2e test.) */
static void test_vsock_unreachable(void **state)
{
	struct chan ch = {.fd = -1};
	(void)state;

	int before = open("/dev/null", O_RDONLY);
	assert_true(before >= 0);
	close(before);
	/* CID 1 is the local loopback CID; nothing listens on this port */
	int rc = chan_open_vsock(&ch, 1, 0x7fff0001u);
	assert_true(rc < 0);
	assert_int_equal(ch.fd, -1);
	int after = open("/dev/null", O_RDONLY);
	assert_int_equal(after, before);
	close(after);
}

/* Only "this VM has no vsock transport" may move the channel to the serial
 * port; a host that is not listening, or a connection lost, must not (hull's
 * VMs have no second UART, and a restored VM reconnects over vsock). */
static void test_vsock_absent(void **state)
{
	(void)state;
	assert_true(chan_vsock_absent(-EAFNOSUPPORT));
	assert_true(chan_vsock_absent(-ENODEV));
	assert_true(chan_vsock_absent(-ENETUNREACH));
	const int not_absent[] = {0,	   -ECONNREFUSED, -ECONNRESET,	-ETIMEDOUT,
				  -EPIPE,  -ENOTCONN,	  -EINTR,	-ENOMEM,
				  -EACCES, -EINVAL,	  -EHOSTUNREACH};
	for (size_t i = 0; i < sizeof(not_absent) / sizeof(not_absent[0]); i++)
		assert_false(chan_vsock_absent(not_absent[i]));
}

/* The fallback's serial-port setup, on a pseudo-terminal. */
static void test_tty_raw(void **state)
{
	struct chan ch;
	struct termios t;
	struct hcp_msg m;
	int master;
	(void)state;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_int_equal(chan_open_tty(&ch, ptsname(master)), 0);
	assert_int_equal(tcgetattr(ch.fd, &t), 0);
	assert_int_equal(t.c_lflag & (ECHO | ICANON | ISIG | IEXTEN), 0);
	assert_int_equal(t.c_oflag & OPOST, 0);
	assert_int_equal(t.c_iflag & (ICRNL | INLCR | IGNCR | IXON | IXOFF | ISTRIP), 0);
	assert_int_equal(t.c_cflag & CSIZE, CS8);
	assert_int_equal(t.c_cflag & CRTSCTS, 0);
	assert_true(t.c_cflag & CLOCAL);
	assert_int_equal(t.c_cc[VMIN], 1);
	assert_int_equal(t.c_cc[VTIME], 0);
	assert_int_equal(fcntl(ch.fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(ch.fd, F_GETFD) & FD_CLOEXEC);

	/* Bytes a cooked tty would eat or translate arrive untouched. */
	const uint8_t tricky[] = {'\r', '\n', 0x03, 0x04, 0x11, 0x13, 0x1a, 0x7f, 0xff, 0x00};
	peer_send(master, HCP_STDIN, tricky, sizeof(tricky));
	size_t got = 0;
	while (got < 8 + sizeof(tricky)) {
		int r = chan_fill(&ch);
		assert_true(r > 0);
		got += (size_t)r;
		if (chan_next(&ch, &m) == 1)
			break;
	}
	assert_int_equal(m.type, HCP_STDIN);
	assert_int_equal(m.len, sizeof(tricky));
	assert_memory_equal(m.payload, tricky, sizeof(tricky));

	/* and the other way: no "\n" -> "\r\n" */
	assert_int_equal(chan_send(&ch, HCP_STDOUT, "a\nb", 3), 0);
	uint8_t type, *p;
	uint32_t len;
	assert_int_equal(peer_recv(master, &type, &p, &len, 1000), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "a\nb", 3);
	free(p);
	chan_close(&ch);
	close(master);

	/* no such port: a clean -errno */
	assert_int_equal(chan_open_tty(&ch, "/nonexistent/ttyS1"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_send, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_max_payload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recv_fragmented, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recv_batched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recv_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recv_oversized, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
	    cmocka_unit_test(test_vsock_unreachable),
	    cmocka_unit_test(test_vsock_absent),
	    cmocka_unit_test(test_tty_raw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
