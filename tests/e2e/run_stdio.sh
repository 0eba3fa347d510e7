#!/usr/bin/env bash
# stdin: empty without -i, forwarded with -i (then EOF), a large one whole.
. "$(dirname "$0")/lib.sh"

# -i: piped stdin reaches the container, then EOF
run_hull stdin_i -i "$IMG" wc -c < <(printf abc)
expect_eq "-i: printf abc | wc -c" "$(tr -d ' ' <<<"$out")" 3
expect_eq "-i: exit 0" "$rc" 0
head -c 1048576 /dev/urandom >"$tmp/big"
want=$(md5sum <"$tmp/big" | cut -d' ' -f1)
HULL_TEST_TIMEOUT=600 run_hull stdin_big -i "$IMG" sh -c 'tee /tmp/in | wc -c; md5sum </tmp/in' <"$tmp/big"
expect_line "-i: 1 MiB of stdin arrives whole" "$out" 1048576
expect_contains "-i: 1 MiB of stdin arrives intact" "$out" "$want"

finish
