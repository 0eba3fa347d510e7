#!/usr/bin/env bash
# Bad input gets a clear error naming the input, status 125, and leaves nothing
# behind. None of these boots a VM.
. "$(dirname "$0")/lib.sh"

run_hull noimage "$tmp/does-not-exist.oci" true
expect_eq "missing image: status 125" "$rc" 125
expect_contains "missing image: named" "$err" "does-not-exist.oci"

run_hull nokernel --kernel "$tmp/no-vmlinux" "$IMG" true
expect_eq "missing kernel: status 125" "$rc" 125
expect_contains "missing kernel: named" "$err" "no-vmlinux"

head -c 8192 /dev/urandom >"$tmp/bogus-kernel"
run_hull badkernel --kernel "$tmp/bogus-kernel" "$IMG" true
expect_eq "non-ELF kernel: status 125" "$rc" 125
expect_contains "non-ELF kernel: explained" "$err" "not an ELF"

run_hull badmem --memory lots "$IMG" true
expect_eq "bad --memory: status 125" "$rc" 125
expect_contains "bad --memory: named" "$err" "--memory lots"

run_hull smallmem --memory 16M "$IMG" true
expect_eq "too little memory: status 125" "$rc" 125
expect_contains "too little memory: explained" "$err" "at least"

run_hull badcpus --cpus 0 "$IMG" true
expect_eq "bad --cpus: status 125" "$rc" 125

run_hull relwd -w relative "$IMG" true
expect_eq "relative -w: status 125" "$rc" 125
expect_contains "relative -w: explained" "$err" "absolute"

# A corrupted layer blob: the digest check refuses it and nothing is cached.
# (A fresh store: the intact image is cached above under the same manifest
# digest, and a cache hit rightly never reads the layers again.)
export HULL_ROOT="$tmp/store-corrupt"
cp -r "$IMG" "$tmp/corrupt.oci"
layer=$(find "$tmp/corrupt.oci/blobs/sha256" -type f -size +100k | head -n1)
printf 'XXXX' | dd of="$layer" bs=1 seek=100 conv=notrunc status=none
run_hull corrupt "$tmp/corrupt.oci" true
expect_eq "corrupt layer: status 125" "$rc" 125
expect_contains "corrupt layer: names the image" "$err" "corrupt.oci"
expect_contains "corrupt layer: says why" "$err" "does not match its digest"
shopt -s nullglob
left=("$HULL_ROOT"/rootfs/*.ext4 "$HULL_ROOT"/rootfs/*.tmp.*)
expect_eq "corrupt layer: nothing left in the cache" "${#left[@]}" 0

# /dev/kvm that is not KVM (and one that is missing), in a private mount
# namespace so the host's stays untouched.
: >"$tmp/not-kvm"
hull_cmd_ns() { # NAME SETUP ARGS...: hull run in a mount namespace after SETUP
	local name=$1 setup=$2
	shift 2
	timeout 60 unshare -m sh -c "$setup && exec \"\$0\" run \"\$@\"" "$HULL" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	err=$(cat "$tmp/$name.err")
	last=$name
}
hull_cmd_ns notkvm "mount --bind $tmp/not-kvm /dev/kvm" "$IMG" true
expect_eq "/dev/kvm not a KVM device: status 125" "$rc" 125
expect_contains "/dev/kvm not a KVM device: explained" "$err" "/dev/kvm: not a KVM device"
hull_cmd_ns nokvm "mount -t tmpfs none /dev" "$IMG" true
expect_eq "/dev/kvm missing: status 125" "$rc" 125
expect_contains "/dev/kvm missing: explained" "$err" "/dev/kvm: No such file or directory"

hull_cmd noargs
expect_eq "no command: usage error" "$rc" 2
run_hull badlogopt --log-opt max-size=1 "$IMG" true
expect_eq "bad --log-opt: status 125" "$rc" 125
expect_contains "bad --log-opt: named" "$err" "--log-opt max-size=1"

# The runtime directory (state, logs, sockets): refused when another user
# could write there, when it is not the caller's, or when it is a symlink;
# the error names the directory and the variable that picks another.
mkdir -m 0777 "$tmp/openrun"
chmod 0777 "$tmp/openrun"
HULL_RUNTIME_DIR="$tmp/openrun" run_hull openrun "$IMG" true
expect_eq "world-writable runtime dir: status 125" "$rc" 125
expect_contains "world-writable runtime dir: named" "$err" "runtime directory $tmp/openrun: writable by others"
expect_contains "world-writable runtime dir: the way out" "$err" "HULL_RUNTIME_DIR"
HULL_RUNTIME_DIR="$tmp/openrun" hull_cmd openps ps -a
expect_contains "world-writable runtime dir: hull ps refuses it too" "$err" "writable by others"
mkdir -m 0700 "$tmp/realrun"
ln -s "$tmp/realrun" "$tmp/linkrun"
HULL_RUNTIME_DIR="$tmp/linkrun" run_hull linkrun "$IMG" true
expect_eq "symlinked runtime dir: status 125" "$rc" 125
expect_contains "symlinked runtime dir: named" "$err" "runtime directory $tmp/linkrun: a symlink"
if [ "$(id -u)" = 0 ]; then
	mkdir -m 0700 "$tmp/otherrun"
	chown 65534:65534 "$tmp/otherrun"
	HULL_RUNTIME_DIR="$tmp/otherrun" run_hull otherrun "$IMG" true
	expect_eq "another user's runtime dir: status 125" "$rc" 125
	expect_contains "another user's runtime dir: named" "$err" \
		"runtime directory $tmp/otherrun: owned by uid 65534, not by you (uid 0)"
fi
expect_eq "nothing was created in a refused runtime dir" \
	"$(ls -A "$tmp/openrun" "$tmp/realrun" | tr -d '\n')" "$tmp/openrun:$tmp/realrun:"
finish
