#!/usr/bin/env bash
# Runs bench/boot-floor.sh over image variants and command lines, alternating, ROUNDS times each,
# inside one hold of the VM lock (so the variants see the same load). Each case is
# LABEL=IMAGE_DIR|EXTRA_APPEND|MACHINE. Prints `case LABEL round N` then boot-floor.sh's lines.
# Usage: flock /tmp/plasma-vm.lock bench/boot-floor-sweep.sh ROUNDS 'label=dir|append|machine' ...
set -euo pipefail
rounds=${1:?usage: boot-floor-sweep.sh ROUNDS CASE...}; shift
here=$(cd "$(dirname "$0")" && pwd)
for round in $(seq 1 "$rounds"); do
	for case in "$@"; do
		label=${case%%=*}; rest=${case#*=}
		IFS='|' read -r dir append machine <<<"$rest"
		echo "case $label round $round load $(cut -d' ' -f1 /proc/loadavg)"
		BOOT_FLOOR_LOG=${BOOT_FLOOR_LOGS:+$BOOT_FLOOR_LOGS/$label-$round.log} "$here/boot-floor.sh" "$dir" "$append" "${machine:-q35}" || echo "failed $label"
	done
done
