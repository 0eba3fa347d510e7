#!/usr/bin/env bash
# hull import / images / rmi / image prune, without booting a VM: the three
# source formats, names, the caps, hostile archives (clear error, nothing
# tagged, nothing written outside the store), layouts with a symlinked or
# FIFO blob (refused by path, without blocking), two imports at once (one
# conversion, both succeed), an import killed mid-conversion (no cache
# entry; the next import converts and cleans up), and the converter child
# hull-convert: its own executable (/proc/PID/exe, maps), unprivileged
# (/proc status), SIGKILLed (clear error, no temp
# file), a hostile layer refused by it; the archive reader hull-import: its
# own executable, unprivileged, filtered, hull waiting meanwhile.
. "$(dirname "$0")/lib.sh"
lib=$(cd "$(dirname "$0")/../lib" && pwd)
: "${IMG_ARCHIVE:?IMG_ARCHIVE must name the oci-archive of the test image}"
shopt -s nullglob
count() { local a=("$@"); echo "${#a[@]}"; }

hull_cmd oci import "$IMG"
expect_eq "import of an OCI layout exits 0" "$rc" 0
expect_contains "the layout's bare tag names it after the directory" "$out" \
	"Loaded image: localhost/e2e:latest (sha256:"
expect_contains "... and it is converted" "$out" ", OCI layout, converted)"
expect_eq "import converts at once" "$(count "$HULL_ROOT"/rootfs/*.ext4)" 1

hull_cmd ociarch import --name team/app:1 "$IMG_ARCHIVE"
expect_eq "import of an oci-archive exits 0" "$rc" 0
expect_contains "--name names it, docker-style" "$out" "Loaded image: docker.io/team/app:1 ("
expect_contains "same manifest: already converted" "$out" "oci-archive, already converted)"

"$lib/mkdocker-archive.sh" "$IMG" "$tmp/da.tar" busybox:e2e example.com/team/app:v2
hull_cmd docker import "$tmp/da.tar"
expect_eq "import of a docker-archive exits 0" "$rc" 0
expect_line "RepoTags name it (1)" "$(sed 's/ (.*//' <<<"$out" | head -1)" \
	"Loaded image: docker.io/library/busybox:e2e"
expect_contains "RepoTags name it (2)" "$out" "Loaded image: example.com/team/app:v2 ("
expect_contains "the docker-archive is recognised" "$out" "docker-archive, converted)"
"$lib/mkdocker-archive.sh" --compress gzip "$IMG" "$tmp/dagz.tar"
hull_cmd dockergz import "$tmp/dagz.tar"
expect_eq "a docker-archive with gzip layers imports" "$rc" 0
expect_contains "no RepoTags: named after the file" "$out" "Loaded image: localhost/dagz:latest ("

hull_cmd images images
expect_eq "hull images exits 0" "$rc" 0
expect_eq "hull images: a header and five images" "$(wc -l <<<"$out")" 6
expect_contains "hull images shows docker's short names" "$out" "busybox "
line=$(grep '^example.com/team/app ' <<<"$out")
read -r repo tag id size unit _ <<<"$line"
expect_eq "hull images: tag column" "$tag" v2
expect_eq "hull images: 12-digit id" "${#id}" 12
expect_contains "hull images: size of the converted image" "$unit" "MB"
hull_cmd imagesq images -q
expect_eq "hull images -q: one id per image" "$(wc -l <<<"$out")" 5

# Hostile archives: each a clear error, exit 125, nothing tagged.
mkdir -p "$tmp/bad/evil"
cp "$tmp/da.tar" "$tmp/bad/da.tar"
tar -C "$tmp/bad/evil" -xf "$tmp/da.tar"
jq -c '.[0].Layers[0] = "../../../../etc/passwd"' "$tmp/bad/evil/manifest.json" >"$tmp/m" &&
	mv "$tmp/m" "$tmp/bad/evil/manifest.json"
tar -C "$tmp/bad/evil" -cf "$tmp/bad/escape.tar" .
hull_cmd escape import "$tmp/bad/escape.tar"
expect_eq "a Layers path leaving the archive: exit 125" "$rc" 125
expect_contains "... named in the error" "$err" "importing $tmp/bad/escape.tar: layer 1: '../../../../etc/passwd': not a path inside the archive"

