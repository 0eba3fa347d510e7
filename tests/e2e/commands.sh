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
running() { [ "$(state "$1" .State.Status 2>/dev/null)" = running ]; }
hport=$((20000 + $$ % 20000))

script='echo hello; echo oops >&2
trap "exit 3" TERM
trap "echo late" USR1
echo ready
while :; do sleep 1000 & wait $!; done'

# --- create: registered, not booted -------------------------------------------
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
# (host-loopback=on: stats' NET I/O check fetches from a server on the host's loopback)
hull_cmd create create ${HULL_RUN_FLAGS:-} --name c1 -p "$hport:80" \
	--network slirp,host-loopback=on "$IMG" sh -c "$script"
expect_eq "create exits 0" "$rc" 0
id=$out
if [[ "$id" =~ ^[0-9a-f]{64}$ ]]; then pass "create prints the id"; else fail "create prints the id" "got: $id"; fi
expect_eq "create: status created" "$(state c1 .State.Status)" created
expect_eq "create: no monitor" "$(state c1 .Hull.MonitorPid)" 0
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
expect_eq "start: running" "$(state c1 .State.Status)" running
mon1=$(state c1 .Hull.MonitorPid)
hull_cmd exec exec c1 echo in-vm
expect_eq "start: exec reaches the VM" "$rc:$out" "0:in-vm"
if wait_until "$HULL_TEST_TIMEOUT" logs_have c1 ready; then pass "start: the process runs"; else fail "start: the process runs"; fi
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
if wait_until "$HULL_TEST_TIMEOUT" logs_have c1 late; then pass "logs: a later line arrives"; else fail "logs: a later line arrives"; fi
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
expect_eq "rename: the new name finds it" "$(state c2 .Id)" "$id"
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
expect_eq "the renamed container kept its name through its end" "$(state c2 .Name)" /c2
hull_cmd waitx wait c2 nosuch
expect_eq "wait on an unknown container: status 1" "$rc" 1
expect_eq "wait: the known one still answered" "$out" 3

# --- start again: a new VM, the log goes on ---------------------------------------
hull_cmd start2 start c2
expect_eq "start of an exited container exits 0" "$rc" 0
expect_eq "start again: running" "$(state c2 .State.Status)" running
if wait_until "$HULL_TEST_TIMEOUT" eval '[ "$("$HULL" logs c2 | grep -c "^ready$")" = 2 ]'; then
	pass "start again: the same log, the second run's lines after the first's"
else
	fail "start again: the same log" "$("$HULL" logs c2)"
fi
mon2=$(state c2 .Hull.MonitorPid)
if [ "$mon2" != "$mon1" ] && gone "$mon1"; then pass "start again: a new monitor"; else fail "start again: a new monitor" "$mon1 $mon2"; fi

# --- restart ----------------------------------------------------------------------
hull_cmd restart restart -t 30 c2
expect_eq "restart exits 0" "$rc" 0
expect_eq "restart: running" "$(state c2 .State.Status)" running
mon3=$(state c2 .Hull.MonitorPid)
if [ "$mon3" != "$mon2" ] && gone "$mon2"; then pass "restart: a new VM and monitor"; else fail "restart: a new VM and monitor" "$mon2 $mon3"; fi
hull_cmd exec3 exec c2 echo after-restart
expect_eq "restart: exec works" "$rc:$out" "0:after-restart"
hull_cmd port3 port c2 80
expect_eq "restart: the port is published again" "$out" "0.0.0.0:$hport"

# --- stats, info, system df (the container running) --------------------------------
hull_cmd stats stats --no-stream c2
expect_eq "stats --no-stream exits 0" "$rc" 0
expect_eq "stats: docker's header" "$(head -1 <<<"$out" | tr -s ' ')" \
	"CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS"
row=$(grep -F " c2 " <<<"$out")
sz='[0-9.e+]+[kMGT]?i?B'
if [[ "$row" =~ ^${id:0:12}\ +c2\ +[0-9.]+%\ +$sz\ /\ $sz\ +[0-9.]+%\ +$sz\ /\ $sz\ +$sz\ /\ $sz\ +[1-9][0-9]*$ ]]; then
	pass "stats: CPU %, memory, MEM %, NET I/O, BLOCK I/O and PIDS of its VM"
else
	fail "stats: CPU %, memory, MEM %, NET I/O, BLOCK I/O and PIDS of its VM" "$out"
