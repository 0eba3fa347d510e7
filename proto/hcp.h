/* hcp: the hull control protocol between the host (hull) and guest-init.
 *
 * Contract
 * - Transport-agnostic: hcp frames travel over any reliable, ordered byte stream
 *   (today a virtio-vsock stream socket, host port 1024; a Unix socket on the host).
 *   Nothing here does I/O; callers move bytes.
 * - A frame is an 8-byte header followed by `len` payload bytes:
 *     u8 type | u8 reserved[3] (zero) | u32 len (little-endian) | payload
 *   len <= HCP_MAX_PAYLOAD. A frame with an unknown type, non-zero reserved
 *   bytes or an oversized length is a protocol error (-EPROTO): the stream is
 *   then unusable, because framing is lost.
 * - Both peers treat everything they read as hostile: the decoders bound-check
 *   every length and never read past the bytes they were given.
 *
 * Conversation (one container per VM):
 *   guest: READY                      init is up and waits for its container
 *   host:  SPEC                       what to run (see struct hcp_spec)
 *   guest: STARTED (u32 pid)          the container process exec'd
 *   guest: STDOUT / STDERR data ...   container output, in order per stream
 *   host:  STDIN data, STDIN_EOF      container input (optional)
 *   host:  SIGNAL (u32 signo)         forward a signal to the container
 *   guest: ERROR (text)               init could not run the container; an
 *                                     EXIT with 125/126/127 follows
 *   guest: EXIT (i32 status)          exit code, or 128+signal; then the guest
 *                                     powers off
 *   host:  RESIZE (rows, cols)        the host terminal's size changed (only
 *                                     meaningful when the SPEC asked for a TTY;
 *                                     ignored otherwise); may come before STARTED
 *
 * With a TTY (SPEC tag TTY) the process gets a pty as stdin, stdout, stderr
 * and controlling terminal: everything it writes comes back as STDOUT (no
 * STDERR), STDIN bytes go to the pty master (so ^C is a signal raised by the
 * guest's line discipline), and STDIN_EOF only stops input: the pty stays
 * open, since closing it would hang the process up.
 *
 * Exec sessions (vsock port 1025, once the container runs; one connection per
 * session, same framing):
 *   host:  EXEC (exec spec)           run a second process in the container:
 *                                     argv, ENV added to the container's
 *                                     environment, CWD (default: the
 *                                     container's), USER (default: the
 *                                     container's), TTY; no ROOTFS, HOSTNAME,
 *                                     TIME or SEED
 *   then as above: STARTED, STDOUT/STDERR, ERROR + EXIT (125/126/127) or EXIT,
 *   with STDIN, STDIN_EOF, RESIZE and SIGNAL from the host (SIGNAL goes to the
 *   exec'd process). After EXIT the guest closes the connection; a host that
 *   hangs up ends its session (the process is killed).
 *   host:  MAIN_SIGNAL (u32 signo)    instead of EXEC: signal the container's
 *                                     main process (may repeat); the guest
 *                                     sends EXIT with the main process's code
 *                                     when it ends (or the VM just goes away)
 */
#ifndef HULL_HCP_H
#define HULL_HCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCP_HDR_LEN 8
#define HCP_MAX_PAYLOAD (64u * 1024u)

enum hcp_type {
	/* guest -> host */
	HCP_READY = 0x01,
	HCP_STARTED = 0x02,
	HCP_STDOUT = 0x03,
	HCP_STDERR = 0x04,
	HCP_EXIT = 0x05,
	HCP_ERROR = 0x06,
	/* host -> guest */
	HCP_SPEC = 0x10,
	HCP_STDIN = 0x11,
	HCP_STDIN_EOF = 0x12,
	HCP_SIGNAL = 0x13,
	/* stdio/exec (0x08-0x0f guest->host, 0x15-0x1f host->guest) */
	HCP_RESIZE = 0x15,	/* u16 rows, u16 cols (LE), see hcp_winsize_* */
	HCP_EXEC = 0x16,	/* exec spec (exec sessions only) */
	HCP_MAIN_SIGNAL = 0x17, /* u32 signo (exec port only) */
};

