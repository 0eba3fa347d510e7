/* p9: a 9P2000.L file server for one host directory (a volume), pure
 * message logic: one T-message in, one R-message out, no transport.
 *
 * Why hand-written: virtio-fs would need a FUSE server, and Debian's
 * virtiofsd is an external vhost-user daemon that must share guest RAM
 * (a MAP_SHARED memfd), which breaks hull's MAP_PRIVATE template restore;
 * Debian has no library with an embeddable 9p or FUSE-protocol server.
 * So hull serves 9P2000.L itself (the guest kernel's v9fs + 9pnet_virtio).
 *
 * Contract
 * - p9_server_new() opens the root directory (O_PATH). The guest is hostile:
 *   every field of every message is bounds-checked (message size against
 *   the bytes given and the negotiated msize, string lengths, counts,
 *   walk lengths, fid numbers, offsets). A malformed message is answered
 *   with Rlerror (EBADMSG/EINVAL/...); p9_server_handle() returns -EBADMSG
 *   only when it cannot answer at all (fewer than 7 bytes, or no room for
 *   an 11-byte Rlerror), and the transport then ends the session.
 * - Errors are Rlerror with Linux errno values.
 * - Confinement: every fid refers to a node holding an O_PATH fd. A walk
 *   resolves one name at a time relative to its parent node's fd with
 *   openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
 *   O_NOFOLLOW): a symlink becomes a node of its own (readlink works, the
 *   guest kernel follows it in the guest's namespace) and is never walked
 *   through. Names must be 1..255 bytes without '/' or NUL and not "."
 *   (Twalk also accepts "..", resolved through the server's own node tree,
 *   so it stops at the root and never asks the host's ".."). Every other
 *   operation is an *at() call on a node fd plus one such name, with
 *   symlink-safe flags (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH), or
 *   a reopen of a regular file or directory through /proc/self/fd. So no
 *   symlink in the volume, absolute or "../", can lead outside the root.
 * - Mounts below the root are crossed (like a docker bind mount with rbind);
 *   qid paths then mix in the device number.
 * - Refused: device nodes (Tmknod of S_IFCHR/S_IFBLK: EPERM; opening one:
 *   ENXIO, the volume is nodev), opening anything but regular files and
 *   directories (ENXIO), hard links to anything but regular files (EPERM:
 *   a hard link made through a symlink could pin a file outside the root),
 *   xattrs (EOPNOTSUPP). Read-only servers answer EROFS to every request
 *   that could write.
 * - Ownership and privilege bits (enum p9_owners): the guest sees the
 *   host's uids/gids as they are in every mode; what it may write differs.
 *   P9_OWNERS_MAPPED (vmm/vm.c's choice as root, and for a directory owned
 *   by the unprivileged server's own uid and gid): everything the guest
 *   creates, and every Tsetattr chown, gets the owner uid and gid of the
 *   volume's root directory (as it was when the server started), so a root
 *   guest cannot leave files of arbitrary owners on the host.
 *   P9_OWNERS_KEEP (unprivileged, another owner's directory): nothing is
 *   chowned on create (files belong to the user running the server); a
 *   chown is passed to the kernel, which refuses foreign ids. In both,
 *   S_ISUID and S_ISGID are cleared from every mode the guest sets (create
 *   and chmod): no setuid/setgid file or directory arrives on the host.
 *   P9_OWNERS_PASSTHROUGH (needs CAP_CHOWN and CAP_FOWNER, which the jailed
 *   monitor lacks: hull never asks for it, runtime/volume.h): new files get
 *   the attaching user's uid and the gid the client asks for, chown and the
 *   mode bits pass through as asked, as virtiofsd does by default. Modes are
 *   otherwise set as the client asks (the host's umask does not apply).
 * - Host file descriptors: a fixed budget per server, not the process's
 *   limit. Every node (a file the guest looked up and still holds a fid
 *   for) has an O_PATH fd only while it is among the most recently used:
 *   after each request the server closes the least recently used ones
 *   until it holds at most P9_FD_BUDGET fds (the root's, the nodes', the
 *   opened files'); a node without one is reopened on demand by its path
 *   from its nearest ancestor that has one (beneath it, no symlinks
 *   followed) and must still be the same object (device and inode), else
 *   the request fails with ESTALE (a file renamed on the host, or removed,
 *   while the guest held it and its fd was closed; Trename and Trenameat
 *   keep nodes' names up to date). A node whose fid is open keeps its fd.
 *   Files opened (Tlopen, Tlcreate) hold an fd each until clunked: beyond
 *   P9_MAX_OPEN at once, the guest's open() fails with EMFILE. Within one
 *   request the server may briefly hold up to P9_MAXWELEM (16) fds more.
 * - Locks are granted at once (Tlock SUCCESS, Tgetlock UNLCK): the guest
 *   kernel already arbitrates locks between its own processes.
 * - Not thread-safe: the caller serialises all calls on one server.
 */
#ifndef HULL_P9_H
#define HULL_P9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define P9_MSIZE_MAX (512u * 1024u) /* largest msize negotiated */
#define P9_MSIZE_MIN 4096u
#define P9_HDR_LEN 7u	    /* size[4] type[1] tag[2] */
#define P9_ERR_LEN 11u	    /* Rlerror */
#define P9_MAX_NODES 65536u /* nodes (files the guest has looked up) per server */
#define P9_MAX_FIDS (2 * P9_MAX_NODES)
#define P9_FD_BUDGET 256u /* host fds per server between requests */
/* files the guest has open at once: each holds its node's fd too */
#define P9_MAX_OPEN ((P9_FD_BUDGET - 16) / 2)

struct p9_server;

enum p9_owners {
	P9_OWNERS_KEEP,
	P9_OWNERS_MAPPED,
	P9_OWNERS_PASSTHROUGH,
};

/* root: an existing host directory, an absolute or relative path that is
 * resolved without following any symlink (openat2 RESOLVE_NO_SYMLINKS:
 * ELOOP if a component is one), so a symlink planted after the caller
 * checked the path cannot redirect the volume. Returns 0 or -errno (err
 * says why). */
int p9_server_new(struct p9_server **out, const char *root, bool read_only, enum p9_owners owners,
		  struct errmsg *err);
void p9_server_free(struct p9_server *s);

/* Forget every fid (a device reset; Tversion does the same). */
void p9_server_reset(struct p9_server *s);

/* Serve one message: in[0, in_len) holds it, the answer goes to
 * out[0, out_cap) (at most the negotiated msize is used). Returns the
 * answer's length, or -EBADMSG when no answer is possible (see contract). */
long p9_server_handle(struct p9_server *s, const uint8_t *in, size_t in_len, uint8_t *out,
		      size_t out_cap);

/* An Rlerror for `tag` in out (P9_ERR_LEN bytes): for transports that
 * refuse a message before the server sees it. */
void p9_error_reply(uint8_t out[P9_ERR_LEN], uint16_t tag, int err);

/* Number of live nodes, for tests. Beyond P9_MAX_NODES nodes or
 * P9_MAX_FIDS fids, walks and attaches fail with ENFILE. */
unsigned p9_server_nodes(const struct p9_server *s);
/* Host fds the server holds now (at most P9_FD_BUDGET between requests). */
unsigned p9_server_fds(const struct p9_server *s);

#endif
