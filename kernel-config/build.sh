#!/bin/bash
# Build hull's guest kernel (uncompressed vmlinux) from Debian's
# linux-source-6.1, or take it from the cache, and install it at OUTPUT.
#
#   kernel-config/build.sh OUTPUT
#
# Cache: ${HULL_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hull/kernel}/<hash>/
#        {vmlinux,config}; <hash> covers the linux-source package version,
#        hull.config, patches/*.patch, this script and the gcc version.
# Prints one line on success; on failure, the tail of the build log (the full
# log is kept as <cache>/last-failure.log).
set -euo pipefail
umask 022

die() { echo "kernel-config/build.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 OUTPUT"
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/hull.config
pkg=linux-source-6.1
tarball=/usr/src/$pkg.tar.xz

for tool in dpkg-query tar xz make gcc ld flex bison bc patch sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
pkgver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) || pkgver=
[ -n "$pkgver" ] && [ -r "$tarball" ] || die "package $pkg is not installed (apt-get install $pkg)"
[ -r "$fragment" ] || die "missing $fragment"

shopt -s nullglob
patches=("$here"/patches/*.patch)
shopt -u nullglob

# ---- cache key -------------------------------------------------------------
key() {
	printf 'package %s %s\n' "$pkg" "$pkgver"
	printf 'gcc %s\n' "$(gcc --version | head -n 1)"
	for f in "$fragment" "${patches[@]}" "$here/build.sh"; do
		printf 'file %s %s\n' "${f#"$here"/}" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done
}
hash=$(key | sha256sum | cut -d' ' -f1)
cache_root=${HULL_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hull/kernel}
entry=$cache_root/$hash

install_output() {
	local dir tmp
	dir=$(dirname "$out")
	mkdir -p "$dir"
	# Leave an identical file alone: hull keys its templates on the kernel
	# file's identity (inode, mtime), and every build runs this script.
	if cmp -s "$entry/vmlinux" "$out"; then
		return 0
	fi
	tmp=$(mktemp "$dir/.vmlinux.XXXXXX")
	if ! cp "$entry/vmlinux" "$tmp" || ! chmod 644 "$tmp" || ! mv -f "$tmp" "$out"; then
		rm -f "$tmp"
		die "cannot install $out"
	fi
}

if [ -f "$entry/vmlinux" ]; then
	install_output
	echo "kernel-config: cache hit ${hash:0:12} ($pkg $pkgver) -> $out"
	exit 0
fi

# ---- build -------------------------------------------------------------------
start=$(date +%s)
mkdir -p "$cache_root"
# Build trees left behind by a killed build (SIGKILL, power loss) are ~2 GB.
find "$cache_root" -maxdepth 1 -name 'build.*' -mmin +720 -exec rm -rf {} + 2>/dev/null || true
work=$(mktemp -d "$cache_root/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
log=$work/build.log
: >"$log"

fail() {
	echo "kernel-config/build.sh: $*" >&2
	echo "---- last lines of the build log ----" >&2
	tail -n 40 "$log" >&2
	cp -f "$log" "$cache_root/last-failure.log" 2>/dev/null &&
		echo "---- full log: $cache_root/last-failure.log ----" >&2
	exit 1
}

# Settings from the caller's environment must not leak into kbuild.
unset ARCH SRCARCH CROSS_COMPILE LLVM O KBUILD_OUTPUT KCONFIG_CONFIG KCFLAGS \
	KCPPFLAGS KAFLAGS KBUILD_CFLAGS INSTALL_PATH MAKEFLAGS MFLAGS MAKELEVEL \
	GNUMAKEFLAGS || true
kmake() { make -C "$src" ARCH=x86_64 KBUILD_BUILD_USER=hull KBUILD_BUILD_HOST=hull "$@"; }

tar -xf "$tarball" -C "$work" >>"$log" 2>&1 || fail "cannot unpack $tarball"
src=$work/$pkg
[ -f "$src/Makefile" ] || fail "unexpected layout of $tarball"

for p in "${patches[@]}"; do
	echo "== patch ${p##*/}" >>"$log"
	patch -d "$src" -p1 --forward --no-backup-if-mismatch <"$p" >>"$log" 2>&1 ||
		fail "patch ${p##*/} does not apply"
done

{
	kmake tinyconfig &&
	"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$fragment" &&
	kmake olddefconfig
} >>"$log" 2>&1 || fail "kernel configuration failed"

# Kconfig silently drops options whose dependencies are unmet: every line of
# the fragment must be honoured exactly.
missing=$(
	grep -E '^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$' "$fragment" |
	while IFS= read -r line; do
		case $line in
		"# CONFIG_"*)
			name=${line#\# }; name=${name%% *}
			grep -q "^$name=" "$src/.config" &&
				echo "  wanted off: $(grep "^$name=" "$src/.config")"
			;;
		*)
			grep -qxF -- "$line" "$src/.config" ||
				echo "  wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$src/.config" || echo 'absent')"
			;;
		esac
	done
) || true
if [ -n "$missing" ]; then
	echo "$missing" >>"$log"
	echo "kernel-config/build.sh: the final .config does not honour hull.config:" >&2
	echo "$missing" >&2
	exit 1
fi

kmake -j"$(nproc)" vmlinux >>"$log" 2>&1 || fail "kernel build failed"
[ -s "$src/vmlinux" ] || fail "no vmlinux produced"

# Publish atomically: the vmlinux appears last, complete.
{
	mkdir -p "$entry" &&
	cp "$src/.config" "$entry/.config.$$" && mv -f "$entry/.config.$$" "$entry/config" &&
	cp "$src/vmlinux" "$entry/.vmlinux.$$" && mv -f "$entry/.vmlinux.$$" "$entry/vmlinux"
} || fail "cannot store the kernel in $entry"
rm -rf "$work"
trap - EXIT

install_output
echo "kernel-config: built ${hash:0:12} ($pkg $pkgver) in $(($(date +%s) - start)) s -> $out"