/* vsock ports guest-init serves or uses. */
#define HCP_VSOCK_PORT_CONTROL 1024
#define HCP_VSOCK_PORT_EXEC 1025

/* Exit statuses of a run that did not get to run its command (the
 * docker/runc convention), for both ends: guest-init reports them in EXIT
 * when it cannot run the container, and hull (run, exec and every other
 * command) exits with HCP_EXIT_HULL_FAILED when it fails itself. */
#define HCP_EXIT_HULL_FAILED 125		  /* hull failed (docker's 125) */
#define HCP_EXIT_INIT_FAILED HCP_EXIT_HULL_FAILED /* setup failed (mount, user lookup, ...) */
#define HCP_EXIT_CANNOT_EXEC 126		  /* found but not executable */
#define HCP_EXIT_NOT_FOUND 127			  /* no such command */

/* Fill hdr with a frame header. Returns 0, or -EINVAL for an unknown type or
 * len > HCP_MAX_PAYLOAD. */
int hcp_header_encode(uint8_t hdr[HCP_HDR_LEN], uint8_t type, uint32_t len);
/* The type and payload length of a frame header: 0, or -EPROTO for an
 * unknown type, non-zero reserved bytes or len > HCP_MAX_PAYLOAD. */
int hcp_header_decode(const uint8_t hdr[HCP_HDR_LEN], uint8_t *type, uint32_t *len);

/* One decoded frame. payload points into the reader's buffer and stays valid
 * until the next hcp_reader_push() or hcp_reader_next() call. */
struct hcp_msg {
	uint8_t type;
	uint32_t len;
	const uint8_t *payload;
};

/* Incremental frame reader for a byte stream: push bytes as they arrive, then
 * pull complete frames. Holds at most one frame plus HCP_HDR_LEN bytes
 * beyond it, so memory is bounded. */
struct hcp_reader {
	uint8_t *buf;
	size_t len; /* bytes held */
	size_t cap;
	size_t consumed; /* bytes of buf already returned by _next */
	int error;	 /* sticky -EPROTO once framing is lost */
};

void hcp_reader_init(struct hcp_reader *r);
void hcp_reader_free(struct hcp_reader *r);
/* Append up to n bytes; *taken says how many were taken (fewer than n when
 * the reader holds a whole frame already: pull it, then push the rest).
 * Returns 0, -ENOMEM, or the sticky -EPROTO. */
int hcp_reader_push(struct hcp_reader *r, const uint8_t *data, size_t n, size_t *taken);
/* Returns 1 and fills *m when a whole frame is available, 0 when more bytes
 * are needed, -EPROTO when the stream is corrupt (sticky). */
int hcp_reader_next(struct hcp_reader *r, struct hcp_msg *m);

/* Payload helpers for fixed-size messages (STARTED, EXIT, SIGNAL). */
void hcp_u32_encode(uint8_t out[4], uint32_t v);
/* Returns 0, or -EPROTO when the payload is not exactly 4 bytes. */
int hcp_u32_decode(const struct hcp_msg *m, uint32_t *v);

/* RESIZE payload. Decode returns 0, or -EPROTO when the payload is not
 * exactly 4 bytes. */
#define HCP_WINSIZE_LEN 4
void hcp_winsize_encode(uint8_t out[HCP_WINSIZE_LEN], uint16_t rows, uint16_t cols);
int hcp_winsize_decode(const struct hcp_msg *m, uint16_t *rows, uint16_t *cols);

/* What to run: the process spec carried by HCP_SPEC (and HCP_EXEC). All strings are
 * NUL-terminated; argv and envp are NULL-terminated arrays.
 * Field encoding in the payload: a sequence of records
 *   u8 tag | u32 len (LE) | len bytes (no NUL inside)
 * with tags below; ARG and ENV repeat and keep their order. */
