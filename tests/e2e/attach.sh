#!/usr/bin/env bash
# hull attach to a detached container (run -d, then hull start of the same
# container: a VM from the suite's template each time): output produced
# after attaching, on the right stream and nothing from before; signals
# forwarded with --sig-proxy and not without; attach ends with the
# container's status (its own exit, a forwarded SIGTERM it traps, hull kill);
# refusals (unknown, stopped, created). The container prints when the test
# says so (a command file written by hull exec), never on guest timing, and
# the test waits until hull attach has the container log open before it
# asks for output.
. "$(dirname "$0")/lib.sh"

cleanup() {
	for c in $("$HULL" ps -aq 2>/dev/null); do "$HULL" rm -f "$c" >/dev/null 2>&1; done
	rm -rf "$tmp"
}

script='trap "echo got-term; exit 7" TERM
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
expect_contains "attach to a -i container: says stdin is not forwarded" "$(cat "$tmp/a1.err")" \
	"stdin is not forwarded"
expect_eq "attach --no-stdin: no note" "$(cat "$tmp/a2.err")" ""
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

# --- the container's own exit --------------------------------------------------------
tell "exit 3"
waited "$a1"
expect_eq "attach exits with the container's status (exit 3)" "$wrc" 3

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
