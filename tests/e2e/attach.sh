#!/usr/bin/env bash
# hull attach to a detached container (run -d, then hull start of the same
# container: a VM from the suite's template each time): output produced
# after attaching, on the right stream and nothing from before; stdin piped
# into attach reaches a -d -i container, whose stdin stays open after an
# attach's EOF (docker's rule), one writer at a time; signals forwarded with
# --sig-proxy and not without; attach ends with the container's status (its
# own exit, a forwarded SIGTERM it traps, hull kill); refusals (unknown,
# stopped, created). Two more VMs: a -d -it container (the detach keys under
# script(1), the window size, "not a TTY") and a -d one without -i (attach
# reads no stdin). The container prints when the test says so (a command
# file written by hull exec, or a line on its stdin), never on guest timing,
# and the test waits until hull attach has the container log open before it
# asks for output.
. "$(dirname "$0")/lib.sh"

cleanup() {
	for c in $("$HULL" ps -aq 2>/dev/null); do "$HULL" rm -f "$c" >/dev/null 2>&1; done
	rm -rf "$tmp"
}

script='trap "echo got-term; exit 7" TERM
exec 3<&0
{ while IFS= read -r l <&3; do echo "in: $l"; done; echo stdin-eof; } &
echo ready
while :; do
	if [ -f /tmp/cmd ]; then
		c=$(cat /tmp/cmd); rm -f /tmp/cmd
		case "$c" in
		"say "*) echo "said ${c#say }" ;;
		"err "*) echo "stderr ${c#err }" >&2 ;;
		"exit "*) exit "${c#exit }" ;;
		esac
	fi
	sleep 1 & wait $!
done'

# tell CMD: the container acts on CMD (written whole: temp file, rename)
tell() {
	hull_cmd tell exec att sh -c 'echo "$1" >/tmp/cmd.new && mv /tmp/cmd.new /tmp/cmd' sh "$1"
	expect_eq "exec: told the container '$1'" "$rc" 0
}
readies() { "$HULL" logs att 2>/dev/null | grep -cx ready; }
ready_n() { [ "$(readies)" -ge "$1" ]; }
has() { grep -qxF -- "$2" "$tmp/$1" 2>/dev/null; } # FILE LINE
# attach_bg NAME ARGS...: hull attach ARGS in the background, output in
# $tmp/NAME.out and .err; $apid is its timeout's pid (hull runs under it)
attach_bg() {
	local name=$1
	shift
	timeout --kill-after=10 "$HULL_TEST_TIMEOUT" "$HULL" attach "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	apid=$!
}
# attached PID: the hull attach under timeout PID has the container log open
attached() {
	local h
	h=$(pgrep -P "$1") || return 1
	ls -l "/proc/$h/fd" 2>/dev/null | grep -q '/container\.log$'
}
# attach_in NAME FILE ARGS...: attach_bg with stdin from FILE
attach_in() {
	local name=$1 file=$2
	shift 2
	timeout --kill-after=10 "$HULL_TEST_TIMEOUT" "$HULL" attach "$@" \
		<"$file" >"$tmp/$name.out" 2>"$tmp/$name.err" 7>&- 8>&- &
	apid=$!
}
# fdpos PID: the file offset of stdin of the hull attach under timeout PID
fdpos() { awk '/^pos:/ {print $2}' "/proc/$(pgrep -P "$1")/fdinfo/0"; }
logs_have() { "$HULL" logs "$1" 2>/dev/null | grep -qxF -- "$2"; } # NAME LINE
# start_attached NAME N: hull start att (a new VM), wait for its Nth
# "ready", then attach NAME follows it; $apid as attach_bg
start_attached() {
	hull_cmd "start$2" start att
	expect_eq "start #$2 (a new VM) exits 0" "$rc" 0
	if wait_until "$HULL_TEST_TIMEOUT" ready_n "$2"; then pass "the container is ready (#$2)"; else fail "the container is ready (#$2)"; fi
	attach_bg "$1" att
	if wait_until 60 attached "$apid"; then pass "attach follows start #$2"; else fail "attach follows start #$2" "$(cat "$tmp/$1.err")"; fi
}
waited() { # PID: its exit status in $wrc
	wait "$1"
	wrc=$?
}

