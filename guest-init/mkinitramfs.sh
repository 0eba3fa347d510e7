#!/bin/sh
# mkinitramfs.sh OUT INIT [STRIP]
#
# Writes the guest initramfs: an UNCOMPRESSED newc cpio (the guest kernel
# would spend tens of seconds of emulated time inflating a compressed one)
# holding /init, the directories init mounts on (see guest-init/rootfs.h) and
# a /dev/console node, so the kernel can hand init its console as fds 0-2.
#
# The archive is written directly rather than with cpio(1): a device node
# cannot be put on disk without root, and writing the format here makes the
# output reproducible (owner 0:0, mtime 0, fixed inode numbers).
#
# With STRIP (a strip(1) program), /init is a stripped copy: the guest kernel
# copies every byte of the archive in emulated kernel mode, and debug info is
# a fifth of the binary.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 OUT INIT [STRIP]" >&2
	exit 2
fi
out=$1
init=$2
tmp="$out.tmp.$$"
trap 'rm -f "$tmp" "$tmp.init"' EXIT
: >"$tmp"

if [ -n "${3:-}" ]; then
	"$3" -o "$tmp.init" "$init"
	init="$tmp.init"
fi

ino=0

# pad N: NUL bytes up to the next multiple of 4 after N bytes.
pad() {
	n=$(((4 - $1 % 4) % 4))
	while [ "$n" -gt 0 ]; do
		printf '\0' >>"$tmp"
		n=$((n - 1))
	done
}

# entry NAME MODE SIZE NLINK RDEVMAJOR RDEVMINOR
entry() {
	ino=$((ino + 1))
	namesize=$((${#1} + 1))
	# magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	# devminor, rdevmajor, rdevminor, namesize, check
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$ino" "$2" 0 0 "$4" 0 "$3" 0 0 "$5" "$6" "$namesize" 0 >>"$tmp"
	printf '%s\0' "$1" >>"$tmp"
	pad $((110 + namesize))
}

dir() { entry "$1" $((0040755)) 0 2 0 0; }

dir dev
entry dev/console $((0020600)) 0 1 5 1
dir lower
dir rw
dir newroot

size=$(($(wc -c <"$init")))
entry init $((0100755)) "$size" 1 0 0
cat "$init" >>"$tmp"
pad "$size"

entry 'TRAILER!!!' 0 0 1 0 0

mv "$tmp" "$out"
rm -f "$tmp.init"
trap - EXIT
