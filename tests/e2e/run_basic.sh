#!/usr/bin/env bash
# One VM, many assertions: output streams, exit code, the image's env/workdir,
# user, whiteouts, opaque directories, owners, links, and a writable rootfs.
. "$(dirname "$0")/lib.sh"

script='
echo to-stdout
echo to-stderr >&2
echo "id=$(id -u):$(id -g)"
echo "pwd=$(pwd)"
echo "foo=$FOO"
echo "home=$HOME"
echo "host=$(hostname)"
echo "tunables=${GLIBC_TUNABLES:-none}"
cat /data/keep
[ -e /data/gone ] && echo gone-present || echo gone-absent
ls /opq | tr "\n" " "; echo
echo "owner=$(stat -c %u:%g /home/app/owned)"
echo "mode=$(stat -c %a /bin/setuid-probe)"
echo "link=$(readlink /data/link)"
echo "nlink=$(stat -c %h /data/keep)"
echo written > /data/new && cat /data/new
echo more >> /data/keep && tail -n1 /data/keep
mount | grep -q " / " && echo root-mounted
exit 7
'
run_hull basic --timings "$IMG" sh -c "$script"
expect_eq "exit status is the container's" "$rc" 7
expect_line "stdout reaches stdout" "$out" "to-stdout"
expect_not_contains "stderr stays off stdout" "$out" "to-stderr"
expect_line "stderr reaches stderr" "$err" "to-stderr"
expect_line "runs as root by default" "$out" "id=0:0"
expect_line "image WorkingDir applies" "$out" "pwd=/data"
expect_line "image Env applies" "$out" "foo=image"
expect_line "HOME comes from /etc/passwd" "$out" "home=/root"
expect_line "a lower-layer file is readable" "$out" "keep"
expect_line "a whiteout deletes a lower-layer file" "$out" "gone-absent"
expect_line "an opaque directory hides lower entries" "$out" "b "
expect_line "numeric owners are kept" "$out" "owner=1000:1000"
expect_line "setuid bits are kept" "$out" "mode=4755"
expect_line "symlinks are kept" "$out" "link=keep"
expect_line "hard links share an inode" "$out" "nlink=2"
expect_line "the rootfs is writable (new file)" "$out" "written"
expect_line "the rootfs is writable (lower file)" "$out" "more"
host=$(sed -n 's/^host=//p' <<<"$out")
if [[ "$host" =~ ^[0-9a-f]{12}$ ]]; then pass "default hostname is a 12-hex id"; else fail "default hostname is a 12-hex id" "got: $host"; fi
# PVM hosts cannot switch AVX state in the guest: glibc must be kept off AVX
# there (kernel-config/README.md), and only there.
if [ -e /sys/module/kvm_pvm ]; then
	expect_line "PVM host: the container gets GLIBC_TUNABLES" "$out" \
		"tunables=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX_Fast_Unaligned_Load"
else
	expect_line "VMX/SVM host: no GLIBC_TUNABLES" "$out" "tunables=none"
fi
expect_contains "--timings reports guest-init start" "$err" "guest-init ready"
expect_contains "--timings reports the conversion" "$err" "(converted)"
finish
