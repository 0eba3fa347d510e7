#!/usr/bin/env bash
# The jail (runtime/jail.h, common/jail_enter.h), checked on a live VM: as
# root, hull-vmm runs as the user hull with no capability in any set,
# no_new_privs, its own mount/PID/IPC/UTS/network namespaces, a root holding
# only what the VM needs, and a cgroup of its own with memory and pids limits
# that goes when the VM ends (also after SIGKILL to hull, and when the start
# fails); hull-slirp likewise but in the host's network namespace, with an
# empty root but for /etc/resolv.conf. One VM, restored from the template.
. "$(dirname "$0")/lib.sh"

hpid=
cleanup() {
	[ -n "$hpid" ] && kill -9 "$hpid" 2>/dev/null
	rm -rf "$tmp"
}

status_of() { grep "^$2:" "/proc/$1/status" | cut -f2- | tr '\t' ' '; }
ns_differs() { [ "$(readlink "/proc/$1/ns/$2")" != "$(readlink "/proc/self/ns/$2")" ]; }
# the cgroup directory of PID for a v1 controller (this host mounts them)
cg_dir() { echo "/sys/fs/cgroup/$2$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$1/cgroup" | cut -d: -f3)"; }

mkdir -p "$tmp/vol"
echo jailed >"$tmp/vol/f"
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
"$HULL" run ${HULL_RUN_FLAGS:-} --memory 128M -v "$tmp/vol:/data" "$IMG" \
	sh -c 'cat /data/f; echo up; while :; do sleep 1000 & wait $!; done' \
	>"$tmp/run.out" 2>"$tmp/run.err" </dev/null &
hpid=$!
last=run
if wait_until 240 grep -qx up "$tmp/run.out"; then
	pass "the container runs, its volume readable through the jail"
else
	fail "the container runs, its volume readable through the jail" "$(cat "$tmp/run.out")"
	finish
fi
vpid=$(pgrep -P "$hpid" -x hull-vmm)
spid=$(pgrep -P "$hpid" -x hull-slirp)
hu=$(id -u hull)
hg=$(id -g hull)

for who in vpid spid; do
	p=${!who}
	name=$([ $who = vpid ] && echo hull-vmm || echo hull-slirp)
	expect_eq "$name runs as the user hull" "$(status_of "$p" Uid)" "$hu $hu $hu $hu"
	expect_eq "$name runs with hull's group" "$(status_of "$p" Gid)" "$hg $hg $hg $hg"
	expect_eq "$name has no supplementary group" "$(status_of "$p" Groups | tr -d " ")" ""
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		expect_eq "$name: $c is empty" "$(status_of "$p" $c)" 0000000000000000
	done
	expect_eq "$name: no_new_privs" "$(status_of "$p" NoNewPrivs)" 1
	for n in mnt pid ipc uts; do
		if ns_differs "$p" $n; then pass "$name: its own $n namespace"; else fail "$name: its own $n namespace"; fi
	done
	expect_eq "$name: no core dumps" "$(grep '^Max core file size' "/proc/$p/limits" | awk '{print $5, $6}')" "0 0"
done
if ns_differs "$vpid" net; then pass "hull-vmm: its own net namespace"; else fail "hull-vmm: its own net namespace"; fi
if ns_differs "$spid" net; then fail "hull-slirp: the host's net namespace"; else pass "hull-slirp: the host's net namespace"; fi

# the roots: only what each one needs
root=$(ls "/proc/$vpid/root/")
for d in etc usr bin lib sbin sys var home; do
	expect_not_contains "hull-vmm's root has no /$d" "$root" "$d"
done
expect_eq "hull-vmm's /dev holds only kvm" "$(ls "/proc/$vpid/root/dev")" kvm
expect_eq "hull-vmm's /proc shows only itself" "$(ls "/proc/$vpid/root/proc" | grep -c '^[0-9]')" 1
expect_eq "the volume is in hull-vmm's root" "$(cat "/proc/$vpid/root$tmp/vol/f")" jailed
if [ -e "/proc/$vpid/root$IMG" ]; then fail "the image's OCI layout is not in hull-vmm's root"; else pass "the image's OCI layout is not in hull-vmm's root"; fi
if echo x 2>/dev/null >"/proc/$vpid/root/dev/new"; then fail "hull-vmm's root is read-only"; else pass "hull-vmm's root is read-only"; fi
expect_eq "hull-slirp's root holds only /etc/resolv.conf" \
	"$(cd "/proc/$spid/root/" && find . -mindepth 1 | sort | tr '\n' ' ')" "./etc ./etc/resolv.conf "

# the cgroup: one for the VM's helpers, with limits (128M of guest RAM plus
# VMPROC_MEM_OVERHEAD, VMPROC_PIDS_MAX)
mem=$(cg_dir "$vpid" memory)
pids=$(cg_dir "$vpid" pids)
cpu=$(cg_dir "$vpid" cpu)
expect_contains "hull-vmm has a memory cgroup of its own" "$mem" "/hull-$hpid-"
expect_eq "hull-slirp shares it" "$(cg_dir "$spid" memory)" "$mem"
expect_eq "the memory limit is guest RAM plus overhead" "$(cat "$mem/memory.limit_in_bytes")" $(((128 + 256) << 20))
expect_eq "the pids limit" "$(cat "$pids/pids.max")" 128
expect_contains "hull-vmm has a cpu cgroup of its own" "$cpu" "/hull-$hpid-"
expect_eq "no CPU quota unless asked for" "$(cat "$cpu/cpu.cfs_quota_us")" -1

