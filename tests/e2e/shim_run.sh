#!/usr/bin/env bash
# containerd-shim-hull-v2 end to end: Debian's containerd 1.6 (a private
# one, tests/lib/containerd.sh) runs containers in hull microVMs through the
# shim: ctr run --rm with stdout/stderr apart, exit status and stdin; ctr run
# -t and exec -t on a terminal with its size; ctr run -d, task ls, ps
# (the VM monitor's pid), pause/resume (the guest's clock stands still),
# metrics (the VM's cgroup's: memory limit, tasks, CPU), exec, kill, delete;
# a spec's rlimits (main and exec'd process), annotations (labels in hull's
# state, io.hull.memory sizing the VM, a bad value refused at Create) with
# ctr run --config and a root.path directory;
# containerd SIGKILLed and restarted while a
# task runs (it is reached again); the shim SIGKILLed (containerd's `shim
# delete` cleans up after it); and nothing left afterwards (no shim process,
# VM monitor, socket, bundle, mount, hull container record), nor after the
# harness stops containerd. Images come from archives built
# offline. A failing or killed run is cleaned up too (containerd.sh: the EXIT
# trap, else its guard).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/containerd.sh"
lib=$(cd "$(dirname "$0")/../lib" && pwd)
: "${IMG_ARCHIVE:?IMG_ARCHIVE must name the oci-archive of the test image}"
: "${SHIM_DIR:?SHIM_DIR must name the directory of containerd-shim-hull-v2}"
: "${BB_OCI:?BB_OCI must name the busybox example image (an OCI layout)}"
trap 'ctrd_stop; cleanup' EXIT

ctrd() { # NAME ARGS...: ctr against the private containerd, like hull_cmd
	local name=$1
	shift
	timeout --kill-after=10 "$HULL_TEST_TIMEOUT" ctr --address "$ctrd_dir/c.sock" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
	rc=$?
	out=$(cat "$tmp/$name.out")
	err=$(cat "$tmp/$name.err")
	last=$name
}
RT=(--runtime io.containerd.hull.v2)

out=$("$SHIM_DIR/containerd-shim-hull-v2" -v)
expect_contains "-v prints the shim's version" "$out" "containerd-shim-hull-v2:"

# the shim inherits containerd's environment: HULL_RUNTIME_DIR (lib.sh) and
# HULL_TEMPLATE_DIR (the suite's template) reach it that way
ctrd_start "$tmp/ctrd" "$SHIM_DIR" "$tmp"
expect_eq "a private containerd starts" "$?" 0
d=$ctrd_dir

ctrd import images import --base-name docker.io/library/e2e "$IMG_ARCHIVE"
expect_eq "ctr images import of an oci-archive exits 0" "$rc" 0
"$lib/mkdocker-archive.sh" "$IMG" "$tmp/da.tar" busybox:e2e
ctrd import2 images import "$tmp/da.tar"
expect_eq "ctr images import of a docker-archive exits 0" "$rc" 0
# the same layers as e2e:latest (a docker-archive of it); bb: other layers
"$lib/mkoci-archive.sh" "$BB_OCI" "$tmp/bb.tar"
ctrd import3 images import --base-name docker.io/library/bb "$tmp/bb.tar"
expect_eq "ctr images import of a second image exits 0" "$rc" 0
ctrd ls images ls -q
expect_line "the oci-archive's image is there" "$out" "docker.io/library/e2e:latest"
expect_line "the docker-archive's image is there" "$out" "docker.io/library/busybox:e2e"

ctrd run run --fifo-dir "$d/fifo" --rm "${RT[@]}" docker.io/library/e2e:latest t1 echo hi
expect_eq "ctr run --rm through the shim exits 0" "$rc" 0
expect_eq "... and prints the container's output" "$out" "hi"

ctrd run2 run --fifo-dir "$d/fifo" --rm "${RT[@]}" docker.io/library/bb:latest t2 \
	sh -c 'echo out; echo err >&2; exit 7'
