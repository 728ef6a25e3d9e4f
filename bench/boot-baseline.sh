#!/usr/bin/env bash
# The baseline for `plasma-tui up`'s boot: what an operator would script by hand.
# Boots N nodes of the demo netboot image the way the tool does (one vde_switch,
# the same QEMU arguments as qemuArgsFor in source/model/plan.ts), waits until
# SSH answers on every node (ssh in a loop, a plain poll), then tears it all down.
#
# Usage: bench/boot-baseline.sh IMAGE_DIR SSH_PORT_BASE [NODES=3] [ACCEL=tcg] [MODE=boot]
# MODE=flow is the whole flow of `up --profile demo` by hand (bench/flow-baseline.sh has the steps):
# the clock starts before the keys, certificates with openssl, the same boot, then push, install,
# etcd start, and the quorum and CRUD checks; it prints `flow-done SECONDS` at the end.
# Wrap it in the machine-wide VM lock: flock /tmp/plasma-vm.lock bench/boot-baseline.sh ...
# Output (seconds since the switch was started; keys are made before that, as
# `up` makes them in its certificates stage):
#   qemu-args node01 <the argument list, one per line, indented>
#   ssh-ready node01 12.34
#   all-ssh-ready 17.89
#   teardown 1.23
set -euo pipefail
image=${1:?usage: boot-baseline.sh IMAGE_DIR SSH_PORT_BASE [NODES] [ACCEL]}
port_base=${2:?usage: boot-baseline.sh IMAGE_DIR SSH_PORT_BASE [NODES] [ACCEL]}
nodes=${3:-3}
accel=${4:-tcg}
mode=${5:-boot}
ssh_timeout=${SSH_TIMEOUT:-300}
for tool in vde_switch qemu-system-x86_64 qemu-img ssh ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 3; }
done
[ -r "$image/vmlinuz" ] && [ -r "$image/initrd.img" ] || { echo "no demo image in $image (build it: node dist/cli.js image)" >&2; exit 3; }

work=$(mktemp -d "${TMPDIR:-/tmp}/plasma-baseline.XXXXXX")
qemu_pids=()
cleanup() {
	local status=$?
	for pid in "${qemu_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${qemu_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ -s "$work/switch.pid" ]; then kill "$(cat "$work/switch.pid")" 2>/dev/null || true; fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT INT TERM

here=$(cd "$(dirname "$0")" && pwd)
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# Keys first, untimed in boot mode: the tool makes them before its boot stage too.
if [ "$mode" = flow ]; then
	command -v openssl >/dev/null || { echo "missing openssl" >&2; exit 3; }
	# shellcheck source=bench/flow-baseline.sh
	. "$here/flow-baseline.sh"
	flow_start=$(now)
fi
ssh-keygen -q -t ed25519 -N '' -C baseline -f "$work/id_ed25519"
for i in $(seq 1 "$nodes"); do
	name=$(printf 'node%02d' "$i")
	mkdir -p "$work/$name"
	ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$work/$name/ssh_host_ed25519_key"
done

[ "$mode" != flow ] || flow_certificates

if [ "$accel" = kvm ]; then accel_args=(-accel kvm -cpu host); else accel_args=(-accel tcg); fi

start=$(now)
vde_switch -d -s "$work/switch.sock" -M "$work/mgmt.sock" -p "$work/switch.pid"
until [ -S "$work/mgmt.sock" ] && [ -s "$work/switch.pid" ]; do sleep 0.05; done

for i in $(seq 1 "$nodes"); do
	name=$(printf 'node%02d' "$i")
	dir=$work/$name
	mac=$(printf '52:54:00:be:0b:%02x' "$i")
	ip=192.168.100.$((10 + i))
	port=$((port_base + i - 1))
	qemu-img create -q -f qcow2 "$dir/disk.qcow2" 1G
	args=(
		-name "$name,process=plasma-baseline:$name"
		-nodefaults -no-user-config -display none
		-machine q35
		"${accel_args[@]}"
		-smp 1
		-m 512
		-drive "file=$dir/disk.qcow2,if=virtio,format=qcow2"
		-kernel "$image/vmlinuz" -initrd "$image/initrd.img"
		-append "console=ttyS0 panic=-1 plasma.hostname=$name plasma.ip=$ip/24 plasma.mac=$mac"
		-netdev "vde,id=cluster,sock=$work/switch.sock"
		-device "virtio-net-pci,netdev=cluster,mac=$mac"
		-netdev "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22"
		-device virtio-net-pci,netdev=mgmt
		-device virtio-rng-pci
		-chardev "socket,id=console,path=$dir/console.sock,server=on,wait=off,logfile=$dir/console.log"
		-serial chardev:console
		-chardev "socket,id=qmp,path=$dir/qmp.sock,server=on,wait=off"
		-mon chardev=qmp,mode=control
		-pidfile "$dir/qemu.pid"
		-fw_cfg "name=opt/plasma/authorized_keys,file=$work/id_ed25519.pub"
		-fw_cfg "name=opt/plasma/ssh_host_ed25519_key,file=$dir/ssh_host_ed25519_key"
	)
	[ "$i" -gt 1 ] || { echo "qemu-args $name"; printf '  %s\n' "${args[@]}"; }
	qemu-system-x86_64 "${args[@]}" >"$dir/qemu.log" 2>&1 &
	qemu_pids+=($!)
done

wait_ssh() {
	local name=$1 port=$2 deadline=$((SECONDS + ssh_timeout))
	until ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=${SSH_ATTEMPT_TIMEOUT:-10} \
		-o LogLevel=ERROR -i "$work/id_ed25519" -p "$port" root@127.0.0.1 true </dev/null 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || { echo "ssh-timeout $name"; return 1; }
		sleep 0.5
	done
	echo "ssh-ready $name $(since "$start")"
}

waiters=()
for i in $(seq 1 "$nodes"); do
	wait_ssh "$(printf 'node%02d' "$i")" $((port_base + i - 1)) &
	waiters+=($!)
done
ok=1
for pid in "${waiters[@]}"; do wait "$pid" || ok=0; done
[ "$ok" = 1 ] || exit 1
echo "all-ssh-ready $(since "$start")"
if [ "$mode" = flow ]; then
	flow_install_and_check
	echo "flow-done $(since "$flow_start")"
fi

down=$(now)
for pid in "${qemu_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
for pid in "${qemu_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
qemu_pids=()
kill "$(cat "$work/switch.pid")" 2>/dev/null || true
echo "teardown $(since "$down")"