# SIGKILL to hull: the helpers die with it; the next VM start removes the
# cgroup it could not (here: a start that fails at a published port in use)
kill -9 "$hpid"
wait "$hpid" 2>/dev/null
old=$hpid
hpid=
wait_until 10 gone "$vpid" && wait_until 10 gone "$spid"
if [ -d "$mem" ]; then pass "after SIGKILL to hull its cgroup is still there (nobody ran to remove it)"; else fail "after SIGKILL to hull its cgroup is still there (nobody ran to remove it)"; fi
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(600)' >"$tmp/port" &
lpid=$!
wait_until 10 test -s "$tmp/port"
port=$(cat "$tmp/port")
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
"$HULL" run ${HULL_RUN_FLAGS:-} -p "127.0.0.1:$port:80" "$IMG" true >"$tmp/busy.out" 2>"$tmp/busy.err" &
bpid=$!
wait "$bpid"
brc=$?
kill "$lpid"
last=busy
if [ "$brc" -ne 0 ]; then pass "a start with a published port in use fails"; else fail "a start with a published port in use fails"; fi
for d in "$mem" "$pids" "$cpu"; do
	if [ -d "$d" ]; then fail "the killed hull's cgroup $d is gone"; else pass "the killed hull's cgroup is gone (${d#/sys/fs/cgroup/})"; fi
done
left=$(find /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/cpu -maxdepth 4 -name "hull-$bpid-*" 2>/dev/null)
expect_eq "the failed start left no cgroup" "$left" ""

# a VM that ends normally removes its cgroup itself (hull directly, to know
# its pid: meson's timeout bounds it)
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
"$HULL" run ${HULL_RUN_FLAGS:-} "$IMG" echo done >"$tmp/ends.out" 2>"$tmp/ends.err" &
epid=$!
wait "$epid"
rc=$?
last=ends
expect_eq "a VM runs to its end" "$rc:$(cat "$tmp/ends.out")" "0:done"
left=$(find /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/cpu -maxdepth 4 -name "hull-$epid-*" 2>/dev/null)
expect_eq "a VM that ended left no cgroup" "$left" ""

# As an ordinary user (nobody here): the same jail in a user namespace of its
# own. /dev/kvm is made usable by nobody in a mount namespace of this test's
# alone (the host's node stays root's). Checked as soon as the monitor has
# jailed itself (no_new_privs is its last step); the VM need not boot.
nb=$tmp/nobody
mkdir -p "$nb"
chmod 711 "$tmp"
chown 65534:65534 "$nb"
mknod "$tmp/kvm" c "$(stat -c '%t' /dev/kvm | xargs printf '%d')" "$(stat -c '%T' /dev/kvm | xargs printf '%d')"
chown 65534:65534 "$tmp/kvm"
chmod 600 "$tmp/kvm"
# unshare, bash and setpriv exec one another: $! is hull's pid
# shellcheck disable=SC2016 # the inner bash expands them
unshare -m bash -c 'mount --bind "$1" /dev/kvm && exec setpriv --reuid 65534 --regid 65534 --clear-groups env HOME="$2" HULL_ROOT="$2/store" HULL_RUNTIME_DIR="$2/run" HULL_TEMPLATE_DIR="$2/templates" "$3" run "$4" echo hi' \
	rootless "$tmp/kvm" "$nb" "$HULL" "$IMG" >"$tmp/nobody.out" 2>"$tmp/nobody.err" </dev/null &
hpid=$!
last=nobody
jailed() {
	rpid=$(pgrep -P "$hpid" -x hull-vmm) && [ "$(status_of "$rpid" NoNewPrivs)" = 1 ]
}
if wait_until 120 jailed; then
	expect_eq "rootless: hull-vmm runs as the caller" "$(status_of "$rpid" Uid)" "65534 65534 65534 65534"
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		expect_eq "rootless: hull-vmm's $c is empty" "$(status_of "$rpid" $c)" 0000000000000000
	done
	for n in user mnt pid ipc uts net; do
		if ns_differs "$rpid" $n; then pass "rootless: hull-vmm has its own $n namespace"; else fail "rootless: hull-vmm has its own $n namespace"; fi
	done
	root=$(ls "/proc/$rpid/root/")
	for d in etc usr bin lib sys; do
		expect_not_contains "rootless: hull-vmm's root has no /$d" "$root" "$d"
	done
	expect_eq "rootless: hull-vmm's /dev holds only kvm" "$(ls "/proc/$rpid/root/dev")" kvm
else
	fail "rootless: hull-vmm runs jailed" "$(cat "$tmp/nobody.out")"
fi
kill -9 "$hpid"
wait "$hpid" 2>/dev/null
hpid=
finish
