/**
 * The board description: one declarative table of the devices on a RISC-V
 * `virt` machine, their physical addresses and interrupt numbers. The same
 * table drives the wiring (machine.ts) and the device tree (device-tree.ts).
 * `VIRT_BOARD` holds QEMU 7.2's values (hw/riscv/virt.c, `virt_memmap[]` and
 * the UART0_IRQ/RTC_IRQ/VIRTIO_IRQ constants); a custom board is a copy with
 * entries dropped, added or moved.
 */

/** A device on the board: where it sits and which PLIC source it raises. */
export type BoardDevice =
  | { readonly kind: "clint"; readonly base: number; readonly size: number }
  | { readonly kind: "plic"; readonly base: number; readonly size: number; readonly sources: number }
  | {
      readonly kind: "uart16550";
      readonly base: number;
      readonly size: number;
      readonly irq: number;
      /** Input clock in Hz, for the device tree (`clock-frequency`). */
      readonly clockFrequency: number;
    }
  | { readonly kind: "goldfish-rtc"; readonly base: number; readonly size: number; readonly irq: number }
  | { readonly kind: "syscon"; readonly base: number; readonly size: number }
  | { readonly kind: "virtio-mmio"; readonly base: number; readonly size: number; readonly irq: number };

/** A whole board: RAM, the boot ROM and the devices. */
export interface Board {
  /** Guest RAM: base and size in bytes. */
  readonly ram: { readonly base: number; readonly size: number };
  /** The mask ROM holding the reset vector (QEMU virt: 0x1000, 0xf000 bytes). */
  readonly mrom: { readonly base: number; readonly size: number };
  readonly devices: readonly BoardDevice[];
}

/** Number of virtio-mmio slots on QEMU virt. */
export const VIRTIO_SLOTS = 8;

/** QEMU 7.2's `virt` board with 128 MiB of RAM. */
export const VIRT_BOARD: Board = {
  ram: { base: 0x8000_0000, size: 128 * 1024 * 1024 },
  mrom: { base: 0x1000, size: 0xf000 },
  devices: [
    { kind: "syscon", base: 0x10_0000, size: 0x1000 },
    { kind: "goldfish-rtc", base: 0x10_1000, size: 0x1000, irq: 11 },
    { kind: "clint", base: 0x200_0000, size: 0x1_0000 },
    { kind: "plic", base: 0xc00_0000, size: 0x60_0000, sources: 96 },
    { kind: "uart16550", base: 0x1000_0000, size: 0x100, irq: 10, clockFrequency: 3_686_400 },
    ...Array.from({ length: VIRTIO_SLOTS }, (_, n) => ({
      kind: "virtio-mmio" as const,
      base: 0x1000_1000 + n * 0x1000,
      size: 0x1000,
      irq: 1 + n,
    })),
  ],
};

/** The devices of `board` of one kind, in table order. */
export function devicesOf<K extends BoardDevice["kind"]>(
  board: Board,
  kind: K,
): Extract<BoardDevice, { kind: K }>[] {
  return board.devices.filter((d): d is Extract<BoardDevice, { kind: K }> => d.kind === kind);
}
