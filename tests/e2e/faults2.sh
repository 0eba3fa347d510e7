#!/usr/bin/env bash
# Faults, second part: each ends with a clear message, the right exit status
# and nothing left behind (no hull-vmm or hull-slirp, socket, cgroup, mount,
# temp file or container state):
# - a guest that triple-faults (KVM_EXIT_SHUTDOWN): a test kernel that loads
#   an empty IDT and executes UD2 (triplefault/; hull's own kernel cannot be
#   made to by a container); status 125, "the guest triple-faulted";
# - guest-init attacked by an ordinary container (signals to PID 1, writing
#   its memory, rebooting the guest): all refused or forwarded, it runs on;
# - guest-init crashed by a --privileged container (guest root: it writes
#   an INT3 where init resumes, through /proc/1/mem): the guest kernel panics
#   ("Attempted to kill init"), status 125, the panic named in the message;
# - the guest's cgroups: cgroup2 with the pids controller only (no memory
#   or cpu controller in hull's guest kernel), and a pids limit holds;
# - a guest flooding its virtqueues (stdout over vsock and reads of its
#   disk, at once): exec and stop still answer, the monitor's and the
#   supervisor's memory stay bounded, the log stays within its cap.
# Only the triple fault boots cold (--no-snapshot; it stops at its first
# instruction); the others restore the suite's template.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faultlib.sh"
: "${TRIPLEFAULT_KERNEL:?TRIPLEFAULT_KERNEL must name the triple-fault test kernel}"

# -- a guest that triple-faults --
bg_run triple --rm --no-snapshot --kernel "$TRIPLEFAULT_KERNEL" "$IMG" true
bg_wait
expect_eq "triple fault: exit status 125" "$rc" 125
expect_contains "triple fault: said so" "$err" \
	"the VM stopped (the guest triple-faulted: its kernel crashed and the VM shut down unexpectedly: vCPU 0 at rip 0x100008"
expect_contains "triple fault: the container never ran" "$err" \
	"before the container reported an exit status"
no_leaks "triple fault"

# -- guest-init attacked by an ordinary container (docker's capabilities:
# no CAP_SYS_PTRACE, no CAP_SYS_BOOT). SIGKILL and SIGSTOP to the guest's
# init are dropped by the kernel; any other signal init forwards to the
# container's main process (here: this shell, which traps TERM);
# /proc/1/mem and /proc/1/syscall need CAP_SYS_PTRACE (init has capabilities
# the container lacks); reboot(2) needs CAP_SYS_BOOT. --
robust='trap "echo main-got-TERM; touch /tmp/term" TERM
kill -KILL 1; kill -STOP 1; kill -TERM 1
while [ ! -e /tmp/term ]; do sleep 0.1; done
if printf "\314" 2>/dev/null >/proc/1/mem; then echo mem-written; else echo mem-refused; fi
if cat /proc/1/syscall >/dev/null 2>&1; then echo syscall-read; else echo syscall-refused; fi
if reboot -f 2>/dev/null; then echo rebooted; else echo reboot-refused; fi
kill -0 1 && echo init-alive'
bg_run robust --rm "$IMG" sh -c "$robust"
bg_wait
expect_eq "init vs an ordinary container: the container exits 0" "$rc" 0
expect_line "init vs an ordinary container: a TERM to init reaches the container" "$out" \
	"main-got-TERM"
expect_line "init vs an ordinary container: init's memory cannot be written" "$out" "mem-refused"
expect_line "init vs an ordinary container: init's registers cannot be read" "$out" \
	"syscall-refused"
expect_line "init vs an ordinary container: the guest cannot be rebooted" "$out" \
	"reboot-refused"
expect_line "init vs an ordinary container: init runs on" "$out" "init-alive"
no_leaks "init vs an ordinary container"

# -- guest-init crashed from a --privileged container: /proc/1/syscall says
# where init waits (its last field: the user pc after the system call), an
# INT3 written there through /proc/1/mem runs when init wakes up for the
# next output, and the kernel cannot deliver SIGTRAP to init but by killing
# it --
crash='until set -- $(cat /proc/1/syscall) && [ $# = 9 ]; do :; done
printf "\314" | dd of=/proc/1/mem bs=1 seek=$(($9)) conv=notrunc 2>/dev/null && echo armed
sleep 1000'
bg_run crash --rm --privileged "$IMG" sh -c "$crash"
bg_wait
expect_eq "guest-init crash: exit status 125" "$rc" 125
expect_contains "guest-init crash: the panic is named" "$err" \
	"the VM stopped (the guest kernel panicked: Attempted to kill init! exitcode=0x00000005) before the container reported an exit status"
no_leaks "guest-init crash"