run_hull run1 -d -i --name att "$IMG" sh -c "$script"
expect_eq "run -d -i exits 0" "$rc" 0
if wait_until "$HULL_TEST_TIMEOUT" ready_n 1; then pass "the container is ready"; else fail "the container is ready"; fi

# --- output from now on, both streams; --sig-proxy=false -------------------------
attach_bg a1 att
a1=$apid
attach_bg a2 --sig-proxy=false --no-stdin att
a2=$apid
if wait_until 60 attached "$a1" && wait_until 60 attached "$a2"; then
	pass "two attaches follow the container"
else
	fail "two attaches follow the container" "$(cat "$tmp/a1.err" "$tmp/a2.err")"
fi
expect_eq "attach to a -i container (stdin /dev/null): nothing on stderr" "$(cat "$tmp/a1.err")" ""
expect_eq "attach --no-stdin: nothing on stderr" "$(cat "$tmp/a2.err")" ""
tell "say hello"
if wait_until 60 has a1.out "said hello" && wait_until 60 has a2.out "said hello"; then
	pass "attach prints a line written after it attached"
else
	fail "attach prints a line written after it attached" "a1: $(cat "$tmp/a1.out")" "a2: $(cat "$tmp/a2.out")"
fi
if ! has a1.out ready; then pass "attach prints nothing from before it attached"; else fail "attach prints nothing from before it attached"; fi
tell "err oops"
if wait_until 60 has a1.err "stderr oops"; then pass "the container's stderr goes to attach's stderr"; else fail "the container's stderr goes to attach's stderr" "$(cat "$tmp/a1.err")"; fi
if ! has a1.out "stderr oops"; then pass "stderr is not on stdout"; else fail "stderr is not on stdout"; fi

# --sig-proxy=false: SIGTERM ends that attach, not the container
kill -TERM "$(pgrep -P "$a2")"
waited "$a2"
expect_eq "attach --sig-proxy=false: SIGTERM ends attach (128+15)" "$wrc" 143
tell "say still here"
if wait_until 60 has a1.out "said still here"; then pass "--sig-proxy=false: the container still runs"; else fail "--sig-proxy=false: the container still runs" "$(cat "$tmp/a1.out")"; fi

