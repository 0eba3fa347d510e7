#!/usr/bin/env bash
# Volumes (-v): the VMM's 9p server and guest-init's mounts. One VM makes
# most assertions (its run boots cold the first time and saves a template
# with two volume devices); a second run is restored from that template and
# must serve its own directories; a third fails to mount and must say why.
# Closed defaults (hull as root): what a root guest chowns or creates gets
# the volume directory's owner and no setuid/setgid bit (passthrough-owners
# is refused: the jailed monitor has no CAP_CHOWN); a symlink a container
# planted in a volume cannot be the next run's -v source.
. "$(dirname "$0")/lib.sh"

vol=$tmp/vol
ro=$tmp/rodir
outside=$tmp/outside
mkdir -p "$vol" "$ro" "$outside"
echo hostdata >"$vol/hostfile"
echo rodata >"$ro/rofile"
echo SECRET >"$outside/secret"
# every way a symlink in the volume could point out of it
ln -s "$outside" "$vol/abs"
ln -s ../outside "$vol/up"
ln -s "$outside/secret" "$vol/filelink"
ln -s /etc "$vol/etclink"
if [ "$(id -u)" = 0 ]; then
	chown 4321:8765 "$vol" # the volume's owner: what the guest's files get
fi

script='
cat /data/hostfile
echo guest-wrote > /data/fromguest
mkdir /data/dir && echo x > /data/dir/f && mv /data/dir/f /data/dir/g && echo "ls=$(ls /data/dir)"
rm /data/dir/g && rmdir /data/dir && echo rm-ok
chown 1234:5678 /data/fromguest && echo chown-ok
mkdir /data/own && cp /bin/sh /data/own/suid && chown 0:0 /data/own/suid &&
	chmod 6755 /data/own/suid && echo suid-ok
mkdir /data/own/sgdir && chmod 2775 /data/own/sgdir
ln -s /etc /data/own/planted
cat /data/abs/secret 2>/dev/null || echo abs-blocked
cat /data/up/secret 2>/dev/null || echo up-blocked
cat /data/filelink 2>/dev/null || echo filelink-blocked
[ "$(ls /data/etclink)" = "$(ls /etc)" ] && echo etclink-is-the-guests
ln /data/filelink /data/hard 2>/dev/null || echo hardlink-of-symlink-refused
ln /etc/passwd /data/pw 2>/dev/null || echo hardlink-from-outside-refused
echo x > /ro/new 2>/dev/null || echo ro-write-refused
rm /ro/rofile 2>/dev/null || echo ro-rm-refused
cat /ro/rofile
mount | grep -c " type 9p "
'
# the first run of a fresh suite boots cold: allow for a slow, shared host
HULL_TEST_TIMEOUT=600 run_hull vols -v "$vol:/data" -v "$ro:/ro:ro" "$IMG" sh -c "$script"
expect_eq "exit status" "$rc" 0
expect_line "a host file is readable in the guest" "$out" "hostdata"
expect_eq "a guest write is visible on the host" "$(cat "$vol/fromguest" 2>&1)" "guest-wrote"
expect_line "mkdir and mv work in the volume" "$out" "ls=g"
expect_line "rm and rmdir work in the volume" "$out" "rm-ok"
if [ "$(id -u)" = 0 ]; then
	# the monitor is jailed (runtime/jail.h): user hull, no CAP_CHOWN, the
	# volume bind-mounted idmapped so its owner is who the monitor acts as;
	# the 9p server maps every chown to that owner
	expect_eq "as root, a chown gets the volume's owner" \
		"$(stat -c %u:%g "$vol/fromguest")" "4321:8765"
	expect_eq "as root, a chown to root gets the volume's owner" \
		"$(stat -c %u:%g "$vol/own/suid")" "4321:8765"
	expect_eq "as root, a new directory gets the volume's owner" \
		"$(stat -c %u:%g "$vol/own")" "4321:8765"
