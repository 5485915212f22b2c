import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackplaneError, CorruptDataError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { parseBlob, toBlob } from "./blob.js";
import { DeviceTree, type FdtNode, sizedCells } from "./tree.js";

const haveDtc = spawnSync("dtc", ["--version"]).status === 0;
const fixture = join(import.meta.dirname, "..", "test", "fixtures", "board.dts");
const dir = mkdtempSync(join(tmpdir(), "fdt-test-"));

/** dtc's own rendering of a DTB, the judge of what our blob means. */
function dtcDecompile(blob: Uint8Array): string {
  const path = join(dir, `t${Math.random().toString(16).slice(2)}.dtb`);
  writeFileSync(path, blob);
  return execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", path], { encoding: "utf8" });
}

/** Builds the same tree as test/fixtures/board.dts through the public builder. */
function buildBoard(): DeviceTree {
  const t = new DeviceTree();
  t.reservations.push({ address: 0x8000_0000n, size: 0x40000n });
  const root = t.root
    .set("#address-cells", 2)
    .set("#size-cells", 2)
    .set("compatible", "riscv-virtio")
    .set("model", "riscv-virtio,qemu");
  root.add("chosen").set("bootargs", "console=ttyS0 earlycon=sbi").set("stdout-path", "/soc/serial@10000000");
  root
    .add("memory@80000000")
    .set("device_type", "memory")
    .set("reg", [...sizedCells(0x8000_0000, 2), ...sizedCells(0x800_0000, 2)]);
  const cpus = root
    .add("cpus")
    .set("#address-cells", 1)
    .set("#size-cells", 0)
    .set("timebase-frequency", 10_000_000);
  const cpu = cpus
    .add("cpu@0")
    .set("device_type", "cpu")
    .set("reg", 0)
    .set("status", "okay")
    .set("compatible", "riscv")
    .set("riscv,isa", "rv64imafdc_zicsr_zifencei")
    .set("mmu-type", "riscv,sv39");
  const intc = cpu
    .add("interrupt-controller")
    .set("#interrupt-cells", 1)
    .set("interrupt-controller")
    .set("compatible", "riscv,cpu-intc");
  const soc = root
    .add("soc")
    .set("#address-cells", 2)
    .set("#size-cells", 2)
    .set("compatible", "simple-bus")
    .set("ranges");
  soc.set("blob", Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01));
  const plic = soc.add("plic@c000000");
  plic.set("phandle", 3);
  const intcHandle = t.phandle(intc);
  plic
    .set("riscv,ndev", 95)
    .set("reg", [0, 0xc00_0000, 0, 0x60_0000])
    .set("interrupts-extended", [intcHandle, 11, intcHandle, 9])
    .set("interrupt-controller")
    .set("compatible", ["sifive,plic-1.0.0", "riscv,plic0"])
    .set("#interrupt-cells", 1);
  soc
    .add("serial@10000000")
    .set("interrupts", 10)
    .set("interrupt-parent", t.phandle(plic))
    .set("clock-frequency", 0x384000)
    .set("reg", [0, 0x1000_0000, 0, 0x100])
    .set("compatible", "ns16550a");
  return t;
}

/** A comparable plain form of a node: props as hex, children recursively. */
function plain(n: FdtNode): unknown {
  return {
    name: n.name,
    props: Object.fromEntries([...n.props].map(([k, v]) => [k, Buffer.from(v).toString("hex")]).sort()),
    children: n.children.map(plain).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  };
}

describe.skipIf(!haveDtc)("judged by dtc", () => {
  it("our blob decompiles to the same source as dtc's own compilation of the fixture", () => {
    const dtcBlob = execFileSync("dtc", ["-q", "-I", "dts", "-O", "dtb", fixture]);
    expect(dtcDecompile(toBlob(buildBoard()))).toBe(dtcDecompile(dtcBlob));
  });

  it("parses a blob compiled by dtc into the tree the builder makes", () => {
    const dtcBlob = new Uint8Array(execFileSync("dtc", ["-q", "-I", "dts", "-O", "dtb", fixture]));
    const parsed = parseBlob(dtcBlob);
    const built = buildBoard();
    expect(plain(parsed.root)).toEqual(plain(built.root));
    expect(parsed.reservations).toEqual(built.reservations);
    expect(parsed.find("/soc/serial@10000000")?.getStrings("compatible")).toEqual(["ns16550a"]);
    expect(parsed.find("/soc/plic@c000000")?.getStrings("compatible")).toEqual([
      "sifive,plic-1.0.0",
      "riscv,plic0",
    ]);
    expect(parsed.find("/cpus")?.getU32("timebase-frequency")).toBe(10_000_000);
  });
});

describe("parser robustness", () => {
  const good = toBlob(buildBoard());

  it("round-trips its own output", () => {
    const again = parseBlob(good);
    expect(plain(again.root)).toEqual(plain(buildBoard().root));
    expect(toBlob(again)).toEqual(good);
  });

  it("rejects every truncation with a typed error", () => {
    for (let len = 0; len < good.length; len++) {
      expect(() => parseBlob(good.subarray(0, len)), `length ${len}`).toThrow(CorruptDataError);
    }
  });

  it("rejects bad magic and never fails untyped on random corruption", () => {
    const bad = good.slice();
    bad[0] = 0;
    expect(() => parseBlob(bad)).toThrow(/bad magic/);
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const b = good.slice();
      for (let k = 0; k < 3; k++) b[40 + rand(good.length - 40)] = rand(256);
      try {
        parseBlob(b);
      } catch (e) {
        expect(e).toBeInstanceOf(BackplaneError);
      }
    }
  });
});

describe("builder", () => {
  it("allocates distinct phandles and reuses an existing one", () => {
    const t = new DeviceTree();
    const a = t.root.add("a");
    const b = t.root.add("b");
    const pa = t.phandle(a);
    const pb = t.phandle(b);
    expect(pa).not.toBe(pb);
    expect(t.phandle(a)).toBe(pa);
  });

  it("refuses duplicate siblings and out-of-range cells", () => {
    const t = new DeviceTree();
    t.root.add("x");
    expect(() => t.root.add("x")).toThrow(BackplaneError);
    expect(() => t.root.set("bad", -1)).toThrow(BackplaneError);
    expect(() => sizedCells(2 ** 33, 1)).toThrow(BackplaneError);
  });
});
