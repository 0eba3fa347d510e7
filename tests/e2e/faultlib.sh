# shellcheck shell=bash
# Helpers of the fault tests (faults.sh, faults2.sh, faults3.sh): a `hull run` in the
# background whose processes the test can see, and the check that a run
# that ended badly left nothing behind. Sourced after lib.sh.

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

# rss_kib PID: its resident set (kB), 0 when gone
rss_kib() { awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# expect_growth DESC BEFORE AFTER LIMIT: AFTER (kB, 0: the process was gone)
# is set and grew from BEFORE by less than LIMIT kB
expect_growth() {
	if [ "$3" -gt 0 ] && [ "$3" -lt $(($2 + $4)) ]; then
		pass "$1 ($2 -> $3 kB)"
	else
		fail "$1" "$2 -> $3 kB (limit: $4 kB more)"
	fi
}

# bg_run NAME ARGS...: `hull run ARGS...` in the background ($hpid: the
# timeout around it; $hullpid: hull itself, written by the shell that execs
# it), its hull-vmm child in $vpid once it is there (or empty after 600 s, or
# when the run ended first), its hull-slirp in $spid (if any).
bg_run() {
	local name=$1
	shift
	rm -f "$tmp/$name.pid"
	# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
	timeout --kill-after=10 "$HULL_TEST_TIMEOUT" sh -c 'echo $$ >"$0"; exec "$@"' \
		"$tmp/$name.pid" "$HULL" run "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
	hpid=$!
	last=$name
	vpid=
	hullpid=
	local end=$((SECONDS + 600))
	while [ -z "$vpid" ] && [ $SECONDS -lt "$end" ] && ! gone "$hpid"; do
		[ -n "$hullpid" ] || hullpid=$(cat "$tmp/$name.pid" 2>/dev/null)
		[ -z "$hullpid" ] || vpid=$(pgrep -x hull-vmm -P "$hullpid" 2>/dev/null | head -n1)
		sleep 0.2
	done
	[ -n "$hullpid" ] || hullpid=$(cat "$tmp/$name.pid" 2>/dev/null)
	# the network helper, when the run has one (slirp, the default)
	spid=$(pgrep -x hull-slirp -P "$hullpid" 2>/dev/null | head -n1)
}
# bg_wait: the background run's status in $rc, output in $out/$err.
bg_wait() {
	wait "$hpid"
	rc=$?
	hpid=
	out=$(cat "$tmp/$last.out")
	err=$(cat "$tmp/$last.err")
}
# no_leaks WHAT: the run's hull-vmm and hull-slirp gone, no container state
# left (the runs use --rm), no socket or temporary file anywhere in the
# test's store, no cgroup of the run (as root: runtime/jail.c names them
# hull-<pid of hull>-...), no mount left under the test's directory but its
# own.
no_leaks() {
	local cg=
	[ -z "${hullpid:-}" ] ||
		cg=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "hull-$hullpid-*" 2>/dev/null)
	if [ -n "$vpid" ] && wait_until 10 gone "$vpid"; then
		pass "$1: no hull-vmm left"
	elif [ -z "$vpid" ] && [ -n "${hullpid:-}" ] && [ "$(id -u)" = 0 ] && [ -z "$cg" ]; then
		# a monitor that ended before the test saw it: it lived in
		# the run's cgroup, which cannot be removed while it holds a
		# process
		pass "$1: no hull-vmm left (its cgroup is gone)"
	else
		fail "$1: no hull-vmm left" "hull-vmm '${vpid}' (empty: never seen), cgroup '$cg'"
	fi
	if [ -n "$spid" ] && ! wait_until 10 gone "$spid"; then
		fail "$1: no hull-slirp left" "hull-slirp $spid still runs"
	fi
	local left
	left=$(find "$HULL_RUNTIME_DIR" "$HULL_ROOT" -mindepth 1 \( -type s -o -name '*.tmp*' \
		-o -name '.*tmp-*' \) 2>/dev/null)
	expect_eq "$1: no socket or temp file left" "$left" ""
	[ -z "${hullpid:-}" ] || expect_eq "$1: no cgroup left" "$cg" ""
	left=$(awk -v t="$tmp" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo)
	for m in "${mounts[@]}"; do left=$(grep -vxF "$m" <<<"$left"); done
	expect_eq "$1: no mount left" "$left" ""
	hull_cmd ps ps -a -q
	expect_eq "$1: no container state left" "$out" ""
}