enum hcp_spec_tag {
	HCP_SPEC_ARG = 1,      /* argv[i]; at least one */
	HCP_SPEC_ENV = 2,      /* "KEY=VALUE" */
	HCP_SPEC_CWD = 3,      /* absolute path; required */
	HCP_SPEC_USER = 4,     /* OCI "User" string: user, uid, user:group, uid:gid, ...
				  resolved by guest-init against the rootfs's
				  /etc/passwd and /etc/group; empty = root */
	HCP_SPEC_HOSTNAME = 5, /* optional */
	HCP_SPEC_ROOTFS = 6,   /* guest block device holding the image, e.g. /dev/vda */
	HCP_SPEC_TIME = 7,     /* optional: host CLOCK_REALTIME, decimal nanoseconds; the
				  guest sets its clock (a VM restored from a snapshot
				  wakes up with the template's time) */
	HCP_SPEC_SEED = 8,     /* optional: HCP_SEED_LEN random bytes as lower-case hex;
				  mixed into and credited to the guest's RNG, which is
				  then reseeded, so VMs restored from one template do
				  not share RNG state */
	HCP_SPEC_TTY = 9,      /* optional: run on a pty; "ROWS COLS" in decimal
				  (each 0..65535; 0 0 = size unknown) */
	HCP_SPEC_VOLUME = 24,  /* repeats, at most HCP_MAX_VOLUMES: "TAG:ro:/path" or
				  "TAG:rw:/path", a 9p mount tag (1..31 of [A-Za-z0-9_-])
				  mounted at an absolute path of the container */
	/* Networking, all optional (guest-init applies them after a restore, so
	 * VMs restored from one template never share a MAC or an address): */
	HCP_SPEC_NET_MAC = 16,	/* eth0's MAC, "52:54:00:12:34:56" */
	HCP_SPEC_NET_ADDR = 17, /* eth0's IPv4 address/prefix, "10.0.2.15/24";
				   absent: eth0 stays down (only lo is up) */
	HCP_SPEC_NET_GW = 18,	/* default route via this IPv4 address */
	HCP_SPEC_NET_DNS = 19,	/* repeated: a nameserver for /etc/resolv.conf */
	HCP_SPEC_NET_HOST = 20, /* repeated: an extra /etc/hosts line, "IP NAME..." */
	/* The container's confinement inside the guest (`hull run` flags), all
	 * optional; an EXEC must not carry them (exec'd processes get the
	 * container's), except ULIMIT: an EXEC's ULIMITs replace the container's
	 * for that process (OCI: an exec's process.rlimits), none: the
	 * container's: */
	HCP_SPEC_READ_ONLY = 25,    /* "1": the root filesystem is read-only */
	HCP_SPEC_TMPFS = 26,	    /* repeats, at most HCP_MAX_TMPFS: "PATH" or
				       "PATH:OPTS", see hcp_tmpfs_parse */
	HCP_SPEC_ULIMIT = 27,	    /* repeats, at most HCP_MAX_ULIMITS: "RES SOFT HARD",
				       decimal; RES < HCP_RLIMIT_COUNT, SOFT <= HARD,
				       UINT64_MAX = unlimited */
	HCP_SPEC_SHM_SIZE = 28,	    /* /dev/shm's size in bytes, decimal, > 0 */
	HCP_SPEC_CAPS = 29,	    /* the container's capabilities: 16 hex digits, a
				       mask of CAP_* bits (absent: every capability) */
	HCP_SPEC_NO_NEW_PRIVS = 30, /* "1": PR_SET_NO_NEW_PRIVS before exec */
	HCP_SPEC_RESTART = 31,	    /* "always" or "on-failure:N" (N 0..HCP_MAX_RESTARTS,
				       0 = no limit): guest-init restarts the main
				       process in this VM (see hcp_restart) */
};

#define HCP_SEED_LEN 32
#define HCP_MAX_VOLUMES 8
#define HCP_MAX_TMPFS 16
#define HCP_MAX_ULIMITS 16
#define HCP_RLIMIT_COUNT 16 /* RLIMIT_CPU .. RLIMIT_RTTIME on Linux */
#define HCP_MAX_RESTARTS 1000000