fi
expect_line "chmod 6755 in the guest succeeds" "$out" "suid-ok"
expect_eq "no setuid/setgid bit arrives on the host" "$(stat -c %a "$vol/own/suid")" "755"
expect_eq "no setgid directory arrives on the host" "$(stat -c %a "$vol/own/sgdir")" "775"
expect_line "an absolute symlink does not lead out" "$out" "abs-blocked"
expect_line "a ../ symlink does not lead out" "$out" "up-blocked"
expect_line "a symlink to an outside file does not lead out" "$out" "filelink-blocked"
expect_line "/etc through a symlink is the guest's own" "$out" "etclink-is-the-guests"
expect_line "a hard link of an outward symlink is refused" "$out" "hardlink-of-symlink-refused"
expect_line "a hard link from outside the volume is refused" "$out" "hardlink-from-outside-refused"
expect_eq "nothing was hard-linked into the volume" "$(ls "$vol" | tr '\n' ' ')" \
	"abs etclink filelink fromguest hostfile own up "
expect_eq "the outside file is untouched" "$(cat "$outside/secret")" "SECRET"
expect_line ":ro refuses writes" "$out" "ro-write-refused"
expect_line ":ro refuses removal" "$out" "ro-rm-refused"
expect_line ":ro is readable" "$out" "rodata"
expect_eq ":ro left the host directory as it was" "$(ls "$ro")" "rofile"
expect_line "both volumes are 9p mounts" "$out" "2"

# Same device layout: restored from the template this first run made (or
# found; runs without volumes use another one, so none evicts the other),
# and serving this run's directories, not the first run's.
vol2=$tmp/vol2
mkdir -p "$vol2"
echo second >"$vol2/second"
run_hull vols2 --timings -v "$vol2:/data" -v "$ro:/ro:ro" "$IMG" \
	sh -c 'cat /data/second; ls /data | tr "\n" " "; echo; echo w > /data/w
	chown 1234:5678 /data/w; chmod 4755 /data/w'
expect_eq "restored run: exit status" "$rc" 0
expect_contains "restored run: started from the template" "$err" "restored from template"
expect_line "restored run: serves its own directory" "$out" "second"
expect_line "restored run: not the template's" "$out" "second "
expect_eq "restored run: writes land in its own directory" "$(cat "$vol2/w")" "w"
expect_eq "restored run: no setuid bit arrives on the host" "$(stat -c %a "$vol2/w")" "755"
if [ "$(id -u)" = 0 ]; then
	expect_eq "restored run: a chown gets the volume's owner" "$(stat -c %u:%g "$vol2/w")" \
		"$(stat -c %u:%g "$vol2")"
fi

# passthrough-owners would need CAP_CHOWN/CAP_FOWNER in the jailed monitor:
# refused before any VM, saying why.
run_hull passthrough -v "$vol2:/data:passthrough-owners" "$IMG" true
expect_eq "passthrough-owners: exit 125" "$rc" 125
expect_contains "passthrough-owners: says why" "$err" "passthrough-owners: not available"
expect_contains "passthrough-owners: names the capability" "$err" "CAP_CHOWN"

# The symlink the first run planted (own/planted -> /etc) is not followed
# as a -v source: hull refuses it before any VM, naming it.
run_hull planted -v "$vol/own/planted:/x" "$IMG" ls /x
expect_eq "a symlink as -v source: exit 125" "$rc" 125
expect_contains "a symlink as -v source: named" "$err" "\"$vol/own/planted\" is a symlink (to /etc)"
expect_not_contains "a symlink as -v source: /etc never served" "$out" "passwd"

# A volume that cannot be mounted (over a file) fails the container, 125.
run_hull volbad -v "$vol:/etc/passwd" -v "$ro:/ro:ro" "$IMG" true
expect_eq "a failed volume mount exits 125" "$rc" 125
expect_contains "and says which volume" "$err" "volume /etc/passwd (hullvol0): mount 9p"

# Bad -v values stop hull before any VM.
run_hull badhost -v "$tmp/missing:/x" "$IMG" true
expect_eq "missing host dir: exit 125" "$rc" 125
expect_contains "missing host dir: named" "$err" "$tmp/missing"
run_hull badguest -v "$vol:x" "$IMG" true
expect_eq "relative container path: exit 125" "$rc" 125
expect_contains "relative container path: named" "$err" "\"x\" must be absolute"
run_hull notdir -v "$vol/hostfile:/x" "$IMG" true
expect_contains "host file, not a directory: refused" "$err" "is not a directory"
finish
