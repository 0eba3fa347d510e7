#!/usr/bin/env bash
# The VM runs in its own lean process: a running container's VM is a hull-vmm
# child of hull that owns /dev/kvm and maps none of the front end's libraries
# (libcurl, libarchive, libext2fs, libcrypto, libjson-c), while hull itself
# holds no KVM fd; user-mode networking (the default) runs in a hull-slirp
# helper, so hull-vmm maps no libslirp or glib either; every thread of both
# runs under a seccomp filter (Seccomp: 2 in /proc/PID/task/*/status: the
# control thread, the event loop and each vCPU of hull-vmm, and hull-slirp);
# and SIGKILL to hull leaves no hull-vmm or hull-slirp behind (both die with
# their parent). One VM, restored from the suite's template.
. "$(dirname "$0")/lib.sh"

vpid=
hpid=
spid=
cleanup() {
	[ -n "$hpid" ] && kill -9 "$hpid" 2>/dev/null
	[ -n "$vpid" ] && kill -9 "$vpid" 2>/dev/null
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	rm -rf "$tmp"
}
kvm_fds() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c '/dev/kvm\|kvm-vm\|kvm-vcpu'; }
# "<threads> <threads with a seccomp filter>" of process $1
seccomp_threads() {
	local n=0 f=0 st
	for st in /proc/"$1"/task/*/status; do
		n=$((n + 1))
		grep -qx 'Seccomp:[[:space:]]*2' "$st" && f=$((f + 1))
	done
	echo "$n $f"
}

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
spids=$(pgrep -P "$hpid" -x hull-slirp)
expect_eq "hull has one hull-slirp child (the network helper)" "$(wc -w <<<"$spids")" 1
spid=${spids%% *}
if [ -n "$spid" ]; then
	# the same check can fail: the helper maps them
	expect_contains "hull-slirp maps libslirp (the check below can fail)" \
		"$(cat "/proc/$spid/maps")" "/libslirp"
	expect_eq "hull-slirp holds no KVM fd" "$(kvm_fds "$spid")" 0
	expect_eq "hull-slirp's one thread runs under its seccomp filter" \
		"$(seccomp_threads "$spid")" "1 1"
fi
expect_eq "hull has one hull-vmm child" "$(wc -w <<<"$vpids")" 1
vpid=${vpids%% *}
if [ -n "$vpid" ]; then
	maps=$(cat "/proc/$vpid/maps")
	for lib in libcurl libarchive libext2fs libcrypto libjson-c libslirp libglib; do
		expect_not_contains "hull-vmm does not map $lib" "$maps" "/$lib"
	done
	# the same check can fail: the front end maps them
	expect_contains "hull itself maps libcurl (the check above can fail)" \
		"$(cat "/proc/$hpid/maps")" "/libcurl"
	if [ "$(kvm_fds "$vpid")" -gt 0 ]; then pass "hull-vmm holds the KVM fds"; else fail "hull-vmm holds the KVM fds" "$(ls -l "/proc/$vpid/fd")"; fi
	expect_eq "hull holds no KVM fd" "$(kvm_fds "$hpid")" 0
	# control + event loop + 1 vCPU (the default), each with its filter
	# (and, on newer hosts, KVM's own worker task, which inherits the vCPU's)
	read -r nthreads nfiltered <<<"$(seccomp_threads "$vpid")"
	if [ "$nthreads" -ge 3 ] && [ "$nfiltered" = "$nthreads" ]; then
		pass "every hull-vmm thread runs under a seccomp filter ($nfiltered of $nthreads)"
	else
		fail "every hull-vmm thread runs under a seccomp filter" \
			"$nfiltered of $nthreads threads: $(grep -H Seccomp: /proc/"$vpid"/task/*/status)"
	fi
	# the same check can fail: the front end has no filter
	expect_eq "hull itself runs without one (the check above can fail)" \
		"$(seccomp_threads "$hpid")" "1 0"
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
if [ -n "$spid" ] && wait_until 10 gone "$spid"; then
	pass "SIGKILL to hull: its hull-slirp is gone too"
	spid=
else
	fail "SIGKILL to hull: its hull-slirp is gone too" "hull-slirp ${spid:-(none)} still runs"
fi
finish