fi
hull_cmd statsall stats --no-stream
expect_contains "stats without names: the running containers" "$out" " c2 "
hull_cmd statsx stats --no-stream nosuch
expect_eq "stats of an unknown container: status 1" "$rc" 1
hull_cmd statsf stats --no-stream --format '{{.Bogus}}' c2
expect_eq "stats --format with an unknown field: status 1" "$rc" 1
hull_cmd statsft stats --no-stream --format '{{.Name' c2
expect_eq "stats --format that does not parse: status 2" "$rc" 2

# --format json: docker's fields, one object per container
hull_cmd statsj stats --no-stream --format json c2
expect_eq "stats --format json: docker's keys and hull's KVM" \
	"$(jq -r 'keys | join(",")' <<<"$out")" \
	"BlockIO,CPUPerc,Container,ID,KVM,MemPerc,MemUsage,Name,NetIO,PIDs"
expect_eq "stats --format json: Name, Container, ID" \
	"$(jq -r '"\(.Name) \(.Container) \(.ID)"' <<<"$out")" "c2 c2 ${id:0:12}"
hull_cmd statst stats --no-stream --format '{{.Name}}={{.PIDs}}' c2
if [[ "$out" =~ ^c2=[1-9][0-9]*$ ]]; then pass "stats --format TEMPLATE"; else fail "stats --format TEMPLATE" "$out"; fi

# bytes as docker prints them ("1.23MB", "512MiB") back to a number
to_bytes() {
	awk -v s="$1" 'BEGIN {
		n = s; sub(/[kMGTi]*B$/, "", n); u = substr(s, length(n) + 1)
		m["B"] = 1; m["kB"] = 1e3; m["MB"] = 1e6; m["GB"] = 1e9; m["TB"] = 1e12
		m["KiB"] = 1024; m["MiB"] = 1048576; m["GiB"] = 1073741824; m["TiB"] = 1099511627776
		printf "%.0f\n", n * m[u] }'
}
# binary units as docker prints a memory size
iec() {
	awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1
		while (b >= 1024 && i < 5) { b /= 1024; i++ }
		if (i == 1) printf "%.0fB\n", b; else printf "%.4g%s\n", b, u[i] }'
}
stat_field() { "$HULL" stats --no-stream --format "{{.$2}}" "$1"; }
# grew BEFORE AFTER N: byte counts shown with 3 significant digits (each
# within 0.5% of the true count) allow a growth of at least N
grew() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { exit !(b * 1.005 - a * 0.995 >= n) }'; }

# NET I/O: the guest fetches N bytes from a server on the host; its NIC
# received at least that (frames' headers on top)
netn=3000000
mkdir -p "$tmp/www"
head -c "$netn" /dev/urandom >"$tmp/www/blob"
wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
busybox httpd -f -p "127.0.0.1:$wport" -h "$tmp/www" &
httpd=$!
for _ in $(seq 600); do curl -s -o /dev/null -m 5 "http://127.0.0.1:$wport/blob" && break; sleep 0.1; done
rx0=$(to_bytes "$(stat_field c2 NetIO | cut -d' ' -f1)")
hull_cmd wget exec c2 sh -c "wget -q -O - http://10.0.2.2:$wport/blob | wc -c"
expect_eq "stats: the guest fetched $netn bytes" "$rc:$out" "0:$netn"
kill "$httpd" 2>/dev/null
wait "$httpd" 2>/dev/null
rx1=$(to_bytes "$(stat_field c2 NetIO | cut -d' ' -f1)")
if grew "$rx0" "$rx1" "$netn"; then
	pass "stats: NET I/O received grew by at least the $netn bytes fetched"
else
	fail "stats: NET I/O received grew by at least the $netn bytes fetched" "$rx0 -> $rx1"
fi

# BLOCK I/O: the guest reads M bytes of its disk past its page cache
blkm=$((4 * 1048576))
rd0=$(to_bytes "$(stat_field c2 BlockIO | cut -d' ' -f1)")
kvm0=$("$HULL" stats --no-stream --format '{{json .KVM}}' c2)
hull_cmd dd exec c2 dd if=/dev/vda of=/dev/null bs=1048576 count=4 iflag=direct
expect_eq "stats: the guest read 4 MiB of its disk" "$rc" 0
rd1=$(to_bytes "$(stat_field c2 BlockIO | cut -d' ' -f1)")
kvm1=$("$HULL" stats --no-stream --format '{{json .KVM}}' c2)
# KVM's own counts (KVM_GET_STATS_FD): the VM has exited to KVM since it
# started, and more after the exec and the disk reads (each request an
# exit at least), whatever the host's backend; only KVM's names appear
ex0=$(jq -r '.exits // 0' <<<"$kvm0")
ex1=$(jq -r '.exits // 0' <<<"$kvm1")
if [[ "$ex0" =~ ^[0-9]+$ && "$ex1" =~ ^[0-9]+$ ]] && ((ex0 > 0 && ex1 > ex0)); then
	pass "stats: KVM exits counted, and grew with the guest's work"
