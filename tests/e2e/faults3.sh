#!/usr/bin/env bash
# Faults, third part: each ends with a clear message, the right exit status
# and nothing left behind (no hull-vmm or hull-slirp, socket, cgroup, mount,
# temp file or container state):
# - the whole VM out of memory (no memory cgroup in the guest, a VM of the
#   smallest size, 64 MiB): the guest kernel's global OOM killer kills the
#   container's process, guest-init (PID 1, which the kernel never picks)
#   reports it: status 137 and "the VM ran out of memory (give it more with
#   --memory)"; hull-vmm's own memory (apart from guest RAM) stays flat and
#   its guest RAM stays within the VM's size;
# - a guest flooding its network virtqueue (UDP datagrams through syslogd's
#   remote logging, pings back to back and fragmented, TCP connects, all to
#   the slirp gateway, which answers or refuses each: none of it leaves
#   hull-slirp, whose host loopback is closed): exec and stop answer during
#   the flood, hull-vmm's own memory and hull-slirp's stay bounded, and so do
#   hull-slirp's sockets; the run ends with the stop's status, 143.
# The OOM test's VM has a size of its own: its first run boots cold and
# saves a template of that size, later runs restore it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faultlib.sh"

# own_kib PID GUEST_KIB: its resident set apart from the guest RAM mapping
# (the one mapping of GUEST_KIB; the rest is the monitor's own memory), and
# that mapping's resident part, as "OWN GUEST" (kB); "0 0" when gone
own_kib() {
	awk -v g="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { cur = 0 }
		/^Size:/ { cur = ($2 == g) }
		/^Rss:/ { if (cur) guest += $2; else own += $2 }
		END { print own + 0, guest + 0 }' "/proc/$1/smaps" 2>/dev/null || echo "0 0"
}
# watch_mem PID GUEST_KIB FILE: samples own_kib every 0.2 s while PID lives,
# keeps the largest of each in FILE ("OWN GUEST")
watch_mem() {
	local own=0 guest=0 o g
	while ! gone "$1"; do
		read -r o g < <(own_kib "$1" "$2")
		[ "$o" -le "$own" ] || own=$o
		[ "$g" -le "$guest" ] || guest=$g
		echo "$own $guest" >"$3.tmp" && mv "$3.tmp" "$3"
		sleep 0.2
	done
}
# nfds PID: its open file descriptors, sockets apart: "FDS SOCKETS"
nfds() {
	local all sock
	all=$(find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l)
	sock=$(find "/proc/$1/fd" -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
	echo "$all $sock"
}

# -- the whole VM out of memory. dd's buffer (50 MiB: less than the VM's
# RAM, so the guest's heuristic overcommit grants it) is touched page after
# page as read(2) of /dev/zero fills it; with the kernel, guest-init and the
# page cache the 64 MiB VM cannot hold it, no swap, no memory cgroup: the
# global OOM killer picks the largest process, dd (the container's process:
# exec). guest-init, the guest's PID 1, is never a candidate (the kernel
# exempts the global init); it reads the kernel's record of the kill and
# says so before the exit status. The fill costs a guest page fault per
# page (~12,000 of them), ~2 ms each on an idle PVM host: a minute and a
# half at load 10, over ten at load 35 (this host's bench), hence a bound
# of its own for this run --
HULL_TEST_TIMEOUT=$((HULL_TEST_TIMEOUT * 4)) bg_run oomvm --rm -m 64M "$IMG" sh -c 'exec dd if=/dev/zero of=/dev/null bs=50M'
mem_watch=
if [ -n "$vpid" ]; then
	watch_mem "$vpid" $((64 * 1024)) "$tmp/oomvm.mem" &
	mem_watch=$!
fi
bg_wait
[ -z "$mem_watch" ] || wait "$mem_watch"
expect_eq "VM out of memory: exit status 137 (not a hang, not a panic)" "$rc" 137
expect_contains "VM out of memory: said so" "$err" \
	"hull: the container's process was killed by the guest's OOM killer: the VM ran out of memory (give it more with --memory)"
expect_not_contains "VM out of memory: the guest kernel did not panic" "$err" "panicked"
read -r own guest <"$tmp/oomvm.mem" 2>/dev/null || own=0 guest=0
echo "#    hull-vmm during the OOM: at most ${own} kB of its own, ${guest} kB of guest RAM resident"
# guest RAM: the mapping is the VM's size, so it cannot exceed 64 MiB; the
# monitor's own memory (code, heap, thread stacks, virtqueue buffers) is
# ~2-5 MiB: 16 MiB is generous and still catches a copy of guest memory
if [ "$guest" -gt 0 ] && [ "$guest" -le $((64 * 1024)) ] && [ "$own" -gt 0 ] &&
	[ "$own" -lt $((16 * 1024)) ]; then
	pass "VM out of memory: hull-vmm's memory stays bounded"
else
	fail "VM out of memory: hull-vmm's memory stays bounded" "own ${own} kB, guest RAM ${guest} kB"
fi
no_leaks "VM out of memory"

# -- a guest flooding its network virtqueue, all to the slirp gateway
# (10.0.2.2), whose host loopback is closed: slirp answers or refuses every
# packet itself, nothing leaves hull-slirp. Each round: 100 log lines that
# syslogd forwards as UDP datagrams to two closed ports (200 datagrams,
# each answered by an ICMP port unreachable), 100 pings of 1,400 bytes and
# 20 of 8,000 bytes (6 fragments each way: slirp reassembles and answers),
# each sent as soon as the last reply came (-A; busybox's -i 0 hangs once
# all are sent), 4 TCP connects to closed ports (slirp resets them): about
# 450 frames out and as many in. An address of slirp's network that nobody
# has would not do: no ARP reply, the guest never sends to it. The rounds
# are bounded (200), far more than the test waits for: the VM is stopped in
# the middle --
# shellcheck disable=SC2016 # the container's shell expands them
flood='syslogd -n -R 10.0.2.2:9 -R 10.0.2.2:7 &
while [ ! -S /dev/log ]; do sleep 0.1; done
i=0
echo flood-start
while [ $i -lt 200 ]; do
	yes flood-flood-flood-flood-flood | head -n 100 | logger -t flood
	ping -q -A -c 100 -s 1400 10.0.2.2 >/dev/null
	ping -q -A -c 20 -s 8000 10.0.2.2 >/dev/null
	for p in 1 7 9 13; do nc -w 1 10.0.2.2 $p </dev/null 2>/dev/null; done
	i=$((i + 1))
	echo round $i
done
echo flood-done
exec sleep 100000'
# round_done N: the container reported round N (or the whole flood)
round_done() { grep -qx -e "round $1" -e flood-done "$tmp/netflood.out"; }
bg_run netflood --rm --name netflood "$IMG" sh -c "$flood"
if [ -n "$vpid" ] && [ -n "$spid" ] && wait_until "$HULL_TEST_TIMEOUT" round_done 1; then
	pass "net flood: the flood runs (round 1 done)"
else
	fail "net flood: the flood runs (round 1 done)" "hull-vmm '$vpid', hull-slirp '$spid'" \
		"$(cat "$tmp/netflood.out")"
fi
read -r own0 guest0 < <(own_kib "$vpid" $((128 * 1024)))
slirp0=$(rss_kib "$spid")
read -r fds0 socks0 < <(nfds "$spid")
t0=$SECONDS
hull_cmd netflood-exec exec netflood echo alive
t_exec=$((SECONDS - t0))
expect_eq "net flood: exec answers" "$rc:$out" "0:alive"
echo "#    exec during the net flood took ${t_exec} s"
# more rounds: memory that grows per packet would show
wait_until "$HULL_TEST_TIMEOUT" round_done 3
rounds=$(grep -c '^round ' "$tmp/netflood.out")
read -r own1 guest1 < <(own_kib "$vpid" $((128 * 1024)))
slirp1=$(rss_kib "$spid")
read -r fds1 socks1 < <(nfds "$spid")
echo "#    after $rounds rounds (~$((rounds * 450)) frames out): hull-vmm own ${own0} -> ${own1} kB" \
	"(guest RAM ${guest0} -> ${guest1} kB), hull-slirp ${slirp0} -> ${slirp1} kB," \
	"hull-slirp fds ${fds0} -> ${fds1} (sockets ${socks0} -> ${socks1})"
expect_eq "net flood: still flooding when measured (not done)" \
	"$(grep -cx flood-done "$tmp/netflood.out")" 0
# hull-vmm copies frames between the virtqueue and one socket: nothing of
# its own grows per frame (4 MiB: allocator slack); hull-slirp's mbufs are
# freed once slirp answered or dropped a frame (8 MiB: malloc keeps freed
# chunks, a few reassembly queues)
expect_growth "net flood: hull-vmm's own memory stays bounded" "$own0" "$own1" $((4 * 1024))
expect_growth "net flood: hull-slirp's memory stays bounded" "$slirp0" "$slirp1" $((8 * 1024))
# slirp keeps a UDP flow's host socket for a while after its last datagram
# (syslogd's one socket, the pings' one): a few more, not one per packet
if [ "$socks1" -le $((socks0 + 8)) ]; then
	pass "net flood: hull-slirp's sockets stay bounded (${socks0} -> ${socks1})"
else
	fail "net flood: hull-slirp's sockets stay bounded" "${socks0} -> ${socks1}" \
		"$(ls -l "/proc/$spid/fd" 2>&1)"
fi
t0=$SECONDS
hull_cmd netflood-stop stop netflood
t_stop=$((SECONDS - t0))
expect_eq "net flood: stop succeeds" "$rc:$out" "0:netflood"
echo "#    stop during the net flood took ${t_stop} s"
bg_wait
expect_eq "net flood: the run ends with the stop signal's status (143)" "$rc" 143
no_leaks "net flood"

finish
