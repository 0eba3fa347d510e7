#!/usr/bin/env bash
# The VM runs in its own lean process: a running container's VM is a hull-vmm
# child of hull that owns /dev/kvm and maps none of the front end's libraries
# (libcurl, libarchive, libext2fs, libcrypto, libjson-c), while hull itself
# holds no KVM fd; and SIGKILL to hull leaves no hull-vmm behind (the monitor
# dies with its parent). One VM, restored from the suite's template.
. "$(dirname "$0")/lib.sh"

vpid=
hpid=
cleanup() {
	[ -n "$hpid" ] && kill -9 "$hpid" 2>/dev/null
	[ -n "$vpid" ] && kill -9 "$vpid" 2>/dev/null
	rm -rf "$tmp"
}
kvm_fds() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c '/dev/kvm\|kvm-vm\|kvm-vcpu'; }

# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
"$HULL" run ${HULL_RUN_FLAGS:-} "$IMG" sh -c 'echo up; while :; do sleep 1000 & wait $!; done' \
	>"$tmp/run.out" 2>"$tmp/run.err" </dev/null &
hpid=$!
last=run
if wait_until 240 grep -qx up "$tmp/run.out"; then
	pass "the container runs"
else
	fail "the container runs" "$(cat "$tmp/run.out")"
	finish
fi

vpids=$(pgrep -P "$hpid" -x hull-vmm)
expect_eq "hull has one hull-vmm child" "$(wc -w <<<"$vpids")" 1
vpid=${vpids%% *}
if [ -n "$vpid" ]; then
	maps=$(cat "/proc/$vpid/maps")
	for lib in libcurl libarchive libext2fs libcrypto libjson-c; do
		expect_not_contains "hull-vmm does not map $lib" "$maps" "/$lib"
	done
	# the same check can fail: the front end maps them
	expect_contains "hull itself maps libcurl (the check above can fail)" \
		"$(cat "/proc/$hpid/maps")" "/libcurl"
	if [ "$(kvm_fds "$vpid")" -gt 0 ]; then pass "hull-vmm holds the KVM fds"; else fail "hull-vmm holds the KVM fds" "$(ls -l "/proc/$vpid/fd")"; fi
	expect_eq "hull holds no KVM fd" "$(kvm_fds "$hpid")" 0
fi

kill -9 "$hpid"
wait "$hpid" 2>/dev/null
hpid=
if [ -n "$vpid" ] && wait_until 10 gone "$vpid"; then
	pass "SIGKILL to hull: its hull-vmm is gone too"
	vpid=
else
	fail "SIGKILL to hull: its hull-vmm is gone too" "hull-vmm $vpid still runs"
fi
finish
