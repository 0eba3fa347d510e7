#!/usr/bin/env bash
# The first VM test of the suite, run alone: a cold boot makes the template
# (the VM saved right after guest-init is up), the next run starts from it.
. "$(dirname "$0")/lib.sh"
: "${HULL_TEMPLATE_DIR:?the suite shares templates through HULL_TEMPLATE_DIR}"
rm -rf "$HULL_TEMPLATE_DIR"

run_hull cold --timings "$IMG" sh -c 'echo cold-ok'
expect_eq "cold boot exits 0" "$rc" 0
expect_line "cold boot runs the container" "$out" "cold-ok"
expect_contains "the first run boots cold" "$err" "(cold boot)"
saved=$(sed -n 's/^ *template saved *//p' <<<"$err")
if [ -n "$saved" ] && [ "${saved%%.*}" != "-1" ]; then pass "the first run saves a template"; else fail "the first run saves a template" "timings: $err"; fi
shopt -s nullglob
t=("$HULL_TEMPLATE_DIR"/*/state)
expect_eq "one template on disk" "${#t[@]}" 1

run_hull warm --timings "$IMG" sh -c 'echo warm-ok'
expect_eq "restored run exits 0" "$rc" 0
expect_line "restored run runs the container" "$out" "warm-ok"
expect_contains "the second run starts from the template" "$err" "(restored from template)"

hull_cmd ls snapshot ls
expect_eq "hull snapshot ls exits 0" "$rc" 0
expect_contains "hull snapshot ls shows the template as usable" "$out" "usable"

run_hull nosnap --no-snapshot --timings "$IMG" true
expect_eq "--no-snapshot exits 0" "$rc" 0
expect_contains "--no-snapshot boots cold" "$err" "(cold boot)"
finish
