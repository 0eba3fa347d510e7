# shellcheck shell=bash
# containerd.sh: a private containerd for tests (Debian's containerd 1.6),
# never the system's: its root, state, sockets, FIFOs and config all live
# under one temp directory, and ctrd_stop leaves nothing behind (no process,
# mount or file).
#
#   . tests/lib/containerd.sh
#   ctrd_start DIR [PATH_PREFIX [TMP]]
#                                 start it under DIR (must not exist yet);
#                                 PATH_PREFIX is put first in containerd's
#                                 PATH (where it finds containerd-shim-*-v2);
#                                 TMP (the test's temp directory) is removed
#                                 too should the guard (below) have to stop it
#   ctr_ ARGS...                  ctr against it (namespace "default")
#   ctrd_restart                  SIGKILL containerd (a crash), start it again
#                                 on the same root, state and sockets; its
#                                 shims and their tasks go on
#   ctrd_stop                     stop it and its shims, unmount, remove DIR
#
# Readiness is containerd answering `ctr version`, polled (bounded by
# CTRD_START_TIMEOUT seconds, default 60): the daemon offers no event to wait
# on. Failures print containerd's log tail and return non-zero.
#
# Its processes: containerd, its shims and what they start (hull-vmm) carry
# CTRD_TEST_DIR=DIR in their environment, which is how ctrd_procs finds them
# (a hull-vmm's command line does not name DIR). A guard process, in a
# session of its own, runs ctrd_stop when the calling shell dies without
# doing so (a test killed by meson's timeout: SIGTERM to its process group,
# SIGKILL half a second later, too soon for an EXIT trap to stop containerd).

ctrd_dir=
ctrd_pid=
ctrd_guard=
ctrd_prefix=
ctrd_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containerd.sh

ctr_() {
	ctr --address "$ctrd_dir/c.sock" "$@"
}

ctrd_start() {
	local dir=$1 prefix=${2:-} also=${3:-}
	if [ -e "$dir" ]; then
		echo "ctrd_start: $dir exists" >&2
		return 1
	fi
	mkdir -p "$dir/root" "$dir/state" "$dir/fifo"
	ctrd_dir=$(cd "$dir" && pwd)
	# CRI, the snapshotters this host lacks, tracing and /opt are off: the
	# tests need the task, image and overlayfs parts only.
	cat >"$ctrd_dir/config.toml" <<-TOML
		version = 2
		root = "$ctrd_dir/root"
		state = "$ctrd_dir/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.opt",
		  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
		[grpc]
		  address = "$ctrd_dir/c.sock"
		[ttrpc]
		  address = "$ctrd_dir/c.sock.ttrpc"
		[debug]
		  address = "$ctrd_dir/debug.sock"
		  level = "debug"
		[metrics]
		  address = ""
	TOML
	ctrd_prefix=$prefix
	ctrd_launch
	# the guard names DIR only in its environment, so ctrd_procs skips it
	# shellcheck disable=SC2016 # the guard's script expands its own variables
	CTRD_GUARD_DIR=$ctrd_dir CTRD_GUARD_PID=$ctrd_pid CTRD_GUARD_LIB=$ctrd_lib \
		CTRD_GUARD_ALSO=$also setsid bash -c '
		tail --pid="$1" -f /dev/null
		. "$CTRD_GUARD_LIB"
		ctrd_dir=$CTRD_GUARD_DIR ctrd_pid=$CTRD_GUARD_PID
		ctrd_stop
		[ -z "$CTRD_GUARD_ALSO" ] || rm -rf "$CTRD_GUARD_ALSO"' ctrd-guard "$$" \
		</dev/null >/dev/null 2>&1 &
	ctrd_guard=$!
	ctrd_ready
}

# containerd itself, on ctrd_dir's config (its log appended to)
ctrd_launch() {
	PATH="${ctrd_prefix:+$ctrd_prefix:}$PATH" CTRD_TEST_DIR=$ctrd_dir setsid containerd \
		--config "$ctrd_dir/config.toml" >>"$ctrd_dir/containerd.log" 2>&1 </dev/null &
	ctrd_pid=$!
}

ctrd_ready() {
	local waited=0
	until ctr_ version >/dev/null 2>&1; do
		if ! kill -0 "$ctrd_pid" 2>/dev/null || [ "$waited" -ge "$((${CTRD_START_TIMEOUT:-60} * 10))" ]; then
			echo "ctrd_start: containerd did not come up; its log:" >&2
			tail -n 30 "$ctrd_dir/containerd.log" >&2
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

# Every process of a test directory (default: this one's), by pid: those
# whose command line names it (the daemon's --config, the shims' -address,
# ctr --address) or whose environment carries its CTRD_TEST_DIR (hull-vmm).
ctrd_procs() {
	local dir=${1:-$ctrd_dir}
	{
		pgrep -f -- "$dir"
		grep -lszxF -- "CTRD_TEST_DIR=$dir" /proc/[0-9]*/environ | cut -d/ -f3
	} | sort -un | grep -vxF -e "$BASHPID" -e "${ctrd_guard:-x}" || true
}

# The guard need not know the new daemon: ctrd_stop finds it by its --config.
ctrd_restart() {
	[ -n "$ctrd_pid" ] || return 1
	kill -KILL "$ctrd_pid" 2>/dev/null
	ctrd_wait_gone 20 "$ctrd_pid" || return 1
	wait "$ctrd_pid" 2>/dev/null
	ctrd_launch
	ctrd_ready
}

ctrd_mounts() {
	awk -v d="$ctrd_dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo
}

# ctrd_wait_gone SECONDS PID...: until none of them runs (a zombie counts as
# gone); status 1 on timeout.
ctrd_wait_gone() {
	local n=$(($1 * 10)) pid live
	shift
	while [ "$n" -gt 0 ]; do
		live=
		for pid in "$@"; do
			[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)" = Z ] || live=1
		done
		[ -n "$live" ] || return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

ctrd_stop() {
	[ -n "$ctrd_dir" ] || return 0
	local rc=0 pid m
	if [ -n "$ctrd_pid" ] && kill -0 "$ctrd_pid" 2>/dev/null; then
		kill -TERM "$ctrd_pid"
		ctrd_wait_gone 20 "$ctrd_pid" || kill -KILL "$ctrd_pid" 2>/dev/null
		wait "$ctrd_pid" 2>/dev/null
	fi
	ctrd_pid=
	# shims outlive containerd by design; a test that left one (or a VM
	# monitor) is wrong, but the machine must be clean either way
	local left
	left=$(ctrd_procs "$ctrd_dir")
	for pid in $left; do
		kill -KILL "$pid" 2>/dev/null
	done
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$left" ] || ctrd_wait_gone 20 $left || rc=1
	for m in $(ctrd_mounts | sort -r); do
		umount -l "$m" || rc=1
	done
	rm -rf "$ctrd_dir" || rc=1
	ctrd_dir=
	# done: the guard is not needed. Only now: bash runs the EXIT trap on
	# SIGTERM too, and meson's SIGKILL may end this function half way.
	if [ -n "$ctrd_guard" ]; then
		kill -KILL -- "-$ctrd_guard" 2>/dev/null
		ctrd_guard=
	fi
	return $rc
}