expect_eq "the container's exit status is ctr's" "$rc" 7
expect_eq "stdout reaches ctr's stdout alone" "$out" "out"
expect_line "stderr reaches ctr's stderr" "$err" "err"

printf 'line one\nline two\n' >"$tmp/in"
timeout --kill-after=10 "$HULL_TEST_TIMEOUT" ctr --address "$d/c.sock" run --fifo-dir "$d/fifo" --rm "${RT[@]}" \
	docker.io/library/e2e:latest t3 sh -c 'cat; echo done' <"$tmp/in" >"$tmp/in.out" 2>"$tmp/in.err"
rc=$?
last=in
expect_eq "stdin: ctr run exits 0" "$rc" 0
expect_eq "stdin is forwarded to the container, then its end" "$(cat "$tmp/in.out")" \
	"$(printf 'line one\nline two\ndone')"

# three containers of two layer sets (t1 and t3 have the same): two rootfs
# images, shared (read-only) by the containers of the same layers, in
# hull's store
cache=$HULL_ROOT/shim-rootfs
n_images() { find "$cache" -maxdepth 1 -name '*.ext4' 2>/dev/null | wc -l; }
expect_eq "one rootfs image per image's layers, shared by its containers" "$(n_images)" 2
# written by mkfs.ext4 jailed as the user hull (shim/rootfs.c), then handed
# to root: root's, 0600, and no temp file of a build left
expect_eq "the shared rootfs images are root's, mode 0600" \
	"$(stat -c '%u %a' "$cache"/*.ext4 | sort -u)" "0 600"
expect_eq "no temp file of an image build is left in the cache" \
	"$(find "$cache" -maxdepth 1 -name '.*' | wc -l)" 0

# a terminal: ctr -t wants one on its stdin (script(1) makes it, of the size
# stty gives it); the size reaches the container by ResizePty, after Start,
# so the container waits for it
on_tty() { # NAME ROWS COLS CTR-ARGS...: ctr on a pty of ROWS x COLS
	local name=$1 rows=$2 cols=$3
	shift 3
	local cmd="stty rows $rows cols $cols; exec ctr --address $d/c.sock"
	local a
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	timeout --kill-after=10 "$HULL_TEST_TIMEOUT" script -qefc "$cmd" /dev/null \
		</dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	out=$(tr -d '\r' <"$tmp/$name.out")
	last=$name
}
# script(1) reads /dev/null: at its EOF it types the terminal's EOF character,
# which the guest's terminal echoes ("^@") ahead of the output; hence
# expect_contains for the size line
# shellcheck disable=SC2016 # the container's shell expands it
sized='until [ "$(stty size)" != "0 0" ]; do sleep 0.1; done; stty size; test -t 0 && echo tty'
on_tty tty 30 100 run -t --fifo-dir "$d/fifo" --rm "${RT[@]}" docker.io/library/busybox:e2e tt \
	sh -c "$sized"
expect_eq "ctr run -t exits 0" "$rc" 0
expect_contains "ctr run -t: the container sees ctr's terminal size" "$out" "30 100"
expect_line "ctr run -t: its stdin is a terminal" "$out" "tty"

# in the background: task ls, ps, pause/resume, metrics, exec, kill, delete;
# the container ticks into its log (stdout to a file: --log-uri), the
# guest's clock to watch. (No volume: the template is made without one, and
# a VM of another shape boots cold.)
ctrd bg run -d --log-uri "file://$tmp/t4.log" "${RT[@]}" \
	docker.io/library/busybox:e2e t4 sh -c 'while :; do echo t; sleep 0.2; done'
expect_eq "ctr run -d exits 0" "$rc" 0
ctrd tls task ls
expect_contains "ctr task ls shows it running" "$(grep -w t4 <<<"$out")" "RUNNING"
ticks() { wc -l <"$tmp/t4.log" 2>/dev/null || echo 0; }
ticks_above() { [ "$(ticks)" -gt "$1" ]; }
wait_until "${HULL_TEST_TIMEOUT:-600}" ticks_above 2
expect_eq "the container ticks into its log" "$(test "$(ticks)" -gt 2 && echo yes)" yes

