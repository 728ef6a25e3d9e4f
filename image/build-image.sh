#!/usr/bin/env bash
# Builds the plasma-tui demo netboot image: the Debian kernel plus an initramfs
# with busybox, OpenSSH (sshd + SFTP), etcd and etcdctl, taken from Debian packages.
# Usage: build-image.sh OUT_DIR   (writes OUT_DIR/vmlinuz, OUT_DIR/initrd.img, OUT_DIR/versions.txt)
set -euo pipefail
out=${1:?usage: build-image.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
need() { command -v "$1" >/dev/null || { echo "missing $1: apt-get install $2" >&2; exit 3; }; }
need busybox busybox-static; need cpio cpio; need dpkg-deb dpkg; need xz xz-utils
[ -x /usr/sbin/sshd ] || { echo "missing /usr/sbin/sshd: apt-get install openssh-server" >&2; exit 3; }
need etcd etcd-server; need etcdctl etcd-client; need ssh-keygen openssh-client
[ -x /usr/sbin/sgdisk ] || { echo "missing /usr/sbin/sgdisk: apt-get install gdisk" >&2; exit 3; }
[ -x /usr/sbin/mkfs.ext4 ] || { echo "missing /usr/sbin/mkfs.ext4: apt-get install e2fsprogs" >&2; exit 3; }
[ -x /usr/sbin/blkid ] || { echo "missing /usr/sbin/blkid: apt-get install util-linux" >&2; exit 3; }
# nixos-anywhere's stand-in writes a disk the firmware boots: a FAT ESP with syslinux (SeaBIOS).
[ -x /usr/bin/extlinux ] && [ -f /usr/lib/syslinux/mbr/gptmbr.bin ] || { echo "missing extlinux: apt-get install extlinux syslinux-common" >&2; exit 3; }
[ -x /usr/sbin/mkfs.fat ] || { echo "missing /usr/sbin/mkfs.fat: apt-get install dosfstools" >&2; exit 3; }
[ -d /usr/lib/grub/x86_64-efi ] && command -v grub-mkstandalone >/dev/null || { echo "missing GRUB for UEFI (boot.firmware ovmf): apt-get install grub-efi-amd64-bin" >&2; exit 3; }
busybox --list | grep -qx udhcpc || { echo "busybox lacks applets: apt-get install busybox-static" >&2; exit 3; }

work=$(mktemp -d "${TMPDIR:-/tmp}/plasma-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "step: kernel package"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
if [ -z "$kpkg" ]; then
	echo "apt lists missing; running apt-get update"
	apt-get update -qq
	kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
fi
[ -n "$kpkg" ] || { echo "cannot resolve the Debian kernel package (linux-image-amd64)" >&2; exit 3; }
(cd "$work" && apt-get download -q "$kpkg" >/dev/null)
dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/kernel"
kver=${kpkg#linux-image-}
echo "kernel: $kver"

echo "step: initramfs tree"
mkdir -p "$root"/{bin,sbin,etc/ssh,etc/acpi/PWRF,data,proc,sys,dev,run,tmp,root,var/log,var/lib/etcd,var/empty,usr/bin,usr/sbin}
cp /bin/busybox "$root/bin/busybox"
for applet in $(busybox --list); do
	# No /bin/svc link to busybox's runit applet. busybox sh still runs that applet for a bare `svc`
	# (it prefers applets to PATH), so callers must write /sbin/svc.
	case $applet in svc) continue ;; init) target=$root/sbin/init ;; *) target=$root/bin/$applet ;; esac
	[ -e "$target" ] || ln -s /bin/busybox "$target"
done
cp "$here/init" "$root/init"; chmod 755 "$root/init"
for script in svc plasma-ready plasma-disk plasma-services plasma-shutdown; do cp "$here/$script" "$root/sbin/$script"; chmod 755 "$root/sbin/$script"; done
# busybox acpid runs /etc/acpi/PWRF/00000080 for the power button (QMP system_powerdown).
cp "$here/acpi-power" "$root/etc/acpi/PWRF/00000080"; chmod 755 "$root/etc/acpi/PWRF/00000080"
cp "$here/inittab" "$root/etc/inittab"
cp /usr/bin/etcd /usr/bin/etcdctl "$root/usr/bin/"
cp /usr/sbin/sshd "$root/usr/sbin/sshd"
cp /usr/bin/ssh-keygen "$root/usr/bin/ssh-keygen"
# The installed disk's tools (plasma-disk): GPT partitions, ext4, and what a partition holds.
cp /usr/sbin/sgdisk /usr/sbin/mkfs.ext4 /usr/sbin/blkid "$root/usr/sbin/"
# The installed disk's boot (image/plasma-disk system): a FAT ESP, syslinux's GPT MBR and extlinux.
cp /usr/bin/extlinux "$root/usr/bin/"; cp /usr/sbin/mkfs.fat "$root/usr/sbin/"
mkdir -p "$root/usr/lib/syslinux/mbr"; cp /usr/lib/syslinux/mbr/gptmbr.bin "$root/usr/lib/syslinux/mbr/"
# OVMF (boot.firmware ovmf) starts GRUB from the ESP's removable-media path; it reads the grub.cfg beside it.
printf 'configfile ${cmdpath}/grub.cfg\n' > "$work/grub-embedded.cfg"
mkdir -p "$root/usr/lib/plasma"
grub-mkstandalone -O x86_64-efi --modules="part_gpt fat" --install-modules="linux normal configfile part_gpt fat serial terminal echo test" \
	--locales= --fonts= --themes= -o "$root/usr/lib/plasma/BOOTX64.EFI" "boot/grub/grub.cfg=$work/grub-embedded.cfg"
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$root/etc/mke2fs.conf"
for bin in /usr/sbin/sshd /usr/bin/ssh-keygen /usr/sbin/sgdisk /usr/sbin/mkfs.ext4 /usr/sbin/blkid /usr/bin/extlinux /usr/sbin/mkfs.fat; do
	ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
	done