# --- stdin (-i): piped into attach, through the container's supervisor ----------------
printf 'hello stdin\n' >"$tmp/in1"
attach_in p1 "$tmp/in1" att
p1=$apid
if wait_until 60 has p1.out "in: hello stdin"; then pass "stdin piped into attach reaches the -d -i container (attach's output)"; else fail "stdin piped into attach reaches the -d -i container (attach's output)" "$(cat "$tmp/p1.out" "$tmp/p1.err")"; fi
if logs_have att "in: hello stdin"; then pass "and hull logs has it"; else fail "and hull logs has it"; fi
expect_eq "attach read all of its stdin" "$(fdpos "$p1")" "$(stat -c %s "$tmp/in1")"
# the EOF of p1's stdin ended its forwarding, not the container's stdin
printf 'second\n' >"$tmp/in2"
attach_in p2 "$tmp/in2" att
p2=$apid
if wait_until 60 has p2.out "in: second"; then pass "after an attach's EOF the container's stdin stays open: a second attach forwards"; else fail "after an attach's EOF the container's stdin stays open: a second attach forwards" "$(cat "$tmp/p2.out" "$tmp/p2.err")"; fi
if ! "$HULL" logs att | grep -q stdin-eof; then pass "attach's EOF does not close the container's stdin (docker's -d -i)"; else fail "attach's EOF does not close the container's stdin (docker's -d -i)"; fi
if wait_until 60 has p1.out "in: second"; then pass "an attach whose stdin ended follows the output on"; else fail "an attach whose stdin ended follows the output on" "$(cat "$tmp/p1.out")"; fi
# one writer at a time: w1 holds the stdin while its fifo has a writer
mkfifo "$tmp/fifo"
exec 7<>"$tmp/fifo"
attach_in w1 "$tmp/fifo" att
w1=$apid
echo held >&7
if wait_until 60 has w1.out "in: held"; then pass "attach with an open stdin forwards"; else fail "attach with an open stdin forwards" "$(cat "$tmp/w1.err")"; fi
hull_cmd busy attach att </dev/null
expect_eq "a second attach with stdin meanwhile: status 1" "$rc" 1
expect_contains "and says one at a time" "$err" "one at a time"
exec 7>&-
printf 'after\n' >"$tmp/in3"
# w1's EOF frees the stdin once w1 has closed its connection
nosock() { ! ls -l "/proc/$(pgrep -P "$1")/fd" 2>/dev/null | grep -q 'socket:'; }
if wait_until 60 nosock "$w1"; then pass "attach closes its connection at its stdin's end"; else fail "attach closes its connection at its stdin's end"; fi
attach_in p3 "$tmp/in3" att
p3=$apid
if wait_until 60 has p3.out "in: after"; then pass "the stdin is free again once the writer's stdin ended"; else fail "the stdin is free again once the writer's stdin ended" "$(cat "$tmp/p3.err")"; fi

# --- the container's own exit --------------------------------------------------------
tell "exit 3"
waited "$a1"
expect_eq "attach exits with the container's status (exit 3)" "$wrc" 3
for p in "$p1" "$p2" "$w1" "$p3"; do
	waited "$p"
	expect_eq "a stdin attach exits with the container's status too" "$wrc" 3
done

# --- a TTY container (-d -it): detach keys, the window size, not a TTY ----------------
run_hull tty1 -d -it --name tt "$IMG" sh -c 'echo ready
while IFS= read -r l; do case "$l" in size) stty size ;; *) echo "got:$l" ;; esac; done'
expect_eq "run -d -it exits 0" "$rc" 0
tready() { "$HULL" logs tt 2>/dev/null | grep -q ready; }
if wait_until "$HULL_TEST_TIMEOUT" tready; then pass "the TTY container is ready"; else fail "the TTY container is ready"; fi
hull_cmd notty attach tt </dev/null
expect_eq "attach to a -t container with stdin not a terminal: status 1" "$rc" 1
expect_contains "docker's words" "$err" "the input device is not a TTY"
ts=$tmp/typescript
: >"$ts"
tsv() { tr -d '\r' <"$ts"; }
ts_has() { tsv | grep -q -- "$1"; }
mkfifo "$tmp/ttyin"
exec 8<>"$tmp/ttyin"
# shellcheck disable=SC2016 # expanded by the shell script(1) runs
timeout --kill-after=10 "$HULL_TEST_TIMEOUT" script -qfec \
	'stty rows 33 cols 77; "$HULL" attach tt; echo "attach-exit=$?"' "$ts" <"$tmp/ttyin" >/dev/null 2>&1 8>&- &