ctrd ps task ps t4
vmm_pid=$(awk 'NR > 1 { print $1 }' <<<"$out")
expect_eq "ctr task ps exits 0" "$rc" 0
expect_eq "ctr task ps: the task's process is its VM monitor" \
	"$(cat "/proc/${vmm_pid:-0}/comm" 2>/dev/null)" hull-vmm
expect_eq "ctr task ls shows the monitor's pid" \
	"$(awk '$1 == "t4" { print $2 }' <<<"$(ctr --address "$d/c.sock" task ls)")" "$vmm_pid"

# metrics: as root (this suite) the VM's helpers run in a cgroup of their
# own (runtime/jail.h), and Stats reports that cgroup's figures: the test
# finds it from /proc/<monitor>/cgroup (v1: the memory and pids hierarchies;
# v2: the one) and compares
mnt_of() { # FSTYPE OPTION: where the first such cgroup file system is mounted
	awk -v f="$1" -v o="$2" '{ split($0, h, " - "); split(h[2], t, " ")
		if (t[1] == f && (o == "" || index("," t[3] ",", "," o ","))) { print $5; exit } }' /proc/self/mountinfo
}
cgdir() { # CONTROLLER: the monitor's cgroup directory of that controller
	local rel mnt
	rel=$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
		"/proc/$vmm_pid/cgroup")
	mnt=$(mnt_of cgroup "$1")
	if [ -z "$rel" ]; then
		rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$vmm_pid/cgroup")
		mnt=$(mnt_of cgroup2 "")
	fi
	echo "$mnt$rel"
}
memcg=$(cgdir memory)
pidscg=$(cgdir pids)
cgval() { cat "$1/$2" 2>/dev/null || cat "$1/$3" 2>/dev/null; } # DIR V1 V2
expect_contains "the VM's monitor runs in a cgroup of its own" "$memcg" "/hull-"
ctrd metrics task metrics t4
expect_eq "ctr task metrics exits 0" "$rc" 0
mem=$(awk '$1 == "memory.usage_in_bytes" { print $2 }' <<<"$out")
lim=$(awk '$1 == "memory.limit_in_bytes" { print $2 }' <<<"$out")
cpu=$(awk '$1 == "cpuacct.usage" { print $2 }' <<<"$out")
npids=$(awk '$1 == "pids.current" { print $2 }' <<<"$out")
plim=$(awk '$1 == "pids.limit" { print $2 }' <<<"$out")
cgmem=$(cgval "$memcg" memory.usage_in_bytes memory.current)
expect_eq "metrics: memory is the cgroup's usage (within 25%)" \
	"$(awk -v m="${mem:-0}" -v r="${cgmem:-0}" 'BEGIN { print (r > 0 && m > r * 0.75 && m < r * 1.25) ? "yes" : m " vs " r }')" yes
# the VM's 128 MiB (hull's default) plus the jail's VMPROC_MEM_OVERHEAD
expect_eq "metrics: the memory limit is the cgroup's" "$lim" \
	"$(cgval "$memcg" memory.limit_in_bytes memory.max)"
expect_eq "metrics: the memory limit is guest RAM + 256 MiB" "$lim" $(((128 + 256) << 20))
expect_eq "metrics: the VM's tasks are counted" "$(test "${npids:-0}" -gt 0 && echo yes)" yes
expect_eq "metrics: the task limit is the cgroup's" "$plim" "$(cgval "$pidscg" pids.max pids.max)"
expect_eq "metrics: the task limit is VMPROC_PIDS_MAX" "$plim" 128
expect_eq "metrics: the monitor's CPU time is counted" "$(test "${cpu:-0}" -gt 0 && echo yes)" yes
# the rest of the message (ctr's table leaves it out): high-water mark and
# user/kernel split
ctrd metricsj task metrics --format json t4
expect_eq "ctr task metrics --format json exits 0" "$rc" 0
expect_eq "metrics: the memory high-water mark is at least the usage" \
	"$(jq -r 'if .memory.usage.max >= .memory.usage.usage and .memory.usage.usage > 0 then "yes" else . end' <<<"$out")" yes
