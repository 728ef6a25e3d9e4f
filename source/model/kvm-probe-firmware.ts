// The KVM probe's whole guest: a 64 KiB firmware image for QEMU's -bios. At the reset vector
// (real mode) it writes "R" to the first UART, loads a flat GDT, enters 32-bit protected mode
// (where a Linux guest hung on this project's hosts, right after "Probing EDD"), writes "K" and
// exits through isa-debug-exit. A working KVM answers "RK" in milliseconds; no boot, no disk.

export const KVM_PROBE_DEBUG_EXIT_PORT = 0xf4;
// isa-debug-exit makes QEMU exit with (value << 1) | 1; the value written is "K".
export const KVM_PROBE_EXIT_CODE = ('K'.charCodeAt(0) << 1) | 1;

// Assembled once with GNU as (--32) from the source in the comments; CS base is 0xFFFF0000 at reset.
const CODE_OFFSET = 0xf000;
const CODE = [
	'fa', //               cli
	'baf803 b052 ee', //   mov $0x3f8,%dx; mov $'R',%al; out %al,(%dx)
	'2e660f011650f0', //   lgdtl %cs:0xf050
	'0f20c0 6683c801 0f22c0', // mov %cr0,%eax; or $1,%eax; mov %eax,%cr0
	'66ea20f0ffff0800', // ljmpl $0x08,$0xfffff020
	'66b81000 8ed8', //    (32-bit) mov $0x10,%ax; mov %ax,%ds
	'66baf803 b04b ee', // mov $0x3f8,%dx; mov $'K',%al; out %al,(%dx)
	'e6f4', //             out %al,$0xf4 (isa-debug-exit)
	'f4 ebfd', //          1: hlt; jmp 1b
	'8db400006690', //     padding to the GDT at 0xf038
	'0000000000000000 ffff0000009acf00 ffff00000092cf00', // null, flat code, flat data
	'1700 38f0ffff', //    GDT descriptor at 0xf050: limit 23, base 0xfffff038
];
const RESET_OFFSET = 0xfff0;
const RESET = 'e90df0'; // jmp 0xf000

export function kvmProbeFirmware(): Buffer {
	const image = Buffer.alloc(0x10000);
	Buffer.from(CODE.join('').replaceAll(' ', ''), 'hex').copy(image, CODE_OFFSET);
	Buffer.from(RESET, 'hex').copy(image, RESET_OFFSET);
	return image;
}
