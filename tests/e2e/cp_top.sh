#!/usr/bin/env bash
# hull cp both ways while the container runs (the image's tar in the guest,
# libarchive on the host), hull top (the image's ps in the guest), and a
# hostile container: a fake tar in the guest sends names that climb out,
# absolute names, names outside what was asked and a file through a symlink;
# nothing may land outside the destination. One VM from the suite's template.
. "$(dirname "$0")/lib.sh"

cleanup() {
	for c in $("$HULL" ps -aq 2>/dev/null); do "$HULL" rm -f "$c" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
logs_have() { "$HULL" logs "$1" 2>/dev/null | grep -qx "$2"; }

script='mkdir -p /data/sub && echo one >/data/a.txt && echo two >/data/sub/b.txt &&
ln -s /etc/passwd /data/link && echo ready
while :; do sleep 1000 & wait $!; done'
# /fake first in PATH: the hostile part below puts its own tar there
run_hull cpt -d --name cpt -e PATH=/fake:/usr/sbin:/usr/bin:/sbin:/bin "$IMG" sh -c "$script"
expect_eq "run -d exits 0" "$rc" 0
if wait_until 120 logs_have cpt ready; then pass "the container is ready"; else fail "the container is ready"; fi

# --- top -------------------------------------------------------------------------
hull_cmd top top cpt
expect_eq "top exits 0" "$rc" 0
expect_contains "top: ps's header" "$out" "PID"
expect_contains "top: the container's process" "$out" "sleep 1000"
hull_cmd topo top cpt -o pid,comm
expect_eq "top with ps options exits 0" "$rc" 0
expect_line "top -o pid,comm: ps's own header" "$(head -n1 <<<"$out" | tr -s ' ' | sed 's/^ //')" "PID COMMAND"
hull_cmd topx top nosuch
expect_eq "top of an unknown container: status 1" "$rc" 1

# --- container -> host ------------------------------------------------------------
hull_cmd cp1 cp cpt:/data "$tmp/out"
expect_eq "cp NAME:DIR NEWDIR exits 0" "$rc:$err" "0:"
expect_eq "cp: a file" "$(cat "$tmp/out/a.txt" 2>&1)" one
expect_eq "cp: a file in a subdirectory" "$(cat "$tmp/out/sub/b.txt" 2>&1)" two
expect_eq "cp: a symlink stays a symlink" "$(readlink "$tmp/out/link")" /etc/passwd
mkdir "$tmp/into"
hull_cmd cp2 cp cpt:/data/a.txt "$tmp/into"
expect_eq "cp into an existing directory: the source's name" "$rc:$(cat "$tmp/into/a.txt" 2>&1)" "0:one"
hull_cmd cp3 cp cpt:/data/sub/b.txt "$tmp/renamed.txt"
expect_eq "cp to a new name" "$rc:$(cat "$tmp/renamed.txt" 2>&1)" "0:two"
hull_cmd cp4 cp cpt:/no/such "$tmp/x"
expect_eq "cp of a missing path: status 1" "$rc" 1
if [ ! -e "$tmp/x" ]; then pass "cp of a missing path: nothing made"; else fail "cp of a missing path: nothing made"; fi
hull_cmd cp5 cp cpt:/data/a.txt "$tmp/no/such/dir/f"
expect_eq "cp to a missing host directory: status 1" "$rc" 1

# --- host -> container ------------------------------------------------------------
mkdir -p "$tmp/up/d"
echo x-content >"$tmp/up/x.txt"
echo y-content >"$tmp/up/d/y.txt"
hull_cmd up1 cp "$tmp/up" cpt:/data
expect_eq "cp DIR NAME:EXISTINGDIR exits 0" "$rc:$err" "0:"
hull_cmd upc exec cpt cat /data/up/x.txt /data/up/d/y.txt
expect_eq "cp into the container: the files arrived" "$out" "x-content
y-content"
hull_cmd up2 cp "$tmp/up/x.txt" cpt:/tmp/newname
expect_eq "cp FILE NAME:NEWNAME exits 0" "$rc" 0
hull_cmd upc2 exec cpt cat /tmp/newname
expect_eq "cp FILE NAME:NEWNAME: renamed" "$out" x-content
hull_cmd up3 cp "$tmp/nothing" cpt:/tmp
expect_eq "cp of a missing host path: status 1" "$rc" 1
hull_cmd both cp cpt:/a cpt:/b
expect_eq "cp between containers: refused (2)" "$rc" 2
hull_cmd neither cp "$tmp/a" "$tmp/b"
expect_eq "cp between host paths: refused (2)" "$rc" 2

# --- a hostile container ----------------------------------------------------------
mkdir -p "$tmp/evil" "$tmp/outside"
python3 - "$tmp/evil" "$tmp/outside" <<'PY'
import io, sys, tarfile
d, outside = sys.argv[1], sys.argv[2]
def mk(name, entries):
    with tarfile.open(f"{d}/{name}", "w", format=tarfile.USTAR_FORMAT) as t:
        for n, kind, val in entries:
            i = tarfile.TarInfo(n)
            if kind == "file":
                i.size = len(val); t.addfile(i, io.BytesIO(val))
            elif kind == "sym":
                i.type = tarfile.SYMTYPE; i.linkname = val; t.addfile(i)
            elif kind == "dir":
                i.type = tarfile.DIRTYPE; t.addfile(i)
mk("dotdot.tar", [("data", "dir", None), ("data/../../../escape.txt", "file", b"pwned\n")])
mk("abs.tar", [("/tmp/hull-cp-abs-escape.txt", "file", b"pwned\n")])
mk("other.tar", [("data", "dir", None), ("elsewhere/x", "file", b"pwned\n")])
mk("symlink.tar", [("data", "dir", None), ("data/lnk", "sym", outside),
                   ("data/lnk/pwn.txt", "file", b"pwned\n")])
PY
hull_cmd evup cp "$tmp/evil" cpt:/
hull_cmd fake exec cpt sh -c 'mkdir -p /fake && printf "#!/bin/sh\ncat /evil/\$(cat /which)\n" >/fake/tar && chmod +x /fake/tar && echo ok'
expect_eq "the hostile tar is in place" "$rc:$out" "0:ok"
for t in dotdot abs other symlink; do
	"$HULL" exec cpt sh -c "echo $t.tar >/which"
	mkdir -p "$tmp/dst-$t"
	hull_cmd "ev-$t" cp cpt:/data "$tmp/dst-$t/data"
	expect_eq "hostile $t: cp fails" "$rc" 1
	expect_contains "hostile $t: explained" "$err" "hull: cp:"
done
if [ -z "$(ls -A "$tmp/outside")" ]; then pass "hostile: nothing written through a symlink"; else fail "hostile: nothing written through a symlink" "$(ls -la "$tmp/outside")"; fi
if [ ! -e "$tmp/escape.txt" ] && [ ! -e "$tmp/dst-dotdot/escape.txt" ] && [ ! -e "$(dirname "$tmp")/escape.txt" ]; then
	pass "hostile: nothing written above the destination"
else
	fail "hostile: nothing written above the destination"
fi
if [ ! -e /tmp/hull-cp-abs-escape.txt ]; then pass "hostile: no absolute name written"; else fail "hostile: no absolute name written"; rm -f /tmp/hull-cp-abs-escape.txt; fi
if [ ! -e "$tmp/dst-other/elsewhere" ] && [ ! -e "$tmp/dst-other/data/x" ]; then pass "hostile: nothing outside what was asked"; else fail "hostile: nothing outside what was asked"; fi

hull_cmd rm rm -f cpt
expect_eq "rm -f" "$rc" 0
finish