# a layer whose content is not what the config's diff_id says
tar -C "$tmp/bad/evil" -xf "$tmp/da.tar" ./manifest.json
l0=$(jq -r '.[0].Layers[1]' "$tmp/bad/evil/manifest.json")
cp "$tmp/bad/evil/$(jq -r '.[0].Layers[2]' "$tmp/bad/evil/manifest.json")" "$tmp/bad/evil/$l0"
tar -C "$tmp/bad/evil" -cf "$tmp/bad/swapped.tar" .
hull_cmd swapped import "$tmp/bad/swapped.tar"
expect_eq "a layer that is not its diff_id: exit 125" "$rc" 125
expect_contains "... named in the error" "$err" "layer 2: $l0: content sha256:"
expect_contains "... says what is wrong" "$err" "does not match the config's diff_id"

# a layer with an entry escaping the root: conversion refuses it, tags go back
mkdir -p "$tmp/bad/l"
printf 'x' >"$tmp/bad/l/escape"
tar -C "$tmp/bad/l" --transform 's,^\./escape,../../escape,' -cf "$tmp/bad/esc-layer.tar" ./escape 2>/dev/null
"$lib/mkoci.sh" --ref evil:1 "$tmp/bad/evil.oci" '{}' "$tmp/bad/esc-layer.tar" >/dev/null
# everything around the store but the store and this script's own files
listing() {
	find "$tmp" -mindepth 1 -path "$HULL_ROOT" -prune -o ! -name '*.out' ! -name '*.err' \
		! -name 'listing.*' -printf '%p %s %T@\n' | sort
}
listing >"$tmp/listing.before"
hull_cmd escentry import "$tmp/bad/evil.oci"
expect_eq "an entry leaving the root: exit 125" "$rc" 125
expect_contains "... error names the image, layer and entry" "$err" \
	"image docker.io/library/evil:1: layer 1 (sha256:"
expect_contains "... and the problem" "$err" "entry '../../escape': path leaves the image root"
hull_cmd images2 images
expect_not_contains "... and the image is not left tagged" "$out" "evil"
expect_eq "nothing written outside the store" "$(listing | diff "$tmp/listing.before" -)" ""
if [ -e "$tmp/escape" ] || [ -e "$(dirname "$tmp")/escape" ]; then
	fail "no escape file next to the store"
else
	pass "no escape file next to the store"
fi

hull_cmd notar import /etc/hostname
expect_eq "not an image: exit 125" "$rc" 125
expect_contains "... says so" "$err" "importing /etc/hostname:"

