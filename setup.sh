#!/usr/bin/env bash
# From a fresh Debian 12 machine to a container running in a microVM, in one
# command: install the build dependencies, build hull, the guest kernel (cached
# by content hash), the guest init and a small busybox image, then run
#   hull run --rm build/examples/busybox.oci echo hello
# Needs root (apt-get, /dev/kvm). Re-running is cheap: nothing is rebuilt
# that did not change.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: run as root (apt-get and /dev/kvm need it): sudo ./setup.sh" >&2
	exit 1
fi

# Build and test dependencies, all Debian 12 packages.
deps=(
	build-essential meson ninja-build pkg-config
	libcmocka-dev libarchive-dev libjson-c-dev libext2fs-dev libssl-dev libslirp-dev libglib2.0-dev libseccomp-dev
	nettle-dev
	linux-source-6.1 flex bison bc libelf-dev xz-utils
	cpio busybox-static e2fsprogs jq
	libcurl4-openssl-dev docker-registry skopeo python3-jwt python3-cryptography curl iproute2
	protobuf-c-compiler libprotobuf-c-dev containerd runc
	clang libclang-rt-14-dev clang-format scdoc
	runsc mmdebstrap # bench/gvisor, bench/guestops: the gVisor peer and its Debian rootfs
	time # bench/kernel-ab: /usr/bin/time, the host CPU of a run
)
missing=()
for p in "${deps[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The VM monitor and the network helper run as this unprivileged system user
# when hull is started by root (runtime/jail.h): no home, no shell, no login.
if ! getent passwd hull >/dev/null; then
	echo "setup.sh: adding the system user hull (hull-vmm runs as it)"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin hull
fi

if [ -f build/build.ninja ]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
# The first build compiles the guest kernel: about 5 minutes on 2 cores.
meson compile -C build
# The libFuzzer harnesses (fuzz/README.md): a second build directory,
# build-fuzz, compiled by clang; the test suite's `fuzz` test runs them.
echo "setup.sh: building the fuzz harnesses (clang, build-fuzz)"
fuzz/run --build

if [ ! -r /dev/kvm ]; then
	echo "setup.sh: built, but /dev/kvm is missing: hull needs KVM to run a container" >&2
	exit 1
fi
echo "setup.sh: running: build/cli/hull run --rm build/examples/busybox.oci echo hello"
exec build/cli/hull run --rm build/examples/busybox.oci echo hello