sjob=$!
echo hello >&8
if wait_until 60 ts_has "^got:hello"; then pass "-it: attach forwards the terminal's keys"; else fail "-it: attach forwards the terminal's keys" "$(tsv)"; fi
echo size >&8
if wait_until 60 ts_has "^33 77"; then pass "-it: the container's terminal has attach's size"; else fail "-it: the container's terminal has attach's size" "$(tsv)"; fi
printf '\020\021' >&8
if wait_until 60 ts_has "^attach-exit="; then pass "ctrl-p ctrl-q detach"; else fail "ctrl-p ctrl-q detach" "$(tsv)"; fi
expect_line "detached: status 1, as docker" "$(tsv)" "attach-exit=1"
expect_contains "detached: docker's words" "$(tsv)" "read escape sequence"
wait "$sjob"
hull_cmd running inspect -f '{{.State.Running}}' tt
expect_eq "the container runs on after the detach keys" "$out" true
# --detach-keys: another sequence, and the stdin is free again for it
: >"$ts"
timeout --kill-after=10 "$HULL_TEST_TIMEOUT" script -qfec \
	'"$HULL" attach --detach-keys=ctrl-x,e tt; echo "attach-exit=$?"' "$ts" <"$tmp/ttyin" >/dev/null 2>&1 8>&- &
sjob=$!
echo again >&8
if wait_until 60 ts_has "^got:again"; then pass "a second attach to the TTY container forwards"; else fail "a second attach to the TTY container forwards" "$(tsv)"; fi
printf '\030e' >&8
if wait_until 60 ts_has "^attach-exit=1"; then pass "--detach-keys=ctrl-x,e detach"; else fail "--detach-keys=ctrl-x,e detach" "$(tsv)"; fi
wait "$sjob"
exec 8>&-
hull_cmd badkeys attach --detach-keys=alt-x tt
expect_eq "--detach-keys=alt-x: bad usage (2)" "$rc" 2
expect_contains "names the key" "$err" "'alt-x'"
hull_cmd rmtt rm -f tt
expect_eq "rm -f of the TTY container" "$rc" 0

# --- without -i attach forwards nothing -------------------------------------------
run_hull noi1 -d --name noi "$IMG" sh -c 'echo ready; while :; do sleep 1000 & wait $!; done'
expect_eq "run -d (no -i) exits 0" "$rc" 0
attach_in n1 "$tmp/in1" noi
n1=$apid
if wait_until 60 attached "$n1"; then pass "attach follows a container without -i"; else fail "attach follows a container without -i" "$(cat "$tmp/n1.err")"; fi
expect_eq "without -i attach reads nothing of its stdin" "$(fdpos "$n1")" 0
hull_cmd killnoi kill noi
waited "$n1"
expect_eq "attach to the container without -i ends with it (137)" "$wrc" 137
hull_cmd rmnoi rm noi

# --- refusals ---------------------------------------------------------------------
hull_cmd stopped attach att
expect_eq "attach to an exited container: status 1" "$rc" 1
expect_contains "attach to an exited container: docker's error" "$err" \
	"You cannot attach to a stopped container"
hull_cmd unknown attach nosuch
expect_eq "attach to an unknown container: status 1" "$rc" 1
expect_contains "attach to an unknown container: says so" "$err" "nosuch"
hull_cmd created create --name fresh "$IMG" true
expect_eq "create exits 0" "$rc" 0
hull_cmd attcreated attach fresh
expect_eq "attach to a created container: status 1" "$rc" 1
expect_contains "attach to a created container: docker's error" "$err" \
	"You cannot attach to a stopped container"
hull_cmd badproxy attach --sig-proxy=maybe att
expect_eq "attach --sig-proxy=maybe: bad usage (2)" "$rc" 2

# --- --sig-proxy (default): SIGTERM reaches the container, which traps it ---------
start_attached a3 2
a3=$apid
kill -TERM "$(pgrep -P "$a3")"
waited "$a3"
expect_eq "attach forwards SIGTERM: the container's trap exits 7" "$wrc" 7
expect_line "attach printed the trap's line" "$(cat "$tmp/a3.out")" got-term

# --- hull kill ----------------------------------------------------------------------
start_attached a4 3
a4=$apid
hull_cmd kill kill att
expect_eq "kill exits 0" "$rc" 0
waited "$a4"
expect_eq "attach after hull kill: the container's status (128+9)" "$wrc" 137
hull_cmd insp inspect -f '{{.State.ExitCode}}' att
expect_eq "inspect agrees" "$out" 137

finish
