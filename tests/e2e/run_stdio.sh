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

# output in bulk (guest-init reads whole pipes, forwards 64 KiB frames): a few
# MiB of stdout with a stderr line after each block, byte-exact and in order
# per stream, on the terminal and in the container's log alike. Each block is
# one long line (a log record per frame, not per line: the log stays far
# below its default cap, which would drop the oldest records)
blocks=8 per=60000
want_out=$(for i in $(seq $blocks); do seq -s ' ' $(((i - 1) * per + 1)) $((i * per)); done |
	md5sum | cut -d' ' -f1)
want_err=$(for i in $(seq $blocks); do echo "err $i"; done)
HULL_TEST_TIMEOUT=900 run_hull out_big --name bulkout "$IMG" sh -c \
	"i=1; while [ \$i -le $blocks ]; do seq -s ' ' \$(((i - 1) * $per + 1)) \$((i * $per)); echo err \$i >&2; i=\$((i + 1)); done"
expect_eq "bulk output: exit 0" "$rc" 0
expect_eq "bulk output: $(wc -c <"$tmp/out_big.out") bytes of stdout arrive whole, in order" \
	"$(md5sum <"$tmp/out_big.out" | cut -d' ' -f1)" "$want_out"
expect_eq "bulk output: stderr in order" "$err" "$want_err"
hull_cmd out_big_logs logs bulkout
expect_eq "bulk output: the log's stdout is byte-exact" \
	"$(md5sum <"$tmp/out_big_logs.out" | cut -d' ' -f1)" "$want_out"
expect_eq "bulk output: the log's stderr in order" "$err" "$want_err"
hull_cmd out_big_rm rm bulkout
expect_eq "bulk output: rm" "$rc" 0

finish