done
cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
sshd:x:74:65534:sshd privsep:/var/empty:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' > "$root/etc/shadow"; chmod 600 "$root/etc/shadow"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
cat > "$root/etc/ssh/sshd_config" <<'SC'
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp internal-sftp
MaxSessions 20
SC
chmod 755 "$root/var/empty"

echo "step: kernel modules"
# Debian ships these as modules; the init script insmods them in this order.
moddir=$work/kernel/lib/modules/$kver
mkdir -p "$root/lib/modules"
: > "$root/lib/modules/load-order"
for mod in failover net_failover virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_net virtio_blk virtio-rng qemu_fw_cfg crc16 mbcache jbd2 crc32c_generic ext4 fat vfat nls_cp437 nls_ascii button evdev; do
	file=$(find "$moddir" -name "$mod.ko" -o -name "$mod.ko.xz" | head -n1)
	[ -n "$file" ] || continue
	case $file in
		*.xz) xz -dc "$file" > "$root/lib/modules/$mod.ko" ;;
		*) cp "$file" "$root/lib/modules/$mod.ko" ;;
	esac
	echo "$mod" >> "$root/lib/modules/load-order"
done
echo "modules: $(tr '\n' ' ' < "$root/lib/modules/load-order")"

echo "step: pack"
mkdir -p "$out"
# The kernel as an uncompressed ELF with its PVH entry note (Debian sets CONFIG_PVH): QEMU loads it
# straight into guest memory and starts it there, where a bzImage goes through the firmware's
# loader and decompresses itself under TCG (4-13 s of a boot here, see bench/README.md "boot floor").
# The file keeps the name vmlinuz; the bzImage is kept when no uncompressed kernel comes out of it.
unpack_kernel() {
	local bz=$1 magic tool offset
	for magic in 'xz:\xfd7zXZ' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		tool=${magic%%:*}
		for offset in $(LC_ALL=C grep -obUaP "${magic#*:}" "$bz" | cut -d: -f1); do
			tail -c +$((offset + 1)) "$bz" | "$tool" -dc 2>/dev/null > "$work/vmlinux" || true
			if [ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then echo "$tool"; return 0; fi
		done
	done
	return 1
}
# The bzImage is kept beside it as bzImage: a bootloader on an installed disk (SYSLINUX, GRUB)
# loads only that format.
cp "$work/kernel/boot/vmlinuz-$kver" "$work/bzImage"
if how=$(unpack_kernel "$work/kernel/boot/vmlinuz-$kver") && { ! command -v readelf >/dev/null || readelf -n "$work/vmlinux" | grep -Eq 'PHYS32_ENTRY|type: \(0x00000012\)'; }; then
	mv "$work/vmlinux" "$work/vmlinuz"
	echo "kernel: uncompressed ($how) for a PVH boot"
else
	cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
	echo "kernel: bzImage (no uncompressed PVH kernel found in it)"
fi
# Uncompressed: the kernel unpacks a gzip initramfs under TCG at ~7 MB/s (4 s for this one, under load);
# an uncompressed cpio is copied in 0.5 s, and QEMU loads the bigger file from the host in milliseconds.
(cd "$root" && find . | cpio -o -H newc --quiet) > "$work/initrd.img"
{
	echo "kernel $kpkg"
	for p in busybox-static openssh-server etcd-server etcd-client gdisk e2fsprogs extlinux syslinux-common dosfstools grub-efi-amd64-bin; do echo "$p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo unknown)"; done
} > "$work/versions.txt"
mv "$work/vmlinuz" "$out/vmlinuz"; mv "$work/bzImage" "$out/bzImage"; mv "$work/initrd.img" "$out/initrd.img"; mv "$work/versions.txt" "$out/versions.txt"
echo "done: $(du -h "$out/initrd.img" | cut -f1) initrd, kernel $kver"
