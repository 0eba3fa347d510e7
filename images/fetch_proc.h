/* fetch_proc: hull-fetch, the registry client of a pull, in a process of
 * its own without privileges. Everything a pull reads from the network
 * (HTTP answers, WWW-Authenticate challenges, token JSON, manifests,
 * indexes, the config, the layers' bytes) is read and parsed there, by
 * the same code as before (images/registry.c, auth.c, oci_json.c), never
 * by `hull` itself, which is root under `sudo hull pull`.
 *
 * The process is started as hull-convert is (images/convert_proc.h,
 * convproc_spawn() with fetch_helper): fork+exec of its own executable
 * (images/fetch_main.c), the system user `hull` when started by root
 * (else the caller's uid), every capability set empty, no_new_privs, not
 * dumpable, no core dumps, PDEATHSIG, /dev/null as stdio, an empty
 * environment but the proxy variables, new IPC and UTS namespaces but the
 * host's network one (it must reach the registry).
 *
 * Its confinement beyond that (fetch_child_begin(), first thing in main(),
 * before a byte of the request or of the network is read):
 * - resource caps without a cgroup (nothing to create or remove), soft =
 *   hard, so it cannot raise them (no CAP_SYS_RESOURCE, no prlimit in its
 *   filter):
 *   RLIMIT_AS FETCH_AS_MAX, set by the child itself (a sanitized build
 *     skips it: ASan reserves terabytes of address space for its shadow);
 *     a real pull peaks at 28 MiB of address space and 12 MiB resident
 *     (sampled from /proc through the e2e pull tests); a name lookup adds
 *     a resolver thread (8 MiB stack, up to 64 MiB of malloc arena);
 *     manifests are at most REGISTRY_MANIFEST_MAX each, their JSON trees a
 *     few times that: 1 GiB leaves ample headroom;
 *   RLIMIT_NOFILE CONVPROC_FD_WORK + work fds + FETCH_NOFILE_EXTRA, set by
 *     the parent before the exec (convproc_helper.nofile_extra): a pull
 *     holds at most a dozen fds of its own (connections, libcurl's wake-up
 *     socketpairs, a resolver's socket, the CA bundle);
 *   RLIMIT_FSIZE fetch_fsize(q), by the parent: FETCH_RESOLVE writes at
 *     most REGISTRY_MANIFEST_MAX into a memfd; FETCH_BLOBS writes blob i up
 *     to the size the manifest gives it and not a byte more (the transfer
 *     refuses more before writing it: images/registry.c), so the largest
 *     declared size exactly; SIGXFSZ ignored: past it a write fails (EFBIG);
 *   no RLIMIT_NPROC: it counts every process of the uid (the user `hull`
 *   runs every monitor), and the filter allows no process, only threads;
 * - a warm-up before the filter: libcurl's global init (OpenSSL's, which
 *   reads openssl.cnf) held for the process's life, and one thread made
 *   and joined (glibc installs its own signal handlers at the first
 *   pthread_create: rt_sigaction, in no allow-list);
 * - then the seccomp filter (seccomp/ role HSC_FETCH, seccomp/policy.c has
 *   the list and how it was made): IP sockets of stream or datagram type,
 *   read-only opens (CA certificates, the resolver's files), libcurl's
 *   resolver threads (clone of a thread only); no Unix socket (glibc's
 *   nscd probe is answered EACCES), no exec, no fork, no bind/listen. A
 *   call outside it ends the process with "hull-fetch killed by its
 *   seccomp filter (syscall N name, thread role fetch)", which convproc
 *   reports to the parent as for hull-convert: the pull fails (hull exits
 *   125) with that text and the child's pid. Names are resolved through
 *   the sources glibc has built in (files, dns): a host whose nsswitch.conf
 *   names another module for hosts (mdns, resolve) has hull-fetch stopped
 *   when it maps that module executable (mmap: PROT_EXEC is in no list).
 *
 * Two kinds of run (struct fetchreq, images/fetch_rec.h):
 * - FETCH_RESOLVE: work fds 0-2 are memfds the parent made, sized and
 *   sealed against growing or shrinking (FETCH_FD_ANSWER:
 *   fetchres_size(OCI_MAX_LAYERS); the documents: REGISTRY_MANIFEST_MAX).
 *   The child pings the registry, authenticates, fetches the reference's
 *   manifest (through an index to linux/<host arch>), parses it, holds the
 *   layers to the size limit and the config to OCI_JSON_MAX, and writes the
 *   documents' bytes into fds 1 (the reference's) and 2 (the image
 *   manifest, when 1 is an index), the decoded facts (struct fetchres)
 *   into fd 0.
 * - FETCH_BLOBS: work fd i is the temp file of blob i (lstore_blob_fd(), a
 *   writer the parent began); the child downloads each into it, verifying
 *   size and digest as it goes (lstore_writer_on_fd()); progress item i.
 *   The config (of 0) is then parsed, to refuse another platform before a
 *   layer is fetched (it comes first). The parent reads each file back
 *   (lstore_blob_adopt()) and commits it: its own check of every byte,
 *   after the child has ended.
 * - The result is the convproc result: 0, or -errno with the error text
 *   the code in the child formed (the same as before the split: "config:
 *   registry ...", "layer 2/5: ...").
 *
 * fetch_resolve()/fetch_blobs() are the child's work, called by
 * fetch_main.c with the decoded request; fetch_check_limit() the image size
 * check both halves make on the decoded facts. */
#ifndef HULL_IMAGES_FETCH_PROC_H
#define HULL_IMAGES_FETCH_PROC_H

#include "common/errmsg.h"
#include "images/convert_proc.h"
#include "images/fetch_rec.h"

#define FETCH_NAME "hull-fetch"
#define FETCH_ENV "HULL_FETCH"
#define FETCH_AS_MAX (1ull << 30)
#define FETCH_NOFILE_EXTRA 64

enum { FETCH_FD_ANSWER, FETCH_FD_TOP, FETCH_FD_MAN, FETCH_RESOLVE_FDS };

/* The helper's description for convproc_spawn(); the caller copies it and
 * sets progress/arg/cancel. */
extern const struct convproc_helper fetch_helper;

/* The child's start (fetch_main.c, and the tests' stand-in): RLIMIT_AS,
 * the warm-up, then convproc_child_begin_as() with role HSC_FETCH. 0 or
 * -errno with err, as convproc_child_begin(). */
int fetch_child_begin(struct convproc *cp, void **req, size_t *len, struct errmsg *err);

/* RLIMIT_FSIZE for a run of request q (convproc_helper.fsize): the most
 * it writes into one file. */
uint64_t fetch_fsize(const struct fetchreq *q);

int fetch_resolve(const struct fetchreq *q, struct convproc *cp, struct errmsg *err);
int fetch_blobs(const struct fetchreq *q, struct convproc *cp, struct errmsg *err);

/* The layers' compressed sizes, as the manifest gives them, together at
 * most max_bytes: else -E2BIG naming the layer and the limit. */
int fetch_check_limit(const struct fetchres *r, uint64_t max_bytes, struct errmsg *err);

#endif
