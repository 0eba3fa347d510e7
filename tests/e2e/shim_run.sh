#!/usr/bin/env bash
# containerd-shim-hull-v2 end to end: Debian's containerd 1.6 (a private
# one, tests/lib/containerd.sh) runs containers in hull microVMs through the
# shim: ctr run --rm with stdout/stderr apart, exit status and stdin; ctr run
# -d, task ls, exec, kill, delete; and nothing left afterwards (no shim
# process, VM monitor, socket, bundle, mount, hull container record), nor
# after the harness stops containerd. Images come from archives built
# offline. A failing or killed run is cleaned up too (containerd.sh: the EXIT
# trap, else its guard).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/containerd.sh"
lib=$(cd "$(dirname "$0")/../lib" && pwd)
: "${IMG_ARCHIVE:?IMG_ARCHIVE must name the oci-archive of the test image}"
: "${SHIM_DIR:?SHIM_DIR must name the directory of containerd-shim-hull-v2}"
trap 'ctrd_stop; cleanup' EXIT

ctrd() { # NAME ARGS...: ctr against the private containerd, like hull_cmd
	local name=$1
	shift
	timeout --kill-after=10 "${HULL_TEST_TIMEOUT:-240}" ctr --address "$ctrd_dir/c.sock" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
	rc=$?
	out=$(cat "$tmp/$name.out")
	err=$(cat "$tmp/$name.err")
	last=$name
}
RT=(--runtime io.containerd.hull.v2)

out=$("$SHIM_DIR/containerd-shim-hull-v2" -v)
expect_contains "-v prints the shim's version" "$out" "containerd-shim-hull-v2:"

# the shim inherits containerd's environment: HULL_RUNTIME_DIR (lib.sh) and
# HULL_TEMPLATE_DIR (the suite's template) reach it that way
ctrd_start "$tmp/ctrd" "$SHIM_DIR" "$tmp"
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

ctrd run run --fifo-dir "$d/fifo" --rm "${RT[@]}" docker.io/library/e2e:latest t1 echo hi
expect_eq "ctr run --rm through the shim exits 0" "$rc" 0
expect_eq "... and prints the container's output" "$out" "hi"

ctrd run2 run --fifo-dir "$d/fifo" --rm "${RT[@]}" docker.io/library/busybox:e2e t2 \
	sh -c 'echo out; echo err >&2; exit 7'
expect_eq "the container's exit status is ctr's" "$rc" 7
expect_eq "stdout reaches ctr's stdout alone" "$out" "out"
expect_line "stderr reaches ctr's stderr" "$err" "err"

printf 'line one\nline two\n' >"$tmp/in"
timeout --kill-after=10 "${HULL_TEST_TIMEOUT:-240}" ctr --address "$d/c.sock" run --fifo-dir "$d/fifo" --rm "${RT[@]}" \
	docker.io/library/e2e:latest t3 sh -c 'cat; echo done' <"$tmp/in" >"$tmp/in.out" 2>"$tmp/in.err"
rc=$?
last=in
expect_eq "stdin: ctr run exits 0" "$rc" 0
expect_eq "stdin is forwarded to the container, then its end" "$(cat "$tmp/in.out")" \
	"$(printf 'line one\nline two\ndone')"

# in the background: task ls, exec, kill, delete
ctrd bg run -d --fifo-dir "$d/fifo" "${RT[@]}" docker.io/library/e2e:latest t4 sleep 300
expect_eq "ctr run -d exits 0" "$rc" 0
ctrd tls task ls
expect_contains "ctr task ls shows it running" "$(grep -w t4 <<<"$out")" "RUNNING"
ctrd exec task exec --fifo-dir "$d/fifo" --exec-id x1 t4 sh -c 'echo from exec; exit 3'
expect_eq "ctr task exec: its exit status" "$rc" 3
expect_eq "ctr task exec: its output" "$out" "from exec"
ctrd kill task kill -s SIGKILL t4
expect_eq "ctr task kill exits 0" "$rc" 0
waited=0
until ctr --address "$d/c.sock" task ls 2>/dev/null | grep -w t4 | grep -q STOPPED || [ "$waited" -ge 600 ]; do
	sleep 0.1
	waited=$((waited + 1))
done
ctrd tls2 task ls
expect_contains "the killed task is STOPPED" "$(grep -w t4 <<<"$out")" "STOPPED"
ctrd del task delete t4
expect_eq "ctr task delete exits 0" "$rc" 0
ctrd rm containers rm t4
expect_eq "ctr containers rm exits 0" "$rc" 0

# containerd cleans up after each shim when its connection closes, which may
# finish after ctr returned: wait for that (bounded), then look.
shim_procs() {
	pgrep -af -- "containerd-shim-hull-v2 .*-address $d/c.sock" || true
}
tasks=$d/state/io.containerd.runtime.v2.task/default
waited=0
while { [ -n "$(shim_procs)" ] || [ -n "$(ls -A "$tasks")" ]; } && [ "$waited" -lt 300 ]; do
	sleep 0.1
	waited=$((waited + 1))
done
expect_eq "no shim process is left" "$(shim_procs)" ""
vmms() { # hull-vmm processes started under this containerd
	local pid
	for pid in $(ctrd_procs); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != hull-vmm ] || echo "$pid"
	done
}
wait_until 30 test -z "$(vmms)"
expect_eq "no VM monitor (hull-vmm) is left" "$(vmms)" ""
expect_eq "no bundle is left" "$(ls -A "$tasks")" ""
expect_eq "no socket is left" "$(find "$d" -type s ! -name 'c.sock*' ! -name debug.sock)" ""
expect_eq "no rootfs image is left" "$(find "$d" -name 'hull-rootfs.ext4')" ""
ctrd c containers ls -q
expect_eq "no container record is left" "$out" ""
expect_eq "no mount is left under the test directory" "$(ctrd_mounts)" ""
expect_eq "hull's runtime directory has no container left" \
	"$(find "$HULL_RUNTIME_DIR" -mindepth 1 -maxdepth 1 ! -name lock 2>/dev/null)" ""

ctrd_stop
expect_eq "ctrd_stop succeeds" "$?" 0
expect_eq "... and removes its directory" "$(test -e "$d" && echo present)" ""
expect_eq "... and no process of it is left" "$(ctrd_procs "$d")" ""
finish
