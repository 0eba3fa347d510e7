#!/bin/sh
# check-initramfs.sh CPIO: the initramfs lists, as GNU cpio reads it, exactly
# what guest-init needs, owned by root.
set -eu
archive=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
listing=$(cpio -itv --quiet <"$archive")
fail() {
	echo "check-initramfs: $*" >&2
	echo "$listing" >&2
	exit 1
}
names=$(cpio -it --quiet <"$archive" | tr '\n' ' ')
[ "$names" = "dev dev/console lower rw newroot init " ] || fail "unexpected entries: $names"
echo "$listing" | grep -q '^crw-------  *1 root  *root  *5, *1 .* dev/console$' || fail "dev/console"
echo "$listing" | grep -q '^-rwxr-xr-x  *1 root  *root .* init$' || fail "init"
for d in dev lower rw newroot; do
	echo "$listing" | grep -q "^drwxr-xr-x  *2 root  *root .* $d\$" || fail "$d"
done
# the file data survived: the archive's init is an ELF executable
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && cpio -id --quiet init <"$archive") || fail "extract init"
[ "$(head -c 4 "$tmp/init" | od -An -c | tr -d ' ')" = '177ELF' ] || fail "init is not ELF"
echo "1 passed, 0 failed"
