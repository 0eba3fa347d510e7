# shellcheck shell=bash
# containerd.sh: a private containerd for tests (Debian's containerd 1.6),
# never the system's: its root, state, sockets, FIFOs and config all live
# under one temp directory, and ctrd_stop leaves nothing behind (no process,
# mount or file).
#
#   . tests/lib/containerd.sh
#   ctrd_start DIR [PATH_PREFIX]  start it under DIR (must not exist yet);
#                                 PATH_PREFIX is put first in containerd's
#                                 PATH (where it finds containerd-shim-*-v2)
#   ctr_ ARGS...                  ctr against it (namespace "default")
#   ctrd_stop                     stop it and its shims, unmount, remove DIR
#
# Readiness is containerd answering `ctr version`, polled (bounded by
# CTRD_START_TIMEOUT seconds, default 60): the daemon offers no event to wait
# on. Failures print containerd's log tail and return non-zero.

ctrd_dir=
ctrd_pid=

ctr_() {
	ctr --address "$ctrd_dir/c.sock" "$@"
}

ctrd_start() {
	local dir=$1 prefix=${2:-}
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
	PATH="${prefix:+$prefix:}$PATH" setsid containerd --config "$ctrd_dir/config.toml" \
		>"$ctrd_dir/containerd.log" 2>&1 </dev/null &
	ctrd_pid=$!
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

# Every process whose command line names the test directory: the daemon
# (its --config) and its shims (-address), by pid.
ctrd_procs() {
	pgrep -f -- "$ctrd_dir" || true
}

ctrd_mounts() {
	awk -v d="$ctrd_dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo
}

ctrd_stop() {
	[ -n "$ctrd_dir" ] || return 0
	local rc=0 pid m
	if [ -n "$ctrd_pid" ] && kill -0 "$ctrd_pid" 2>/dev/null; then
		kill -TERM "$ctrd_pid"
		wait "$ctrd_pid" 2>/dev/null
	fi
	ctrd_pid=
	# shims outlive containerd by design; a test that left one is wrong,
	# but the machine must be clean either way
	for pid in $(ctrd_procs); do
		kill -KILL "$pid" 2>/dev/null
	done
	for m in $(ctrd_mounts | sort -r); do
		umount -l "$m" || rc=1
	done
	rm -rf "$ctrd_dir" || rc=1
	ctrd_dir=
	return $rc
}