expect_eq "metrics: CPU time is split into user and kernel" \
	"$(jq -r 'if (.cpu.usage.user + .cpu.usage.kernel) > 0 then "yes" else . end' <<<"$out")" yes

ctrd pause task pause t4
expect_eq "ctr task pause exits 0" "$rc" 0
ctrd tlsp task ls
expect_contains "ctr task ls shows it PAUSED" "$(grep -w t4 <<<"$out")" "PAUSED"
sleep 1 # a tick the guest sent before the pause lands meanwhile
n1=$(ticks)
sleep 3 # 15 ticks if it ran
expect_eq "paused: the guest does not run (no tick in 3 s)" "$(ticks)" "$n1"
ctrd resume task resume t4
expect_eq "ctr task resume exits 0" "$rc" 0
wait_until "${HULL_TEST_TIMEOUT:-600}" ticks_above "$((n1 + 2))"
expect_eq "resumed: the guest ticks again" "$(test "$(ticks)" -gt "$((n1 + 2))" && echo yes)" yes
ctrd tlsr task ls
expect_contains "ctr task ls shows it RUNNING again" "$(grep -w t4 <<<"$out")" "RUNNING"

on_tty etty 40 120 task exec -t --exec-id xt t4 sh -c "$sized"
expect_eq "ctr task exec -t exits 0" "$rc" 0
expect_contains "ctr task exec -t: the process sees ctr's terminal size" "$out" "40 120"
expect_line "ctr task exec -t: its stdin is a terminal" "$out" "tty"

# containerd dies and comes back: the shim and its VM go on, and are reached
ctrd_restart
expect_eq "containerd restarts on the same state" "$?" 0
ctrd tls3 task ls
expect_contains "after the restart ctr task ls shows the task running" \
	"$(grep -w t4 <<<"$out")" "RUNNING"
expect_eq "... the same VM monitor" "$(cat "/proc/$vmm_pid/comm" 2>/dev/null)" hull-vmm
n2=$(ticks)
wait_until "${HULL_TEST_TIMEOUT:-600}" ticks_above "$((n2 + 2))"
expect_eq "... which goes on running" "$(test "$(ticks)" -gt "$((n2 + 2))" && echo yes)" yes
ctrd exec task exec --fifo-dir "$d/fifo" --exec-id x1 t4 sh -c 'echo from exec; exit 3'
expect_eq "ctr task exec: its exit status" "$rc" 3
expect_eq "ctr task exec: its output" "$out" "from exec"
ctrd kill task kill -s SIGKILL t4
expect_eq "ctr task kill exits 0" "$rc" 0
waited=0
until ctr --address "$d/c.sock" task ls 2>/dev/null | grep -w t4 | grep -q STOPPED || [ "$waited" -ge 600 ]; do
	sleep 0.1
	waited=$((waited + 1))
done
ctrd tls2 task ls
expect_contains "the killed task is STOPPED" "$(grep -w t4 <<<"$out")" "STOPPED"
ctrd del task delete t4
expect_eq "ctr task delete exits 0" "$rc" 0
ctrd rm containers rm t4
expect_eq "ctr containers rm exits 0" "$rc" 0
expect_eq "the deleted task's VM monitor is gone" "$(gone "$vmm_pid" && echo gone)" gone
expect_eq "the deleted task's cgroup is gone" "$(test -e "$memcg" || echo gone)" gone

