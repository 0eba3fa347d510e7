#!/usr/bin/env bash
# Terminals (-t) and signals to hull: three VMs side by side.
. "$(dirname "$0")/lib.sh"

# -it under script(1): a pty in the guest sized like the host terminal, raw
# host terminal (^C is a byte the guest's line discipline turns into SIGINT),
# SIGWINCH followed, stderr merged into the terminal, TERM set.
ts=$tmp/typescript
: >"$ts"
# Patterns are anchored or specific: script(1)'s header quotes the command.
waitfor() { # PATTERN: until the typescript shows it (or 600 s)
	for _ in $(seq 3000); do grep -q "$1" "$ts" && return 0; sleep 0.2; done
	return 1
}
# The containers here wait with `sleep & wait`: wait returns as soon as a
# trapped signal arrives, so the trap runs at once; a foreground sleep would
# hold it back until the sleep ends, seconds on a loaded host whose guest
# kernel is emulated (longer than --stop-timeout 2 below).
inner='tty; stty size; echo "term=$TERM"; echo to-stderr >&2
trap "stty size" WINCH; trap "echo got-int; exit 5" INT; echo ready
while :; do sleep 1000 & wait $!; done'
# shellcheck disable=SC2016 # expanded by the shell script(1) runs
cmd='stty rows 30 cols 100
(while ! grep -q "^ready" "$TS"; do sleep 0.2; done; stty rows 40 cols 120 </dev/tty) &
"$HULL" run ${HULL_RUN_FLAGS:-} -it "$IMG" sh -c "$INNER"
echo "hull-exit=$?"'
(waitfor '^40 120' && printf '\003'; waitfor 'hull-exit=[0-9]') |
	TS=$ts INNER=$inner timeout --kill-after=10 600 script -qfec "$cmd" "$ts" >/dev/null 2>&1 &
tty_job=$!

# Signals to hull. Both containers report "ready" once their traps are set.
started() { # FILE: until it has "ready" (or 600 s)
	for _ in $(seq 3000); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.2; done
	return 1
}
# shellcheck disable=SC2086
timeout --foreground 600 "$HULL" run ${HULL_RUN_FLAGS:-} "$IMG" sh -c \
	'echo "stdin=$(wc -c)"; trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 1000 & wait $!; done' \
	>"$tmp/term.out" 2>"$tmp/term.err" &
term_pid=$!
# shellcheck disable=SC2086
timeout --foreground 600 "$HULL" run ${HULL_RUN_FLAGS:-} --stop-signal QUIT --stop-timeout 2 "$IMG" sh -c \
	'trap "echo got-quit" QUIT; trap "echo got-term" TERM; echo ready
	while :; do sleep 1000 & wait $!; done' \
	>"$tmp/kill.out" 2>"$tmp/kill.err" &
kill_pid=$!
started "$tmp/term.out" && kill -TERM $term_pid
wait $term_pid
rc=$?
last=term
expect_eq "SIGTERM to hull: a container that traps it exits 0" "$rc" 0
expect_line "SIGTERM to hull reaches the container" "$(cat "$tmp/term.out")" got-term
expect_line "without -i the container's stdin is empty" "$(tr -d ' ' <"$tmp/term.out")" stdin=0
started "$tmp/kill.out"
t0=$(date +%s%N)
kill -TERM $kill_pid
wait $kill_pid
rc=$?
t1=$(date +%s%N)
last=kill
expect_eq "--stop-timeout: a container that ignores the stop signal is killed (137)" "$rc" 137
expect_line "--stop-signal: the container got SIGQUIT" "$(cat "$tmp/kill.out")" got-quit
expect_not_contains "--stop-signal: not SIGTERM" "$(cat "$tmp/kill.out")" got-term
ms=$(((t1 - t0) / 1000000))
if [ "$ms" -ge 1900 ]; then pass "--stop-timeout 2: SIGKILL came after the timeout (${ms} ms)"; else fail "--stop-timeout 2: SIGKILL came after the timeout" "after ${ms} ms"; fi

run_hull badsig --stop-signal SIGNOPE "$IMG" true
expect_eq "--stop-signal with a bad name exits 125" "$rc" 125
expect_contains "and names it" "$err" "SIGNOPE"
wait $tty_job
tsout=$(tr -d '\r' <"$ts")
last=
expect_line "-t: the container's stdin is a pty" "$tsout" /dev/pts/0
expect_line "-t: the pty has the host terminal's size" "$tsout" "30 100"
expect_line "-t: TERM defaults to xterm" "$tsout" "term=xterm"
expect_line "-t: stderr goes to the terminal" "$tsout" "to-stderr"
expect_line "-t: a window size change reaches the container" "$tsout" "40 120"
expect_contains "-it: ^C is SIGINT for the container" "$tsout" "got-int"
expect_contains "-it: hull exits with the container's status" "$tsout" "hull-exit=5"

finish