# A layout whose layer blob is a symlink (to the real blob, moved outside the
# layout) or a FIFO nobody writes to: refused by path, the FIFO without
# blocking (a bound of 60 s, not the usual 600), on import and on run;
# nothing is tagged, converted or left half-written (verified blobs read
# before the bad one, the config, stay until a prune, as for a failed pull).
man=$(jq -r '.manifests[0].digest' "$IMG/index.json")
l1=$(jq -r '.layers[0].digest' "$IMG/blobs/sha256/${man#sha256:}")
l1path=blobs/sha256/${l1#sha256:}
cp -a "$IMG" "$tmp/symblob.oci"
mv "$tmp/symblob.oci/$l1path" "$tmp/outside-blob"
ln -s "$tmp/outside-blob" "$tmp/symblob.oci/$l1path"
cp -a "$IMG" "$tmp/fifoblob.oci"
rm "$tmp/fifoblob.oci/$l1path"
mkfifo "$tmp/fifoblob.oci/$l1path"
# blob_debris STORE: tags, converted images, temp files and the layer in STORE
blob_debris() {
	jq -r '.manifests[].digest' "$1/oci/index.json" 2>/dev/null
	find "$1" \( -name '*.ext4*' -o -name '*.tmp.*' -o -name "${l1#sha256:}" \) 2>/dev/null
}
for kind in sym fifo; do
	if [ $kind = sym ]; then why="' is or passes through a symlink; refused"; else why="' is a FIFO, not a regular file; refused"; fi
	for cmd in import run; do
		args=("$tmp/${kind}blob.oci")
		[ $cmd = run ] && args+=(true)
		HULL_TEST_TIMEOUT=60 HULL_ROOT=$tmp/store-$kind hull_cmd "$kind$cmd" $cmd "${args[@]}"
		expect_eq "$kind blob, hull $cmd: exit 125 (no hang)" "$rc" 125
		expect_contains "$kind blob, hull $cmd: the error names the layout" "$err" \
			"$tmp/${kind}blob.oci: "
		expect_contains "$kind blob, hull $cmd: ... the layer, the path and the problem" "$err" \
			"layer 1 (${l1:0:19}): blob ${l1:0:19}: '$l1path$why"
		expect_eq "$kind blob, hull $cmd: nothing tagged, converted or half-written" \
			"$(blob_debris "$tmp/store-$kind")" ""
	done
done
expect_eq "the symlink's target is untouched" "$(sha256sum <"$tmp/outside-blob" | cut -d' ' -f1)" "${l1#sha256:}"

# The size cap, from the flag and from the environment (a store of its own:
# a cached image is not converted again, so no cap applies to it).
HULL_ROOT=$tmp/store-cap hull_cmd cap import --max-image-size 1M --name capped:1 "$IMG"
expect_eq "--max-image-size: exit 125" "$rc" 125
expect_contains "--max-image-size: the limit is named" "$err" "image size limit of 1 MiB"
HULL_ROOT=$tmp/store-cap HULL_MAX_IMAGE_SIZE=1M hull_cmd capenv import --name capped:2 "$tmp/dagz.tar"
expect_contains "HULL_MAX_IMAGE_SIZE applies" "$err" "image size limit of 1 MiB"
# Sparse files count at their full size: three 60 MiB sparse files in a tar
# of a few KiB do not fit a 64 MiB cap (they used to, writing 181 MiB).
mkdir -p "$tmp/sparse"
for i in 1 2 3; do truncate -s 60M "$tmp/sparse/s$i"; done
tar -C "$tmp/sparse" --sparse -cf "$tmp/sparse.tar" s1 s2 s3
rm -rf "$tmp/sparse"
"$lib/mkoci.sh" --ref sparse:1 "$tmp/sparse.oci" '{}' "$tmp/sparse.tar" >/dev/null
HULL_ROOT=$tmp/store-sparse hull_cmd sparse import --max-image-size 64M "$tmp/sparse.oci"
expect_eq "sparse files over the cap: exit 125" "$rc" 125
expect_contains "... the error names the layer, the entry and the limit" "$err" \
	"layer 1 (sha256:"
expect_contains "... the entry" "$err" "entry 's2': 62914560 bytes (sparse: counted in full)"
expect_contains "... the limit" "$err" "image size limit of 64 MiB"
expect_eq "... nothing is cached" "$(count "$tmp"/store-sparse/rootfs/*.ext4*)" 0
HULL_ROOT=$tmp/store-sparse hull_cmd sparseimages images -q
expect_eq "... nothing is tagged" "$out" ""

# Layout blobs are opened without following symlinks or blocking on FIFOs.
cp -r "$IMG" "$tmp/symblob.oci"
lay=$(jq -r '.layers[0].digest' "$tmp/symblob.oci/blobs/sha256/$(jq -r '.manifests[0].digest' \
	"$tmp/symblob.oci/index.json" | cut -d: -f2)" | cut -d: -f2)
mv "$tmp/symblob.oci/blobs/sha256/$lay" "$tmp/outside-blob"
ln -s "$tmp/outside-blob" "$tmp/symblob.oci/blobs/sha256/$lay"
HULL_ROOT=$tmp/store-blob hull_cmd symblob import --name symblob:1 "$tmp/symblob.oci"
expect_eq "a symlinked blob: exit 125" "$rc" 125
expect_contains "... refused by name" "$err" "blobs/sha256/$lay' is or passes through a symlink; refused"
rm "$tmp/symblob.oci/blobs/sha256/$lay"
mkfifo "$tmp/symblob.oci/blobs/sha256/$lay"
HULL_TEST_TIMEOUT=60 HULL_ROOT=$tmp/store-blob hull_cmd fifoblob import --name fifoblob:1 \
	"$tmp/symblob.oci"
expect_eq "a FIFO blob: exit 125 (no hang)" "$rc" 125
expect_contains "... refused by name" "$err" "not a regular file"
HULL_ROOT=$tmp/store-blob hull_cmd blobimages images -q
expect_eq "... nothing is tagged" "$out" ""
rm -rf "$tmp/symblob.oci" "$tmp/outside-blob"

hull_cmd capbad import --max-image-size lots "$IMG"
expect_eq "a bad --max-image-size: exit 125" "$rc" 125
expect_contains "... named" "$err" "--max-image-size lots: expected a size"

# rmi: the rootfs goes when its last reference does
hull_cmd rmi0 rmi nope:1
expect_eq "rmi of an unknown image: exit 125" "$rc" 125
expect_contains "... names it" "$err" "rmi nope:1: no such image: nope:1"
n0=$(count "$HULL_ROOT"/rootfs/*.ext4)
hull_cmd rmi1 rmi busybox:e2e
expect_eq "rmi exits 0" "$rc" 0
expect_eq "a rootfs another reference uses stays" "$(count "$HULL_ROOT"/rootfs/*.ext4)" "$n0"
hull_cmd rmi2 rmi example.com/team/app:v2
expect_eq "rmi of the last reference exits 0" "$rc" 0
expect_eq "... removes its rootfs" "$(count "$HULL_ROOT"/rootfs/*.ext4)" "$((n0 - 1))"
expect_contains "... and says what it reclaimed" "$out" "Reclaimed "
expect_not_contains "... not nothing" "$out" "Reclaimed 0 B"

# prune: debris and rootfs entries nothing references
fake=$(printf 'f%.0s' {1..64})
cp "$HULL_ROOT"/rootfs/*.ext4 "$tmp/one.ext4" 2>/dev/null || true
cp "$(ls "$HULL_ROOT"/rootfs/*.ext4 | head -1)" "$HULL_ROOT/rootfs/$fake.ext4"
: >"$HULL_ROOT/rootfs/$fake.lock"
head -c 100000 /dev/urandom >"$HULL_ROOT/rootfs/$fake.ext4.tmp.999999"
head -c 100000 /dev/urandom >"$HULL_ROOT/oci/blobs/sha256/.tmp.debris"
touch -d '5 minutes ago' "$HULL_ROOT/oci/blobs/sha256/.tmp.debris"
hull_cmd prune image prune
expect_eq "image prune exits 0" "$rc" 0
expect_eq "prune removes an unreferenced rootfs" "$(count "$HULL_ROOT/rootfs/$fake".ext4*)" 0
expect_eq "prune removes blob debris" "$(count "$HULL_ROOT"/oci/blobs/sha256/.tmp.*)" 0
expect_not_contains "prune says what it reclaimed" "$out" "Reclaimed 0 B"
hull_cmd images3 images -q
expect_eq "prune keeps every stored image" "$(wc -l <<<"$out")" 3

# Two imports of the same new image at once: one conversion, both succeed.
export HULL_ROOT=$tmp/store2
"$HULL" import "$tmp/da.tar" >"$tmp/c1.out" 2>"$tmp/c1.err" &
p1=$!
"$HULL" import "$tmp/da.tar" >"$tmp/c2.out" 2>"$tmp/c2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
expect_eq "two imports at once both succeed" "$r1 $r2" "0 0"
both=$(cat "$tmp/c1.out" "$tmp/c2.out")
# two tags each: the second tag is always "already converted"
expect_eq "... one of them converts" "$(grep -c 'docker-archive, converted)' <<<"$both")" 1
expect_eq "... the other finds it converted" "$(grep -c 'already converted' <<<"$both")" 3
expect_eq "... one cache entry" "$(count "$HULL_ROOT"/rootfs/*.ext4)" 1
expect_eq "... no temp files" "$(count "$HULL_ROOT"/rootfs/*.tmp.*)" 0

# An import killed (SIGKILL) mid-conversion leaves no cache entry; the next
# one converts and removes the debris.
export HULL_ROOT=$tmp/store3
mkdir -p "$tmp/big"
head -c 300000000 /dev/zero >"$tmp/big/zeros"
tar -C "$tmp/big" -cf "$tmp/big.tar" ./zeros
rm "$tmp/big/zeros"
"$lib/mkoci.sh" --compress none --ref big:1 "$tmp/big.oci" '{}' "$tmp/big.tar" >/dev/null
rm "$tmp/big.tar"
"$HULL" import "$tmp/big.oci" >/dev/null 2>&1 &
pk=$!
for _ in $(seq 1 3000); do
	t=("$HULL_ROOT"/rootfs/*.ext4.tmp.*)
	[ ${#t[@]} -gt 0 ] && break
	sleep 0.01
done
kill -KILL $pk
wait $pk 2>/dev/null
expect_eq "the killed import left debris to clean up" "$(count "$HULL_ROOT"/rootfs/*.tmp.*)" 1
expect_eq "... but no cache entry" "$(count "$HULL_ROOT"/rootfs/*.ext4)" 0
hull_cmd again import "$tmp/big.oci"
expect_eq "the next import succeeds" "$rc" 0
expect_contains "... and converts" "$out" "OCI layout, converted)"
expect_eq "... one cache entry" "$(count "$HULL_ROOT"/rootfs/*.ext4)" 1
expect_eq "... the debris is gone" "$(count "$HULL_ROOT"/rootfs/*.tmp.*)" 0
img=("$HULL_ROOT"/rootfs/*.ext4)
e2fsck -fn "${img[0]}" >/dev/null 2>&1
expect_eq "... and the image is a clean filesystem" "$?" 0
# The converter: the layers are applied by a child of hull, hull-convert,
# that gave up its privileges before it read a byte of them (docs/security.md,
# "Image conversion"). Read from /proc while it works on the big layer (the
# child is frozen with SIGSTOP meanwhile, so the reading is of one moment),
# then SIGKILLed: a clear error naming the layer, nothing left behind.
export HULL_ROOT=$tmp/store4
if [ "$(id -u)" = 0 ]; then
	want_uid=$(id -u hull) want_gid=$(id -g hull)
else
	want_uid=$(id -u) want_gid=$(id -g)
fi
"$HULL" import "$tmp/big.oci" >"$tmp/conv.out" 2>"$tmp/conv.err" &
pk=$!
cpid=
for _ in $(seq 1 12000); do
	cpid=$(pgrep -P $pk -x hull-convert | head -1)
	[ -n "$cpid" ] && break
	kill -0 $pk 2>/dev/null || break
	sleep 0.01
done
# freeze it once it reads the layer, not during its set-up: it tells hull
# which layer it starts before it reads a byte of it (the SIGKILL below is
# then blamed on that layer)
layer_pos() {
	local f
	for f in "/proc/$cpid/fd/"*; do
		case $(readlink "$f") in "$HULL_ROOT"/oci/blobs/sha256/*)
			awk '$1 == "pos:" { print $2 }' "/proc/$cpid/fdinfo/${f##*/}" ;;
		esac
	done 2>/dev/null | head -1
}
for _ in $(seq 1 12000); do
	[ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null || break
	[ "$(layer_pos)" -gt 0 ] 2>/dev/null && break
	sleep 0.01
done
if [ -n "$cpid" ] && kill -STOP "$cpid"; then
	pass "the conversion runs in a child named hull-convert"
	# its own executable (fork+exec), not a copy of hull: only the
	# converter's code and libraries are mapped
	exe=$(readlink "/proc/$cpid/exe")
	expect_eq "hull-convert: /proc/PID/exe is the hull-convert executable" \
		"$exe" "$(readlink -f "$(dirname "$HULL")/../images/hull-convert")"
	maps=$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$cpid/maps" | sort -u)
	expect_contains "hull-convert: its maps hold libarchive" "$maps" libarchive.so
	expect_eq "hull-convert: ... and no libcurl, json-c or OpenSSL" \
		"$(grep -E 'libcurl|libjson-c|libssl|libcrypto' <<<"$maps")" ""
	st=$(cat "/proc/$cpid/status")
	field() { status_field "$st" "$1"; }
	expect_eq "hull-convert: uid (real, effective, saved, fs)" "$(field Uid)" \
		"$want_uid $want_uid $want_uid $want_uid"
	expect_eq "hull-convert: gid" "$(field Gid)" "$want_gid $want_gid $want_gid $want_gid"
	expect_eq "hull-convert: effective capabilities" "$(field CapEff)" 0000000000000000
	expect_eq "hull-convert: permitted capabilities" "$(field CapPrm)" 0000000000000000
	expect_eq "hull-convert: ambient capabilities" "$(field CapAmb)" 0000000000000000
	expect_eq "hull-convert: no_new_privs" "$(field NoNewPrivs)" 1
	expect_eq "hull-convert: a seccomp filter (mode 2)" "$(field Seccomp)" 2
	if [ "$(id -u)" = 0 ]; then
		expect_eq "hull-convert (as root): the user hull is not root" \
			"$([ "$want_uid" -ne 0 ] && echo yes)" yes
		expect_eq "hull-convert (as root): no supplementary groups" "$(field Groups)" ""
		expect_eq "hull-convert (as root): bounding set empty" "$(field CapBnd)" \
			0000000000000000
		for ns in net ipc uts; do
			expect_eq "hull-convert (as root): a $ns namespace of its own" \
				"$([ "$(readlink "/proc/$cpid/ns/$ns")" != "$(readlink "/proc/$$/ns/$ns")" ] &&
					echo own)" own
		done
	fi
	# each fd: stdin, stdout and stderr (/dev/null), the layer blob, the
	# image at its temp name (each maybe twice: a reader's and a writer's
	# duplicate), its status pipe; nothing else of hull's
	others=$(for f in "/proc/$cpid/fd/"*; do readlink "$f"; done |
		grep -v -e '^/dev/null$' -e '^pipe:' \
			-e "^$HULL_ROOT/oci/blobs/sha256/[0-9a-f]*\$" \
			-e "^$HULL_ROOT/rootfs/[0-9a-f]*\.ext4\.tmp\.[0-9]*\$")
	expect_eq "hull-convert holds its inputs, its output and its pipe only" "$others" ""
	expect_eq "... the pipe is one" "$(for f in "/proc/$cpid/fd/"*; do readlink "$f"; done |
		grep -c '^pipe:')" 1
	expect_eq "... stderr is /dev/null (not the user's terminal)" \
		"$(readlink "/proc/$cpid/fd/2")" /dev/null
	kill -KILL "$cpid"
	kill -CONT "$cpid" 2>/dev/null
