/**
 * The virt machine's boot contract and its device tree, judged by QEMU where
 * QEMU can judge: the generated DTB against `-M virt,dumpdtb`, and the boot
 * registers (a0 = hart id, a1 = DTB, a2 = fw_dynamic_info) of the same ELF on
 * both.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import { type FdtNode, parseBlob, toBlob } from "@backplane/fdt";
import { describe, expect, it } from "vitest";
import {
  type Board,
  buildDeviceTree,
  dtbAddress,
  resetVector,
  VIRT_BOARD,
  VirtMachine,
} from "../src/index.js";
import { buildProgram, GCC, missingTools, QEMU64 } from "../test-support/index.js";

const MiB = 1024 * 1024;
/** A minimal custom board: RAM, the CLINT, the UART and the test device only. */
const WIRED: Board = {
  ...VIRT_BOARD,
  devices: VIRT_BOARD.devices.filter(
    (d) => d.kind === "clint" || d.kind === "uart16550" || d.kind === "syscon",
  ),
};

function nodes(root: FdtNode, path = ""): Map<string, FdtNode> {
  const out = new Map<string, FdtNode>([[path || "/", root]]);
  for (const child of root.children)
    for (const [p, n] of nodes(child, `${path}/${child.name}`)) out.set(p, n);
  return out;
}

