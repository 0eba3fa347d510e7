#!/usr/bin/env bash
# hull pull / hull run REF against a real registry (Debian's docker-registry
# on loopback, images pushed with skopeo): by tag, by digest, a multi-platform
# index, platform mismatches, a corrupted blob, unreachable registries, and
# one hull run REF that pulls and boots a VM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry.sh"
lib=$(cd "$(dirname "$0")/../lib" && pwd)
registry_start || { fail "docker-registry starts"; finish; }
oci=$HULL_ROOT/oci

# stored_digest REF: the digest index.json tags REF with ("" if none)
stored_digest() {
	jq -r --arg r "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)
		| .digest' "$oci/index.json" 2>/dev/null
}
no_temps() { # DESC
	local t
	t=$(find "$HULL_ROOT" -name '*.tmp.*' 2>/dev/null)
	expect_eq "$1" "$t" ""
}
# small_image OUT ARCH: a one-layer image with unique content
small_image() {
	mkdir -p "$tmp/l.$2"
	head -c 4096 /dev/urandom >"$tmp/l.$2/data"
	tar -C "$tmp/l.$2" -cf "$tmp/l.$2.tar" data
	"$lib/mkoci.sh" --arch "$2" "$1" '{"Cmd":["sh"]}' "$tmp/l.$2.tar"
}

registry_push "oci:$IMG:latest" test/busybox:1
want=$(jq -r '.manifests[0].digest' "$IMG/index.json")

# --- HTTPS by default: a plain-HTTP registry needs --insecure-registry ---
hull_cmd https pull "$reg/test/busybox:1"
expect_eq "pull from a plain-HTTP registry without --insecure-registry fails with 125" "$rc" 125
expect_contains "... and says to allow it" "$err" "--insecure-registry $reg"

# --- by tag ---
hull_cmd tag pull --insecure-registry "$reg" "$reg/test/busybox:1"
expect_eq "pull by tag exits 0" "$rc" 0
expect_eq "pull prints the normalised reference" "$out" "$reg/test/busybox:1"
expect_eq "not a terminal: no progress on stderr" "$err" ""
expect_eq "the store tags the reference with the manifest digest" "$(stored_digest "$reg/test/busybox:1")" "$want"
ok=1
for d in $want $(jq -r '.config.digest, .layers[].digest' "$IMG/blobs/sha256/${want#sha256:}"); do
	cmp -s "$oci/blobs/sha256/${d#sha256:}" "$IMG/blobs/sha256/${d#sha256:}" || ok=0
done
expect_eq "manifest, config and every layer are stored byte for byte" "$ok" 1
shopt -s nullglob
ext4=("$HULL_ROOT"/rootfs/"${want#sha256:}".ext4)
expect_eq "pull also converts the image (the first run is a cache hit)" "${#ext4[@]}" 1
no_temps "no temp files after a pull"

# --- by digest, insecure list from the environment ---
export HULL_INSECURE_REGISTRIES="other.example,$reg"
hull_cmd digest pull "$reg/test/busybox@$want"
expect_eq "pull by digest exits 0" "$rc" 0
expect_eq "a digest reference is stored as name@digest" "$(stored_digest "$reg/test/busybox@$want")" "$want"
hull_cmd tagdigest pull "$reg/test/busybox:nosuchtag@$want"
expect_eq "tag+digest pulls by digest (the tag is not looked up)" "$rc" 0

# --- a multi-platform index: amd64 is picked ---
small_image "$tmp/arm" arm64 >/dev/null
small_image "$tmp/amd" amd64 >/dev/null
multi=$tmp/multi
mkdir -p "$multi/blobs/sha256"
cp "$tmp/arm/blobs/sha256/"* "$tmp/amd/blobs/sha256/"* "$multi/blobs/sha256/"
cp "$tmp/amd/oci-layout" "$multi/"
jq -c '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [.[].manifests[0] | del(.annotations)]}' \
	<(jq -s . "$tmp/arm/index.json" "$tmp/amd/index.json") >"$tmp/index.blob"
ihex=$(sha256sum "$tmp/index.blob" | cut -d' ' -f1)
cp "$tmp/index.blob" "$multi/blobs/sha256/$ihex"
jq -c -n --arg d "sha256:$ihex" --argjson s "$(stat -c %s "$tmp/index.blob")" \
	'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json",
	  digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": "multi"}}]}' \
	>"$multi/index.json"
