/**
 * The virt board's virtio-mmio slots (virtio 1.2, 4.2.2): each slot of the
 * board table gets a `VirtioMmioTransport` for an attached device, or an empty
 * transport that answers like QEMU 7.2's `virtio-mmio` with no backend
 * (hw/virtio/virtio-mmio.c: MagicValue, Version, VendorID, DeviceID 0,
 * everything else 0, writes ignored), so Linux's virtio_mmio probe sees
 * DeviceID 0 and skips the slot (4.2.3.1.1).
 *
 * Devices fill slots from the highest address down, as on QEMU (whose virtio
 * buses are searched last-created first), so the first device lands at
 * 0x10008000; the device tree lists that slot first too, so Linux names disks
 * (vda, vdb, ...) in the same order as under QEMU. A slot's interrupt is the
 * PLIC source of its board-table entry (QEMU: slot n raises source 1 + n).
 *
 * Deviation: empty slots report Version 2 (QEMU 7.2 defaults to the legacy
 * Version 1 unless `-global virtio-mmio.force-legacy=false`), since attached
 * devices speak only version 2.
 */
import type { GuestMemory, IrqLine, MmioDevice, NarrowWidth } from "@backplane/core";
import { InvalidArgumentError } from "@backplane/core";
import type { AddressSpace } from "@backplane/memory";
import {
  MAGIC,
  MagicValue,
  MMIO_WINDOW_SIZE,
  VENDOR_ID,
  VendorID,
  Version,
  type VirtioDevice,
  VirtioMmioTransport,
} from "@backplane/virtio";
import type { BoardDevice } from "./board.js";

type VirtioSlot = Extract<BoardDevice, { kind: "virtio-mmio" }>;

/** A virtio-mmio window with nothing behind it (DeviceID 0). */
export class EmptyVirtioSlot implements MmioDevice {
  readonly size = MMIO_WINDOW_SIZE;
  readonly widths = [4] as const;

  read(offset: number, _width: NarrowWidth): number {
    switch (offset) {
      case MagicValue:
        return MAGIC;
      case Version:
        return 2;
      case VendorID:
        return VENDOR_ID;
      default:
        return 0; // DeviceID 0: no device
    }
  }

  write(): void {}
}

export interface VirtioSlotsOptions {
  bus: AddressSpace;
  /** The board's virtio-mmio slots, in table order (lowest address first). */
  slots: readonly VirtioSlot[];
  /** Devices to attach, in order: the first takes the last slot. */
  devices: readonly VirtioDevice[];
  memory: GuestMemory;
  /** The interrupt line for a PLIC source. */
  irq(source: number): IrqLine;
  /** Called when a device raises its interrupt (to wake a waiting hart loop). */
  onInterrupt(): void;
}

/** Maps a transport (or an empty slot) into every slot; returns the transports in device order. */
export function attachVirtioSlots(options: VirtioSlotsOptions): VirtioMmioTransport[] {
  const { slots, devices } = options;
  if (devices.length > slots.length) {
    throw new InvalidArgumentError(
      `${devices.length} virtio devices given, but the board has ${slots.length} virtio-mmio slots`,
    );
  }
  const transports: VirtioMmioTransport[] = [];
  devices.forEach((device, i) => {
    const slot = slots[slots.length - 1 - i];
    const line = options.irq(slot.irq);
    const transport = new VirtioMmioTransport({
      device,
      memory: options.memory,
      irq: {
        setLevel(high: boolean): void {
          line.setLevel(high);
          if (high) options.onInterrupt();
        },
      },
    });
    options.bus.addDevice(`virtio_mmio@${slot.base.toString(16)}`, slot.base, transport);
    transports.push(transport);
  });
  for (const slot of slots.slice(0, slots.length - devices.length)) {
    options.bus.addDevice(`virtio_mmio@${slot.base.toString(16)}`, slot.base, new EmptyVirtioSlot());
  }
  return transports;
}
