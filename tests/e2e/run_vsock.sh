#!/usr/bin/env bash
# The control channel runs over virtio-vsock: bulk output arrives intact and
# in full, stdout and stderr apart, and a run leaves no socket behind, also
# when the VM fails to start.
. "$(dirname "$0")/lib.sh"
# the VM's sockets live in the container's directory under HULL_RUNTIME_DIR
# (set by lib.sh); the directory itself stays until hull rm (cli/runtime.h)
sockets() { find "$HULL_RUNTIME_DIR" -type s; }

# ~4 MB of numbered lines (order and content checkable); each 4 KiB of
# output costs the guest a few emulated system calls, so on a busy PVM host
# this takes minutes: a longer leash than the default.
HULL_TEST_TIMEOUT=800 run_hull bulk "$IMG" sh -c 'seq 1 600000; seq 1 100000 >&2; echo end'
expect_eq "bulk output: exit 0" "$rc" 0
expect_eq "4 MB on stdout arrive in full" "$(stat -c %s "$tmp/bulk.out")" 4088899
expect_eq "stdout is intact, in order" "$(sha256sum <"$tmp/bulk.out")" \
	"$( { seq 1 600000; echo end; } | sha256sum)"
expect_eq "stderr is intact and separate" "$(sha256sum <"$tmp/bulk.err")" "$(seq 1 100000 | sha256sum)"
expect_eq "no socket left after a run" "$(sockets)" ""

# The VMM is set up (vsock socket bound) before the kernel turns out bogus.
printf 'not a kernel\n' >"$tmp/bogus-kernel"
run_hull badkernel --no-snapshot --kernel "$tmp/bogus-kernel" "$IMG" true
expect_eq "a bogus kernel: hull fails with 125" "$rc" 125
expect_contains "a bogus kernel: the reason is given" "$err" "bogus-kernel"
expect_eq "no socket left after a failed start" "$(sockets)" ""
finish