registry_push "oci:$multi:multi" test/multi:1 --all
amd=$(jq -r '.manifests[0].digest' "$tmp/amd/index.json")
arm=$(jq -r '.manifests[0].digest' "$tmp/arm/index.json")
hull_cmd multi pull "$reg/test/multi:1"
expect_eq "pull of a multi-platform index exits 0" "$rc" 0
expect_eq "the reference names the index" "$(stored_digest "$reg/test/multi:1")" "sha256:$ihex"
expect_eq "the amd64 manifest is stored" "$(test -f "$oci/blobs/sha256/${amd#sha256:}" && echo yes)" yes
expect_eq "the arm64 manifest is not" "$(test -f "$oci/blobs/sha256/${arm#sha256:}" || echo absent)" absent
ext4=("$HULL_ROOT"/rootfs/"${amd#sha256:}".ext4)
expect_eq "the amd64 image is converted" "${#ext4[@]}" 1

# --- platform mismatch: an index without amd64, an arm64-only image ---
registry_push "oci:$tmp/arm:latest" test/armonly:1
hull_cmd armonly pull "$reg/test/armonly:1"
expect_eq "pull of an arm64-only image fails with 125" "$rc" 125
expect_contains "... naming the image" "$err" "$reg/test/armonly:1"
expect_contains "... and the platform" "$err" "image is for linux/arm64, this host runs linux/amd64"
expect_eq "... and nothing is tagged" "$(stored_digest "$reg/test/armonly:1")" ""
jq -c '.manifests |= map(select(.platform.architecture == "arm64"))
	| .manifests += [.manifests[0] | .platform = {os: "windows", architecture: "amd64"}]' \
	"$tmp/index.blob" >"$tmp/index2.blob"
i2=$(sha256sum "$tmp/index2.blob" | cut -d' ' -f1)
cp "$tmp/index2.blob" "$multi/blobs/sha256/$i2"
jq -c --arg d "sha256:$i2" --argjson s "$(stat -c %s "$tmp/index2.blob")" \
	'.manifests[0].digest = $d | .manifests[0].size = $s' "$multi/index.json" >"$tmp/i.json"
mv "$tmp/i.json" "$multi/index.json"
registry_push "oci:$multi:multi" test/noamd:1 --all
hull_cmd noamd pull "$reg/test/noamd:1"
expect_eq "pull of an index without linux/amd64 fails with 125" "$rc" 125
expect_contains "... saying so" "$err" "no image for linux/amd64"
expect_contains "... listing what is offered" "$err" "linux/arm64"
expect_contains "... including the windows entry" "$err" "windows/amd64"
expect_eq "... and nothing is tagged" "$(stored_digest "$reg/test/noamd:1")" ""

# --- a blob corrupted in the registry's storage ---
small_image "$tmp/bad" amd64 >/dev/null
registry_push "oci:$tmp/bad:latest" test/bad:1
bm=$(jq -r '.manifests[0].digest' "$tmp/bad/index.json")
bl=$(jq -r '.layers[0].digest' "$tmp/bad/blobs/sha256/${bm#sha256:}")
f=$(registry_blob "$bl")
size=$(stat -c %s "$f")
printf 'X' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
hull_cmd corrupt pull "$reg/test/bad:1"
expect_eq "a corrupted layer fails the pull with 125" "$rc" 125
expect_contains "... as a digest mismatch" "$err" "digest mismatch"
expect_contains "... naming the image" "$err" "$reg/test/bad:1"
expect_eq "... nothing is tagged" "$(stored_digest "$reg/test/bad:1")" ""
expect_eq "... the corrupt layer is not stored" "$(test -e "$oci/blobs/sha256/${bl#sha256:}" || echo absent)" absent
no_temps "... and no temp files are left"

# --- Ctrl-C in the middle of a layer: the registry is frozen (SIGSTOP)
# once the layer's temp file has grown, so the transfer is surely in flight ---
mkdir -p "$tmp/big"
head -c $((32 << 20)) /dev/urandom >"$tmp/big/blob"
tar -C "$tmp/big" -cf "$tmp/big.tar" blob
"$lib/mkoci.sh" --compress none "$tmp/bigimg" '{}' "$tmp/big.tar" >/dev/null
rm -rf "$tmp/big" "$tmp/big.tar"
registry_push "oci:$tmp/bigimg:latest" test/big:1
"$HULL" pull "$reg/test/big:1" >"$tmp/int.out" 2>"$tmp/int.err" &
hpid=$!
grown=0
for _ in $(seq 500); do
	if [ -n "$(find "$oci/blobs/sha256" -name '.tmp.*' -size +1M 2>/dev/null)" ]; then
		grown=1
		break
	fi
	sleep 0.01
done
kill -STOP "${reg_pids[-1]}"
kill -INT "$hpid"
wait "$hpid"
rc=$?
kill -CONT "${reg_pids[-1]}"
last=int
expect_eq "the layer download was caught in flight" "$grown" 1
expect_eq "Ctrl-C mid-pull exits 125" "$rc" 125
expect_contains "... saying it was interrupted" "$(cat "$tmp/int.err")" "interrupted"
expect_eq "... nothing is tagged" "$(stored_digest "$reg/test/big:1")" ""
no_temps "... and the partial layer's temp file is gone"
hull_cmd bigagain pull "$reg/test/big:1"
expect_eq "the next pull completes" "$rc" 0
rm -rf "$tmp/bigimg"

# --- the compressed size cap: a 32 MiB layer over --max-image-size 1M is
# refused from the manifest, before anything is downloaded ---
HULL_ROOT=$tmp/store-cap hull_cmd cap pull --max-image-size 1M "$reg/test/big:1"
expect_eq "a layer over --max-image-size fails the pull with 125" "$rc" 125
expect_contains "... naming the image" "$err" "$reg/test/big:1"
expect_contains "... the layer and the limit" "$err" "layer 1/1 (sha256:"
expect_contains "... the limit" "$err" "over the image size limit of 1 MiB"
expect_eq "... nothing is tagged" \
	"$(jq -r '.manifests | length' "$tmp/store-cap/oci/index.json" 2>/dev/null || echo 0)" 0
expect_eq "... no layer was downloaded" \
	"$(find "$tmp/store-cap" -type f -size +1M 2>/dev/null)" ""

# --- unknown repository, tag, registry ---
hull_cmd unknownrepo pull "$reg/test/nosuch:1"
expect_eq "an unknown repository fails with 125" "$rc" 125
expect_contains "... with the registry's reason" "$err" "UNKNOWN"
hull_cmd unknowntag pull "$reg/test/busybox:nosuchtag"
expect_contains "an unknown tag: manifest unknown" "$err" "MANIFEST_UNKNOWN"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hull_cmd noport pull --insecure-registry "127.0.0.1:$port" "127.0.0.1:$port/x:1"
expect_eq "a port nobody listens on fails with 125" "$rc" 125
expect_contains "... saying the connection failed" "$err" "127.0.0.1:$port"
expect_contains "... refused" "$err" "onnect"
hull_cmd badref pull "Upper/Case"
expect_eq "a malformed reference fails" "$rc" 125
expect_contains "... naming the problem" "$err" "must be lower-case"

# --- usage errors ---
hull_cmd noarg pull
expect_eq "hull pull without a reference is a usage error (2)" "$rc" 2
hull_cmd badpolicy run --pull sometimes "$reg/test/busybox:1" true
expect_eq "hull run --pull with an unknown policy fails with 125" "$rc" 125
expect_contains "... naming the choices" "$err" "expected missing, always or never"

# --- hull run REF: pulls into a fresh store, converts, boots ---
HULL_ROOT=$tmp/store2 run_hull runref "$reg/test/busybox:1" sh -c 'echo from-registry'
expect_eq "hull run REF exits 0" "$rc" 0
expect_line "hull run REF runs the container" "$out" "from-registry"
expect_eq "hull run REF stored the image" \
	"$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$tmp/store2/oci/index.json")" \
	"$reg/test/busybox:1"
HULL_ROOT=$tmp/store3 run_hull never --pull never "$reg/test/busybox:1" true
expect_eq "--pull never with an image not stored fails with 125" "$rc" 125
expect_contains "... saying so" "$err" "not stored locally"
run_hull notfile ./no/such/dir true
expect_eq "a missing path that is no reference fails with 125" "$rc" 125
expect_contains "... naming both readings" "$err" "no such file or directory, and not an image reference"
finish
