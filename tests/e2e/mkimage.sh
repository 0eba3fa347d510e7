#!/usr/bin/env bash
# The end-to-end test image: the busybox example's layers plus two layers that
# exercise what a layer converter gets wrong: whiteouts, an opaque directory,
# numeric owners, a setuid file, a symlink and a hard link; and a config with
# Env, WorkingDir and Cmd. Rootless: owners come from GNU tar's flags.
#
#   mkimage.sh BUSYBOX_OCI OUT_LAYOUT OUT_ARCHIVE
set -euo pipefail
busybox=$1 out=$2 archive=$3
lib=$(cd "$(dirname "$0")/../lib" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarflags=(--sort=name --mtime=@0 --numeric-owner --format=posix
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)

# The busybox layers, uncompressed.
manifest=$(jq -r '.manifests[0].digest' "$busybox/index.json")
layers=()
i=0
for d in $(jq -r '.layers[].digest' "$busybox/blobs/sha256/${manifest#sha256:}"); do
	gzip -dc "$busybox/blobs/sha256/${d#sha256:}" >"$work/base$i.tar"
	layers+=("$work/base$i.tar")
	i=$((i + 1))
done

# Layer A: files that layer B deletes or hides, owners, modes and links.
a=$work/a
mkdir -p "$a/data" "$a/opq" "$a/home/app" "$a/bin"
echo keep >"$a/data/keep"
echo gone >"$a/data/gone"
echo a >"$a/opq/a"
ln "$a/data/keep" "$a/data/hl"
ln -s keep "$a/data/link"
cp /bin/busybox "$a/bin/setuid-probe"
chmod 4755 "$a/bin/setuid-probe"
tar -C "$a" "${tarflags[@]}" --owner=0 --group=0 -cf "$work/a.tar" ./data ./opq ./bin
echo mine >"$a/home/app/owned"
tar -C "$a" "${tarflags[@]}" --owner=1000 --group=1000 -rf "$work/a.tar" ./home/app/owned

# Layer B: a whiteout and an opaque directory.
b=$work/b
mkdir -p "$b/data" "$b/opq"
: >"$b/data/.wh.gone"
: >"$b/opq/.wh..wh..opq"
echo b >"$b/opq/b"
tar -C "$b" "${tarflags[@]}" --owner=0 --group=0 -cf "$work/b.tar" ./data ./opq

config='{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin","FOO=image"],"WorkingDir":"/data","Cmd":["sh","-c","echo default-cmd"]}'
"$lib/mkoci.sh" "$out" "$config" "${layers[@]}" "$work/a.tar" "$work/b.tar"
"$lib/mkoci-archive.sh" "$out" "$archive"