const noQemu = missingTools(QEMU64, "dtc");
describe.skipIf(noQemu !== undefined)(
  `device tree vs QEMU 7.2${noQemu ? ` (skipped: ${noQemu})` : ""}`,
  () => {
    it("matches QEMU's nodes and properties for every device it describes", () => {
      const dir = mkdtempSync(join(tmpdir(), "bp-dtb-"));
      const qemuDtb = join(dir, "virt.dtb");
      spawnSync(QEMU64, [
        "-M",
        `virt,dumpdtb=${qemuDtb}`,
        "-m",
        "128M",
        "-smp",
        "1",
        "-nographic",
        "-bios",
        "none",
      ]);
      const qemu = nodes(parseBlob(readFileSync(qemuDtb)).root);
      const ours = nodes(buildDeviceTree(VIRT_BOARD, { isa: "rv64", mmuType: "riscv,sv48" }).root);
      // QEMU-only nodes are the devices Backplane does not model.
      const missing = [...qemu.keys()].filter((p) => !ours.has(p));
      expect(missing.filter((p) => !/^\/(pmu|fw-cfg@|flash@|platform-bus@|soc\/pci@)/.test(p))).toEqual([]);
      for (const [path, node] of ours) {
        const peer = qemu.get(path);
        expect(peer, path).toBeDefined();
        for (const [name, value] of node.props) {
          if (path === "/cpus/cpu@0" && name === "riscv,isa") continue; // the hart's own extension list
          if (path === "/chosen" && name !== "stdout-path") continue;
          expect([path, name, Buffer.from(value).toString("hex")]).toEqual([
            path,
            name,
            Buffer.from(peer?.props.get(name) ?? []).toString("hex"),
          ]);
        }
        const extra = [...(peer?.props.keys() ?? [])].filter((n) => !node.props.has(n));
        expect([path, extra]).toEqual([path, path === "/chosen" ? ["rng-seed"] : []]);
      }
    });

    it("puts the initrd and the command line in /chosen where QEMU does", () => {
      const dir = mkdtempSync(join(tmpdir(), "bp-dtb-"));
      const elf = buildProgram(join(import.meta.dirname, "boot_regs.S")).elf;
      const initrd = new Uint8Array(100_000).fill(0xa5);
      writeFileSync(join(dir, "initrd"), initrd);
      const qemuDtb = join(dir, "virt.dtb");
      const flags = [
        "-m",
        "128M",
        "-nographic",
        "-bios",
        "none",
        "-kernel",
        elf,
        "-initrd",
        join(dir, "initrd"),
      ];
      spawnSync(QEMU64, ["-M", `virt,dumpdtb=${qemuDtb}`, ...flags, "-append", "console=ttyS0 quiet"]);
      const peer = parseBlob(readFileSync(qemuDtb)).find("/chosen");
      const machine = new VirtMachine();
      const layout = machine.boot({ kernel: readFileSync(elf), initrd, append: "console=ttyS0 quiet" });
      const blob = machine.ram.bytes.subarray(layout.dtb.start - 0x8000_0000, layout.dtb.end);
      const ours = parseBlob(blob).find("/chosen");
      for (const name of ["linux,initrd-start", "linux,initrd-end", "bootargs", "stdout-path"]) {
        expect([name, Buffer.from(ours?.get(name) ?? []).toString("hex")]).toEqual([
          name,
          Buffer.from(peer?.get(name) ?? []).toString("hex"),
        ]);
      }
      expect(layout.initrd).toEqual({ start: 0x8400_0000, end: 0x8400_0000 + 100_000 });
      expect(machine.ram.bytes[0x400_0000]).toBe(0xa5);
    });

    it("boots with a supplied DTB (-dtb), adding the command line to its /chosen", () => {
      const dir = mkdtempSync(join(tmpdir(), "bp-dtb-"));
      const qemuDtb = join(dir, "virt.dtb");
      spawnSync(QEMU64, ["-M", `virt,dumpdtb=${qemuDtb}`, "-m", "128M", "-nographic", "-bios", "none"]);
      const machine = new VirtMachine();
      const elf = buildProgram(join(import.meta.dirname, "boot_regs.S")).elf;
      const layout = machine.boot({
        kernel: readFileSync(elf),
        dtb: readFileSync(qemuDtb),
        append: "root=/dev/vda",
      });
      const tree = parseBlob(machine.ram.bytes.subarray(layout.dtb.start - 0x8000_0000, layout.dtb.end));
      expect(tree.find("/soc/pci@30000000")).toBeDefined(); // only QEMU's tree has PCIe
      expect(tree.find("/chosen")?.getString("bootargs")).toBe("root=/dev/vda");
    });

    it("produces a blob dtc reads with the same warnings as QEMU's", () => {
      const dir = mkdtempSync(join(tmpdir(), "bp-dtb-"));
      const qemuDtb = join(dir, "virt.dtb");
      spawnSync(QEMU64, ["-M", `virt,dumpdtb=${qemuDtb}`, "-m", "128M", "-nographic", "-bios", "none"]);
      const file = join(dir, "ours.dtb");
      writeFileSync(file, toBlob(buildDeviceTree(VIRT_BOARD, { isa: "rv64", mmuType: "riscv,sv48" })));
      const ours = spawnSync("dtc", ["-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
      const peer = spawnSync("dtc", ["-I", "dtb", "-O", "dts", qemuDtb], { encoding: "utf8" });
      expect(ours.status).toBe(0);
      // QEMU's tree has one warning (the cpu interrupt controller lacks #address-cells); ours has the same one.
      expect(ours.stderr).toBe(peer.stderr);
      expect(ours.stdout).toContain('compatible = "sifive,clint0\\0riscv,clint0";');
    });
  },
);

const noGcc = missingTools(GCC);
describe.skipIf(noGcc !== undefined)(`boot registers${noGcc ? ` (skipped: ${noGcc})` : ""}`, () => {
  const elfPath = noGcc ? "" : buildProgram(join(import.meta.dirname, "boot_regs.S")).elf;
  const regsAddress = (): number => {
    const out = execFileSync("riscv64-unknown-elf-nm", [elfPath], { encoding: "utf8" });
    return Number.parseInt(/^([0-9a-f]+) [a-zA-Z] regs$/m.exec(out)?.[1] ?? "", 16);
  };
  const bootAndRead = (board: Board): bigint[] => {
    const m = new VirtMachine({ board });
    m.boot({ kernel: readFileSync(elfPath) });
    expect(m.runSync(100_000)).toEqual({ code: 0, reset: false });
    const view = new DataView(m.ram.bytes.buffer, regsAddress() - board.ram.base);
    return Array.from({ length: 7 }, (_, i) => view.getBigUint64(i * 8, true));
  };

  it("hands over hart id, DTB and fw_dynamic_info like QEMU's reset vector", () => {
    const [a0, a1, a2, magic, fwMagic, next, mode] = bootAndRead(WIRED);
    expect(a0).toBe(0n);
    expect(a1).toBe(0x87e0_0000n); // QEMU 7.2 with 128 MiB: top of RAM, 2 MiB aligned
    expect(magic).toBe(0xedfe0dd0n); // FDT magic 0xd00dfeed, read little-endian
    expect(a2).toBe(0x1028n);
    expect(fwMagic).toBe(0x4942534fn);
    expect(next).toBe(0x8000_0000n);
    expect(mode).toBe(1n);
  });

  it("custom board: 64 MiB and no RTC moves the DTB and drops the node", () => {
    const small: Board = { ...WIRED, ram: { base: 0x8000_0000, size: 64 * MiB } };
    const [, a1] = bootAndRead(small);
    expect(a1).toBe(0x83e0_0000n);
    const tree = new VirtMachine({ board: small }).deviceTree();
    expect(tree.find("/memory@80000000")?.getCells("reg")).toEqual([0, 0x8000_0000, 0, 64 * MiB]);
    expect(tree.find("/soc/rtc@101000")).toBeUndefined();
    expect(tree.find("/soc/clint@2000000")).toBeDefined();
  });
});

describe("boot errors", () => {
  it("rejects an arm64 Image, a foreign ELF, a kernel larger than RAM and an empty boot", () => {
    const arm64 = new Uint8Array(128);
    arm64.set([0x41, 0x52, 0x4d, 0x64], 56);
    expect(() => new VirtMachine({ board: WIRED }).boot({ kernel: arm64 })).toThrow(UnsupportedError);
    const x86 = new Uint8Array(64);
    x86.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    x86[18] = 62;
    expect(() => new VirtMachine({ board: WIRED }).boot({ kernel: x86 })).toThrow(/not RISC-V/);
    const small: Board = { ...WIRED, ram: { base: 0x8000_0000, size: 4 * MiB } };
    expect(() => new VirtMachine({ board: small }).boot({ kernel: new Uint8Array(5 * MiB) })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new VirtMachine({ board: WIRED }).boot({})).toThrow(InvalidArgumentError);
  });

  it("places the DTB like QEMU and encodes the reset vector's loads for the XLEN", () => {
    expect(dtbAddress(0x8000_0000, 128 * MiB, 0x2000)).toBe(0x87e0_0000);
    expect(dtbAddress(0x8000_0000, 4096 * MiB, 0x2000)).toBe(0xbfe0_0000);
    const rom = new DataView(
      resetVector({ start: 0x8000_0000, dtb: 0x87e0_0000, next: 0x8020_0000, xlen: 64 }).buffer,
    );
    expect(rom.getUint32(12, true)).toBe(0x0202b583); // ld a1, 32(t0)
    expect(rom.getUint32(16, true)).toBe(0x0182b283); // ld t0, 24(t0)
  });
});