else
	fail "the conversion runs in a child named hull-convert (none seen)"
fi
wait $pk
rc=$?
err=$(cat "$tmp/conv.err")
expect_eq "a SIGKILLed converter: the import exits 125" "$rc" 125
expect_contains "... the error names the layer" "$err" "image docker.io/library/big:1: layer 1 (sha256:"
[ -n "$cpid" ] && expect_contains "... and what happened" "$err" \
	"the converter hull-convert (pid $cpid) was killed by signal 9"
expect_eq "... the temp image is removed" "$(count "$HULL_ROOT"/rootfs/*.tmp.*)" 0
expect_eq "... nothing is cached" "$(count "$HULL_ROOT"/rootfs/*.ext4)" 0
hull_cmd convimages images -q
expect_eq "... nothing is tagged" "$out" ""

# The archive reader: an oci-archive (or docker save) is read by a child of
# hull, hull-import, without privileges (docs/security.md, "Importing"):
# read from /proc while it copies the big layer into the store's temp file
# (frozen with SIGSTOP meanwhile), then let go: the import completes.
export HULL_ROOT=$tmp/store6
tar -C "$tmp/big.oci" -cf "$tmp/big-oci.tar" .
"$HULL" import "$tmp/big-oci.tar" >"$tmp/imp.out" 2>"$tmp/imp.err" &
pk=$!
ipid=
tmpfd_of() {
	local f
	for f in "/proc/$1/fd/"*; do
		case $(readlink "$f") in "$HULL_ROOT"/oci/blobs/sha256/.tmp.*) echo "${f##*/}" ;; esac
	done 2>/dev/null | head -1
}
for _ in $(seq 1 12000); do
	ipid=$(pgrep -P $pk -x hull-import | head -1)
	[ -n "$ipid" ] && [ -n "$(tmpfd_of "$ipid")" ] && break
	kill -0 $pk 2>/dev/null || break
	sleep 0.01
