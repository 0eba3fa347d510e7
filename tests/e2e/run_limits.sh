#!/usr/bin/env bash
# I/O limits: --device-read-bps caps how fast the container reads its image
# disk (a token bucket in the VM monitor's virtio-blk, one second of burst).
# 1 MiB read at 256 KiB/s takes at least 3 s (the first 256 KiB are the
# burst); unlimited, the same read takes a fraction of that. Bad values are
# refused with 125. One VM restored from the suite's template per run.
. "$(dirname "$0")/lib.sh"

read_1m='dd if=/dev/vda of=/dev/null bs=64k count=16 2>&1'
# seconds dd says it took ("... copied, 3.01 seconds, ..."), whole part
dd_secs() { sed -n 's/.*copied, \([0-9]*\)[.0-9]* seconds.*/\1/p' <<<"$1"; }

run_hull free "$IMG" sh -c "$read_1m"
expect_eq "unlimited read: exit 0" "$rc" 0
free_s=$(dd_secs "$out")
run_hull slow --device-read-bps /dev/vda:256k "$IMG" sh -c "$read_1m"
expect_eq "limited read: exit 0" "$rc" 0
slow_s=$(dd_secs "$out")
if [ -n "$slow_s" ] && [ "$slow_s" -ge 3 ]; then
	pass "1 MiB at 256 KiB/s takes at least 3 s (took $slow_s s, unlimited ${free_s:-?} s)"
else
	fail "1 MiB at 256 KiB/s takes at least 3 s" "dd said: $out"
fi
if [ -n "$free_s" ] && [ "$free_s" -lt 3 ]; then
	pass "unlimited, the same read takes less (the check above can fail)"
else
	fail "unlimited, the same read takes less (the check above can fail)" "dd said: $(cat "$tmp/free.out")"
fi

hull_cmd badrate run --device-read-bps 0 "$IMG" true
expect_eq "--device-read-bps 0 is refused" "$rc" 125
hull_cmd baddev run --device-write-iops /dev/sda:10 "$IMG" true
expect_eq "another device is refused" "$rc" 125
expect_contains "the refusal names the device" "$err" "/dev/vda"
finish
