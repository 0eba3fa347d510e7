#!/usr/bin/env bash
# Faults: each ends with a clear message, the right exit status and nothing
# left behind (no hull-vmm, no container state, socket or temp file).
# - a guest that never says READY (an initramfs whose init is busybox's, so
#   guest-init never comes up): given up after --ready-timeout, status 125;
# - a guest kernel panic (an initramfs that is not one: the kernel cannot
#   mount a root and panics): status 125, the panic shown from the console;
# - SIGKILL of the VM monitor (hull-vmm) while the container runs: 125;
# - a guest flooding its console (/dev/console, the UART) while the container
#   runs: no effect on the container's output or status;
# - the disk full during an image conversion (--root on a 1 MiB tmpfs): 125,
#   "no space left", no partial image;
# - the disk full during a template save (the templates on a 4 MiB tmpfs):
#   the run goes on (exit 0) with a warning, no partial template left.
# The first two and the last boot cold (their initramfs makes their own
# template key and --no-snapshot keeps them from making one; the last has no
# template where it looks); the others restore the suite's.
. "$(dirname "$0")/lib.sh"

hpid=
mounts=()
cleanup() {
	if [ -n "$hpid" ]; then
		pkill -9 -P "$hpid" -x hull 2>/dev/null # hull-vmm dies with it
		kill -9 "$hpid" 2>/dev/null
	fi
	for m in "${mounts[@]}"; do umount "$m"; done
	rm -rf "$tmp"
}
# small_fs DIR SIZE: a tmpfs of SIZE at DIR (unmounted at the end)
small_fs() {
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" && mounts+=("$1")
}
mkinitramfs=$(dirname "$0")/../../guest-init/mkinitramfs.sh

# bg_run NAME ARGS...: `hull run ARGS...` in the background ($hpid), its
# hull-vmm child in $vpid once it is there (or empty after 600 s).
bg_run() {
	local name=$1
	shift
	timeout --kill-after=10 "$HULL_TEST_TIMEOUT" "$HULL" run "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
	hpid=$!
	last=$name
	vpid=
	local end=$((SECONDS + 600))
	while [ -z "$vpid" ] && [ $SECONDS -lt "$end" ] && ! gone "$hpid"; do
		vpid=$(pgrep -x hull-vmm -P "$(pgrep -P "$hpid" -x hull)" 2>/dev/null | head -n1)
		sleep 0.2
	done
	# the network helper, when the run has one (slirp, the default)
	spid=$(pgrep -x hull-slirp -P "$(pgrep -P "$hpid" -x hull)" 2>/dev/null | head -n1)
}
# bg_wait: the background run's status in $rc, output in $out/$err.
bg_wait() {
	wait "$hpid"
	rc=$?
	hpid=
	out=$(cat "$tmp/$last.out")
	err=$(cat "$tmp/$last.err")
}
# no_leaks WHAT: the run's hull-vmm gone, no container state left (the runs
# use --rm), no socket or temporary file anywhere in the test's store.
no_leaks() {
	if [ -n "$vpid" ] && wait_until 10 gone "$vpid"; then
		pass "$1: no hull-vmm left"
	else
		fail "$1: no hull-vmm left" "hull-vmm '${vpid}' (empty: never seen)"
	fi
	if [ -n "$spid" ] && ! wait_until 10 gone "$spid"; then
		fail "$1: no hull-slirp left" "hull-slirp $spid still runs"
	fi
	local left
	left=$(find "$HULL_RUNTIME_DIR" "$HULL_ROOT" -mindepth 1 \( -type s -o -name '*.tmp*' \
		-o -name '.*tmp-*' \) 2>/dev/null)
	expect_eq "$1: no socket or temp file left" "$left" ""
	hull_cmd ps ps -a -q
	expect_eq "$1: no container state left" "$out" ""
}

# -- a guest that never says READY --
sh "$mkinitramfs" "$tmp/busybox-init.cpio" /bin/busybox
bg_run noready --rm --no-snapshot --ready-timeout 20 --initrd "$tmp/busybox-init.cpio" "$IMG" true
bg_wait
expect_eq "never READY: exit status 125" "$rc" 125
expect_contains "never READY: the reason is said" "$err" \
	"guest-init did not report ready within 20 s"
no_leaks "never READY"

# -- a guest kernel panic --
head -c 65536 /dev/urandom >"$tmp/junk.cpio"
bg_run panic --rm --no-snapshot --ready-timeout 900 --initrd "$tmp/junk.cpio" "$IMG" true
bg_wait
expect_eq "guest kernel panic: exit status 125" "$rc" 125
expect_contains "guest kernel panic: the VM's end is said" "$err" \
	"before the container reported an exit status"
expect_contains "guest kernel panic: the panic is shown" "$err" "Kernel panic"
no_leaks "guest kernel panic"

# -- SIGKILL of hull-vmm while the container runs --
bg_run vmmkill --rm "$IMG" sh -c 'echo up; while :; do sleep 1000 & wait $!; done'
if wait_until 600 grep -qx up "$tmp/vmmkill.out" && [ -n "$vpid" ]; then
	pass "SIGKILL of hull-vmm: the container runs first"
	kill -9 "$vpid"
else
	fail "SIGKILL of hull-vmm: the container runs first" "$(cat "$tmp/vmmkill.out")"
	pkill -P "$hpid" -x hull
fi
bg_wait
expect_eq "SIGKILL of hull-vmm: exit status 125" "$rc" 125
expect_contains "SIGKILL of hull-vmm: the VM's end is said" "$err" \
	"before the container reported an exit status"
no_leaks "SIGKILL of hull-vmm"

# -- a guest flooding its console (the kernel's log: every line goes out on
# the emulated UART) while the container prints its own output --
flood='i=0; while [ $i -lt 3000 ]; do echo "flood flood flood flood flood $i" >/dev/console; i=$((i+1)); done; echo done'
bg_run flood --rm "$IMG" sh -c "$flood"
bg_wait
expect_eq "console flood: the container exits 0" "$rc" 0
expect_line "console flood: its output arrives" "$out" "done"
no_leaks "console flood"

# -- the disk full during an image conversion --
small_fs "$tmp/full-store" 1m
hull_cmd convfull run --rm --root "$tmp/full-store" "$IMG" true
expect_eq "disk full in a conversion: exit status 125" "$rc" 125
expect_contains "disk full in a conversion: said so" "$err" "no space left"
left=$(find "$tmp/full-store" -type f ! -name '*.lock')
expect_eq "disk full in a conversion: no partial image left" "$left" ""

# -- the disk full during a template save (a cold boot: no template there) --
small_fs "$tmp/full-templates" 4m
HULL_TEMPLATE_DIR=$tmp/full-templates bg_run savefull --rm "$IMG" sh -c 'echo still-runs'
bg_wait
expect_eq "disk full in a template save: the run exits 0" "$rc" 0
expect_line "disk full in a template save: the container ran" "$out" "still-runs"
expect_contains "disk full in a template save: a warning says why" "$err" \
	"could not save a template"
expect_eq "disk full in a template save: no partial template left" \
	"$(find "$tmp/full-templates" -mindepth 1)" ""
no_leaks "disk full in a template save"
finish
