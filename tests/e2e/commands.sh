#!/usr/bin/env bash
# docker's lifecycle commands beyond run: create + start (-a), wait, rename,
# port, restart, logs -t/--since/--until; stats, info, system df. One container created, started,
# stopped, started again and restarted serves most assertions (three VMs
# from the suite's template), a second one start -a (one more VM).
. "$(dirname "$0")/lib.sh"

cleanup() {
	for c in $("$HULL" ps -aq 2>/dev/null); do "$HULL" rm -f "$c" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
state() { "$HULL" inspect "$1" | jq -r ".[0] | $2"; }
logs_have() { "$HULL" logs "$1" 2>/dev/null | grep -qx "$2"; }
running() { [ "$(state "$1" .state.status 2>/dev/null)" = running ]; }
hport=$((20000 + $$ % 20000))

script='echo hello; echo oops >&2
trap "exit 3" TERM
trap "echo late" USR1
echo ready
while :; do sleep 1000 & wait $!; done'

# --- create: registered, not booted -------------------------------------------
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
hull_cmd create create ${HULL_RUN_FLAGS:-} --name c1 -p "$hport:80" "$IMG" sh -c "$script"
expect_eq "create exits 0" "$rc" 0
id=$out
if [[ "$id" =~ ^[0-9a-f]{64}$ ]]; then pass "create prints the id"; else fail "create prints the id" "got: $id"; fi
expect_eq "create: status created" "$(state c1 .state.status)" created
expect_eq "create: no monitor" "$(state c1 .monitor_pid)" 0
hull_cmd psa ps -a
expect_contains "create: ps -a says Created" "$(grep -F " c1" <<<"$out")" "Created"
hull_cmd logs0 logs c1
expect_eq "create: logs of a created container: empty, status 0" "$rc:$out" "0:"
hull_cmd port0 port c1
expect_eq "create: no ports before it runs" "$rc:$out" "0:"
hull_cmd bad create --bogus "$IMG"
expect_eq "create --bogus: refused (125, docker's)" "$rc" 125
hull_cmd nostart start nosuch
expect_eq "start of an unknown container: status 1" "$rc" 1
expect_contains "start of an unknown container: explained" "$err" "no such container: nosuch"

# a wait begun before the start lasts through it to the end
"$HULL" wait c1 >"$tmp/wait-bg.out" 2>"$tmp/wait-bg.err" &
waiter=$!

# --- start --------------------------------------------------------------------
hull_cmd start start c1
expect_eq "start exits 0" "$rc" 0
expect_eq "start prints the id" "$out" "$id"
expect_eq "start: running" "$(state c1 .state.status)" running
mon1=$(state c1 .monitor_pid)
hull_cmd exec exec c1 echo in-vm
expect_eq "start: exec reaches the VM" "$rc:$out" "0:in-vm"
if wait_until 120 logs_have c1 ready; then pass "start: the process runs"; else fail "start: the process runs"; fi
hull_cmd again start c1
expect_eq "start of a running container: nothing to do, status 0" "$rc" 0
if kill -0 "$waiter" 2>/dev/null; then pass "wait blocks while it runs"; else fail "wait blocks while it runs"; fi

# --- port -----------------------------------------------------------------------
hull_cmd port port c1
expect_eq "port: the published port" "$rc:$out" "0:80/tcp -> 0.0.0.0:$hport"
hull_cmd port80 port c1 80/tcp
expect_eq "port PRIVATE: the host address" "$rc:$out" "0:0.0.0.0:$hport"
hull_cmd port81 port c1 81
expect_eq "port of an unpublished port: status 1" "$rc" 1
expect_contains "port of an unpublished port: explained" "$err" "no public port '81/tcp'"
hull_cmd portx port c1 http
expect_eq "port with a bad PRIVATE: usage, status 2" "$rc" 2
hull_cmd porty port c1 80 81
expect_eq "port with an extra argument: status 2" "$rc" 2

# --- logs -t, --since, --until --------------------------------------------------
hull_cmd kill kill -s USR1 c1
if wait_until 60 logs_have c1 late; then pass "logs: a later line arrives"; else fail "logs: a later line arrives"; fi
hull_cmd logst logs -t c1
t_hello=$(grep ' hello$' <<<"$out" | cut -d' ' -f1)
t_late=$(grep ' late$' <<<"$out" | cut -d' ' -f1)
if [[ "$t_hello" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$ ]]; then
	pass "logs -t: an RFC 3339 time before each line"
else
	fail "logs -t: an RFC 3339 time before each line" "$out"
fi
expect_contains "logs -t: stderr stamped too" "$err" "Z oops"
hull_cmd since logs --since "$t_late" c1
expect_eq "logs --since the late line's time: only it" "$out" "late"
hull_cmd until logs --until "$t_hello" c1
expect_eq "logs --until the first line's time: the first chunk, not the late line" \
	"$(grep -c late <<<"$out"):$(head -n1 <<<"$out")" "0:hello"
hull_cmd sinceago logs --since 1h c1
expect_line "logs --since 1h: all of it" "$out" "hello"
hull_cmd future logs --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" c1
expect_eq "logs --since the future: nothing" "$out$err" ""
hull_cmd unix logs --until 946684800 c1
expect_eq "logs --until 2000 (Unix seconds): nothing" "$out$err" ""
hull_cmd badsince logs --since yesterday c1
expect_eq "logs --since junk: usage error" "$rc" 2
expect_contains "logs --since junk: explained" "$err" "--since yesterday"

# --- rename ---------------------------------------------------------------------
hull_cmd ren rename c1 c2
expect_eq "rename exits 0" "$rc:$out" "0:"
expect_eq "rename: the new name finds it" "$(state c2 .id)" "$id"
hull_cmd old inspect c1
expect_eq "rename: the old name is gone" "$rc" 1
hull_cmd ren2 rename nosuch c3
expect_eq "rename of an unknown container: status 1" "$rc" 1
hull_cmd ren3 rename c2 'bad/name'
expect_eq "rename to an invalid name: status 1" "$rc" 1
hull_cmd ren4 rename c2
expect_eq "rename with one argument: usage, status 2" "$rc" 2

# --- stop, wait ----------------------------------------------------------------
hull_cmd stop stop -t 30 c2
expect_eq "stop exits 0" "$rc" 0
if wait_until 30 gone "$waiter"; then pass "the waiting wait returns"; else fail "the waiting wait returns"; fi
wait "$waiter"
expect_eq "the waiting wait: status 0" "$?" 0
expect_eq "the waiting wait: the exit status (trap: exit 3)" "$(cat "$tmp/wait-bg.out")" 3
hull_cmd wait wait c2
expect_eq "wait on an exited container: its status at once" "$rc:$out" "0:3"
expect_eq "the renamed container kept its name through its end" "$(state c2 .name)" c2
hull_cmd waitx wait c2 nosuch
expect_eq "wait on an unknown container: status 1" "$rc" 1
expect_eq "wait: the known one still answered" "$out" 3

# --- start again: a new VM, the log goes on ---------------------------------------
hull_cmd start2 start c2
expect_eq "start of an exited container exits 0" "$rc" 0
expect_eq "start again: running" "$(state c2 .state.status)" running
if wait_until 120 eval '[ "$("$HULL" logs c2 | grep -c "^ready$")" = 2 ]'; then
	pass "start again: the same log, the second run's lines after the first's"
else
	fail "start again: the same log" "$("$HULL" logs c2)"
fi
mon2=$(state c2 .monitor_pid)
if [ "$mon2" != "$mon1" ] && gone "$mon1"; then pass "start again: a new monitor"; else fail "start again: a new monitor" "$mon1 $mon2"; fi

# --- restart ----------------------------------------------------------------------
hull_cmd restart restart -t 30 c2
expect_eq "restart exits 0" "$rc" 0
expect_eq "restart: running" "$(state c2 .state.status)" running
mon3=$(state c2 .monitor_pid)
if [ "$mon3" != "$mon2" ] && gone "$mon2"; then pass "restart: a new VM and monitor"; else fail "restart: a new VM and monitor" "$mon2 $mon3"; fi
hull_cmd exec3 exec c2 echo after-restart
expect_eq "restart: exec works" "$rc:$out" "0:after-restart"
hull_cmd port3 port c2 80
expect_eq "restart: the port is published again" "$out" "0.0.0.0:$hport"

# --- stats, info, system df (the container running) --------------------------------
hull_cmd stats stats --no-stream c2
expect_eq "stats --no-stream exits 0" "$rc" 0
expect_contains "stats: header" "$out" "CPU %"
row=$(grep -F " c2 " <<<"$out")
if [[ "$row" =~ ^${id:0:12}\ +c2\ +[0-9.]+%\ +[0-9.]+MiB\ +--\ +[0-9.]+\ [kMG]?B\ /\ [0-9.]+\ [kMG]?B$ ]]; then
	pass "stats: CPU %, memory and block I/O of its VM"
else
	fail "stats: CPU %, memory and block I/O of its VM" "$out"
fi
hull_cmd statsall stats --no-stream
expect_contains "stats without names: the running containers" "$out" " c2 "
hull_cmd statsx stats --no-stream nosuch
expect_eq "stats of an unknown container: status 1" "$rc" 1
hull_cmd info info
expect_eq "info exits 0" "$rc" 0
expect_contains "info: KVM" "$out" " KVM: available"
expect_contains "info: the kernel" "$out" " Guest kernel: "
expect_line "info: one running container" "$out" "  Running: 1"
expect_contains "info: templates" "$out" " Templates: "
hull_cmd sinfo system info
expect_eq "system info: the same" "$rc" 0
hull_cmd df system df
expect_eq "system df exits 0" "$rc" 0
expect_eq "system df: the types" "$(awk 'NR>1 {print $1}' <<<"$out" | tr '\n' ' ')" "Images Containers Templates "
expect_eq "system df: one container, running" "$(awk '$1=="Containers" {print $2, $3}' <<<"$out")" "1 1"
hull_cmd dfx system df extra
expect_eq "system df with an extra argument: status 2" "$rc" 2
hull_cmd sysx system bogus
expect_eq "system with an unknown command: status 2" "$rc" 2

hull_cmd rm rm -f c2
expect_eq "rm -f" "$rc" 0
if wait_until 30 gone "$mon3"; then pass "rm -f: no monitor left"; else fail "rm -f: no monitor left"; fi

# --- start -a: attached, the container's status --------------------------------------
# shellcheck disable=SC2086
hull_cmd create2 create ${HULL_RUN_FLAGS:-} --name c3 "$IMG" sh -c 'echo attached; echo e >&2; exit 7'
expect_eq "create (2) exits 0" "$rc" 0
hull_cmd starta start -a c3
expect_eq "start -a: the container's status" "$rc" 7
expect_eq "start -a: its stdout" "$out" attached
expect_eq "start -a: its stderr" "$err" e
hull_cmd wait3 wait c3
expect_eq "wait after start -a" "$out" 7
hull_cmd startab start -a c3 c3
expect_eq "start -a with two containers: usage, status 2" "$rc" 2
hull_cmd rm3 rm c3
expect_eq "rm" "$rc" 0
finish
