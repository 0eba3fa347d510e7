#!/usr/bin/env bash
# containerd-shim-hull-v2 against Debian's real containerd 1.6, protocol side
# only: this build links no runtime library (shim/nobackend.c), so Create must
# fail with the shim's own sentence, carried by ttrpc through containerd to
# ctr, and everything after it (Delete, Shutdown, `shim delete`) must leave
# nothing: no shim process, socket, bundle, mount or container record. Also
# the test harness itself: a private containerd, images imported offline from
# an oci-archive and a docker-archive, and a stop that leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/containerd.sh"
lib=$(cd "$(dirname "$0")/../lib" && pwd)
: "${IMG_ARCHIVE:?IMG_ARCHIVE must name the oci-archive of the test image}"
: "${SHIM_DIR:?SHIM_DIR must name the directory of containerd-shim-hull-v2}"
trap 'ctrd_stop; cleanup' EXIT

ctrd() { # NAME ARGS...: ctr against the private containerd, like hull_cmd
	local name=$1
	shift
	timeout --kill-after=10 120 ctr --address "$ctrd_dir/c.sock" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	out=$(cat "$tmp/$name.out")
	err=$(cat "$tmp/$name.err")
	last=$name
}

out=$("$SHIM_DIR/containerd-shim-hull-v2" -v)
expect_contains "-v prints the shim's version" "$out" "containerd-shim-hull-v2:"

ctrd_start "$tmp/ctrd" "$SHIM_DIR"
expect_eq "a private containerd starts" "$?" 0
d=$ctrd_dir

ctrd import images import --base-name docker.io/library/e2e "$IMG_ARCHIVE"
expect_eq "ctr images import of an oci-archive exits 0" "$rc" 0
"$lib/mkdocker-archive.sh" "$IMG" "$tmp/da.tar" busybox:e2e
ctrd import2 images import "$tmp/da.tar"
expect_eq "ctr images import of a docker-archive exits 0" "$rc" 0
ctrd ls images ls -q
expect_line "the oci-archive's image is there" "$out" "docker.io/library/e2e:latest"
expect_line "the docker-archive's image is there" "$out" "docker.io/library/busybox:e2e"

ctrd run run --fifo-dir "$d/fifo" --rm --runtime io.containerd.hull.v2 \
	docker.io/library/e2e:latest t1 echo hi
expect_eq "ctr run through the shim fails (no runtime library in this build)" "$rc" 1
expect_contains "... with the shim's own reason, through ttrpc and containerd" "$err" \
	"containerd-shim-hull-v2 is built without hull's runtime library: it cannot run containers: not implemented"
expect_not_contains "... and no output" "$out" "hi"

# containerd cleans up after the shim on its connection's close, which may
# finish after ctr returned: wait for that (bounded), then look.
shim_procs() {
	local p
	for p in $(ctrd_procs); do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline"
		echo
	done | grep -F containerd-shim-hull
}
bundle=$d/state/io.containerd.runtime.v2.task/default/t1
waited=0
while { shim_procs >/dev/null || [ -e "$bundle" ] ||
	! grep -q 'cleaning up dead shim' "$d/containerd.log"; } &&
	[ "$waited" -lt 300 ]; do
	sleep 0.1
	waited=$((waited + 1))
done
expect_contains "containerd ran the shim's delete after the connection closed" \
	"$(cat "$d/containerd.log")" 'cleaning up dead shim'
expect_not_contains "... and it succeeded" "$(cat "$d/containerd.log")" 'failed to clean up after shim disconnected'

expect_eq "the bundle is gone" "$(test -e "$bundle" && echo present)" ""
expect_eq "no socket is left" "$(find "$d" -type s ! -name 'c.sock*' ! -name debug.sock)" ""
expect_eq "no shim process is left" "$(shim_procs)" ""
ctrd c containers ls -q
expect_eq "--rm removed the container record" "$out" ""
expect_eq "no mount is left under the test directory" "$(ctrd_mounts)" ""

# the same id again: nothing of the first attempt is in the way
ctrd run2 run --fifo-dir "$d/fifo" --rm --runtime io.containerd.hull.v2 \
	docker.io/library/e2e:latest t1 true
expect_contains "a second run with the same id fails the same way" "$err" \
	"built without hull's runtime library"

ctrd_stop
expect_eq "ctrd_stop succeeds" "$?" 0
expect_eq "... and removes its directory" "$(test -e "$d" && echo present)" ""
left=$(pgrep -f -- "$d" || true)
expect_eq "... and no process of it is left" "$left" ""
finish
