#!/usr/bin/env bash
# mkoci-archive.sh: pack an OCI image layout directory into an oci-archive
# (a plain tar of the layout, as skopeo's oci-archive: transport writes).
#
#   mkoci-archive.sh LAYOUT_DIR OUT.tar
#
# Deterministic (sorted names, owner 0, mtime 0); written to a temp file and
# renamed.
set -euo pipefail
if [ $# -ne 2 ] || [ ! -d "$1" ]; then
	echo "usage: mkoci-archive.sh LAYOUT_DIR OUT.tar" >&2
	exit 2
fi
layout=$1 out=$2
tmp=$(mktemp "$out.tmp.XXXXXX")
trap 'rm -f "$tmp"' EXIT
tar -C "$layout" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	--format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	-cf "$tmp" .
mv "$tmp" "$out"
trap - EXIT
