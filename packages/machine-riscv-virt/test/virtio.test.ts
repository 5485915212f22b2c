/**
 * The virt board's virtio-mmio slots, judged by QEMU 7.2 where it can judge:
 * which slot each device lands in and what every slot answers (read through
 * QEMU's monitor with `xp`), and the virtio_mmio device-tree nodes (from
 * `-M virt,dumpdtb`). The interrupt routing (slot n raises PLIC source 1 + n)
 * is checked through the PLIC's pending register with the mock driver playing
 * the guest through the machine's address space.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlockBackend, InvalidArgumentError, type MmioDevice } from "@backplane/core";
import { type FdtNode, parseBlob } from "@backplane/fdt";
import { AddressSpaceGuestMemory } from "@backplane/memory";
import { PENDING_BASE } from "@backplane/plic";
import { MockVirtioDriver } from "@backplane/virtio/testing";
import { VirtioBlk } from "@backplane/virtio-blk";
import { VirtioRng } from "@backplane/virtio-rng";
import { describe, expect, it } from "vitest";
import { VIRT_BOARD, VirtMachine } from "../src/index.js";

const QEMU = "qemu-system-riscv64";
const SLOTS = Array.from({ length: 8 }, (_, n) => 0x1000_1000 + n * 0x1000);
const has = (tool: string): boolean => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const noQemu = !has(QEMU) || !has("dtc");

/** An in-memory disk of `size` bytes. */
function memoryDisk(size: number): BlockBackend {
  const bytes = new Uint8Array(size);
  return {
    size,
    readOnly: false,
    blockSize: 512,
    read: async (offset, dest) => void dest.set(bytes.subarray(offset, offset + dest.length)),
    write: async (offset, src) => void bytes.set(src, offset),
    flush: async () => {},
    close: async () => {},
  };
}

/** The first four registers (MagicValue, Version, DeviceID, VendorID) of every slot, lowest first. */
function ourIdRegisters(machine: VirtMachine): number[][] {
  return SLOTS.map((base) => [0, 4, 8, 12].map((r) => machine.bus.read(base + r, 4)));
}

/** The same registers on QEMU, read with the monitor's `xp` before the guest starts. */
function qemuIdRegisters(devices: string[]): number[][] {
  const dir = mkdtempSync(join(tmpdir(), "bp-virtio-"));
  const disk = join(dir, "disk.raw");
  writeFileSync(disk, new Uint8Array(1 << 20));
  const commands = `${SLOTS.map((b) => `xp /4wx 0x${b.toString(16)}`).join("\n")}\nquit\n`;
  const result = spawnSync(
    QEMU,
    [
      ...["-M", "virt", "-m", "128M", "-bios", "none", "-S", "-display", "none", "-serial", "null"],
      ...["-monitor", "stdio", "-global", "virtio-mmio.force-legacy=false"],
      ...["-drive", `if=none,id=d0,file=${disk},format=raw`],
      ...devices.flatMap((d) => ["-device", d]),
    ],
    { input: commands, encoding: "utf8", timeout: 20_000 },
  );
  const rows = [...result.stdout.matchAll(/^([0-9a-f]{16}): (.*)$/gm)];
  return rows.map((m) => m[2].trim().split(/\s+/).map(Number));
}

function virtioNodes(root: FdtNode): FdtNode[] {
  const soc = root.children.find((c) => c.name === "soc");
  return (soc?.children ?? []).filter((c) => c.name.startsWith("virtio_mmio@"));
}

const hex = (node: FdtNode): Record<string, string> =>
  Object.fromEntries([...node.props].map(([k, v]) => [k, Buffer.from(v).toString("hex")]));

