#!/usr/bin/env bash
# Network rate limits: --network-tx-bps caps what the container sends (a
# token bucket in the VM monitor's virtio-net, one second of burst). The
# container serves 1 MiB (httpd, a published port, slirp) under
# --network-tx-bps 128k; curl on the host times its first byte to its last:
# 896 KiB past the burst at 128 KiB/s, 7 s and the frames' headers
# (asserted: 6.9 s, a lower bound only; curl sees the first byte a little
# after it left). Bad values and --network none are refused with 125.
# One VM, restored from the suite's template.
. "$(dirname "$0")/lib.sh"

hull_pid=
rate_cleanup() {
	[ -n "$hull_pid" ] && kill "$hull_pid" 2>/dev/null && wait "$hull_pid" 2>/dev/null
	cleanup
}
trap rate_cleanup EXIT

# --- refusals: no VM -----------------------------------------------------------
hull_cmd badrate run --network-tx-bps 0 "$IMG" true
expect_eq "--network-tx-bps 0: exit 125" "$rc" 125
expect_contains "--network-tx-bps 0: the error names the value" "$err" "--network-tx-bps 0"
hull_cmd badunit run --network-rx-bps 1x "$IMG" true
expect_eq "--network-rx-bps 1x: exit 125" "$rc" 125
hull_cmd badpps run --network-tx-pps 10k "$IMG" true
expect_eq "--network-tx-pps 10k (not a number): exit 125" "$rc" 125
hull_cmd nonic run --network none --network-rx-bps 1M "$IMG" true
expect_eq "--network-rx-bps with --network none: exit 125" "$rc" 125
expect_contains "--network none: the error says why" "$err" "--network-rx-bps with --network none"

# --- 1 MiB guest -> host at 128 KiB/s --------------------------------------------
# httpd in the container serves 1 MiB on a published port; curl on the host
# fetches it and times the body, from its first byte to its last. (busybox nc
# writes 1 KiB at a time and waits on slirp's delayed ACKs: too slow a
# sender to show a limit on a host that emulates the guest's kernel mode.)
gport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
script="mkdir -p /www && head -c 1048576 /dev/zero >/www/1m && httpd -p 8080 -h /www && echo rate-ready
exec sleep 100000"
# No --kill-after: timeout arms it on any signal it forwards (see net.sh)
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
timeout "$HULL_TEST_TIMEOUT" "$HULL" run ${HULL_RUN_FLAGS:-} -p "127.0.0.1:$gport:8080" \
	--network-tx-bps 128k "$IMG" sh -c "$script" >"$tmp/slow.out" 2>"$tmp/slow.err" &
hull_pid=$!
last=slow
# the container says when it serves; bounded by hull's own timeout
while kill -0 "$hull_pid" 2>/dev/null && ! grep -q rate-ready "$tmp/slow.out"; do
	sleep 0.5
done
res=$(curl -s -m 300 -o /dev/null -w '%{size_download} %{time_starttransfer} %{time_total}' \
	"http://127.0.0.1:$gport/1m")
read -r size t_first t_total <<<"$res"
expect_eq "the host received 1 MiB" "${size:-}" 1048576
ms=$(awk -v a="${t_first:-0}" -v b="${t_total:-0}" 'BEGIN { printf "%d", (b - a) * 1000 }')
if [ -n "${size:-}" ] && [ "$ms" -ge 6900 ]; then
	pass "1 MiB out at 128 KiB/s takes about 7 s or more (took $ms ms)"
else
	fail "1 MiB out at 128 KiB/s takes about 7 s or more" "curl said: $res"
fi
kill -TERM "$hull_pid"
wait "$hull_pid"
rc=$?
hull_pid=
expect_eq "SIGTERM ends the container (128+15)" "$rc" 143
finish
