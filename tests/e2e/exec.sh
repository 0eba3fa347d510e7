#!/usr/bin/env bash
# hull exec: one long-running container, many exec sessions into it.
. "$(dirname "$0")/lib.sh"

# The VM's vsock socket U is in the container's directory under
# HULL_RUNTIME_DIR (lib.sh); `hull exec` takes U's path or the container's
# name (tests/e2e/lifecycle.sh uses names).
# The main process ends on SIGUSR1 (an exec sends it, at the end); it waits
# with `sleep & wait`, which a trapped signal interrupts at once, not with a
# foreground sleep or a polling loop that run at the guest timer's pace.
# shellcheck disable=SC2086
timeout 600 "$HULL" run ${HULL_RUN_FLAGS:-} --name main "$IMG" sh -c \
	'trap "exit 9" USR1; echo $$ >/tmp/mainpid; echo shared-by-main >/data/shared; echo ready
	while :; do sleep 1000 & wait $!; done' \
	>"$tmp/main.out" 2>"$tmp/main.err" &
main=$!
for _ in $(seq 3000); do grep -q ready "$tmp/main.out" 2>/dev/null && break; sleep 0.2; done
if ! grep -q ready "$tmp/main.out"; then
	fail "the container started" "$(cat "$tmp/main.err")"
	finish
fi
u=$("$HULL" inspect main | jq -r '.[0].Hull.VsockSocket')
if [ -S "$u" ]; then pass "the VM's vsock socket is there"; else fail "the VM's vsock socket is there" "got: $u"; fi

hull_cmd files exec "$u" cat /data/shared
expect_eq "exec sees a file the main process wrote" "$out" shared-by-main
expect_eq "exec exits 0" "$rc" 0

hull_cmd pids exec "$u" sh -c 'p=$(cat /tmp/mainpid); [ -d /proc/$p ] && echo proc-ok; ps -o pid,args | grep -v grep | grep -q "^ *$p .*mainpid" && echo ps-ok'
expect_line "exec sees the main process in /proc (one PID namespace)" "$out" proc-ok
expect_line "exec sees the main process in ps" "$out" ps-ok

hull_cmd streams exec "$u" sh -c 'echo to-out; echo to-err >&2; exit 42'
expect_eq "exec: the exit status is the process's" "$rc" 42
expect_eq "exec: stdout" "$out" to-out
expect_eq "exec: stderr apart" "$err" to-err

hull_cmd defaults exec "$u" sh -c 'echo "foo=$FOO pwd=$(pwd) id=$(id -u)"'
expect_eq "exec: the container's env, workdir and user by default" "$out" "foo=image pwd=/data id=0"
hull_cmd opts exec -e FOO=exec -e NEW=1 -w /tmp -u 1000:1000 "$u" sh -c 'echo "foo=$FOO new=$NEW pwd=$(pwd) id=$(id -u):$(id -g)"'
expect_eq "exec: -e, -w and -u apply" "$out" "foo=exec new=1 pwd=/tmp id=1000:1000"

hull_cmd stdin exec -i "$u" wc -c < <(printf abc)
expect_eq "exec -i: stdin reaches the process" "$(tr -d ' ' <<<"$out")" 3
hull_cmd nostdin exec "$u" wc -c < <(printf abc)
expect_eq "exec without -i: empty stdin" "$(tr -d ' ' <<<"$out")" 0

hull_cmd missing exec "$u" /no/such/cmd
expect_eq "exec: a missing command exits 127" "$rc" 127
expect_contains "exec: and says which" "$err" /no/such/cmd

script -qec "stty rows 12 cols 34; \"$HULL\" exec -t \"$u\" sh -c 'tty; stty size; echo term=\$TERM'" \
	"$tmp/exec.ts" >/dev/null 2>&1
tsout=$(tr -d '\r' <"$tmp/exec.ts")
last=
expect_contains "exec -t: a pty" "$tsout" /dev/pts/
expect_line "exec -t: sized like the terminal" "$tsout" "12 34"
expect_line "exec -t: TERM=xterm" "$tsout" "term=xterm"

hull_cmd badname exec no-such-container true
expect_eq "exec in an unknown container exits 125" "$rc" 125
expect_contains "exec in an unknown container: explained" "$err" "no such container"

# End the container from an exec: the main process's status is hull run's.
hull_cmd stop exec "$u" sh -c 'kill -USR1 "$(cat /tmp/mainpid)"'
wait $main
rc=$?
last=main
expect_eq "hull run exits with the main process's status" "$rc" 9
if [ -e "$u" ]; then fail "the vsock socket is gone after the run" "$u"; else pass "the vsock socket is gone after the run"; fi
finish