# -- the guest's cgroups: cgroup2 is mounted at /sys/fs/cgroup (as in
# docker) with the pids controller only. hull's guest kernel has no memory
# and no cpu controller (kernel-config/README.md: their accounting per page
# mapped and per task enqueued was ~15% of a warm run where guest kernel mode
# is emulated; -m is the VM's RAM and --cpus is enforced on the host), so a
# container asking for one is refused by the guest kernel, while a cgroup of
# its own with a pids limit works (a shell moved into one with pids.max 1
# cannot fork). The guest's OOM killer itself is tested in
# e2e-faults3 (the whole VM out of memory) and guest-init's message for a
# memory cgroup's kill in the unit test guest-init-oomwatch --
cg='cg=/sys/fs/cgroup/t
cat /sys/fs/cgroup/cgroup.controllers
if echo +memory >/sys/fs/cgroup/cgroup.subtree_control; then echo memory-on; else echo memory-refused; fi
if echo +cpu >/sys/fs/cgroup/cgroup.subtree_control; then echo cpu-on; else echo cpu-refused; fi
mkdir $cg && echo +pids >/sys/fs/cgroup/cgroup.subtree_control && echo 1 >$cg/pids.max &&
if sh -c "echo \$\$ >$cg/cgroup.procs && /bin/true && echo child-ran"; then echo forked; else echo fork-refused; fi'
bg_run cgroups --rm "$IMG" sh -c "$cg"
bg_wait
expect_eq "guest cgroups: the container exits 0" "$rc" 0
expect_line "guest cgroups: cgroup2 offers the pids controller only" "$out" "pids"
expect_line "guest cgroups: no memory controller" "$out" "memory-refused"
expect_line "guest cgroups: no cpu controller" "$out" "cpu-refused"
expect_line "guest cgroups: a cgroup's pids limit holds" "$out" "fork-refused"
no_leaks "guest cgroups"

# -- a guest flooding its virtqueues: the container writes to stdout as fast
# as it can (vsock, then the log, capped at 2 x 64 KiB) while a background
# job reads its disk over and over (virtio-blk) --
hull_cmd flood run -d --name flood --log-opt max-size=64k --log-opt max-file=2 "$IMG" \
	sh -c 'while :; do dd if=/dev/vda of=/dev/null bs=64k 2>/dev/null; done &
yes "flood flood flood flood flood flood flood flood"'
expect_eq "flood: run -d exits 0" "$rc" 0
id=$out
logdir=$HULL_RUNTIME_DIR/$id
# the supervisor (hull run -d's child: same command line) and its monitor
supid=$(pgrep -f -- "^$HULL run -d --name flood " | head -n1)
vpid=$(pgrep -x hull-vmm -P "$supid" | head -n1)
spid=$(pgrep -x hull-slirp -P "$supid" | head -n1)
hullpid=$supid
expect_eq "flood: the supervisor and its monitor are found" "$([ -n "$supid" ] && [ -n "$vpid" ] && echo yes)" yes
# the flood is on once a rotated log exists (64 KiB of output went through)
if wait_until "$HULL_TEST_TIMEOUT" test -e "$logdir/container.log.1"; then
	pass "flood: the output floods the log (rotated at 64 KiB)"
else
	fail "flood: the output floods the log (rotated at 64 KiB)" "$(ls -l "$logdir")"
fi
rss_vmm0=$(rss_kib "$vpid")
rss_sup0=$(rss_kib "$supid")
# exec answers while both queues are full, and the log rotates on
t0=$SECONDS
hull_cmd flood-exec exec flood echo alive
t_exec=$((SECONDS - t0))
expect_eq "flood: exec answers" "$rc:$out" "0:alive"
echo "#    exec during the flood took ${t_exec} s"
for round in 1 2 3; do
	rm -f "$logdir/container.log.1"
	wait_until "$HULL_TEST_TIMEOUT" test -e "$logdir/container.log.1" || break
done
rss_vmm1=$(rss_kib "$vpid")
rss_sup1=$(rss_kib "$supid")
echo "#    hull-vmm RSS ${rss_vmm0} -> ${rss_vmm1} kB, supervisor ${rss_sup0} -> ${rss_sup1} kB"
# the monitor may touch all of guest RAM (128 MiB) plus its own; the
# supervisor holds no guest data beyond bounded queues
if [ "$rss_vmm1" -gt 0 ] && [ "$rss_vmm1" -lt $(((128 + 96) * 1024)) ]; then
	pass "flood: hull-vmm's memory stays bounded (${rss_vmm1} kB)"
else
	fail "flood: hull-vmm's memory stays bounded" "VmRSS ${rss_vmm1} kB"
fi
if [ "$rss_sup1" -gt 0 ] && [ "$rss_sup1" -lt $((rss_sup0 + 16 * 1024)) ]; then
	pass "flood: the supervisor's memory stays bounded (${rss_sup0} -> ${rss_sup1} kB)"
else
	fail "flood: the supervisor's memory stays bounded" "VmRSS ${rss_sup0} -> ${rss_sup1} kB"
fi
total=$(du -ck "$logdir"/container.log* | tail -n1 | cut -f1)
if [ "$total" -le $((2 * 64 + 16)) ]; then
	pass "flood: the log stays within its cap (${total} kB)"
else
	fail "flood: the log stays within its cap" "$total kB: $(ls -l "$logdir")"
fi
t0=$SECONDS
hull_cmd flood-stop stop flood
t_stop=$((SECONDS - t0))
expect_eq "flood: stop succeeds" "$rc" 0
echo "#    stop during the flood took ${t_stop} s"
hull_cmd flood-rm rm flood
expect_eq "flood: rm succeeds" "$rc" 0
out=
no_leaks "flood"
finish
