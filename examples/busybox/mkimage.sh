#!/usr/bin/env bash
# mkimage.sh: build a small OCI image layout from Debian's busybox-static,
# rootless (no root, no fakeroot: tar sets owners in the archive).
#
#   examples/busybox/mkimage.sh OUTDIR
#
# The image: /bin/busybox and a symlink per applet, /etc/passwd with root,
# nobody and app (1000:1000, also in groups extra=2000 and audio=29),
# /tmp 1777, /root 0700, /home/app owned by app; Env PATH, Cmd ["sh"];
# /usr/bin/wget is wget-notimeout.sh when the busybox has no wget timeouts.
# OUTDIR is replaced atomically. Needs busybox-static, GNU tar, gzip,
# sha256sum, jq.
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: mkimage.sh OUTDIR" >&2
	exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mkoci=$here/../../tests/lib/mkoci.sh
busybox=/bin/busybox

if [ ! -x "$busybox" ]; then
	echo "mkimage.sh: $busybox is missing: apt-get install busybox-static" >&2
	exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkimage.sh: $busybox is dynamically linked: apt-get install busybox-static" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hull-busybox.XXXXXX")
trap 'rm -rf "$work"' EXIT
r=$work/rootfs
umask 022
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/app,tmp,proc,sys,dev,run,var}
cp "$busybox" "$r/bin/busybox"
chmod 755 "$r/bin/busybox"
"$busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$r/$(dirname "$applet")"
	ln -sf /bin/busybox "$r/$applet"
done
# A busybox without wget timeouts (Debian 12's) crashes on `wget -T N`
# (wget-notimeout.sh says why): /usr/bin/wget becomes a script that drops -T.
# Its usage text names -T exactly when the timeouts are built in.
wget_help=$("$busybox" wget --help 2>&1 || true)
case $wget_help in
*"-T SEC"*) ;;
*)
	wget_link=$("$busybox" --list-full | grep -x '.*/wget')
	rm "$r/$wget_link"
	install -m 755 "$here/wget-notimeout.sh" "$r/$wget_link"
	;;
esac
chmod 1777 "$r/tmp"
chmod 700 "$r/root"

cat >"$r/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$r/etc/group" <<'GROUP'
root:x:0:
audio:x:29:app
app:x:1000:
extra:x:2000:app
nogroup:x:65534:
GROUP
printf 'hull\n' >"$r/etc/hostname"

# One layer: everything as root, then /home/app appended as 1000:1000.
tarflags=(--sort=name --numeric-owner --mtime=@0 --format=posix
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar -C "$r" "${tarflags[@]}" --owner=0 --group=0 --exclude=./home/app -cf "$work/layer.tar" .
tar -C "$r" "${tarflags[@]}" --owner=1000 --group=1000 --no-recursion \
	-rf "$work/layer.tar" ./home/app

"$mkoci" "$out" \
	'{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}' \
	"$work/layer.tar" >/dev/null