# The spec's rlimits and annotations, in one VM (of 256 MiB: another shape,
# so it boots cold once and saves a template). ctr 1.6 has no rlimit flag:
# a whole spec (--config) sets them; such a container has no snapshot, its
# root.path is a tree (here an image ctr mounts) that the shim copies.
mkdir "$d/bbroot"
ctrd imount images mount docker.io/library/busybox:e2e "$d/bbroot"
expect_eq "ctr images mount exits 0" "$rc" 0
# shellcheck disable=SC2016 # the container's shell expands it
ctr oci spec | jq --arg root "$d/bbroot" '.root.path = $root
	| .process.args = ["sh", "-c", "echo \"$(ulimit -n) $(ulimit -Hn)\" >/lim; exec sleep 300"]
	| .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 4321, "hard": 5000}]
	| .annotations = {"io.hull.test": "t7", "io.hull.memory": "256M"}' >"$tmp/t7.json"
ctrd bg7 run -d --fifo-dir "$d/fifo" --config "$tmp/t7.json" "${RT[@]}" t7
expect_eq "ctr run -d --config (t7, root.path a directory) exits 0" "$rc" 0
# the main process writes its limits first thing: the exec waits for that
# shellcheck disable=SC2016 # the container's shell expands it
ctrd lim7 task exec --fifo-dir "$d/fifo" --exec-id l7 t7 sh -c \
	'while [ ! -s /lim ]; do sleep 0.1; done; cat /lim; echo "$(ulimit -n) $(ulimit -Hn)"'
expect_eq "process.rlimits: the container's process has the spec's nofile limits" \
	"$(sed -n 1p <<<"$out")" "4321 5000"
expect_eq "... and so has an exec'd one (its spec's, the same)" "$(sed -n 2p <<<"$out")" "4321 5000"
# shellcheck disable=SC2016 # awk's fields
ctrd mem7 task exec --fifo-dir "$d/fifo" --exec-id m7 t7 awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo
expect_eq "io.hull.memory=256M: the guest has 256 MiB (MemTotal 200-256 MiB)" \
	"$(awk -v m="${out:-0}" 'BEGIN { print (m > 200 * 1024 && m <= 256 * 1024) ? "yes" : m " kB" }')" yes
ctrd met7 task metrics t7
expect_eq "... and metrics name its cgroup's limit: that + 256 MiB (VMPROC_MEM_OVERHEAD)" \
	"$(awk '$1 == "memory.limit_in_bytes" { print $2 }' <<<"$out")" $(((256 + 256) << 20))
hull_cmd ps7 ps -aq --no-trunc --filter label=io.hull.test=t7
cid7=$(cat "$d/state/io.containerd.runtime.v2.task/default/t7/hull-container-id" 2>/dev/null)
expect_eq "annotations are the container's labels in hull's state (hull ps --filter label=)" \
	"$out" "${cid7:-(t7 has no hull container id)}"
ctrd kill7 task kill -s SIGKILL t7
expect_eq "ctr task kill t7 exits 0" "$rc" 0
wait_until 60 sh -c "ctr --address '$d/c.sock' task ls | grep -w t7 | grep -q STOPPED"
ctrd del7 task delete t7
expect_eq "ctr task delete t7 exits 0" "$rc" 0
ctrd rm7 containers rm t7
expect_eq "ctr containers rm t7 exits 0" "$rc" 0
ctrd umount images unmount --rm "$d/bbroot"
expect_eq "ctr images unmount exits 0" "$rc" 0

# a bad hull annotation fails Create, naming it (before any copy or VM)
ctrd bad run --rm --fifo-dir "$d/fifo" --annotation io.hull.memory=lots "${RT[@]}" \
	docker.io/library/busybox:e2e t8 true
expect_eq "a bad io.hull.memory fails ctr run" "$(test "$rc" -ne 0 && echo failed)" failed
expect_contains "... with the shim's message" "$err" \
	"annotation io.hull.memory=lots: expected a size like 256M or 1G"

# the shim SIGKILLed: its VM dies with it; containerd runs `shim delete`,
# which removes what the shim left (the test's last checks below)
ctrd bg5 run -d --fifo-dir "$d/fifo" "${RT[@]}" docker.io/library/e2e:latest t5 sleep 300
expect_eq "ctr run -d (t5) exits 0" "$rc" 0
ctrd ps5 task ps t5
vmm5=$(awk 'NR > 1 { print $1 }' <<<"$out")
shim5=$(pgrep -f -- "containerd-shim-hull-v2 .*-id t5 .*-address $d/c.sock" |
	grep -vxF "$BASHPID" | head -n 1)
