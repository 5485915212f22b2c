import { GuestMemoryFault, type MmioDevice, type NarrowWidth, OverlapError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import {
  AddressSpace,
  AddressSpaceGuestMemory,
  UNMAPPED,
  UNMAPPED64,
  WRITE_OK,
  WRITE_READ_ONLY,
  WRITE_UNMAPPED,
} from "./index.js";

/** A 16-byte register file that implements only `widths` and logs every access. */
class RegisterFile implements MmioDevice {
  readonly size = 16;
  readonly bytes = new Uint8Array(16);
  readonly log: string[] = [];
  constructor(readonly widths: readonly NarrowWidth[]) {}
  read(offset: number, width: NarrowWidth): number {
    this.log.push(`r${width}@${offset}`);
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.bytes[offset + i];
    return v;
  }
  write(offset: number, width: NarrowWidth, value: number): void {
    this.log.push(`w${width}@${offset}=${value.toString(16)}`);
    for (let i = 0; i < width; i++) this.bytes[offset + i] = Math.floor(value / 256 ** i) & 0xff;
  }
}

describe("AddressSpace mapping", () => {
  it("rejects overlaps with an error naming both regions", () => {
    const as = new AddressSpace();
    as.addRam("dram", 0x8000_0000, 0x10000);
    as.addDevice("uart", 0x1000_0000, new RegisterFile([1]));
    expect(() => as.addRam("dram2", 0x8000_f000, 0x2000)).toThrow(OverlapError);
    expect(() => as.addDevice("clash", 0x1000_000f, new RegisterFile([1]))).toThrow(/"clash".*"uart"/);
    // Touching but not overlapping is fine.
    as.addRam("after", 0x8001_0000, 0x1000);
    expect(as.mappings.map((r) => r.name)).toEqual(["uart", "dram", "after"]);
  });

  it("finds regions by address, including above 4 GiB", () => {
    const as = new AddressSpace();
    as.addRam("low", 0x1000, 0x1000);
    as.addRam("high", 0x1_0000_0000, 0x1000);
    expect(as.lookup(0x1_0000_0ffc)?.name).toBe("high");
    expect(as.lookup(0x1fff)?.name).toBe("low");
    expect(as.lookup(0x2000)).toBeUndefined();
    expect(as.lookup(0)).toBeUndefined();
  });
});

describe("RAM and ROM", () => {
  it("reads back little-endian values at every width", () => {
    const as = new AddressSpace();
    const ram = as.addRam("ram", 0x8000_0000, 0x1000);
    expect(as.write(0x8000_0001, 4, 0xdeadbeef)).toBe(WRITE_OK);
    expect(ram.bytes.subarray(0, 6)).toEqual(new Uint8Array([0, 0xef, 0xbe, 0xad, 0xde, 0]));
    expect(as.read(0x8000_0002, 2)).toBe(0xadbe);
    expect(as.write64(0x8000_0008, 0x0123_4567_89ab_cdefn)).toBe(WRITE_OK);
    expect(as.read64(0x8000_0008)).toBe(0x0123_4567_89ab_cdefn);
    expect(as.read(0x8000_000c, 4)).toBe(0x0123_4567);
    expect(ram.words[2]).toBe(0x89ab_cdef | 0);
  });

  it("ignores and reports ROM writes", () => {
    const romWrites: number[] = [];
    const as = new AddressSpace({ onRomWrite: (a) => romWrites.push(a) });
    const rom = as.addRom("mrom", 0x1000, new Uint8Array([0x13, 0, 0, 0]));
    expect(rom.size).toBe(0x1000);
    expect(as.write(0x1000, 4, 0xffffffff)).toBe(WRITE_READ_ONLY);
    expect(as.write64(0x1008, 1n)).toBe(WRITE_READ_ONLY);
    expect(as.read(0x1000, 4)).toBe(0x13);
    expect(as.read64(0x1008)).toBe(0n);
    expect(romWrites).toEqual([0x1000, 0x1008]);
  });

  it("reports unmapped and region-straddling accesses as values, not exceptions", () => {
    const misses: string[] = [];
    const as = new AddressSpace({
      onUnmapped: (a, w, wr) => misses.push(`${wr ? "w" : "r"}${w}@${a.toString(16)}`),
    });
    as.addRam("ram", 0x8000_0000, 0x1000);
    expect(as.read(0x7fff_fffc, 4)).toBe(UNMAPPED);
    expect(as.read(0x8000_0ffe, 4)).toBe(UNMAPPED);
    expect(as.write(0x9000_0000, 1, 1)).toBe(WRITE_UNMAPPED);
    expect(as.read64(0)).toBe(UNMAPPED64);
    expect(as.write64(0x8000_0ffc, 0n)).toBe(WRITE_UNMAPPED);
    expect(misses).toEqual(["r4@7ffffffc", "r4@80000ffe", "w1@90000000", "r8@0", "w8@80000ffc"]);
  });
});

describe("MMIO width adaptation", () => {
  it("passes native widths straight through", () => {
    const as = new AddressSpace();
    const dev = new RegisterFile([1, 2, 4]);
    as.addDevice("dev", 0x100, dev);
    as.write(0x104, 2, 0xbeef);
    expect(as.read(0x104, 2)).toBe(0xbeef);
    expect(dev.log).toEqual(["w2@4=beef", "r2@4"]);
  });

  it("splits wide accesses into the widths a byte-only device implements, low first", () => {
    const as = new AddressSpace();
    const dev = new RegisterFile([1]);
    as.addDevice("dev", 0x100, dev);
    expect(as.write(0x100, 4, 0x11223344)).toBe(WRITE_OK);
    expect(dev.log).toEqual(["w1@0=44", "w1@1=33", "w1@2=22", "w1@3=11"]);
    dev.log.length = 0;
    expect(as.read(0x100, 4)).toBe(0x11223344);
    expect(dev.log).toEqual(["r1@0", "r1@1", "r1@2", "r1@3"]);
  });

  it("turns 8-byte accesses into two 4-byte accesses, low half first", () => {
    const as = new AddressSpace();
    const dev = new RegisterFile([4]);
    as.addDevice("dev", 0x100, dev);
    as.write64(0x108, 0xaabbccdd_11223344n);
    expect(dev.log).toEqual(["w4@8=11223344", "w4@12=aabbccdd"]);
    dev.log.length = 0;
    expect(as.read64(0x108)).toBe(0xaabbccdd_11223344n);
    expect(dev.log).toEqual(["r4@8", "r4@12"]);
  });

  it("uses read64/write64 when the device has them", () => {
    const as = new AddressSpace();
    let reg = 0n;
    const dev: MmioDevice = {
      size: 8,
      widths: [4],
      read: () => 0,
      write: () => {},
      read64: () => reg,
      write64: (_o, v) => {
        reg = v;
      },
    };
    as.addDevice("mtime", 0x200, dev);
    as.write64(0x200, -1n);
    expect(reg).toBe(0xffff_ffff_ffff_ffffn);
    expect(as.read64(0x200)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it("serves narrow reads from a wider register and narrow writes by read-modify-write", () => {
    const as = new AddressSpace();
    const dev = new RegisterFile([4]);
    as.addDevice("dev", 0x100, dev);
    as.write(0x100, 4, 0x11223344);
    dev.log.length = 0;
    expect(as.read(0x102, 1)).toBe(0x22);
    expect(as.read(0x102, 2)).toBe(0x1122);
    expect(as.write(0x101, 1, 0xab)).toBe(WRITE_OK);
    expect(dev.log).toEqual(["r4@0", "r4@0", "r4@0", "w4@0=1122ab44"]);
    // A misaligned halfword crossing two words becomes byte accesses, each from its word.
    dev.log.length = 0;
    as.write(0x107, 2, 0xcdef);
    expect(dev.bytes[7]).toBe(0xef);
    expect(dev.bytes[8]).toBe(0xcd);
    expect(dev.log).toEqual(["r4@4", "w4@4=ef000000", "r4@8", "w4@8=cd"]);
  });

  it("combines two 2-byte device accesses for a 4-byte access", () => {
    const as = new AddressSpace();
    const dev = new RegisterFile([2]);
    as.addDevice("dev", 0, dev);
    as.write(4, 4, 0xfedcba98);
    expect(dev.log).toEqual(["w2@4=ba98", "w2@6=fedc"]);
    expect(as.read(4, 4)).toBe(0xfedcba98);
  });
});

describe("dirty page tracking", () => {
  it("records written 4 KiB pages and clears on take", () => {
    const as = new AddressSpace();
    const ram = as.addRam("ram", 0x8000_0000, 64 * 4096);
    as.write(0x8000_0000, 4, 1); // not tracked yet
    ram.enableDirtyTracking();
    as.write(0x8000_1000, 1, 1); // page 1
    as.write64(0x8000_2ffc, 1n); // pages 2 and 3 (straddles)
    new AddressSpaceGuestMemory(as).write(0x8001_f000 + 4095, new Uint8Array(2)); // pages 31, 32
    const bitmap = ram.takeDirtyBitmap();
    expect(Array.from(bitmap)).toEqual([((1 << 1) | (1 << 2) | (1 << 3) | (1 << 31)) >>> 0, 1]);
    expect(Array.from(ram.takeDirtyBitmap())).toEqual([0, 0]);
    as.read(0x8000_5000, 4); // reads do not dirty
    expect(Array.from(ram.takeDirtyBitmap())).toEqual([0, 0]);
  });

  it("refuses to take a bitmap when tracking is off", () => {
    const as = new AddressSpace();
    const ram = as.addRam("ram", 0, 4096);
    expect(() => ram.takeDirtyBitmap()).toThrow(/not enabled/);
  });
});

describe("AddressSpaceGuestMemory", () => {
  it("reads and writes RAM and faults outside it", () => {
    const as = new AddressSpace();
    const ram = as.addRam("ram", 0x8000_0000, 0x2000);
    as.addDevice("dev", 0x1000, new RegisterFile([4]));
    const mem = new AddressSpaceGuestMemory(as);
    mem.writeU32(0x8000_0010, 0xcafef00d);
    mem.writeU64(0x8000_0018, 0x1122334455667788n);
    expect(ram.view.getUint32(0x10, true)).toBe(0xcafef00d);
    expect(mem.readU16(0x8000_0012)).toBe(0xcafe);
    expect(mem.readU64(0x8000_0018)).toBe(0x1122334455667788n);
    const buf = new Uint8Array(4);
    mem.read(0x8000_0010, buf);
    expect(Array.from(buf)).toEqual([0x0d, 0xf0, 0xfe, 0xca]);
    expect(mem.isValid(0x8000_1ff0, 16)).toBe(true);
    expect(mem.isValid(0x8000_1ff0, 17)).toBe(false);
    expect(mem.isValid(0x1000, 4)).toBe(false);
    expect(mem.view(0x8000_0010, 4)?.[0]).toBe(0x0d);
    expect(mem.view(0x1000, 4)).toBeUndefined();
    expect(() => mem.readU32(0x1000)).toThrow(GuestMemoryFault);
    expect(() => mem.write(0x8000_1fff, new Uint8Array(2))).toThrow(GuestMemoryFault);
  });
});

describe("word fast path", () => {
  it("reads and writes aligned RAM words, marks dirty pages, and falls back elsewhere", () => {
    const as = new AddressSpace();
    const ram = as.addRam("ram", 0x8000_0000, 0x2000);
    as.addRom("rom", 0x1000, new Uint8Array([1, 2, 3, 4]));
    const dev = new RegisterFile([1]);
    as.addDevice("dev", 0x100, dev);
    ram.enableDirtyTracking();
    expect(as.writeWord(0x8000_1004, -2)).toBe(WRITE_OK);
    expect(as.writeWord(0x8000_1004, -3)).toBe(WRITE_OK); // second write takes the cached path
    expect(as.readWord(0x8000_1004)).toBe(-3);
    expect(as.readWord(0x8000_1004)).toBe(-3);
    expect(ram.view.getInt32(0x1004, true)).toBe(-3);
    expect(Array.from(ram.takeDirtyBitmap())).toEqual([2]);
    expect(as.readWord(0x1000)).toBe(0x04030201);
    expect(as.writeWord(0x1000, 0)).toBe(WRITE_READ_ONLY);
    expect(as.readWord(0x8000_1006)).toBe(0xffff); // misaligned: slow path, still RAM
    expect(as.readWord(0x5000)).toBeUndefined();
    expect(as.writeWord(0x5000, 1)).toBe(WRITE_UNMAPPED);
    expect(as.writeWord(0x100, 0x01020304)).toBe(WRITE_OK);
    expect(Array.from(dev.bytes.subarray(0, 4))).toEqual([4, 3, 2, 1]);
  });
});
