#!/usr/bin/env bash
# The same image run twice converts once: first as an OCI layout, then as an
# oci-archive of the same image (same manifest digest).
. "$(dirname "$0")/lib.sh"
: "${IMG_ARCHIVE:?IMG_ARCHIVE must name the oci-archive of the test image}"

run_hull first --timings "$IMG" true
expect_eq "first run exits 0" "$rc" 0
expect_contains "first run converts the image" "$err" "(converted)"
shopt -s nullglob
files=("$HULL_ROOT"/rootfs/*.ext4)
expect_eq "one cached root filesystem" "${#files[@]}" 1
before=$(stat -c '%i %Y' "${files[0]:-/nonexistent}" 2>/dev/null || echo missing-before)

run_hull second --timings "$IMG_ARCHIVE" true
expect_eq "second run (oci-archive) exits 0" "$rc" 0
expect_contains "second run is a cache hit" "$err" "(cache hit)"
files=("$HULL_ROOT"/rootfs/*.ext4)
expect_eq "still one cached root filesystem" "${#files[@]}" 1
expect_eq "the cached file was not rewritten" \
	"$(stat -c '%i %Y' "${files[0]:-/nonexistent}" 2>/dev/null || echo missing-after)" "$before"
tmps=("$HULL_ROOT"/rootfs/*.tmp.*)
expect_eq "no temp files left behind" "${#tmps[@]}" 0
finish
