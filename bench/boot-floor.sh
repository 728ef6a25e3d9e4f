#!/usr/bin/env bash
# Where one TCG boot of the demo image spends its time: boots ONE node the way the tool does
# (q35, the demo's virtio NICs and disk, fw_cfg keys) with its serial console on a pipe, and
# stamps every console line with the host time since QEMU was spawned. No SSH: the boot ends
# at the init's ready line (`plasma-ready`), which it prints once sshd listens.
#
# Usage: bench/boot-floor.sh IMAGE_DIR [EXTRA_APPEND] [MACHINE=q35]
# Wrap it in the machine-wide VM lock: flock /tmp/plasma-vm.lock bench/boot-floor.sh ...
# Output: `stage NAME SECONDS` lines (see bench/README.md, "boot floor"), then `bytes N` (the
# console output's size) and `lines N`; with BOOT_FLOOR_LOG=FILE the stamped console is kept.
set -euo pipefail
image=${1:?usage: boot-floor.sh IMAGE_DIR [EXTRA_APPEND] [MACHINE]}
extra=${2:-}
machine=${3:-q35}
timeout_s=${BOOT_TIMEOUT:-180}
for tool in qemu-system-x86_64 qemu-img ssh-keygen perl; do
	command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 3; }
done
[ -r "$image/vmlinuz" ] && [ -r "$image/initrd.img" ] || { echo "no demo image in $image" >&2; exit 3; }

work=$(mktemp -d "${TMPDIR:-/tmp}/plasma-bootfloor.XXXXXX")
cleanup() {
	local status=$?
	[ -s "$work/qemu.pid" ] && kill "$(cat "$work/qemu.pid")" 2>/dev/null || true
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT INT TERM
ssh-keygen -q -t ed25519 -N '' -C bootfloor -f "$work/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C root@node01 -f "$work/ssh_host_ed25519_key"
qemu-img create -q -f qcow2 "$work/disk.qcow2" 1G
mac=52:54:00:b0:0f:01
args=(
	-name node01 -nodefaults -no-user-config -display none
	-machine "$machine" -accel tcg -smp 1 -m 512
	-drive "file=$work/disk.qcow2,if=virtio,format=qcow2"
	-kernel "$image/vmlinuz" -initrd "$image/initrd.img"
	-append "console=ttyS0 panic=-1 plasma.hostname=node01 plasma.ip=192.168.100.11/24 plasma.mac=$mac $extra"
	-netdev "user,id=cl,restrict=on" -device "virtio-net-pci,netdev=cl,mac=$mac"
	-netdev "user,id=mgmt,restrict=on" -device virtio-net-pci,netdev=mgmt -device virtio-rng-pci
	-serial stdio -pidfile "$work/qemu.pid"
	-fw_cfg "name=opt/plasma/authorized_keys,file=$work/id_ed25519.pub"
	-fw_cfg "name=opt/plasma/ssh_host_ed25519_key,file=$work/ssh_host_ed25519_key"
)
export QEMU_PIDFILE=$work/qemu.pid
# perl stamps each line as it arrives and stops QEMU at the ready line (or an error).
timeout "$timeout_s" qemu-system-x86_64 "${args[@]}" </dev/null 2>"$work/qemu.err" | perl -MTime::HiRes=time -e '
	$| = 1; my $t0 = shift; my ($bytes, $lines, %seen) = (0, 0);
	sub mark { my ($name) = @_; return if $seen{$name}++; printf "stage %s %.2f\n", $name, time - $t0; }
	open(my $log, ">", $ENV{BOOT_FLOOR_LOG} || "/dev/null");
	while (<STDIN>) {
		my $line = $_;
		$bytes += length $line; $lines++;
		printf $log "%7.3f %s", time - $t0, $line;
		mark("first-byte") if $lines == 1;
		mark("decompressed") if /Booting the kernel/;
		mark("initramfs-unpack-start") if /Unpacking initramfs|Trying to unpack rootfs/;
		mark("initramfs-unpacked") if /Freeing initrd memory/;
		mark("kernel-done") if /Run \/init as init process/;
		mark("init-$1") if /plasma-mark (\S+)/;
		if (/plasma-ready/) { mark("ready"); last; }
		if (/plasma-error|Kernel panic/) { print "error $line"; last; }
	}
	print "bytes $bytes\nlines $lines\n";
	# The guest is quiet after its ready line: stop QEMU now rather than when it next writes.
	if (open(my $pid, "<", $ENV{QEMU_PIDFILE})) { kill "TERM", 0 + <$pid>; }
' "$(perl -MTime::HiRes=time -e 'printf "%.6f", time')" || true
