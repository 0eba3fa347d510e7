#!/usr/bin/env bash
# Exit statuses: a signal death is 128+N; a missing command is 127; the image's
# default Cmd runs when no command is given.
. "$(dirname "$0")/lib.sh"

run_hull killed "$IMG" sh -c 'kill -KILL $$'
expect_eq "death by SIGKILL exits 137" "$rc" 137

run_hull notfound "$IMG" /no/such/command
expect_eq "a missing command exits 127" "$rc" 127
expect_contains "and says what is missing" "$err" "/no/such/command"

run_hull default "$IMG"
expect_eq "the image's Cmd runs by default, exit 0" "$rc" 0
expect_line "the image's Cmd output" "$out" "default-cmd"
finish
