#!/usr/bin/env bash
# I/O limits: --device-read-bps caps how fast the container reads its image
# disk (a token bucket in the VM monitor's virtio-blk, one second of burst).
# 1 MiB read at 64 KiB/s takes at least 15 s (the first 64 KiB are the
# burst); unlimited, the same read takes a fraction of that. Bad values are
# refused with 125. One VM restored from the suite's template per run.
. "$(dirname "$0")/lib.sh"

# 1 MiB from the end of the disk (blocks nothing read before, so none in the
# template's page cache), timed by the guest's /proc/uptime in centiseconds
# (busybox dd prints no timing)
read_1m='n=$(cat /sys/block/vda/size) || exit 9
s=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/vda of=/dev/null bs=64k count=16 skip=$((n / 128 - 16)) 2>&1 || exit 8
e=$(cut -d" " -f1 /proc/uptime)
echo "cs=$(((${e%.*} * 100 + 1${e#*.}) - (${s%.*} * 100 + 1${s#*.})))"'
cs_of() { sed -n 's/^cs=\([0-9]*\)$/\1/p' <<<"$1"; }

run_hull free "$IMG" sh -c "$read_1m"
expect_eq "unlimited read: exit 0" "$rc" 0
free_cs=$(cs_of "$out")
run_hull slow --device-read-bps /dev/vda:64k "$IMG" sh -c "$read_1m"
expect_eq "limited read: exit 0" "$rc" 0
slow_cs=$(cs_of "$out")
# 960 KiB past the burst at 64 KiB/s: 15 s, less the uptime's 1/100 s grain.
# Unlimited, the read takes ~2.5 s here (the guest kernel is emulated), more
# under load: the limit is chosen so that even a loaded unlimited run is
# faster
if [ -n "$slow_cs" ] && [ "$slow_cs" -ge 1499 ]; then
	pass "1 MiB at 64 KiB/s takes at least 15 s (took ${slow_cs}0 ms, unlimited ${free_cs:-?}0 ms)"
else
	fail "1 MiB at 64 KiB/s takes at least 15 s" "the guest said: $out"
fi
if [ -n "$free_cs" ] && [ -n "$slow_cs" ] && [ "$free_cs" -lt "$slow_cs" ]; then
	pass "unlimited, the same read takes less"
else
	fail "unlimited, the same read takes less" "the guest said: $(cat "$tmp/free.out")"
fi

hull_cmd badrate run --device-read-bps 0 "$IMG" true
expect_eq "--device-read-bps 0 is refused" "$rc" 125
hull_cmd baddev run --device-write-iops /dev/sda:10 "$IMG" true
expect_eq "another device is refused" "$rc" 125
expect_contains "the refusal names the device" "$err" "/dev/vda"
finish