describe.skipIf(noQemu)(`virtio-mmio slots vs QEMU 7.2${noQemu ? " (skipped: no QEMU or dtc)" : ""}`, () => {
  it("puts devices in the same slots, highest address first, and empty slots answer alike", () => {
    const machine = new VirtMachine({
      virtio: [new VirtioRng(), new VirtioBlk({ backend: memoryDisk(1 << 20) })],
    });
    const ours = ourIdRegisters(machine);
    const peer = qemuIdRegisters(["virtio-rng-device", "virtio-blk-device,drive=d0"]);
    expect(peer).toHaveLength(8);
    expect(ours).toEqual(peer);
    // rng (DeviceID 4) in the last slot, the disk (2) below it, DeviceID 0 in the six empty ones
    expect(ours.map((r) => r[2])).toEqual([0, 0, 0, 0, 0, 0, 2, 4]);
  });

  it("an empty board answers magic, version 2, DeviceID 0 and QEMU's vendor in every slot", () => {
    expect(ourIdRegisters(new VirtMachine())).toEqual(qemuIdRegisters([]));
  });

  it("describes every slot with QEMU's node names, order and properties", () => {
    const dir = mkdtempSync(join(tmpdir(), "bp-virtio-dtb-"));
    const dtb = join(dir, "virt.dtb");
    spawnSync(QEMU, ["-M", `virt,dumpdtb=${dtb}`, "-m", "128M", "-nographic", "-bios", "none"]);
    const peer = virtioNodes(parseBlob(readFileSync(dtb)).root);
    const machine = new VirtMachine({ virtio: [new VirtioRng()] });
    const ours = virtioNodes(machine.deviceTree().root);
    expect(peer).toHaveLength(8);
    expect(ours.map((n) => n.name)).toEqual(peer.map((n) => n.name));
    expect(ours.map(hex)).toEqual(peer.map(hex));
  });
});

describe("virtio-mmio wiring", () => {
  /** The slot at `base` as the guest sees it: every access goes through the machine's address space. */
  const slotOnBus = (machine: VirtMachine, base: number): MmioDevice => ({
    size: 0x200,
    widths: [4],
    read: (offset, width) => machine.bus.read(base + offset, width),
    write: (offset, width, value) => void machine.bus.write(base + offset, width, value),
  });

  it("slot n raises PLIC source 1 + n when its device completes a request", () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const devices = [
      new VirtioRng({ entropy: (into) => into.set(bytes.subarray(0, into.length)) }),
      new VirtioRng({ entropy: (into) => into.set(bytes.subarray(0, into.length)) }),
    ];
    const machine = new VirtMachine({ virtio: devices });
    const memory = new AddressSpaceGuestMemory(machine.bus);
    const pending = (): number => machine.bus.read(0xc00_0000 + PENDING_BASE, 4);
    for (const [i, slot] of [
      [0, 7],
      [1, 6],
    ]) {
      const driver = new MockVirtioDriver(slotOnBus(machine, SLOTS[slot]), memory, {
        heapBase: 0x8100_0000 + i * 0x10_0000,
        heapSize: 0x10_0000,
      });
      driver.init();
      const before = pending();
      const { inAddrs } = driver.submit(0, [], [16]);
      expect(driver.takeUsed(0)).toEqual([{ id: 0, len: 16 }]);
      expect(driver.read(inAddrs[0], 16)).toEqual(bytes);
      expect(pending() & ~before).toBe(1 << (1 + slot));
    }
    expect(machine.virtio.map((t) => t.device)).toEqual(devices);
  });

  it("wakes the run loop when a device interrupts", async () => {
    let complete: (() => void) | undefined;
    const disk = memoryDisk(1 << 20);
    const slow: BlockBackend = {
      ...disk,
      read: (offset, dest) =>
        new Promise((resolve) => {
          complete = () => resolve(disk.read(offset, dest));
        }),
    };
    const machine = new VirtMachine({ virtio: [new VirtioBlk({ backend: slow })] });
    let wakes = 0;
    const wake = machine.loop.wake.bind(machine.loop);
    machine.loop.wake = () => {
      wakes++;
      wake();
    };
    const memory = new AddressSpaceGuestMemory(machine.bus);
    const driver = new MockVirtioDriver(slotOnBus(machine, SLOTS[7]), memory, {
      heapBase: 0x8100_0000,
      heapSize: 0x10_0000,
    });
    driver.init();
    const header = new Uint8Array(16); // VIRTIO_BLK_T_IN, sector 0
    driver.submit(0, [header], [512, 1]);
    expect(wakes).toBe(0);
    complete?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(driver.takeUsed(0)).toHaveLength(1);
    expect(wakes).toBe(1);
  });

  it("refuses more devices than the board has slots", () => {
    const nine = Array.from({ length: 9 }, () => new VirtioRng());
    expect(() => new VirtMachine({ virtio: nine })).toThrow(InvalidArgumentError);
    expect(() => new VirtMachine({ virtio: nine })).toThrow("9 virtio devices given, but the board has 8");
    const small = { ...VIRT_BOARD, devices: VIRT_BOARD.devices.filter((d) => d.kind !== "virtio-mmio") };
    expect(() => new VirtMachine({ board: small, virtio: [new VirtioRng()] })).toThrow(InvalidArgumentError);
  });
});
