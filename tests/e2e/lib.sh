# shellcheck shell=bash
# Helpers for hull's end-to-end tests. Every test here drives the real hull
# binary, which boots real microVMs on /dev/kvm with the bundled guest kernel
# and init. A machine without a usable /dev/kvm FAILS these tests: a skipped VM
# test would hide a broken product.
set -u
: "${HULL:?HULL must name the hull binary}"
: "${IMG:?IMG must name the test image}"

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hull-e2e.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
# Each test file gets its own image store, so tests can run in parallel and
# the cache checks see only their own conversions. Templates (pre-booted VMs)
# are shared through HULL_TEMPLATE_DIR when the suite sets it: the e2e-template
# test makes the template first, the others start from it.
export HULL_ROOT="$tmp/store"
# and its own runtime directory (containers' state, hull ps), so that runs
# never land in the user's.
export HULL_RUNTIME_DIR="$tmp/run"

if [ ! -c /dev/kvm ] || ! { exec 9<>/dev/kvm; } 2>/dev/null; then
	echo "FAIL: /dev/kvm is missing or not usable by $(id -un): end-to-end tests need KVM"
	echo "0 passed, 1 failed"
	exit 1
fi
exec 9>&-

# A hull command that runs longer than this (seconds) is killed: a bound for a
# hung VM, not a guess at how long a VM takes (one cold boot took over 240 s
# on a 2-core host loaded ~20 deep: the guest kernel is emulated there).
: "${HULL_TEST_TIMEOUT:=600}"

# run_hull NAME ARGS...: `hull run ARGS...`; keeps stdout/stderr in $out/$err
# and the status in $rc. A hung VM is killed after HULL_TEST_TIMEOUT seconds.
run_hull() {
	local name=$1
	shift
	# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
	hull_cmd "$name" run ${HULL_RUN_FLAGS:-} "$@"
}

# hull_cmd NAME ARGS...: `hull ARGS...`, same bookkeeping as run_hull.
hull_cmd() {
	local name=$1
	shift
	timeout --kill-after=10 "$HULL_TEST_TIMEOUT" "$HULL" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	out=$(cat "$tmp/$name.out")
	err=$(cat "$tmp/$name.err")
	last=$name
}

# status_field STATUS KEY: KEY's value in STATUS (a /proc/PID/status),
# its tab-separated parts joined by single spaces ("Uid" -> "999 999 999 999")
status_field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' <<<"$1"; }

pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	shift
	for l in "$@"; do echo "       $l"; done
	if [ -n "${last:-}" ]; then
		echo "       --- stderr of '$last' ---"
		sed 's/^/       | /' "$tmp/$last.err" | tail -n 40
	fi
}

expect_eq() { # DESC GOT WANT
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got:  $2" "want: $3"; fi
}
expect_line() { # DESC TEXT LINE: TEXT has LINE as a whole line
	if grep -qxF -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "no line '$3' in:" "$2"; fi
}
expect_contains() { # DESC TEXT NEEDLE
	if grep -qF -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "no '$3' in:" "$2"; fi
}
expect_not_contains() { # DESC TEXT NEEDLE
	if grep -qF -- "$3" <<<"$2"; then fail "$1" "unexpected '$3' in:" "$2"; else pass "$1"; fi
}

# wait_until SECONDS CMD...: poll CMD until it succeeds; status 1 on timeout.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.2
	done
}
# gone PID: exited (a zombie has exited: its reaper may be slow)
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