else
	fail "stats: KVM exits counted, and grew with the guest's work" "$kvm0 -> $kvm1"
fi
known="exits io_exits mmio_exits halt_exits irq_exits signal_exits irq_window_exits"
known+=" request_irq_exits insn_emulation insn_emulation_fail pf_taken pf_guest pf_fixed"
known+=" pf_emulate irq_injections hypercalls tlb_flush halt_wait_ns pages_4k pages_2m"
odd=$(jq -r 'keys[]' <<<"$kvm1" | grep -vxF -f <(tr ' ' '\n' <<<"$known") || true)
expect_eq "stats: KVM's stats by KVM's names only" "$odd" ""

# the guest profile (HULL_VMM_PROFILE, a developer's switch): a run's vCPU
# RIPs, u64 each, some in the guest kernel's text (the exec, the exit)
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
HULL_VMM_PROFILE=$tmp/prof.bin hull_cmd prof run --rm ${HULL_RUN_FLAGS:-} --network none "$IMG" true
expect_eq "profile: the run exits 0" "$rc" 0
psize=$(stat -c %s "$tmp/prof.bin" 2>/dev/null || echo 0)
kern=$(od -An -v -t x8 -w8 "$tmp/prof.bin" 2>/dev/null | grep -c '^ *ffffffff8' || true)
if ((psize > 0 && psize % 8 == 0 && kern > 0)); then
	pass "profile: RIP samples written, $kern of $((psize / 8)) in the guest kernel"
else
	fail "profile: RIP samples written, some in the guest kernel" "$psize bytes, $kern kernel"
fi
if grew "$rd0" "$rd1" "$blkm"; then
	pass "stats: BLOCK I/O read grew by at least the $blkm bytes read"
else
	fail "stats: BLOCK I/O read grew by at least the $blkm bytes read" "$rd0 -> $rd1 ($err)"
fi
expect_eq "stats: BLOCK I/O written: the guest's disk is read-only" \
	"$(stat_field c2 BlockIO | cut -d' ' -f3)" "0B"

# MEM LIMIT: the VM's cgroup's (root), else the host's memory
lim=$(stat_field c2 MemUsage | sed 's|.* / ||')
vmm=$(pgrep -P "$(state c2 .Hull.MonitorPid)" -x hull-vmm)
if [ "$(id -u)" = 0 ]; then
	cgmem="/sys/fs/cgroup/memory$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' "/proc/$vmm/cgroup" | cut -d: -f3)"
	expect_eq "stats: MEM LIMIT is the VM's cgroup's limit" "$lim" \
		"$(iec "$(cat "$cgmem/memory.limit_in_bytes")")"
	pids=$(stat_field c2 PIDs)
	pmax=$(cat "/sys/fs/cgroup/pids$(grep -E '^[0-9]+:([^:]*,)?pids(,[^:]*)?:' "/proc/$vmm/cgroup" | cut -d: -f3)/pids.max")
	if [ "$pids" -ge 2 ] && [ "$pids" -le "$pmax" ]; then
		pass "stats: PIDS counts the cgroup's tasks"
	else
		fail "stats: PIDS counts the cgroup's tasks" "$pids (max $pmax)"
	fi
else
	expect_eq "stats: MEM LIMIT without a cgroup is the host's memory" "$lim" \
		"$(iec "$(($(getconf _PHYS_PAGES) * $(getconf PAGESIZE)))")"
fi

# streaming: a sample a second until the container ends
"$HULL" stats --format '{{.Name}} {{.CPUPerc}}' c2 >"$tmp/stream.out" 2>&1 &
streamer=$!
if wait_until "$HULL_TEST_TIMEOUT" eval '[ "$(grep -c "^c2 " "$tmp/stream.out")" -ge 2 ]'; then
	pass "stats streams: a new sample every second"
else
	fail "stats streams: a new sample every second" "$(cat "$tmp/stream.out")"
fi
expect_eq "stats streams: every line a sample" "$(grep -vc '^c2 [0-9.]*%$' "$tmp/stream.out")" 0
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
if wait_until 30 gone "$streamer"; then
	pass "stats streams until the container ends"
else
	fail "stats streams until the container ends" "$(tail -3 "$tmp/stream.out")"
	kill "$streamer" 2>/dev/null
fi
wait "$streamer"
expect_eq "stats stream: status 0 at the end" "$?" 0

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
