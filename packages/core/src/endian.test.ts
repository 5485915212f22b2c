import { describe, expect, it } from "vitest";
import {
  readSafeU64LE,
  readU16BE,
  readU32BE,
  readU32LE,
  readU64BE,
  readU64LE,
  writeU32BE,
  writeU64LE,
} from "./endian.js";
import { BackplaneError, CorruptDataError, GuestMemoryFault } from "./errors.js";

describe("endian helpers", () => {
  const bytes = Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88);

  it("agree with DataView in both byte orders", () => {
    const dv = new DataView(bytes.buffer);
    expect(readU32LE(bytes, 4)).toBe(dv.getUint32(4, true));
    expect(readU32BE(bytes, 4)).toBe(dv.getUint32(4, false));
    expect(readU16BE(bytes, 1)).toBe(dv.getUint16(1, false));
    expect(readU64LE(bytes, 0)).toBe(dv.getBigUint64(0, true));
    expect(readU64BE(bytes, 0)).toBe(dv.getBigUint64(0, false));
  });

  it("round-trip writes", () => {
    const b = new Uint8Array(8);
    writeU64LE(b, 0, 0xfedcba9876543210n);
    expect(new DataView(b.buffer).getBigUint64(0, true)).toBe(0xfedcba9876543210n);
    writeU32BE(b, 0, 0xdeadbeef);
    expect(new DataView(b.buffer).getUint32(0, false)).toBe(0xdeadbeef);
  });

  it("refuses out-of-range offsets and unsafe 64-bit numbers", () => {
    expect(() => readU32LE(bytes, 6)).toThrow(RangeError);
    expect(() => readU32LE(bytes, -1)).toThrow(RangeError);
    expect(() => readSafeU64LE(bytes, 0)).toThrow(RangeError);
    expect(readSafeU64LE(Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0), 0)).toBe(2 ** 32 + 1);
  });
});

describe("typed errors", () => {
  it("carry a code, a class name and an instanceof chain", () => {
    const e = new CorruptDataError("bad header");
    expect(e).toBeInstanceOf(BackplaneError);
    expect(e.code).toBe("E_CORRUPT");
    expect(e.name).toBe("CorruptDataError");
    const f = new GuestMemoryFault(0x8000_0000, 16);
    expect(f.message).toContain("0x80000000");
    expect(f.length).toBe(16);
  });
});