done
if [ -n "$ipid" ] && [ -n "$(tmpfd_of "$ipid")" ] && kill -STOP "$ipid"; then
	pass "the archive is read by a child of hull named hull-import"
	expect_eq "hull-import: /proc/PID/exe is the hull-import executable" \
		"$(readlink "/proc/$ipid/exe")" "$(readlink -f "$(dirname "$HULL")/../images/hull-import")"
	maps=$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$ipid/maps" | sort -u)
	expect_contains "hull-import: its maps hold libarchive" "$maps" libarchive.so
	expect_contains "hull-import: ... and json-c" "$maps" libjson-c
	expect_eq "hull-import: ... and no libcurl, OpenSSL or libext2fs" \
		"$(grep -E 'libcurl|libssl|libext2fs' <<<"$maps")" ""
	st=$(cat "/proc/$ipid/status")
	field() { status_field "$st" "$1"; }
	expect_eq "hull-import: uid (real, effective, saved, fs)" "$(field Uid)" \
		"$want_uid $want_uid $want_uid $want_uid"
	expect_eq "hull-import: gid" "$(field Gid)" "$want_gid $want_gid $want_gid $want_gid"
	expect_eq "hull-import: effective capabilities" "$(field CapEff)" 0000000000000000
	expect_eq "hull-import: permitted capabilities" "$(field CapPrm)" 0000000000000000
	expect_eq "hull-import: ambient capabilities" "$(field CapAmb)" 0000000000000000
	expect_eq "hull-import: no_new_privs" "$(field NoNewPrivs)" 1
	expect_eq "hull-import: a seccomp filter (mode 2)" "$(field Seccomp)" 2
	if [ "$(id -u)" = 0 ]; then
		expect_eq "hull-import (as root): no supplementary groups" "$(field Groups)" ""
		expect_eq "hull-import (as root): bounding set empty" "$(field CapBnd)" \
			0000000000000000
		expect_eq "hull-import (as root): a network namespace of its own" \
			"$([ "$(readlink "/proc/$ipid/ns/net")" != "$(readlink "/proc/$$/ns/net")" ] &&
				echo own)" own
	fi
	# its fds: /dev/null, its status pipe, the archive hull opened, the
	# temp files hull began; nothing else
	others=$(for f in "/proc/$ipid/fd/"*; do readlink "$f"; done |
		grep -v -e '^/dev/null$' -e '^pipe:' -e "^$tmp/big-oci.tar\$" \
			-e "^$HULL_ROOT/oci/blobs/sha256/\.tmp\.")
	expect_eq "hull-import holds the archive, the temp files and its pipe only" "$others" ""
	# hull meanwhile: one thread, waiting for its child (not reading the
	# archive itself)
	hst=$(cat "/proc/$pk/status")
	expect_eq "hull, while hull-import reads: one thread" "$(status_field "$hst" Threads)" 1
	# blocked reading the child's status pipe (poll when it can be
	# cancelled): anon_pipe_read, pipe_read or do_sys_poll
	expect_eq "hull, while hull-import reads: waiting for its status pipe" \
		"$(grep -cE 'pipe_read|poll' <<<"$(cat "/proc/$pk/wchan")")" 1
	kill -CONT "$ipid"
