#!/bin/bash
# Boot hull's guest kernel under QEMU's microvm machine: the reference peer
# that hull's own VMM is compared against (bench/), and a way to test
# guest-init before hull's VMM can boot it.
#
#   bench/qemu-microvm.sh KERNEL INITRAMFS [EXTRA_APPEND...]
#
# KERNEL     uncompressed vmlinux (kernel-config/build.sh); booted via PVH.
# INITRAMFS  uncompressed newc cpio, or "" for none (then pass e.g.
#            root=/dev/vda rootfstype=ext4 in EXTRA_APPEND).
# EXTRA_APPEND  more kernel command-line words (e.g. rdinit=/bin/sh, quiet).
#
# The guest's ttyS0 (kernel console) is this script's stdin/stdout. QEMU exits
# when the guest reboots (reboot -f / reboot(RB_AUTOBOOT), i8042 reset) or
# panics (panic=-1); the exit status is QEMU's.
#
# Environment:
#   QEMU_DISK=path      attach read-only as virtio-blk-device => /dev/vda
#   QEMU_SERIAL1=spec   second 16550 UART => ttyS1 (and 8250.nr_uarts=2;
#                       without it 8250.nr_uarts=1, as hull's). spec is a
#                       QEMU -chardev backend without id, e.g.
#                       "file,path=/tmp/ttyS1.out" or
#                       "socket,path=/tmp/ttyS1.sock,server=on,wait=off".
#                       guest-init speaks hcp on ttyS1 when the VM has no
#                       vsock device: QEMU 7.2 offers vsock only through the
#                       host's /dev/vhost-vsock (bench/README.md).
#   QEMU_MEM=MiB        guest memory (default 128)
#   QEMU_SMP=n          vCPUs (default 1)
#   QEMU=binary         default qemu-system-x86_64
#   QEMU_EXTRA="..."    more QEMU arguments (word-split)
#
# On a kvm_pvm host (/sys/module/kvm_pvm exists) the PVM-only kernel switches
# and a GLIBC_TUNABLES=... word (it reaches init as an environment variable)
# are added; kernel-config/README.md explains every one. For boot-time
# measurements pass "quiet", as bench/ does.
set -euo pipefail

die() { echo "qemu-microvm.sh: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: $0 KERNEL INITRAMFS [EXTRA_APPEND...]"
kernel=$1
initrd=$2
shift 2
[ -r "$kernel" ] || die "cannot read kernel $kernel"
[ -z "$initrd" ] || [ -r "$initrd" ] || die "cannot read initramfs $initrd"

# Keep in sync with kernel-config/README.md ("Kernel command line").
append_always="console=ttyS0 reboot=k panic=-1"
append_pvm="pvm_compat clearcpuid=xsave,popcnt,smap,erms,fsrm,invpcid,rdtscp,cx16 noreplace-smp percpu_alloc=page tick_stretch=10"
# Not a kernel switch: the kernel hands it to init as an environment variable.
# On PVM the guest kernel cannot context-switch AVX state, so glibc must not
# pick its AVX string functions (README, "Known limitations on PVM").
append_pvm_env="GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX_Fast_Unaligned_Load"

append=$append_always
# The kernel probes only the UARTs it is told of (each probe is emulated
# work on PVM): one, like hull, or two with QEMU_SERIAL1.
if [ -n "${QEMU_SERIAL1:-}" ]; then
	append="$append 8250.nr_uarts=2"
else
	append="$append 8250.nr_uarts=1"
fi
if [ -e /sys/module/kvm_pvm ]; then
	append="$append $append_pvm $append_pvm_env"
fi
if [ $# -gt 0 ]; then
	append="$append $*"
fi

args=(
	-M microvm,rtc=off,pic=off,pit=off,acpi=off
	-accel kvm
	# XSAVE/CX16 off and XSAVEERPTR on: see README (CPUID the guest kernel
	# honours); TSC-deadline: the LAPIC timer cannot be calibrated on PVM.
	-cpu qemu64,-xsave,-cx16,+xsaveerptr,+tsc-deadline
	-m "${QEMU_MEM:-128}"
	-smp "${QEMU_SMP:-1}"
	-nodefaults -no-user-config -nographic
	-serial stdio
	# The i8042 exists only so that reboot=k (a write of 0xfe to port 0x64)
	# resets the machine, which -no-reboot turns into QEMU exiting.
	-device i8042
	-no-reboot
	-kernel "$kernel"
	-append "$append"
)
[ -z "$initrd" ] || args+=(-initrd "$initrd")

if [ -n "${QEMU_DISK:-}" ]; then
	[ -r "$QEMU_DISK" ] || die "cannot read QEMU_DISK=$QEMU_DISK"
	# microvm with acpi=off adds virtio_mmio.device=... to the command line.
	args+=(
		-drive "id=hulldisk0,file=$QEMU_DISK,format=raw,if=none,readonly=on"
		-device virtio-blk-device,drive=hulldisk0
	)
fi

if [ -n "${QEMU_SERIAL1:-}" ]; then
	# microvm instantiates only the first -serial; the second UART is added
	# by hand at the standard COM2 resources (0x2f8, IRQ 3).
	args+=(
		-chardev "$QEMU_SERIAL1,id=hullser1"
		-device isa-serial,chardev=hullser1,index=1,iobase=0x2f8,irq=3
	)
fi

if [ -n "${QEMU_EXTRA:-}" ]; then
	# shellcheck disable=SC2206 # word splitting intended
	args+=($QEMU_EXTRA)
fi

exec "${QEMU:-qemu-system-x86_64}" "${args[@]}"