expect_eq "t5's shim is found" "$(test -n "$shim5" && echo yes)" yes
kill -KILL "${shim5:-0}"
wait_until 30 gone "${vmm5:-0}"
expect_eq "the SIGKILLed shim's VM monitor exits" "$(gone "${vmm5:-0}" && echo gone)" gone
# containerd drops a task whose shim hung up (after running `shim delete`)
wait_until 60 sh -c "! ctr --address '$d/c.sock' task ls | grep -qw t5"
ctrd tls5 task ls
expect_eq "containerd drops the dead shim's task" "$(grep -w t5 <<<"$out")" ""
ctrd rm5 containers rm t5
expect_eq "ctr containers rm t5 exits 0" "$rc" 0

# containerd removes the images of a layer set (its snapshots go with them,
# after its garbage collection): the next container's create prunes the
# layer set's rootfs image
lower=$(for f in "$cache"/*.lower; do echo "$(tr ':' '\n' <"$f" | wc -l) $f"; done |
	sort -n | tail -n 1 | cut -d' ' -f2-) # e2e's: more layers than bb's
ctrd irm images rm --sync docker.io/library/e2e:latest docker.io/library/busybox:e2e
expect_eq "ctr images rm exits 0" "$rc" 0
layers_gone() { tr ':' '\n' <"$lower" | while read -r l; do [ -d "$l" ] || echo gone; done | grep -q gone; }
wait_until 60 layers_gone
ctrd run6 run --fifo-dir "$d/fifo" --rm "${RT[@]}" docker.io/library/bb:latest t6 true
expect_eq "ctr run --rm t6 exits 0" "$rc" 0
expect_eq "the removed image's rootfs image is pruned, the other kept" "$(n_images)" 1
expect_eq "... with its layer list" "$(test -e "$lower" && echo present)" ""

# containerd cleans up after each shim when its connection closes, which may
# finish after ctr returned: wait for that (bounded), then look.
shim_procs() {
	pgrep -af -- "containerd-shim-hull-v2 .*-address $d/c.sock" || true
}
tasks=$d/state/io.containerd.runtime.v2.task/default
waited=0
while { [ -n "$(shim_procs)" ] || [ -n "$(ls -A "$tasks")" ]; } && [ "$waited" -lt 300 ]; do
	sleep 0.1
	waited=$((waited + 1))
done
expect_eq "no shim process is left" "$(shim_procs)" ""
vmms() { # hull-vmm processes started under this containerd
	local pid
	for pid in $(ctrd_procs); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != hull-vmm ] || echo "$pid"
	done
}
no_vmms() { [ -z "$(vmms)" ]; }
wait_until 30 no_vmms
expect_eq "no VM monitor (hull-vmm) is left" "$(vmms)" ""
expect_eq "no bundle is left" "$(ls -A "$tasks")" ""
expect_eq "no socket is left" "$(find "$d" -type s ! -name 'c.sock*' ! -name debug.sock)" ""
expect_eq "no rootfs image is left" "$(find "$d" -name 'hull-rootfs.ext4')" ""
ctrd c containers ls -q
expect_eq "no container record is left" "$out" ""
expect_eq "no mount is left under the test directory" "$(ctrd_mounts)" ""
expect_eq "hull's runtime directory has no container left" \
	"$(find "$HULL_RUNTIME_DIR" -mindepth 1 -maxdepth 1 ! -name lock 2>/dev/null)" ""

ctrd_stop
expect_eq "ctrd_stop succeeds" "$?" 0
expect_eq "... and removes its directory" "$(test -e "$d" && echo present)" ""
expect_eq "... and no process of it is left" "$(ctrd_procs "$d")" ""
finish
