#!/usr/bin/env bash
# VMs restored from one template must not share identity or RNG state, and a
# damaged template is refused (with the reason) in favour of a cold boot.
. "$(dirname "$0")/lib.sh"
: "${HULL_TEMPLATE_DIR:?the suite shares templates through HULL_TEMPLATE_DIR}"

probe='echo "rand=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")"; echo "host=$(hostname)"; echo "year=$(date +%Y)"'
( run_hull a --timings "$IMG" sh -c "$probe"; echo "$rc" >"$tmp/a.rc" ) &
( run_hull b --timings "$IMG" sh -c "$probe"; echo "$rc" >"$tmp/b.rc" ) &
wait
expect_eq "first of two concurrent restores exits 0" "$(cat "$tmp/a.rc")" 0
expect_eq "second of two concurrent restores exits 0" "$(cat "$tmp/b.rc")" 0
outa=$(cat "$tmp/a.out") outb=$(cat "$tmp/b.out")
expect_contains "first started from the template" "$(cat "$tmp/a.err")" "(restored from template)"
expect_contains "second started from the template" "$(cat "$tmp/b.err")" "(restored from template)"
ra=$(sed -n 's/^rand=//p' <<<"$outa") rb=$(sed -n 's/^rand=//p' <<<"$outb")
if [ ${#ra} -eq 32 ] && [ "$ra" != "$rb" ]; then pass "restored siblings draw different random numbers"; else fail "restored siblings draw different random numbers" "a: $ra" "b: $rb"; fi
ha=$(sed -n 's/^host=//p' <<<"$outa") hb=$(sed -n 's/^host=//p' <<<"$outb")
if [ -n "$ha" ] && [ "$ha" != "$hb" ]; then pass "restored siblings get different hostnames"; else fail "restored siblings get different hostnames" "a: $ha" "b: $hb"; fi
expect_line "a restored guest has the host's clock" "$outa" "year=$(date +%Y)"

# A damaged copy of the template, in a private template dir.
shopt -s nullglob
src=("$HULL_TEMPLATE_DIR"/*/)
if [ ${#src[@]} -ne 1 ]; then fail "the suite's template exists" "found ${#src[@]} in $HULL_TEMPLATE_DIR"; finish; fi
export HULL_TEMPLATE_DIR="$tmp/templates"
mkdir -p "$HULL_TEMPLATE_DIR"
cp -a --sparse=always "${src[0]%/}" "$HULL_TEMPLATE_DIR/"
state=("$HULL_TEMPLATE_DIR"/*/state)
size=$(stat -c %s "${state[0]}")
printf '\xff' | dd of="${state[0]}" bs=1 seek=$((size / 2)) conv=notrunc status=none
run_hull corrupt --timings "$IMG" sh -c 'echo still-runs'
expect_eq "a corrupted template: the run still succeeds" "$rc" 0
expect_line "a corrupted template: the container ran" "$out" "still-runs"
expect_contains "a corrupted template is refused with the reason" "$err" "template not used"
expect_contains "a corrupted template: checksum named" "$err" "checksum"
expect_contains "a corrupted template: cold boot instead" "$err" "(cold boot)"
run_hull after --timings "$IMG" true
expect_contains "the refused template was replaced by a good one" "$err" "(restored from template)"

# A damaged memory file (it used to be restored, and every run then died of
# a triple fault): refused by its checksum, the run boots cold with a
# one-line note, and the template is rebuilt. One page of 0xff in the middle
# of the file (guest RAM that was data or a hole: both are damage).
mem=("$HULL_TEMPLATE_DIR"/*/mem)
msize=$(stat -c %s "${mem[0]}")
head -c 4096 /dev/zero | tr '\0' '\377' |
	dd of="${mem[0]}" bs=4096 seek=$((msize / 2 / 4096)) conv=notrunc status=none
run_hull memdamage --timings "$IMG" sh -c 'echo still-runs'
expect_eq "a damaged mem file: the run still succeeds" "$rc" 0
expect_line "a damaged mem file: the container ran" "$out" "still-runs"
expect_contains "a damaged mem file: the cold boot is said" "$err" "(cold boot)"
note=$(grep -F "template not used" <<<"$err")
expect_eq "a damaged mem file: one line says so" "$(grep -c . <<<"$note")" 1
expect_contains "a damaged mem file: the checksum is named" "$note" "mem file checksum mismatch"
run_hull memafter --timings "$IMG" true
expect_eq "after a damaged mem file: the next run exits 0" "$rc" 0
expect_contains "the damaged template was rebuilt and restores" "$err" "(restored from template)"

name=$(basename "$(dirname "${state[0]}")")
hull_cmd rm snapshot rm "$name"
expect_eq "hull snapshot rm exits 0" "$rc" 0
t=("$HULL_TEMPLATE_DIR"/*/state)
expect_eq "hull snapshot rm removed it" "${#t[@]}" 0
hull_cmd rmbad snapshot rm ../etc
expect_eq "hull snapshot rm refuses a path" "$rc" 125
finish