else
	fail "the archive is read by a child of hull named hull-import (none seen)"
fi
wait $pk
expect_eq "... and the import then completes" "$?" 0
expect_contains "... as an oci-archive" "$(cat "$tmp/imp.out")" "oci-archive, converted)"
expect_eq "... no temp file stays" "$(count "$HULL_ROOT"/oci/blobs/sha256/.tmp.*)" 0
rm -f "$tmp/big-oci.tar"

# A hostile layer still fails cleanly in the child: a symlink to /etc, then a
# file written through it.
python3 - "$tmp/bad/symetc.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    s = tarfile.TarInfo("etc2"); s.type = tarfile.SYMTYPE; s.linkname = "/etc"
    t.addfile(s)
    f = tarfile.TarInfo("etc2/hull-e2e-evil"); f.size = 1
    t.addfile(f, io.BytesIO(b"x"))
PY
"$lib/mkoci.sh" --ref symetc:1 "$tmp/bad/symetc.oci" '{}' "$tmp/bad/symetc.tar" >/dev/null
HULL_ROOT=$tmp/store5 hull_cmd symetc import "$tmp/bad/symetc.oci"
expect_eq "a file through a symlink to /etc: exit 125" "$rc" 125
expect_contains "... the error names the layer" "$err" "layer 1 (sha256:"
expect_contains "... the entry and the problem" "$err" \
	"entry 'etc2/hull-e2e-evil': 'etc2' is a symlink"
expect_eq "... nothing reached the host's /etc" \
	"$([ -e /etc/hull-e2e-evil ] && echo present || echo absent)" absent
expect_eq "... nothing half-written" "$(count "$tmp"/store5/rootfs/*.ext4*)" 0
finish