struct hcp_ulimit {
	uint32_t resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

/* What guest-init does when the main process ends (docker's --restart):
 * HCP_RESTART_NO: the run ends; ALWAYS: start it again whatever its status;
 * ON_FAILURE: again when the status is not 0, at most max times (0: no
 * limit). Never after the host signalled the container (stop, kill). */
enum hcp_restart { HCP_RESTART_NO = 0, HCP_RESTART_ALWAYS, HCP_RESTART_ON_FAILURE };

struct hcp_volume {
	char *tag;
	char *path;
	bool read_only;
};

#define HCP_SPEC_MAX_STRINGS 4096 /* per repeated tag */

struct hcp_spec {
	char **argv;
	size_t argc;
	char **envp;
	size_t envc;
	char *cwd;
	char *user;	/* may be NULL (= root) */
	char *hostname; /* may be NULL */
	char *rootfs;
	uint64_t realtime_ns; /* 0: not given */
	bool has_seed;
	uint8_t seed[HCP_SEED_LEN];
	struct hcp_volume *volumes; /* in mount order */
	size_t nvolumes;
	bool tty; /* HCP_SPEC_TTY given */
	uint16_t rows, cols;
	/* networking (tags 16-20); NULL / 0 when not given */
	char *net_mac;
	char *net_addr;
	char *net_gw;
	char **net_dns;
	size_t n_dns;
	char **net_hosts;
	size_t n_hosts;
	/* confinement (tags 25-31); false / 0 / NULL when not given */
	bool read_only;
	char **tmpfs; /* "PATH[:OPTS]", each accepted by hcp_tmpfs_parse */
	size_t n_tmpfs;
	struct hcp_ulimit *ulimits;
	size_t n_ulimits;
	uint64_t shm_size;
	bool has_caps;
	uint64_t caps;
	bool no_new_privs;
	enum hcp_restart restart;
	uint32_t restart_max;
};

/* A tmpfs mount as docker's --tmpfs PATH[:OPTS] says it. OPTS is a comma
 * list of ro, rw, exec, noexec, suid, nosuid, dev, nodev, size=N[k|m|g],
 * mode=OCTAL (<= 07777), uid=N, gid=N, nr_inodes=N[k|m|g]; the defaults are
 * docker's (rw, noexec, nosuid, nodev). PATH is absolute, without "." or ".."
 * components, at most 1024 bytes. Shared by hull (to refuse bad options
 * early) and guest-init (which mounts). */
struct hcp_tmpfs {
	char path[1025];
	unsigned long flags; /* MS_RDONLY, MS_NOEXEC, MS_NOSUID, MS_NODEV */
	char data[160];	     /* for mount(2): "size=...,mode=..." */
};
/* Returns 0, or -EINVAL with why (a static string) set. */
int hcp_tmpfs_parse(const char *spec, struct hcp_tmpfs *out, const char **why);

/* Encode into a malloc'd buffer (*out, *outlen). Returns 0, -EINVAL when the
 * spec is incomplete (no argv, no cwd, no rootfs) or too big for one frame, or
 * -ENOMEM. */
int hcp_spec_encode(const struct hcp_spec *s, uint8_t **out, size_t *outlen);
/* Decode a payload into *s (all fields malloc'd; free with hcp_spec_free).
 * Returns 0, -EPROTO on malformed input (truncated record, unknown tag,
 * duplicate single-valued tag, NUL inside a string, missing required field,
 * too many strings, a TIME that is not a decimal number, a SEED that is not
 * 2*HCP_SEED_LEN hex digits, a malformed or
 * surplus VOLUME, TMPFS or ULIMIT, a malformed SHM_SIZE, CAPS or RESTART), or -ENOMEM. On error *s
 * is left empty. */
int hcp_spec_decode(const uint8_t *buf, size_t len, struct hcp_spec *s);
void hcp_spec_free(struct hcp_spec *s);

/* The exec spec (HCP_EXEC) in the same record encoding: argv required; env,
 * cwd (absolute when given), user, tty and ulimits optional; rootfs,
 * hostname, time, seed, network, volumes and the other confinement fields
 * must be absent (encode: -EINVAL, decode: -EPROTO). A NULL cwd or user, or
 * no ulimits, means "the container's". Otherwise as hcp_spec_encode/decode. */
int hcp_exec_encode(const struct hcp_spec *s, uint8_t **out, size_t *outlen);
int hcp_exec_decode(const uint8_t *buf, size_t len, struct hcp_spec *s);

#endif
