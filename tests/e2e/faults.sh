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
. "$(dirname "$0")/faultlib.sh"

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
