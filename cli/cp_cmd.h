/* cp_cmd: `hull cp NAME:PATH HOSTPATH` and `hull cp HOSTPATH NAME:PATH`,
 * docker's copy between a running container and the host, as a tar stream
 * over the container's control channel (an exec session of hcp). The tar
 * in the guest is the image's own tar (busybox's will do): guest-init has
 * no archiver of its own yet, so an image without tar cannot be copied
 * from or to (status 1, said so). The host side is libarchive.
 *
 * Contract
 * - Out of the container the stream is hostile: it is spooled to an
 *   unlinked temp file of at most CP_MAX_BYTES, holds at most CP_MAX_ENTRIES
 *   entries, every name must lie under the path that was asked for
 *   (cli/cp_path.h), and it is extracted relative to the destination's
 *   directory with libarchive's secure flags (no "..", no absolute names,
 *   no writing through symlinks); no owners, no device nodes, no setuid.
 * - Docker's naming: into an existing directory the source keeps its name;
 *   otherwise the destination names the copy (its parent must exist).
 * - Returns the exit status: 0; 1 when the copy failed (why on stderr); 2
 *   for bad usage. */
#ifndef HULL_CLI_CP_CMD_H
#define HULL_CLI_CP_CMD_H

#define CP_MAX_BYTES (4ull << 30)
#define CP_MAX_ENTRIES 1000000

int cp_main(int argc, char **argv);

#endif
